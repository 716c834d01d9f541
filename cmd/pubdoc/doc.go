// Command pubdoc diagnoses failed package-publish CI logs.
//
//	pubdoc diagnose [--format text|markdown|json] [--explain] [FILE | - | RUN_URL | PR_URL | RUN_ID]
//	pubdoc check [--format text|json|markdown|sarif|github] [--package FILE] [PATH ...]
//	pubdoc kb lint | test | eval DIR... | search WORDS | show ID | docs | compile
//	pubdoc serve | mcp | action | version | completion SHELL
//
// The command tree is spf13/cobra's (cli.go): each command's --help shows its flags,
// examples and environment; flags may come before or after the arguments, and Go-style
// single-dash long flags (-windows, -format) are still read.
//
// diagnose reads a log (plain text, gzip, UTF-16, or the zip of a GitHub Actions run's logs)
// from a file or stdin, or fetches a run, a pull request's failed runs or a run id through
// bot/gha (auto.go), hands it to package diagnose and renders the Result. Exit status: 0
// when it ran (whether or not a cause was found), 1 on a runtime failure, 2 on usage errors
// (missing GitHub credentials included) or unreadable input, each with a one-line message
// on stderr; with --format json a failure is also the error envelope on stdout.
//
// action is the entry of the repository's GitHub Action (action.yml, action.go): it reads
// the action's INPUT_* variables, runs diagnose or check in this process, and hands their
// JSON answers to internal/ghaction, which writes the job summary, the annotations, the
// step's outputs and the SARIF file; check --format sarif|github prints the same SARIF and
// annotations. version prints what -ldflags stamped (version.go).
package main
