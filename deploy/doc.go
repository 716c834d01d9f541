// Package deploy holds Pubdoc's deployment files, not code: the container image
// (Dockerfile), the Slack and GitHub App manifests, an example routes file, a Docker
// Compose file with PostgreSQL, and Kubernetes manifests under k8s/. docs/deploy.md and
// docs/slack.md walk through them.
//
// The package's test parses every one of these files and checks them against the
// contracts `pubdoc serve` relies on (ARCHITECTURE.md): the endpoints Slack and GitHub
// call, the scopes, permissions and events the bot needs, the routes schema, the probe
// paths, and that every environment variable they set is a documented one. Nothing here
// is imported by the binary.
package deploy
