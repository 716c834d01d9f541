package digest

import (
	"cmp"
	"slices"
	"time"

	"github.com/pubdoc/pubdoc/internal/durations"
)

// Limits of what one digest lists; the rest is counted ("and 4 more").
const (
	// TopCauses is how many causes the message lists and the chart draws on their own;
	// the chart stacks the rest as "other".
	TopCauses = 5
	// MaxStillRed is how many still-red runs the message lists.
	MaxStillRed = 10
	// MaxWrong is how many rules marked wrong the message lists.
	MaxWrong = 5
	// MaxUnknown is how many unknown-failure groups the message lists.
	MaxUnknown = 3
)

// NoKnownCause is the cause a failure is counted under when no rule named it.
const NoKnownCause = "no-known-cause"

// OtherCause names the chart's series of every cause past the top five.
const OtherCause = "other"

// Week is what the digest of one route for one week is computed from: the records the
// bot reads from the store.
type Week struct {
	// Name says what the digest covers, shown in its header: the route's repos
	// ("acme/*, acme-labs/cli").
	Name string
	// Start and End bound the week, [Start, End). Failures outside are ignored.
	Start, End time.Time
	// Location is the time zone days and times are shown in (the route's); nil is UTC.
	Location *time.Location
	// Now is when the digest is made: a still-red run's age is measured to it. Zero
	// means End.
	Now time.Time
	// Failures are the week's failed publish runs, one per run (a second record of the
	// same repository and run id is ignored).
	Failures []Failure
	// Feedback is the week's "Fixed it"/"Wrong cause" answers, counted per rule.
	Feedback []RuleFeedback
	// Unknown are the week's groups of failures no rule explains, with their counts in
	// the week.
	Unknown []UnknownGroup
	// Titles maps a rule id to its title, for the list of top causes; optional.
	Titles map[string]string
}

// Failure is one failed publish run.
type Failure struct {
	// At is when it failed (when it was diagnosed).
	At time.Time
	// Repo, Workflow (the file name) and Branch say which workflow failed; a failure
	// and the runs that failed after it on the same workflow and branch until one passed
	// are one incident.
	Repo, Workflow, Branch string
	// RunID and RunURL name the run (the link shown for a still-red run).
	RunID  int64
	RunURL string
	// RuleID is the cause named (the top candidate when inconclusive); "" when none.
	RuleID string
	// Verdict is the diagnosis's verdict (diagnosed, inconclusive, no-known-cause).
	Verdict string
	// FixedAt is when a later run of the workflow passed (the triage thread's
	// resolved_at); zero while it is still red.
	FixedAt time.Time
	// RedSince is when the incident began if that was before At (the triage thread's
	// first_at, which may be before the week); zero means At.
	RedSince time.Time
}

// RuleFeedback is what people answered about one rule's diagnoses.
type RuleFeedback struct {
	RuleID string
	// Right counts "Fixed it", Wrong "Wrong cause".
	Right, Wrong int
}

// UnknownGroup is a group of failures no rule explains, fingerprinted by their
// normalized failing lines (`pubdoc kb unknown`).
type UnknownGroup struct {
	// ID is the group's fingerprint (`pubdoc kb new --from ID`).
	ID string
	// Count is how many answers of the week fell in the group.
	Count int
	// Example is one failing line of the group, redacted.
	Example string
}

// Digest is the week's figures.
type Digest struct {
	Name       string
	Start, End time.Time
	Location   *time.Location
	// Failures counts the week's failed runs; Repos the repositories they were in.
	Failures int
	Repos    int
	// Causes are every cause of the week, most frequent first (ties by id).
	Causes []Cause
	// Incidents counts the week's red stretches (failures of one workflow and branch
	// until a run passed); Fixed those that a passing run ended.
	Incidents, Fixed int
	// MedianTimeToFix is the median, over the fixed incidents, of the time from the
	// incident's beginning (its first failure, or an earlier RedSince) to the run that
	// passed; 0 when none was fixed.
	MedianTimeToFix time.Duration
	// StillRed are the incidents no run has ended yet, oldest first.
	StillRed []Red
	// Wrong are the rules marked wrong at least once, most often first.
	Wrong []RuleFeedback
	// Unknown are the largest unknown-failure groups, at most MaxUnknown; UnknownGroups
	// counts them all, UnknownAnswers their answers.
	Unknown        []UnknownGroup
	UnknownGroups  int
	UnknownAnswers int
	// Series are the chart's causes: the top causes, then OtherCause when there are more.
	Series []string
	// Days are the week's days, each with its failures per series.
	Days []Day
}

// Cause is one cause's share of the week's failures.
type Cause struct {
	// ID is the rule id, or NoKnownCause.
	ID    string
	Title string
	Count int
	// Share is Count over all the week's failures, 0..1.
	Share float64
}

// Red is an incident still red when the digest was made.
type Red struct {
	Repo, Workflow, Branch string
	// RunID and RunURL are the incident's first failed run in the week.
	RunID  int64
	RunURL string
	// RuleID is the cause its latest failure was given.
	RuleID string
	// Since is when it began (its earliest RedSince, or its first failure in the week);
	// Age how long ago that was; Runs how many runs failed in it in the week.
	Since time.Time
	Age   time.Duration
	Runs  int
}

// Day is one day of the week with its failures per series (Digest.Series).
type Day struct {
	// Date is the day's midnight in the digest's location.
	Date   time.Time
	Counts []int
}

// Quiet reports whether the week had no failed run.
func (d Digest) Quiet() bool { return d.Failures == 0 }

// Compute makes the digest of a week's records. It does not modify w.
func Compute(w Week) Digest {
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	now := w.Now
	if now.IsZero() {
		now = w.End
	}
	d := Digest{Name: w.Name, Start: w.Start.In(loc), End: w.End.In(loc), Location: loc}
	fails := weekFailures(w)
	d.Failures = len(fails)
	d.Repos = countRepos(fails)
	d.Causes = causes(fails, w.Titles)
	d.Incidents, d.Fixed, d.MedianTimeToFix, d.StillRed = incidents(fails, now)
	d.Wrong = wrongRules(w.Feedback)
	d.Unknown, d.UnknownGroups, d.UnknownAnswers = unknownGroups(w.Unknown)
	d.Series, d.Days = days(fails, d.Causes, d.Start, d.End, loc)
	return d
}

// weekFailures are w's failures in the week, one per run, oldest first.
func weekFailures(w Week) []Failure {
	type run struct {
		repo string
		id   int64
	}
	seen := map[run]bool{}
	var out []Failure
	for _, f := range w.Failures {
		if f.At.Before(w.Start) || !f.At.Before(w.End) {
			continue
		}
		if f.RunID != 0 {
			k := run{f.Repo, f.RunID}
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Failure) int { return a.At.Compare(b.At) })
	return out
}

func countRepos(fails []Failure) int {
	repos := map[string]bool{}
	for _, f := range fails {
		repos[f.Repo] = true
	}
	return len(repos)
}

// causeOf is the cause a failure counts under.
func causeOf(f Failure) string {
	if f.RuleID == "" {
		return NoKnownCause
	}
	return f.RuleID
}

func causes(fails []Failure, titles map[string]string) []Cause {
	counts := map[string]int{}
	for _, f := range fails {
		counts[causeOf(f)]++
	}
	out := make([]Cause, 0, len(counts))
	for id, n := range counts {
		out = append(out, Cause{ID: id, Title: titles[id], Count: n, Share: float64(n) / float64(len(fails))})
	}
	slices.SortFunc(out, func(a, b Cause) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// incidents groups the failures (oldest first) into red stretches: one workflow on one
// branch, until the run that passed (the same FixedAt), or still red (zero FixedAt).
func incidents(fails []Failure, now time.Time) (n, fixed int, median time.Duration, red []Red) {
	type key struct {
		repo, workflow, branch string
		fixedAt                int64
	}
	type stretch struct {
		first, last Failure
		since       time.Time
		runs        int
	}
	var order []key
	byKey := map[key]*stretch{}
	for _, f := range fails {
		k := key{f.Repo, f.Workflow, f.Branch, 0}
		if !f.FixedAt.IsZero() {
			k.fixedAt = f.FixedAt.UnixNano()
		}
		s := byKey[k]
		if s == nil {
			s = &stretch{first: f, since: f.At}
			byKey[k] = s
			order = append(order, k)
		}
		if !f.RedSince.IsZero() && f.RedSince.Before(s.since) {
			s.since = f.RedSince
		}
		s.last = f
		s.runs++
	}
	var toFix []time.Duration
	for _, k := range order {
		s := byKey[k]
		if k.fixedAt != 0 {
			toFix = append(toFix, max(s.first.FixedAt.Sub(s.since), 0))
			continue
		}
		red = append(red, Red{
			Repo: s.first.Repo, Workflow: s.first.Workflow, Branch: s.first.Branch,
			RunID: s.first.RunID, RunURL: s.first.RunURL, RuleID: causeOf(s.last),
			Since: s.since, Age: max(now.Sub(s.since), 0), Runs: s.runs,
		})
	}
	slices.SortStableFunc(red, func(a, b Red) int { return a.Since.Compare(b.Since) })
	return len(order), len(toFix), durations.Median(toFix), red
}

func wrongRules(fb []RuleFeedback) []RuleFeedback {
	byRule := map[string]*RuleFeedback{}
	var order []string
	for _, f := range fb {
		r := byRule[f.RuleID]
		if r == nil {
			r = &RuleFeedback{RuleID: f.RuleID}
			byRule[f.RuleID] = r
			order = append(order, f.RuleID)
		}
		r.Right += f.Right
		r.Wrong += f.Wrong
	}
	var out []RuleFeedback
	for _, id := range order {
		if r := byRule[id]; r.Wrong > 0 && id != "" {
			out = append(out, *r)
		}
	}
	slices.SortFunc(out, func(a, b RuleFeedback) int {
		if c := cmp.Compare(b.Wrong, a.Wrong); c != 0 {
			return c
		}
		return cmp.Compare(a.RuleID, b.RuleID)
	})
	return out
}

func unknownGroups(gs []UnknownGroup) (top []UnknownGroup, groups, answers int) {
	for _, g := range gs {
		if g.Count > 0 {
			top = append(top, g)
			answers += g.Count
		}
	}
	groups = len(top)
	slices.SortFunc(top, func(a, b UnknownGroup) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(top) > MaxUnknown {
		top = top[:MaxUnknown]
	}
	return top, groups, answers
}

// days counts the failures per day of [start, end) in loc and per series: the top
// causes, then "other".
func days(fails []Failure, causes []Cause, start, end time.Time, loc *time.Location) ([]string, []Day) {
	index := map[string]int{}
	var series []string
	for i, c := range causes {
		if i == TopCauses {
			series = append(series, OtherCause)
			break
		}
		index[c.ID] = i
		series = append(series, c.ID)
	}
	var out []Day
	for day := midnight(start, loc); day.Before(end); day = day.AddDate(0, 0, 1) {
		out = append(out, Day{Date: day, Counts: make([]int, len(series))})
	}
	for _, f := range fails {
		i := dayIndex(out, f.At)
		if i < 0 {
			continue
		}
		s, ok := index[causeOf(f)]
		if !ok {
			s = len(series) - 1 // other
		}
		out[i].Counts[s]++
	}
	return series, out
}

func midnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// dayIndex is the index of the day t falls on, -1 for none.
func dayIndex(ds []Day, t time.Time) int {
	for i := len(ds) - 1; i >= 0; i-- {
		if !t.Before(ds[i].Date) {
			return i
		}
	}
	return -1
}
