package learn

import "time"

// Feedback kinds a case comes from, as the bot's buttons name them.
const (
	// SourceFixed is "Fixed it": the answer's cause was right and its fix worked.
	SourceFixed = "fixed"
	// SourceWrong is "Wrong cause", with or without the right cause picked.
	SourceWrong = "wrong"
)

// Case is a log with the cause feedback gave it: a labelled example the knowledge base
// can be scored on (kb eval) and its rules' fixtures taken from.
type Case struct {
	ID int64
	// DiagnosisID is the stored answer the feedback was on; one case per answer, the
	// latest feedback's.
	DiagnosisID int64
	// Log is the log as kept for the answer (Keep), redacted.
	Log string
	// Verdict, TopRuleID and Confidence are the answer's: its verdict, its most likely
	// cause ("no-known-cause" when none) and that cause's confidence.
	Verdict    string
	TopRuleID  string
	Confidence float64
	// Label is the right cause: the answer's own for SourceFixed, the one the person
	// picked for SourceWrong; "" when the person picked none (the knowledge base may not
	// know it yet).
	Label string
	// Source is the feedback: SourceFixed or SourceWrong.
	Source string
	// User is who gave it (a Slack user id).
	User string
	// ThreadID is the answer's triage thread (0 for none); Fingerprint its failing lines'
	// Print.ID.
	ThreadID    int64
	Fingerprint string
	CreatedAt   time.Time
}

// Group is one unknown failure: the answers whose failing lines have one fingerprint.
type Group struct {
	// ID is the fingerprint (Print.ID).
	ID string
	// Lines are the normalized failing lines; Example the same lines as the first
	// answer's log had them, and Excerpt the stretch of that log around them (redacted).
	Lines   []string
	Example []string
	Excerpt string
	// Verdict and RuleID are the first answer's verdict and top candidate ("" for none).
	Verdict string
	RuleID  string
	// Total counts every answer of the group; Count those in the window asked for.
	Total int
	Count int
	// FirstSeen and LastSeen are the first and the last answer's times.
	FirstSeen, LastSeen time.Time
	// Days counts the answers per UTC day in the window, oldest first; days without one
	// are left out.
	Days []DayCount
}

// DayCount is how many answers a group had on one UTC day.
type DayCount struct {
	// Day is the day's midnight, UTC.
	Day   time.Time
	Count int
}

// Precision is what feedback says of one rule's answers.
type Precision struct {
	RuleID string
	// Right counts "Fixed it" on answers naming the rule, Wrong "Wrong cause".
	Right, Wrong int
}

// Ratio is Right over Right+Wrong; 0 without feedback.
func (p Precision) Ratio() float64 {
	if n := p.Right + p.Wrong; n > 0 {
		return float64(p.Right) / float64(n)
	}
	return 0
}

// CaseLabel is the label feedback gives an answer: its own top rule when the fix worked,
// the picked rule when the cause was wrong. "" when there is none to give: no rule was
// picked ("other"), or the answer named no known cause.
func CaseLabel(source, topRuleID, picked string) string {
	var l string
	switch source {
	case SourceFixed:
		l = topRuleID
	case SourceWrong:
		l = picked
	}
	switch l {
	case "other", "no-known-cause", "none":
		return ""
	}
	return l
}
