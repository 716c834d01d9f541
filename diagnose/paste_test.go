package diagnose

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// caseSets are the copies of shared/cases that the paste tests cut and damage.
var caseSets = []string{"real", "real-2", "negative", "negative-2"}

// labelledCase is one log of a set with its labels.tsv row; accept is another fair answer
// for a log whose failure is not a publish cause (a build script run by the publish, say).
type labelledCase struct {
	set, name, label, accept, text string
}

func loadCases(t testing.TB, sets ...string) []labelledCase {
	t.Helper()
	var out []labelledCase
	for _, set := range sets {
		dir := filepath.Join("testdata", "cases", set)
		rows, err := ReadLabels(dir)
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]LabelRow{}
		for _, r := range rows {
			labels[r.File] = r
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		if len(files) == 0 {
			t.Fatalf("no cases in %s", dir)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(f)
			out = append(out, labelledCase{set: set, name: name, label: labels[name].Label, accept: labels[name].Accept, text: string(data)})
		}
	}
	return out
}

// hardWrap cuts every line longer than width characters the way a terminal does, inside
// words if it must; a remainder of nothing but blanks is an empty row, as a copy from a
// terminal gives it.
func hardWrap(text string, width int) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		body := strings.TrimSuffix(line, "\n")
		for utf8.RuneCountInString(body) > width {
			cut := 0
			for i := range body {
				if utf8.RuneCountInString(body[:i]) == width {
					cut = i
					break
				}
			}
			b.WriteString(body[:cut])
			b.WriteByte('\n')
			body = body[cut:]
		}
		if strings.TrimSpace(body) == "" && len(body) < len(strings.TrimSuffix(line, "\n")) {
			body = ""
		}
		b.WriteString(body)
		if strings.HasSuffix(line, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// eachLine rewrites every line with f.
func eachLine(text string, f func(i int, line string) string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if i == len(lines)-1 && l == "" {
			break
		}
		lines[i] = f(i, l)
	}
	return strings.Join(lines, "\n")
}

// pasteDamage is what people's terminals, chat clients and CIs do to a log on its way to us.
var pasteDamage = []struct {
	name string
	do   func(string) string
}{
	{"wrapped at 60 columns", func(s string) string { return hardWrap(s, 60) }},
	{"wrapped at 80 columns", func(s string) string { return hardWrap(s, 80) }},
	{"re-indented", func(s string) string { return eachLine(s, func(_ int, l string) string { return "    " + l }) }},
	{"Jenkins timestamper", func(s string) string {
		return eachLine(s, func(i int, l string) string {
			return fmt.Sprintf("[2026-05-01T10:%02d:%02d.%03dZ] %s", i/60%60, i%60, i%1000, l)
		})
	}},
	{"Jenkins clock", func(s string) string {
		return eachLine(s, func(i int, l string) string { return fmt.Sprintf("10:%02d:%02d  %s", i/60%60, i%60, l) })
	}},
	{"GitLab timestamps", func(s string) string {
		return eachLine(s, func(i int, l string) string { return fmt.Sprintf("2026-05-01T10:00:%02d.123456Z 01O %s", i%60, l) })
	}},
	{"Buildkite timestamps", func(s string) string {
		return eachLine(s, func(i int, l string) string { return fmt.Sprintf("\x1b_bk;t=17145576%05d\x07%s", i, l) })
	}},
	{"Buildkite timestamps, escape lost", func(s string) string {
		return eachLine(s, func(i int, l string) string { return fmt.Sprintf("_bk;t=17145576%05d%s", i, l) })
	}},
	{"Azure DevOps timestamps", func(s string) string {
		return eachLine(s, func(i int, l string) string { return fmt.Sprintf("2026-05-01T10:00:%02d.1234567Z %s", i%60, l) })
	}},
	{"quoted in Slack", func(s string) string {
		return "```\n" + eachLine(s, func(_ int, l string) string { return "> " + l }) + "\n```\n"
	}},
	{"colour codes, escape lost", func(s string) string {
		return eachLine(s, func(_ int, l string) string { return "[0;31m" + l + "[0m" })
	}},
}

type answer struct{ verdict, top string }

func answerOf(t *testing.T, e *Engine, text string) answer {
	t.Helper()
	res, err := e.DiagnoseText(text)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{verdict: res.Verdict}
	if len(res.Diagnoses) > 0 {
		a.top = res.Diagnoses[0].ID
	}
	return a
}

// TestPasteDamageKeepsTheAnswer: every shared case, wrapped, re-indented or prefixed as a
// CI or a terminal would, gives the same verdict and top cause as the log itself.
func TestPasteDamageKeepsTheAnswer(t *testing.T) {
	e := testEngine(t)
	cases := loadCases(t, caseSets...)
	failures := map[string][]string{}
	for _, c := range cases {
		want := answerOf(t, e, c.text)
		for _, d := range pasteDamage {
			if got := answerOf(t, e, d.do(c.text)); got != want {
				failures[d.name] = append(failures[d.name], fmt.Sprintf("%s/%s: %s %s, was %s %s", c.set, c.name, got.verdict, got.top, want.verdict, want.top))
			}
		}
	}
	names := make([]string, 0, len(failures))
	for n := range failures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Errorf("%s changed %d of %d answers:\n  %s", n, len(failures[n]), len(cases), strings.Join(failures[n], "\n  "))
	}
}

// TestPasteWindows cuts from every shared case longer than eight lines the windows a person
// pastes (PasteWindows) and holds each to three promises: no wrong answer at confidence
// >= 0.8 (an answer naming another failure the whole log holds, from its own lines in the
// window, is not wrong when the lines that prove the labelled failure are not all in view); no "no known cause" when the window holds a line the whole log's diagnosis cites
// (a registry's or publish tool's error); the label among the first three whenever the
// window holds every line the whole log cited for it.
// "A line the whole log's diagnosis cites" is an error line among the evidence of the whole
// log's answer: the test's stand-in for "a registry's or publish tool's error line".
func TestPasteWindows(t *testing.T) {
	e := testEngine(t)
	windows := 0
	for _, c := range loadCases(t, caseSets...) {
		full, err := e.DiagnoseText(c.text)
		if err != nil {
			t.Fatal(err)
		}
		var cited, labelCited []int // cited: error lines the whole log's answer rests on
		lines := strings.Split(c.text, "\n")
		if full.Verdict != NoKnownCause && !strings.HasPrefix(c.set, "negative") {
			for _, ev := range full.Diagnoses[0].Evidence {
				if ev.Line <= len(lines) && isErrorLine(lines[ev.Line-1]) {
					cited = append(cited, ev.Line)
				}
			}
		}
		for _, d := range full.Diagnoses {
			if labelMatches(d.ID, c.label) {
				for _, ev := range d.Evidence {
					labelCited = append(labelCited, ev.Line)
				}
				break
			}
		}
		for _, w := range PasteWindows(c.text) {
			windows++
			res, err := e.DiagnoseText(w.Text)
			if err != nil {
				t.Fatalf("%s/%s [%s]: %v", c.set, c.name, w.Name, err)
			}
			where := fmt.Sprintf("%s/%s [%s]", c.set, c.name, w.Name)
			top := ""
			if len(res.Diagnoses) > 0 {
				top = res.Diagnoses[0].ID
			}
			if res.Verdict == Diagnosed && !labelMatches(top, c.label) && !labelMatches(top, c.accept) && !otherFailureInView(full, top, w, labelCited) {
				t.Errorf("%s: confident and wrong: %s", where, ranking(res))
			}
			if res.Verdict == NoKnownCause && holdsAny(w, cited) {
				t.Errorf("%s: no known cause, but the window holds line(s) %v the whole log cites for %s", where, cited, full.Diagnoses[0].ID)
			}
			if c.label != NoCauseLabel && len(labelCited) > 0 && holdsAll(w, labelCited) && !inTop3(res, c.label) {
				t.Errorf("%s: holds every line the whole log cites for %s, but it is not in the first three: %s", where, c.label, ranking(res))
			}
		}
	}
	if windows < 300 {
		t.Fatalf("only %d windows were cut", windows)
	}
	t.Logf("%d windows", windows)
}

// otherFailureInView: a window that does not show all of the labelled failure's lines but shows
// another failure the whole log also holds (a Central Portal deployment refused both for a
// namespace and for components that exist, pasted from the part listing the components)
// is rightly answered with that other failure.
func otherFailureInView(full *Result, top string, w Window, labelCited []int) bool {
	if len(labelCited) == 0 || holdsAll(w, labelCited) {
		return false
	}
	for _, d := range full.Diagnoses {
		if d.ID != top {
			continue
		}
		for _, ev := range d.Evidence {
			if w.Holds(ev.Line) {
				return true
			}
		}
	}
	return false
}

func labelMatches(id, label string) bool {
	return label != "" && (id == label || strings.HasPrefix(id, label+"-"))
}

func inTop3(res *Result, label string) bool {
	for i, d := range res.Diagnoses {
		if i < 3 && labelMatches(d.ID, label) {
			return true
		}
	}
	return false
}

func holdsAny(w Window, lines []int) bool {
	for _, n := range lines {
		if w.Holds(n) {
			return true
		}
	}
	return false
}

func holdsAll(w Window, lines []int) bool {
	for _, n := range lines {
		if !w.Holds(n) {
			return false
		}
	}
	return true
}
