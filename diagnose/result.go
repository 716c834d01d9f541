package diagnose

import "github.com/pubdoc/pubdoc/knowledge"

// Verdicts.
const (
	Diagnosed    = "diagnosed"
	Inconclusive = "inconclusive"
	NoKnownCause = "no-known-cause"
)

// Result is the engine's answer: the JSON contract of ARCHITECTURE.md, plus explanation
// fields (fact_evidence, failure, summary, scanned) that consumers may ignore.
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
}

// Diagnosis is one candidate cause.
type Diagnosis struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	Registry   string        `json:"registry"`
	Confidence float64       `json:"confidence"`
	Evidence   []Evidence    `json:"evidence"`
	Fix        knowledge.Fix `json:"fix"`
	Refs       []string      `json:"refs"`
	Cause      string        `json:"cause,omitempty"`
	// Reasons are the facts and lines that raised or lowered the confidence.
	Reasons []Reason `json:"reasons,omitempty"`
	Family  string   `json:"family,omitempty"`
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
