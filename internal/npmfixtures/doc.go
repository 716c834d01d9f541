// Package npmfixtures records what the real npm CLI prints in publish scenarios.
//
// Each scenario sets up internal/fakenpm (a loopback registry and GitHub OIDC token service)
// the way the real services behave in the catalogue's logs, runs a real npm — several
// versions, installed with `npm install npm@X` into .cache/npm/X — as a GitHub Actions job
// would (GITHUB_ACTIONS, ACTIONS_ID_TOKEN_REQUEST_URL when the job has id-token: write,
// setup-node's .npmrc and placeholder token), and wraps what npm printed into a full Actions
// job log: "Set up job" with its GITHUB_TOKEN Permissions group, setup-node's environment
// details, the publish step, and the runner's exit marker.
//
// Every line npm prints is genuine. The only edits are the ones that make a recording
// reproducible and look like the real service: the loopback address becomes
// https://registry.npmjs.org (and the token service a GitHub-like URL), temporary
// directories become the runner's paths, request durations and log-file timestamps are fixed.
// Sanitize lists them.
package npmfixtures
