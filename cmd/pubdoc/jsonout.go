package main

import (
	"errors"
	"io"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
)

// writeAnswer writes results as one JSON object (docs/schema/diagnosis.v1.json): a log's
// result, or for a run or a run's log zip the job that explains the run with every failed
// job under "jobs".
func writeAnswer(w io.Writer, results []*diagnose.Result) error {
	if len(results) == 1 && results[0].Job == "" && results[0].JobURL == "" {
		return diagnose.WriteJSON(w, diagnose.NewAnswer(results[0]))
	}
	return diagnose.WriteJSON(w, diagnose.NewRunAnswer(results))
}

// codedError gives an error the code its JSON form carries; it unwraps to the error, so
// its exit code stays that of the error it wraps.
type codedError struct {
	err  error
	code string
}

func (e codedError) Error() string { return e.err.Error() }
func (e codedError) Unwrap() error { return e.err }

// withCode marks err with a JSON error code (diagnose.ErrCode*).
func withCode(code string, err error) error { return codedError{err: err, code: code} }

// errorCode is the JSON error code of a command's failure.
func errorCode(err error) string {
	var ce codedError
	var ue usageError
	switch {
	case errors.As(err, &ce):
		return ce.code
	case errors.Is(err, diagnose.ErrEmpty), errors.Is(err, diagnose.ErrNoJobs):
		return diagnose.ErrCodeEmpty
	case errors.Is(err, diagnose.ErrBinary):
		return diagnose.ErrCodeBinary
	case errors.Is(err, diagnose.ErrTooLarge):
		return diagnose.ErrCodeTooLarge
	case errors.As(err, &ue):
		return diagnose.ErrCodeUsage
	}
	return diagnose.ErrCodeRuntime
}

// writeJSONError writes a failure as the error envelope (docs/schema/error.v1.json) on
// stdout when the output format is JSON, so that a script piping to jq reads one object
// whether the command worked or not; the one line on stderr and the exit code stay.
func writeJSONError(stdout io.Writer, format string, err error) {
	if err == nil || format != "json" || errors.Is(err, errFindings) {
		return
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	_ = diagnose.WriteJSON(stdout, diagnose.NewErrorAnswer(errorCode(err), msg)) // stderr says it too
}

// checkAnswer is `pubdoc check --format json` (docs/schema/check.v1.json).
type checkAnswer struct {
	Schema   string             `json:"schema"`
	Findings []workflow.Finding `json:"findings"`
	// Fixed and Patch answer --fix and --diff: the findings the fixes remove and the fixes
	// as a unified diff.
	Fixed []workflow.Finding `json:"fixed,omitempty"`
	Patch string             `json:"patch,omitempty"`
}

// givenPaths names each finding's file by the path it was given as (the JSON contract:
// "the file's path as given"), where workflow.Finding carries the base name. A base name
// two given files share is left as it is.
func givenPaths(findings []workflow.Finding, wfs []*workflow.Workflow) {
	paths := map[string]string{}
	for _, wf := range wfs {
		if p, dup := paths[wf.File]; dup && p != wf.Path {
			paths[wf.File] = ""
			continue
		}
		paths[wf.File] = wf.Path
	}
	for i, f := range findings {
		if p := paths[f.File]; p != "" {
			findings[i].File = p
		}
	}
}
