package learn

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// Limits of a fingerprint.
const (
	// LowConfidence is the confidence under which an answer's top candidate is grouped with
	// the unknown failures: a guess that weak says the knowledge base does not know.
	LowConfidence = 0.5
	// MaxLines is how many distinct normalized lines a fingerprint holds: the error lines
	// closest to the failure, and at most maxCited lines the answer cites.
	MaxLines = 6
	maxCited = 3
	// window is how far before the failure line error lines are looked for.
	window = 300
	// excerptLines bounds Print.Excerpt.
	excerptLines = 30
)

// Print is the fingerprint of a failure.
type Print struct {
	// ID is the group id: 16 hex digits of SHA-256 over Lines in canonical form (all the
	// placeholders of numbers, versions, hashes and times read as one, those of paths,
	// names and quoted strings as another).
	ID string
	// Lines are the normalized failing lines, sorted, each once.
	Lines []string
	// Raw are the failing lines as the log had them (cleaned of CI prefixes and
	// redacted), in the log's order: one for each of Lines.
	Raw []string
	// Excerpt is the stretch of the log around them, redacted: at most 30 lines ending at
	// the failure.
	Excerpt string
}

// Unknown reports whether an answer belongs to the unknown failures: no known cause, no
// candidate, or a top candidate under LowConfidence.
func Unknown(res *diagnose.Result) bool {
	if res == nil || res.Verdict == diagnose.NoKnownCause || len(res.Diagnoses) == 0 {
		return true
	}
	return res.Diagnoses[0].Confidence < LowConfidence
}

var (
	// reErrorish finds a line that reports an error: the words tools print, in any case,
	// and exception class names (TypeError, HTTPError).
	reErrorish = lazyre.New(`(?i)(?:^|[^a-z])(?:err!|errors?|failed|failure|fatal|exception|panic|traceback|denied|refused|unauthorized|forbidden)(?:[^a-z]|$)|[a-z0-9](?:Error|Exception)\b`)
	// reNotError are lines that name errors without being one.
	reNotError = lazyre.New(`(?i)^(?:npm )?(?:warn|warning|notice|info|debug|verbose|hint|note)\b|\b(?:0|no) (?:errors?|failures?|failed)\b`)
	// reBoilerplate are error lines every failure prints: they say a step failed, not why.
	// They are matched on normalized lines.
	reBoilerplate = lazyre.New(`(?i)^(?:` + strings.Join([]string{
		`(?:error: )?process completed with exit code <n>\.?`,
		`npm error(?: a complete log of this run can be found in:?.*| log files were not written.*| command failed| <path>)?`,
		`(?:npm error )?(?:<path> )?elifecycle.*`,
		`(?:error )?command failed with exit code <n>\.?`,
		`error: (?:the )?process '<path>' failed with exit code <n>`,
		`(?:error|err!|fatal|failed|failure)[:!.]?`,
	}, "|") + `)$`)
)

// isErrorLine tells whether a cleaned line reports an error: the runner's error marker,
// or error words outside a warning.
func isErrorLine(text, marker string) bool {
	if marker == "error" {
		return true
	}
	return reErrorish.MatchString(text) && !reNotError.MatchString(text)
}

// Fingerprint finds the failing lines of a log and fingerprints them: the lines the
// answer cites (the top candidate's log evidence) and the error lines of the log in the
// 300 lines up to where the job failed (res.Failure; the end of the log when unknown),
// closest first, until MaxLines distinct normalized lines. Boilerplate ("Process completed
// with exit code 1") counts only when nothing else is found. Lines are redacted before
// they are normalized or kept. res may be nil. A log over twice DefaultKeepBytes is cut
// with Keep first.
func Fingerprint(res *diagnose.Result, log string) Print {
	if len(log) > 2*DefaultKeepBytes {
		// What a failure's lines are is in the log's tail and around its evidence: Keep
		// holds both, and bounds what is split below. The failure line is then found by
		// its text.
		log = Keep(log, res, DefaultKeepBytes)
	}
	lines := strings.Split(log, "\n")
	end := failureIndex(res, lines)
	var picked []pick
	seen := map[string]bool{}
	add := func(i int, raw string, boiler bool) bool {
		text, _ := clean(diagnose.Redact(raw))
		n := Normalize(text)
		if n == "" || seen[n] || boiler != reBoilerplate.MatchString(n) {
			return false
		}
		seen[n] = true
		picked = append(picked, pick{index: i, raw: text, norm: n})
		return true
	}
	if res != nil && len(res.Diagnoses) > 0 {
		cited := 0
		for _, e := range res.Diagnoses[0].Evidence {
			if e.Source == "log" && cited < maxCited && add(e.Line-1, e.Text, false) {
				cited++
			}
		}
	}
	for _, boiler := range []bool{false, true} {
		for i := end; i >= max(0, end-window) && len(picked) < MaxLines; i-- {
			text, marker := clean(lines[i])
			if isErrorLine(text, marker) {
				add(i, lines[i], boiler)
			}
		}
		if len(picked) > 0 {
			break
		}
	}
	if len(picked) == 0 {
		// No error line at all: the line the job failed at, else the last one that says
		// anything.
		for i := end; i >= 0 && len(picked) == 0; i-- {
			add(i, lines[i], false)
			if len(picked) == 0 {
				add(i, lines[i], true)
			}
		}
	}
	return printOf(picked, lines, end)
}

// pick is one failing line: where it is, as cleaned, as normalized.
type pick struct {
	index     int
	raw, norm string
}

// failureIndex is the index of the line the job failed at, found by its number and
// checked by its text; the last line when the result does not say or the line is not
// there.
func failureIndex(res *diagnose.Result, lines []string) int {
	last := len(lines) - 1
	for last > 0 && strings.TrimSpace(lines[last]) == "" {
		last--
	}
	if res == nil || res.Failure == nil || res.Failure.Text == "" {
		return last
	}
	want := strings.TrimSpace(res.Failure.Text)
	if i := res.Failure.Line - 1; i >= 0 && i < len(lines) && strings.Contains(lines[i], want) {
		return i
	}
	for i := last; i >= 0; i-- {
		if strings.Contains(lines[i], want) {
			return i
		}
	}
	return last
}

// printOf builds the Print of the picked lines.
func printOf(picked []pick, lines []string, end int) Print {
	p := Print{}
	slices.SortFunc(picked, func(a, b pick) int { return a.index - b.index })
	first := end
	for _, pk := range picked {
		p.Lines = append(p.Lines, pk.norm)
		p.Raw = append(p.Raw, pk.raw)
		if pk.index >= 0 && pk.index < first {
			first = pk.index
		}
	}
	slices.Sort(p.Lines)
	p.ID = ID(p.Lines)
	if len(lines) > 0 && end >= 0 {
		from := max(0, first-2, end-excerptLines+1)
		var ex []string
		for _, l := range lines[from : end+1] {
			text, _ := clean(l)
			ex = append(ex, text)
		}
		p.Excerpt = diagnose.Redact(strings.Trim(strings.Join(ex, "\n"), "\n"))
	}
	return p
}

// FromLines fingerprints lines given as they are (a rule's example, a paste): each is
// normalized, and the set of them hashed. Raw keeps them cleaned and redacted.
func FromLines(lines []string) Print {
	var picked []pick
	seen := map[string]bool{}
	for i, l := range lines {
		text, _ := clean(diagnose.Redact(l))
		n := Normalize(text)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		picked = append(picked, pick{index: i, raw: text, norm: n})
	}
	p := printOf(picked, nil, -1)
	p.Excerpt = strings.Join(p.Raw, "\n")
	return p
}

// Canonical placeholders: what the ID reads in place of each kind of masked text.
var canonical = strings.NewReplacer(
	phNumber, "<#>", phVersion, "<#>", phTime, "<#>", phDate, "<#>", phHash, "<#>",
	phBase64, "<#>", phUUID, "<#>",
	phPath, "<*>", phString, "<*>", phPackage, "<*>", phName, "<*>", phEmail, "<*>",
)

// reRun is a run of placeholders joined by punctuation ("<pkg>@<ver>", "<n>.<n>"),
// read as one.
var reRun = lazyre.New(`<[#*]>(?:[.:/@_+,-]*<[#*]>)+`)

// ID is the fingerprint of normalized lines: SHA-256 over their canonical forms, sorted
// and each once, cut to 16 hex digits. The lines' order does not matter.
func ID(lines []string) string {
	canon := make([]string, 0, len(lines))
	for _, l := range lines {
		c := reRun.ReplaceAllString(canonical.Replace(l), "<*>")
		canon = append(canon, c)
	}
	slices.Sort(canon)
	canon = slices.Compact(canon)
	h := sha256.New()
	h.Write([]byte("pubdoc.learn/v1\n"))
	for _, c := range canon {
		h.Write([]byte(c))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
