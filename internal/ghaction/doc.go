// Package ghaction speaks the GitHub Actions runner's file and workflow-command protocol
// for `pubdoc action`, the entry of the repository's action.yml: it reads the action's
// inputs and the GITHUB_* variables (FromEnv), prints annotations (::error file=…,line=…::)
// on stdout, appends outputs to the $GITHUB_OUTPUT file and Markdown to the
// $GITHUB_STEP_SUMMARY file, and turns `pubdoc check` findings into SARIF 2.1.0 for code
// scanning and a diagnosis into the annotations that point at the line to change. The
// SARIF and the annotations are the one implementation of both: `pubdoc check --format
// sarif|github` prints them too.
//
// Data moves one way: the command runs the engine (diagnose or check), hands the answer
// here, and this package writes it where the runner reads it. It does no network I/O and
// touches no file but the ones the runner named.
package ghaction
