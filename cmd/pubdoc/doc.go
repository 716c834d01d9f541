// Command pubdoc diagnoses failed package-publish CI logs.
//
//	pubdoc diagnose [--format text|markdown|json] [FILE | - ]
//	pubdoc kb lint | test | eval DIR | search WORDS | docs
//
// diagnose reads a log (plain text, gzip, UTF-16, or the zip of a GitHub Actions run's logs)
// from a file or stdin, hands it to package diagnose and renders the Result. Exit status: 0
// when it ran (whether or not a cause was found), 1 on a runtime failure, 2 on usage errors
// or unreadable input, each with a one-line message on stderr.
package main
