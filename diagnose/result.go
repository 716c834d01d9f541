package diagnose

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/pubdoc/pubdoc/knowledge"
)

// Verdicts.
const (
	Diagnosed    = "diagnosed"
	Inconclusive = "inconclusive"
	NoKnownCause = "no-known-cause"
)

// Result is the engine's answer: the fields of the JSON contract of ARCHITECTURE.md, plus
// explanation fields (fact_evidence, failure, summary, scanned) that consumers may ignore.
// It is written inside an Answer, which adds the schema name and a run's jobs.
type Result struct {
	Verdict    string            `json:"verdict"`
	Diagnoses  []Diagnosis       `json:"diagnoses"`
	Facts      map[string]string `json:"facts"`
	NextChecks []string          `json:"next_checks"`

	// Summary is one sentence for people: the cause, or why there is none.
	Summary string `json:"summary"`
	// Groups divide the candidates of an inconclusive answer by the question that splits
	// them (token or trusted publishing?), each branch with the check that separates what is
	// left in it.
	Groups []Group `json:"groups,omitempty"`
	// Failures names the independent failures when the log holds more than one (each with
	// its own evidence); they lead Diagnoses in this order.
	Failures []string `json:"failures,omitempty"`
	// FactEvidence says where each fact came from.
	FactEvidence map[string]FactRef `json:"fact_evidence,omitempty"`
	// Failure is where the job failed, when the log shows it.
	Failure *Evidence `json:"failure,omitempty"`
	Scanned ScanStats `json:"scanned"`
	// Job names the job, for inputs that hold several (a run's log zip).
	Job string `json:"job,omitempty"`
	// JobFailed is true when the log carries the runner's own failure marker (##[error]).
	JobFailed bool `json:"-"`
	// JobURL is the job's page on GitHub, when known (auto mode); an Answer writes it as
	// the job's "url" in "jobs".
	JobURL string `json:"-"`
}

// Diagnosis is one candidate cause.
type Diagnosis struct {
	ID         string     `json:"id"`
	Title      string     `json:"title"`
	Registry   string     `json:"registry"`
	Confidence float64    `json:"confidence"`
	Evidence   []Evidence `json:"evidence"`
	Fix        AnswerFix  `json:"fix"`
	Refs       []string   `json:"refs"`
	Cause      string     `json:"cause,omitempty"`
	// Reasons are the facts and lines that raised or lowered the confidence.
	Reasons []Reason `json:"reasons,omitempty"`
	Family  string   `json:"family,omitempty"`
}

// AnswerFix is a diagnosis' fix: the rule's (summary, steps, snippet) and what only this
// answer knows of the run or workflow it read.
type AnswerFix struct {
	knowledge.Fix
	// Patch is the fix as a unified diff of the files it changes (the workflow at the
	// failing commit, package.json), when the fix is an edit of a file the run or check
	// holds.
	Patch string `json:"patch,omitempty"`
	// Command is the commands of a fix outside the repository (the package's trusted
	// publisher on npmjs.com).
	Command string `json:"command,omitempty"`
}

// FailureDiagnoses are the diagnoses of the independent failures, in Failures' order, when
// the log holds more than one; nil otherwise.
func (r *Result) FailureDiagnoses() []Diagnosis {
	if len(r.Failures) < 2 {
		return nil
	}
	var out []Diagnosis
	for _, id := range r.Failures {
		for _, d := range r.Diagnoses {
			if d.ID == id {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// Group is a question and the candidates each answer leaves.
type Group struct {
	Question string        `json:"question"`
	Branches []GroupBranch `json:"branches"`
}

// GroupBranch is one answer: its candidates (ids, most likely first) and the check that
// separates them.
type GroupBranch struct {
	Answer     string   `json:"answer"`
	Candidates []string `json:"candidates"`
	Check      string   `json:"check"`
}

// Evidence is one line that supports a diagnosis.
type Evidence struct {
	Line   int    `json:"line"`
	Text   string `json:"text"`
	Source string `json:"source"`
	Step   string `json:"step,omitempty"`
	// File names the workflow file of workflow evidence.
	File string `json:"file,omitempty"`
}

// Reason is one adjustment of a diagnosis' confidence.
type Reason struct {
	Effect float64 `json:"effect"`
	Note   string  `json:"note"`
	Line   int     `json:"line,omitempty"`
	Source string  `json:"source,omitempty"`
	File   string  `json:"file,omitempty"`
}

// FactRef is where a fact was read.
type FactRef struct {
	Line   int    `json:"line,omitempty"`
	Text   string `json:"text,omitempty"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	File   string `json:"file,omitempty"`
}

// Schema names of the JSON answers, each described by a JSON Schema in docs/schema/
// (diagnosis.v1.json, check.v1.json, error.v1.json). A consumer reads "schema" first: a
// new major version is a new name, fields added within a version are listed in its file.
const (
	SchemaDiagnosis = "pubdoc.diagnosis/v1"
	SchemaCheck     = "pubdoc.check/v1"
	SchemaError     = "pubdoc.error/v1"
)

// Answer is the JSON envelope of a diagnosis, whatever the input: always one object with
// the schema name, the result's fields at the top level, and for a run or a run's log zip
// the failed jobs. `diagnose --format json`, POST /api/diagnose and the bot's stored results
// all write an Answer; the Result inside it stays the engine's plain value.
type Answer struct {
	Schema string `json:"schema"`
	// Result is, for a run or a zip, the result of the job that explains the run (see
	// LeadJob); its Job field names that job.
	*Result
	// Jobs holds every failed job's result for a run or a zip (also when there is one); it
	// is absent for one log.
	Jobs []JobResult `json:"jobs,omitempty"`
}

// JobResult is one job's result in Answer.Jobs.
type JobResult struct {
	// Job is the job's name; it shadows Result.Job, which holds the same name.
	Job string `json:"job"`
	// URL is the job's page on GitHub, when known (a run URL; not a zip).
	URL string `json:"url,omitempty"`
	*Result
}

// NewAnswer wraps the result of one log.
func NewAnswer(r *Result) *Answer {
	return &Answer{Schema: SchemaDiagnosis, Result: filled(r)}
}

// NewRunAnswer wraps the results of a run's failed jobs (or of a run's log zip), in the
// run's order; the top level is the job LeadJob picks. It returns nil for no results.
func NewRunAnswer(results []*Result) *Answer {
	if len(results) == 0 {
		return nil
	}
	jobs := make([]JobResult, len(results))
	for i, r := range results {
		r = filled(r)
		jobs[i] = JobResult{Job: r.Job, URL: r.JobURL, Result: r}
	}
	return &Answer{Schema: SchemaDiagnosis, Result: jobs[LeadJob(results)].Result, Jobs: jobs}
}

// LeadJob picks the job that explains a run: the one whose result names a publish cause
// (a verdict other than no-known-cause) with the highest confidence, the earlier one on a
// tie; else the first job. A build job that failed beside the publish job does not hide it.
func LeadJob(results []*Result) int {
	best, conf := 0, -1.0
	for i, r := range results {
		if r == nil || r.Verdict == NoKnownCause || len(r.Diagnoses) == 0 {
			continue
		}
		if c := r.Diagnoses[0].Confidence; c > conf {
			best, conf = i, c
		}
	}
	return best
}

// filled returns r, or a copy of it whose lists and maps are empty rather than nil, so
// that the JSON holds [] and {} where the schema promises arrays and objects.
func filled(r *Result) *Result {
	if r == nil {
		r = &Result{Verdict: NoKnownCause}
	}
	ok := r.Diagnoses != nil && r.Facts != nil && r.NextChecks != nil
	for _, d := range r.Diagnoses {
		ok = ok && d.Evidence != nil && d.Refs != nil && d.Fix.Steps != nil
	}
	if ok {
		return r
	}
	c := *r
	c.Diagnoses = make([]Diagnosis, len(r.Diagnoses))
	for i, d := range r.Diagnoses {
		d.Evidence = nonNil(d.Evidence)
		d.Refs = nonNil(d.Refs)
		d.Fix.Steps = nonNil(d.Fix.Steps)
		c.Diagnoses[i] = d
	}
	c.NextChecks = nonNil(c.NextChecks)
	if c.Facts == nil {
		c.Facts = map[string]string{}
	}
	return &c
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ErrorAnswer is the JSON envelope of a failure: what `--format json` prints on stdout
// when a command fails (beside its line on stderr and its exit code), and what
// POST /api/diagnose answers with a 4xx or 5xx status.
type ErrorAnswer struct {
	Schema string      `json:"schema"`
	Error  ErrorDetail `json:"error"`
}

// ErrorDetail says what failed: Code is one of the Err* codes, Message one line for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes of ErrorAnswer (docs/schema/error.v1.json lists them).
const (
	// ErrCodeUsage: the command was called wrongly (CLI exit 2).
	ErrCodeUsage = "usage"
	// ErrCodeEmpty: the input holds no log (exit 2, HTTP 400).
	ErrCodeEmpty = "empty"
	// ErrCodeBinary: the input is not text (exit 2, HTTP 400).
	ErrCodeBinary = "binary"
	// ErrCodeUnreadable: the input could not be read or decoded (exit 2, HTTP 400).
	ErrCodeUnreadable = "unreadable"
	// ErrCodeTooLarge: the input is over the size limit (exit 2, HTTP 413).
	ErrCodeTooLarge = "too_large"
	// ErrCodeMethod: the HTTP method is not POST (HTTP 405).
	ErrCodeMethod = "method_not_allowed"
	// ErrCodeUnauthorized: the request lacks the API token (HTTP 401).
	ErrCodeUnauthorized = "unauthorized"
	// ErrCodeRuntime: the command failed while running, e.g. GitHub did not answer (exit 1).
	ErrCodeRuntime = "runtime"
	// ErrCodeInternal: the server failed (HTTP 500).
	ErrCodeInternal = "internal"
)

// NewErrorAnswer builds an error envelope.
func NewErrorAnswer(code, message string) *ErrorAnswer {
	return &ErrorAnswer{Schema: SchemaError, Error: ErrorDetail{Code: code, Message: message}}
}

// WriteJSON writes v as indented JSON without HTML escaping (a log's `<`, `>` and `&`
// stay as they are), one value and a newline: the writer of every JSON answer.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
