package diagnose

import (
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"
)

// TextOptions shape terminal output.
type TextOptions struct {
	Color bool
	// Width is the terminal's width in columns: prose is wrapped to it, evidence lines are
	// cut to it, code snippets are left as they are. Zero means DefaultWidth.
	Width int
	// Explain adds what the first screen leaves out: every candidate's full cause, fix and
	// references, the reasons with their weights, the facts and what was scanned.
	Explain bool
}

// What the first screen shows at most.
const (
	briefEvidence     = 5  // evidence lines of a diagnosis
	briefSnippetLines = 12 // lines of a fix's snippet
	briefBranchCands  = 3  // candidates named under each answer of the first question
	briefCandidates   = 5  // candidates named when no question splits them
	briefNextChecks   = 2  // next checks when no question splits the candidates
	minSnippetPart    = 3  // lines of the shortest first part a long snippet is cut to
)

type palette struct{ bold, dim, red, green, yellow, cyan, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{"\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[0m"}
}

// textWriter builds terminal text: prose wrapped to the width, colour around whole
// pieces so that escape codes never count against it.
type textWriter struct {
	b     strings.Builder
	c     palette
	width int
}

func (t *textWriter) blank() { t.b.WriteString("\n") }

func (t *textWriter) line(s string) {
	t.b.WriteString(s)
	t.b.WriteString("\n")
}

// para writes text wrapped to the width, the first line after first, the rest after rest,
// each line between on and the reset code.
func (t *textWriter) para(text, first, rest, on string) {
	for i, l := range wrapLines(text, t.width, first, rest) {
		p := first
		if i > 0 {
			p = rest
		}
		t.line(p + paint(on, strings.TrimPrefix(l, p), t.c.reset))
	}
}

// heading writes a bold label followed by text wrapped with a hanging indent under it.
func (t *textWriter) heading(label, text, indent string) {
	if text == "" {
		t.line(paint(t.c.bold, label, t.c.reset))
		return
	}
	lines := wrapLines(text, t.width, label+" ", indent)
	t.line(paint(t.c.bold, label, t.c.reset) + strings.TrimPrefix(lines[0], label))
	for _, l := range lines[1:] {
		t.line(l)
	}
}

func paint(on, s, reset string) string {
	if on == "" || s == "" {
		return s
	}
	return on + s + reset
}

// RenderText writes the result for a terminal. The first screen holds the answer: the
// verdict and title, the cause in two or three sentences, at most five evidence lines,
// the fix with its snippet and, when the answer is not sure, the candidates grouped by the
// check that splits them. Explain adds everything else.
func RenderText(w io.Writer, r *Result, opt TextOptions) error {
	width := opt.Width
	if width <= 0 {
		width = DefaultWidth
	}
	t := &textWriter{c: colors(opt.Color), width: max(width, minWidth)}
	if r.Job != "" {
		t.line(paint(t.c.bold, clipRunes("== job: "+r.Job+" ==", t.width), t.c.reset))
	}
	t.headline(r)
	if opt.Explain {
		t.explain(r)
	} else {
		t.brief(r)
	}
	_, err := io.WriteString(w, t.b.String())
	return err
}

// headline names the verdict and, by title, the cause or the most likely one.
func (t *textWriter) headline(r *Result) {
	label, col := "NO KNOWN CAUSE", t.c.green
	text := r.Summary
	switch r.Verdict {
	case Diagnosed:
		label, col = "DIAGNOSED", t.c.red
	case Inconclusive:
		label, col = "INCONCLUSIVE", t.c.yellow
	}
	fail := r.FailureDiagnoses()
	switch {
	case len(fail) > 1:
		titles := make([]string, len(fail))
		for i, d := range fail {
			titles[i] = d.Title
		}
		text = fmt.Sprintf("%d failures: %s.", len(fail), strings.Join(titles, "; "))
	case r.Verdict == Diagnosed && len(r.Diagnoses) > 0:
		d := r.Diagnoses[0]
		text = fmt.Sprintf("%s (%.2f)", d.Title, d.Confidence)
	case r.Verdict == Inconclusive && len(r.Diagnoses) > 0:
		text = "most likely: " + r.Diagnoses[0].Title
	}
	lines := wrapLines(text, t.width, label+"  ", "  ")
	t.line(paint(t.c.bold+col, label, t.c.reset) + paint(t.c.bold, strings.TrimPrefix(lines[0], label), t.c.reset))
	for _, l := range lines[1:] {
		t.line(paint(t.c.bold, l, t.c.reset))
	}
}

func find(r *Result, id string) (Diagnosis, bool) {
	for _, d := range r.Diagnoses {
		if d.ID == id {
			return d, true
		}
	}
	return Diagnosis{}, false
}

// brief is the first screen.
func (t *textWriter) brief(r *Result) {
	fail := r.FailureDiagnoses()
	switch {
	case len(fail) > 1:
		for i, d := range fail {
			t.blank()
			t.para(fmt.Sprintf("%d. %s (%.2f)", i+1, d.Title, d.Confidence), "", "   ", t.c.bold)
			t.briefDiagnosis(d)
		}
	case r.Verdict == Diagnosed && len(r.Diagnoses) > 0:
		t.briefDiagnosis(r.Diagnoses[0])
	case r.Verdict == Inconclusive && len(r.Diagnoses) > 0:
		t.evidence(r.Diagnoses[0].Evidence, briefEvidence)
		if len(r.Groups) > 0 {
			t.groups(r, briefBranchCands)
		} else {
			t.candidates(r.Diagnoses, briefCandidates)
			t.nextChecks(r.NextChecks, briefNextChecks)
		}
	default:
		// The summary names where the job failed; the line is shown when it does not.
		if r.Failure != nil && !strings.Contains(r.Summary, fmt.Sprintf("line %d:", r.Failure.Line)) {
			t.blank()
			t.heading("Where it failed", "", "")
			t.evidenceLines([]Evidence{*r.Failure}, t.width)
		}
		t.nextChecks(r.NextChecks, briefNextChecks)
	}
	t.footer(r)
}

// briefDiagnosis is one cause on the first screen: its cause in brief, the evidence, the
// fix and its snippet.
func (t *textWriter) briefDiagnosis(d Diagnosis) {
	if c := BriefCause(d.Cause); c != "" {
		t.para(c, "  ", "  ", "")
	}
	t.evidence(d.Evidence, briefEvidence)
	t.fix(d, false)
}

// evidence writes at most n evidence lines under a heading that says how many there are.
func (t *textWriter) evidence(ev []Evidence, n int) {
	if len(ev) == 0 {
		return
	}
	shown := pickEvidence(ev, n)
	head := ""
	if len(shown) < len(ev) {
		head = fmt.Sprintf("(%d of %d lines)", len(shown), len(ev))
	}
	t.blank()
	t.heading("Evidence", head, "")
	t.evidenceLines(shown, t.width)
}

// evidenceLines writes evidence lines, each cut to width runes (log text is not wrapped).
func (t *textWriter) evidenceLines(ev []Evidence, width int) {
	labels := make([]string, len(ev))
	lw := 0
	for i, e := range ev {
		labels[i] = evidenceLabel(e)
		lw = max(lw, utf8.RuneCountInString(labels[i]))
	}
	for i, e := range ev {
		pad := strings.Repeat(" ", lw-utf8.RuneCountInString(labels[i]))
		text := strings.ReplaceAll(strings.TrimSpace(e.Text), "\n", " ")
		room := width - 2 - lw - 2
		t.line("  " + pad + paint(t.c.cyan, labels[i], t.c.reset) + "  " + clipMiddle(text, max(room, 20)))
	}
}

// clipMiddle cuts s to at most n runes by leaving out its middle: a log line says what
// failed at its start and, often, why at its end ("… - You must sign up for private
// packages").
func clipMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	head := n * 3 / 5
	tail := n - head - 1
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// pickEvidence keeps at most n lines in their order, making room for the lines that are
// not from the log (the workflow line to change, the registry's answer): they say where
// to act.
func pickEvidence(ev []Evidence, n int) []Evidence {
	if len(ev) <= n {
		return ev
	}
	keep := make([]bool, len(ev))
	left := n
	for i, e := range ev {
		if e.Source != "" && e.Source != "log" && left > n/2 {
			keep[i] = true
			left--
		}
	}
	for i := range ev {
		if left == 0 {
			break
		}
		if !keep[i] {
			keep[i] = true
			left--
		}
	}
	var out []Evidence
	for i, e := range ev {
		if keep[i] {
			out = append(out, e)
		}
	}
	return out
}

// evidenceLabel says where a line was found: "L812" in the log, "release.yml:8" in a
// workflow file, or the run or registry it came from.
func evidenceLabel(e Evidence) string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d", path.Base(e.File), e.Line)
	case e.Source == "run" || e.Source == "registry":
		return e.Source
	}
	return lineLabel(e.Line)
}

// fix writes the fix: its summary, its steps (all of them when full, or when there is no
// snippet to show instead) and its snippet, unwrapped (cut on the first screen).
func (t *textWriter) fix(d Diagnosis, full bool) {
	f := d.Fix
	if f.Summary == "" && len(f.Steps) == 0 && f.Snippet == "" {
		return
	}
	t.blank()
	t.heading("Fix:", f.Summary, "  ")
	if full || strings.TrimSpace(f.Snippet) == "" {
		for n, s := range f.Steps {
			num := fmt.Sprintf("  %d. ", n+1)
			t.para(s, num, strings.Repeat(" ", len(num)), "")
		}
	}
	defer t.patch(d, full)
	if strings.TrimSpace(f.Snippet) == "" {
		return
	}
	limit := briefSnippetLines
	if full {
		limit = 0
	}
	lines, more := snippetHead(f.Snippet, limit)
	if full {
		t.blank()
	}
	for _, l := range lines {
		t.line("    " + paint(t.c.dim, l, t.c.reset))
	}
	if more > 0 {
		t.line("    " + fmt.Sprintf("… %d more %s (--explain)", more, plural(more, "line", "lines")))
	}
}

// briefPatchLines bounds the patch on the first screen.
const briefPatchLines = 30

// patch writes the fix as made for this run: the diff of the files it changes (added
// lines green, removed red) and the commands of a fix outside the repository.
func (t *textWriter) patch(d Diagnosis, full bool) {
	if p := strings.TrimRight(d.Fix.Patch, "\n"); p != "" {
		t.blank()
		t.heading("Patch:", "git apply, or pubdoc check --fix", "  ")
		lines := strings.Split(p, "\n")
		more := 0
		if !full && len(lines) > briefPatchLines {
			lines, more = lines[:briefPatchLines-1], len(lines)-briefPatchLines+1
		}
		for _, l := range lines {
			col := t.c.dim
			switch {
			case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"):
				col = t.c.bold
			case strings.HasPrefix(l, "+"):
				col = t.c.green
			case strings.HasPrefix(l, "-"):
				col = t.c.red
			case strings.HasPrefix(l, "@@"):
				col = t.c.cyan
			}
			t.line("    " + paint(col, l, t.c.reset))
		}
		if more > 0 {
			t.line("    " + fmt.Sprintf("… %d more %s (--explain)", more, plural(more, "line", "lines")))
		}
	}
	if c := strings.TrimRight(d.Fix.Command, "\n"); c != "" {
		t.blank()
		t.heading("Run:", "outside the repository", "  ")
		for l := range strings.SplitSeq(c, "\n") {
			t.line("    " + l)
		}
	}
}

// snippetHead is a snippet's first lines: all of them when limit is 0 or they fit. A
// longer snippet is cut only where a comment at its top level starts another part (an
// alternative, another file), never inside a block: the first parts that fit in limit
// lines are shown, or the whole snippet when its first part does not fit.
func snippetHead(snippet string, limit int) (lines []string, more int) {
	all := strings.Split(strings.TrimRight(snippet, "\n"), "\n")
	if limit <= 0 || len(all) <= limit {
		return all, 0
	}
	cut := 0
	for i := limit - 1; i >= minSnippetPart; i-- { // limit-1 leaves room for the "… more" line
		if strings.HasPrefix(all[i], "#") {
			cut = i
			break
		}
	}
	if cut == 0 {
		return all, 0
	}
	shown := all[:cut]
	for len(shown) > 1 && strings.TrimSpace(shown[len(shown)-1]) == "" {
		shown = shown[:len(shown)-1]
	}
	return shown, len(all) - len(shown)
}

// groups writes the question that splits the candidates, each answer with the candidates
// it leaves (by title, at most n unless n is 0) and the check that separates them.
func (t *textWriter) groups(r *Result, n int) {
	for _, g := range r.Groups {
		t.blank()
		t.heading("First question:", g.Question, "  ")
		for _, br := range g.Branches {
			var ds []Diagnosis
			for _, id := range br.Candidates {
				if d, ok := find(r, id); ok {
					ds = append(ds, d)
				}
			}
			answer := "If " + br.Answer + ":"
			if n > 0 && len(ds) > n {
				answer = fmt.Sprintf("If %s, the likeliest %d of %d:", br.Answer, n, len(ds))
				ds = ds[:n]
			}
			t.para(answer, "  ", "    ", t.c.bold)
			t.candidateLines(ds, n, "    ")
			if br.Check != "" {
				t.para(br.Check, "    → ", "      ", "")
			}
		}
	}
}

// candidates names the candidates when no question splits them.
func (t *textWriter) candidates(ds []Diagnosis, n int) {
	t.blank()
	t.heading("Candidates", "", "")
	t.candidateLines(ds, n, "  ")
}

// candidateLines names candidates by title with their confidence: at most n, each on one
// line, then how many more; all of them, wrapped, when n is 0.
func (t *textWriter) candidateLines(ds []Diagnosis, n int, indent string) {
	for i, d := range ds {
		first := fmt.Sprintf("%s%.2f  ", indent, d.Confidence)
		if n == 0 {
			t.para(d.Title+" ["+d.ID+"]", first, strings.Repeat(" ", len(first)), "")
			continue
		}
		if i == n {
			t.line(indent + paint(t.c.dim, fmt.Sprintf("… and %d more (--explain)", len(ds)-i), t.c.reset))
			return
		}
		t.line(first + clipRunes(d.Title, t.width-len(first)))
	}
}

// nextChecks writes at most n next checks (all when n is 0).
func (t *textWriter) nextChecks(qs []string, n int) {
	if len(qs) == 0 {
		return
	}
	t.blank()
	t.heading("Next check", "", "")
	for i, q := range qs {
		if n > 0 && i == n {
			t.line("  " + paint(t.c.dim, fmt.Sprintf("… and %d more (--explain)", len(qs)-i), t.c.reset))
			return
		}
		t.para(q, "  → ", "    ", "")
	}
}

// footer names the rule and what --explain adds.
func (t *textWriter) footer(r *Result) {
	var parts []string
	shown := 1
	if fail := r.FailureDiagnoses(); len(fail) > 1 {
		shown = len(fail)
	}
	switch {
	case r.Verdict == Inconclusive && len(r.Diagnoses) > 0 && len(r.Failures) < 2:
		parts = append(parts, fmt.Sprintf("%d %s", len(r.Diagnoses), plural(len(r.Diagnoses), "candidate", "candidates")))
	case r.Verdict != NoKnownCause && len(r.Diagnoses) > 0:
		for _, d := range r.Diagnoses[:shown] {
			parts = append(parts, "rule "+d.ID)
		}
		if rest := len(r.Diagnoses) - shown; rest > 0 {
			parts = append(parts, fmt.Sprintf("%d other %s", rest, plural(rest, "candidate", "candidates")))
		}
	}
	parts = append(parts, "--explain for more")
	t.blank()
	t.para(strings.Join(parts, " · "), "", "", t.c.dim)
}

// explain is the whole answer: the question that splits the candidates, the next checks,
// every candidate in full, the facts and what was scanned.
func (t *textWriter) explain(r *Result) {
	if len(r.Groups) > 0 {
		t.groups(r, 0)
	}
	if r.Verdict == Inconclusive {
		t.nextChecks(r.NextChecks, 0)
	}
	if len(r.Diagnoses) == 0 && r.Failure != nil {
		t.blank()
		t.heading("Where it failed", "", "")
		t.evidenceLines([]Evidence{*r.Failure}, 2+12+2+200)
	}
	for i, d := range r.Diagnoses {
		t.explainDiagnosis(d, i, len(r.Diagnoses) > 1)
	}
	if len(r.Facts) > 0 {
		t.blank()
		t.heading("Facts", "", "")
		for _, name := range sortedKeys(r.Facts) {
			ref := r.FactEvidence[name]
			where := ""
			if ref.Line > 0 {
				where = fmt.Sprintf(" (line %d, %s)", ref.Line, ref.Kind)
			}
			t.line(fmt.Sprintf("  %-26s %s", name, r.Facts[name]) + paint(t.c.dim, where, t.c.reset))
		}
	}
	t.blank()
	t.line(paint(t.c.dim, fmt.Sprintf("Scanned %d lines (%d bytes), kept %d.", r.Scanned.Lines, r.Scanned.Bytes, r.Scanned.Kept), t.c.reset))
}

// explainDiagnosis is one candidate in full: cause, every evidence line, the reasons with
// their weights, the fix with its steps and snippet, and the references.
func (t *textWriter) explainDiagnosis(d Diagnosis, i int, numbered bool) {
	if numbered {
		t.blank()
		t.para(fmt.Sprintf("%d. %s [%s] confidence %.2f", i+1, d.Title, d.ID, d.Confidence), "", "   ", t.c.bold)
	}
	if d.Cause != "" {
		t.blank()
		t.heading("Cause", "", "")
		for _, p := range strings.Split(strings.TrimSpace(d.Cause), "\n\n") {
			t.para(p, "  ", "  ", "")
		}
	}
	if len(d.Evidence) > 0 {
		t.blank()
		t.heading("Evidence", "", "")
		t.evidenceLines(d.Evidence, 2+12+2+200)
	}
	if len(d.Reasons) > 0 {
		t.blank()
		t.heading("Reasons", "", "")
		for _, rs := range d.Reasons {
			mark, col := "+", t.c.green
			if rs.Effect < 0 {
				mark, col = "−", t.c.red
			}
			note := rs.Note
			if loc := location(rs.Source, rs.File, rs.Line); loc != "" {
				note += " (" + loc + ")"
			}
			weight := fmt.Sprintf("%s%.2f", mark, abs(rs.Effect))
			lines := wrapLines(weight+" "+note, t.width, "  ", "        ")
			t.line("  " + paint(col, weight, t.c.reset) + strings.TrimPrefix(lines[0], "  "+weight))
			for _, l := range lines[1:] {
				t.line(l)
			}
		}
	}
	t.fix(d, true)
	if len(d.Refs) > 0 {
		t.blank()
		t.heading("Refs", "", "")
		for _, ref := range d.Refs {
			t.line("  " + ref)
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
