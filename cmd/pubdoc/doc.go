// Command pubdoc diagnoses failed package-publish CI logs.
//
//	pubdoc diagnose [--format text|markdown|json] [FILE | - ]
//	pubdoc kb lint | test | eval DIR | search WORDS | docs
//
// diagnose reads a log (plain text, gzip, UTF-16, or the zip of a GitHub Actions run's logs)
// from a file or stdin, hands it to package diagnose and renders the Result. Exit status: 0
// when it ran (whether or not a cause was found), 1 on a runtime failure, 2 on usage errors
// or unreadable input, each with a one-line message on stderr.
//
// action is the entry of the repository's GitHub Action (action.yml, action.go): it reads
// the action's INPUT_* variables, runs diagnose or check in this process, and hands their
// JSON answers to internal/ghaction, which writes the job summary, the annotations, the
// step's outputs and the SARIF file. version prints what -ldflags stamped (version.go).
package main
