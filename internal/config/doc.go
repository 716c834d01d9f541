// Package config is Pubdoc's one configuration: every environment variable that `pubdoc
// serve`, auto mode (`diagnose` with a run URL, a pull request or --repo), `mcp`, `action`
// and `check` read, with its default, in one table. FromEnv reads the environment (each
// secret also as NAME_FILE, a mounted file) and Validate checks it; an invalid value is an
// error that names its variable, so a command stops at start with one line rather than
// running half-configured. Secrets are secret.Secret values and print as <secret>, so the
// effective configuration can be shown (`pubdoc config`) without leaking one.
//
// The adapters (bot/slackbot, bot/gha, bot/registry, store) take their settings as
// constructor arguments; only this package reads the environment.
package config
