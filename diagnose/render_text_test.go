package diagnose

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/knowledge"
)

func renderText(t *testing.T, r *Result, opt TextOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := RenderText(&b, r, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// The bare three-line paste fits on one screen: the candidates by title under the question
// that splits them, with no internal facts.
func TestRenderTextBarePasteFirstScreen(t *testing.T) {
	res := diagnoseFile(t, testEngine(t), filepath.Join("testdata", "seed", "bare-paste.log"))
	out := renderText(t, res, TextOptions{Width: 80})
	if n := len(lines(out)); n > 30 {
		t.Errorf("bare paste: %d lines, want <= 30:\n%s", n, out)
	}
	head := lines(out)[0]
	if !strings.HasPrefix(head, "INCONCLUSIVE") || !strings.Contains(head, res.Diagnoses[0].Title) || strings.Contains(head, res.Diagnoses[0].ID) {
		t.Errorf("headline %q: want INCONCLUSIVE and the most likely cause by title, not by id", head)
	}
	for _, want := range []string{"First question:", "If a token:", "If trusted publishing (OIDC)", "→ Check the token",
		"The npm token the job sent is expired or revoked", "npm is too old for trusted publishing", "L3  npm error 404"} {
		if !strings.Contains(out, want) {
			t.Errorf("bare paste lacks %q:\n%s", want, out)
		}
	}
	for _, d := range res.Diagnoses {
		if strings.Contains(out, d.ID) {
			t.Errorf("the first screen names %s by id:\n%s", d.ID, out)
		}
	}
	for _, leak := range []string{"npm_log_prefix", "Facts", "Scanned", "Refs"} {
		if strings.Contains(out, leak) {
			t.Errorf("the first screen shows %q:\n%s", leak, out)
		}
	}
}

// A clear diagnosis: verdict and title, the cause in brief, at most five evidence lines,
// the fix with its snippet, in about 25 lines; no facts, no reasons.
func TestRenderTextClearDiagnosisFirstScreen(t *testing.T) {
	res := diagnoseFile(t, testEngine(t), filepath.Join("testdata", "seed", "oidc-npm-too-old.log"))
	d := res.Diagnoses[0]
	out := renderText(t, res, TextOptions{Width: 80})
	if n := len(lines(out)); n > 25 {
		t.Errorf("clear diagnosis: %d lines, want <= 25:\n%s", n, out)
	}
	if want := "DIAGNOSED  " + d.Title; !strings.HasPrefix(out, want) {
		t.Errorf("output starts %q, want %q", lines(out)[0], want)
	}
	order := []string{d.Title, "npm older than 11.5.1 has no OIDC token exchange", "Evidence", "L84", "Fix: " + d.Fix.Summary[:20], "- run: npm install -g npm@^11.5.1", "--explain for more"}
	last := -1
	for _, want := range order {
		i := strings.Index(out, want)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order (want %q):\n%s", want, order, out)
		}
		last = i
	}
	if ev := strings.Count(out, "\n  L"); ev > 5 {
		t.Errorf("%d evidence lines, want at most 5", ev)
	}
	for _, leak := range []string{"npm_log_prefix", "npm_version", "Reasons", "+0.30", "Node 20 and 22 bundle npm 10"} {
		if strings.Contains(out, leak) {
			t.Errorf("a clear diagnosis shows %q by default:\n%s", leak, out)
		}
	}
}

// --explain adds the facts, the reasons with their weights, and every candidate's full
// cause and fix.
func TestRenderTextExplain(t *testing.T) {
	res := diagnoseFile(t, testEngine(t), filepath.Join("testdata", "seed", "oidc-npm-too-old.log"))
	out := renderText(t, res, TextOptions{Width: 80, Explain: true})
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"Facts", "npm_log_prefix", "npm_version", "10.9.2 (line 48, exact)", "Reasons",
		"+0.30 npm 10.9.2 has no OIDC token exchange", "Node 20 and 22 bundle npm 10", "Refs", "Scanned"} {
		if !strings.Contains(flat, want) {
			t.Errorf("--explain lacks %q", want)
		}
	}
	for _, d := range res.Diagnoses {
		if !strings.Contains(out, "["+d.ID+"]") || !strings.Contains(out, strings.Fields(d.Fix.Summary)[0]) {
			t.Errorf("--explain lacks candidate %s or its fix", d.ID)
		}
		for n, s := range d.Fix.Steps {
			if !strings.Contains(out, fmt.Sprintf("  %d. %s", n+1, strings.Fields(s)[0])) {
				t.Errorf("--explain lacks step %d of %s", n+1, d.ID)
			}
		}
	}
	bare := diagnoseFile(t, testEngine(t), filepath.Join("testdata", "seed", "bare-paste.log"))
	out = renderText(t, bare, TextOptions{Width: 80, Explain: true})
	flat = strings.Join(strings.Fields(out), " ")
	for _, d := range bare.Diagnoses {
		if cause := strings.Join(strings.Fields(d.Cause), " "); !strings.Contains(flat, cause) {
			t.Errorf("--explain lacks the cause of %s", d.ID)
		}
	}
	if !strings.Contains(out, "Next check") {
		t.Error("--explain of an unsure answer lacks the next checks")
	}
}

// No line of prose is wider than the terminal; only code snippets (and a word longer than
// a line, a URL) may be.
func TestRenderTextWrapsToWidth(t *testing.T) {
	e := testEngine(t)
	cases := loadCases(t, "real", "real-2", "negative", "negative-2")
	for _, f := range []string{"bare-paste", "oidc-npm-too-old", "oidc-missing-id-token-permission", "oidc-trusted-publisher-mismatch"} {
		res := diagnoseFile(t, e, filepath.Join("testdata", "seed", f+".log"))
		checkWidths(t, f, res)
	}
	for _, c := range cases {
		res, err := e.DiagnoseText(c.text)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		checkWidths(t, c.set+"/"+c.name, res)
	}
}

func checkWidths(t *testing.T, name string, res *Result) {
	t.Helper()
	code := map[string]bool{}
	for _, d := range res.Diagnoses {
		for _, l := range strings.Split(d.Fix.Snippet, "\n") {
			code["    "+l] = true
		}
	}
	for _, width := range []int{80, 60} {
		for _, explain := range []bool{false, true} {
			out := renderText(t, res, TextOptions{Width: width, Explain: explain})
			for _, l := range lines(out) {
				if utf8.RuneCountInString(l) <= width || code[l] || len(strings.Fields(l)) == 1 {
					continue
				}
				if explain && dataLine(res, l) {
					continue // --explain shows log lines and facts whole
				}
				t.Errorf("%s (width %d, explain %v): line of %d runes: %q", name, width, explain, utf8.RuneCountInString(l), l)
			}
		}
	}
}

// dataLine reports whether l shows one of the result's evidence lines or facts.
func dataLine(res *Result, l string) bool {
	shows := func(text string) bool {
		text = strings.TrimSpace(text)
		return text != "" && strings.Contains(l, text[:min(20, len(text))])
	}
	for _, d := range res.Diagnoses {
		for _, e := range d.Evidence {
			if shows(e.Text) {
				return true
			}
		}
	}
	for name := range res.Facts {
		if strings.HasPrefix(l, "  "+name+" ") {
			return true
		}
	}
	return res.Failure != nil && shows(res.Failure.Text)
}

func twoFailures() *Result {
	return &Result{
		Verdict:  Diagnosed,
		Failures: []string{"a-first", "b-second"},
		Diagnoses: []Diagnosis{
			{ID: "a-first", Title: "The first failure", Confidence: 0.9, Cause: "First cause. It has a second sentence. A third one. A fourth is never shown.",
				Evidence: []Evidence{{Line: 3, Text: "error one", Source: "log"}}, Fix: AnswerFix{Fix: knowledge.Fix{Summary: "Fix the first.", Snippet: "- run: first"}}},
			{ID: "b-second", Title: "The second failure", Confidence: 0.85, Cause: "Second cause.",
				Evidence: []Evidence{{Line: 9, Text: "error two", Source: "log"}, {Line: 14, Text: "node-version: 20", Source: "workflow", File: ".github/workflows/release.yml"}},
				Fix:      AnswerFix{Fix: knowledge.Fix{Summary: "Fix the second.", Steps: []string{"Do this."}}}},
			{ID: "c-other", Title: "Another candidate", Confidence: 0.3},
		},
	}
}

// A log with two failures shows both, each with its cause, evidence and fix.
func TestRenderTextTwoFailures(t *testing.T) {
	out := renderText(t, twoFailures(), TextOptions{})
	order := []string{"DIAGNOSED  2 failures: The first failure; The second failure.",
		"1. The first failure (0.90)", "First cause. It has a second sentence. A third one.", "L3  error one", "Fix: Fix the first.", "- run: first",
		"2. The second failure (0.85)", "Second cause.", "L9  error two", "release.yml:14  node-version: 20", "Fix: Fix the second.", "1. Do this.",
		"rule a-first · rule b-second · 1 other candidate"}
	last := -1
	for _, want := range order {
		i := strings.Index(out, want)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order:\n%s", want, out)
		}
		last = i
	}
	if strings.Contains(out, "fourth") || strings.Contains(out, "Another candidate") {
		t.Errorf("the first screen shows more than the two failures:\n%s", out)
	}
	md := renderMarkdown(t, twoFailures())
	for _, want := range []string{"### 1. The first failure", "### 2. The second failure", "release.yml:14  node-version: 20"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestRenderTextColourKeepsWidth(t *testing.T) {
	res := diagnoseFile(t, testEngine(t), filepath.Join("testdata", "seed", "bare-paste.log"))
	plain := renderText(t, res, TextOptions{Width: 80})
	col := renderText(t, res, TextOptions{Width: 80, Color: true})
	if !strings.Contains(col, "\x1b[") {
		t.Fatal("no colour codes")
	}
	stripped := col
	for _, code := range []string{"\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[0m"} {
		stripped = strings.ReplaceAll(stripped, code, "")
	}
	if stripped != plain {
		t.Errorf("colour changed the layout:\n%s\n---\n%s", stripped, plain)
	}
}

func renderMarkdown(t *testing.T, r *Result) string {
	t.Helper()
	return rendered(t, r, RenderMarkdown)
}

// rendered is r as render writes it.
func rendered(t *testing.T, r *Result, render func(io.Writer, *Result) error) string {
	t.Helper()
	var b bytes.Buffer
	if err := render(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Markdown reads in the same order as the terminal; everything else is folded away.
func TestRenderMarkdownOrder(t *testing.T) {
	e := testEngine(t)
	res := diagnoseFile(t, e, filepath.Join("testdata", "seed", "oidc-npm-too-old.log"))
	md := renderMarkdown(t, res)
	order := []string{"**Diagnosed:** npm is too old for trusted publishing", "npm older than 11.5.1", "**Evidence**", "L84",
		"**Fix:**", "```yaml\n- uses: actions/setup-node@v6", "<details>", "+0.30 npm 10.9.2", "| `npm_version` | 10.9.2 |", "</details>"}
	last := -1
	for _, want := range order {
		i := strings.Index(md, want)
		if i < 0 || i < last {
			t.Fatalf("%q missing or out of order:\n%s", want, md)
		}
		last = i
	}
	bare := diagnoseFile(t, e, filepath.Join("testdata", "seed", "bare-paste.log"))
	md = renderMarkdown(t, bare)
	head, details, _ := strings.Cut(md, "<details>")
	if !strings.Contains(head, "**Inconclusive:** most likely: The npm token the job sent is expired or revoked") ||
		!strings.Contains(head, "### First question:") || !strings.Contains(head, "- 0.40 npm is too old for trusted publishing") {
		t.Errorf("markdown first part:\n%s", head)
	}
	if strings.Contains(head, "token-expired-or-revoked") || strings.Contains(head, "npm_log_prefix") {
		t.Errorf("markdown first part names ids or facts:\n%s", head)
	}
	for _, d := range bare.Diagnoses {
		if !strings.Contains(details, "`"+d.ID+"`") {
			t.Errorf("details lack %s", d.ID)
		}
	}
}

func TestBriefCause(t *testing.T) {
	tests := []struct{ in, want string }{
		{"One. Two. Three. Four.", "One. Two. Three."},
		// quotes, code, parentheses, abbreviations and versions do not end a sentence
		{`It prints "Access token expired. Please log in." and stops. npm then fails (see e.g. the log. Really). Next one. Not shown.`,
			`It prints "Access token expired. Please log in." and stops. npm then fails (see e.g. the log. Really). Next one.`},
		{"Use npm 11.5.1 or `npm i -g npm@^11.5.1. x` e.g. this. Second.", "Use npm 11.5.1 or `npm i -g npm@^11.5.1. x` e.g. this. Second."},
		// the first paragraph, before a list
		{"Signing failed.\n- Maven: gpg wants a TTY.\n- Gradle: no key.", "Signing failed."},
		{"First.\n\nSecond paragraph.", "First."},
		// hard-wrapped YAML text is one paragraph
		{"A cause that was\nwrapped in YAML.", "A cause that was wrapped in YAML."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := BriefCause(tt.in); got != tt.want {
			t.Errorf("BriefCause(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
	long := strings.Repeat("word ", 40) + "(a; b); " + strings.Repeat("more ", 20) + "end; " + strings.Repeat("tail ", 40) + "stop."
	got := BriefCause(long)
	if !strings.HasSuffix(got, "more end; …") || len(got) > 340 {
		t.Errorf("a long sentence is cut at its last clause that fits: %q", got)
	}
	// A second sentence that would make the brief too long is left for --explain.
	if got := BriefCause("Short first. " + strings.Repeat("long ", 80) + "second."); got != "Short first." {
		t.Errorf("got %q", got)
	}
}

func TestSnippetHead(t *testing.T) {
	long := "# trusted publishing\npermissions:\n  id-token: write\nsteps:\n  - run: a\n  - run: b\n  - run: c\n  - run: d\n# or, with a token:\n- run: e\n  env: x\n- run: f\n- run: g\n"
	shown, more := snippetHead(long, 10)
	if len(shown) != 8 || shown[7] != "  - run: d" || more != 5 {
		t.Errorf("cut at the alternative: %q, %d more", shown, more)
	}
	noComment := strings.Repeat("- run: x\n", 20)
	if shown, more := snippetHead(noComment, 10); len(shown) != 20 || more != 0 {
		t.Errorf("a snippet without parts is shown whole, got %d lines, %d more", len(shown), more)
	}
	if shown, more := snippetHead(long, 0); len(shown) != 13 || more != 0 {
		t.Errorf("limit 0 shows all: %d, %d", len(shown), more)
	}
}

func TestWrapLines(t *testing.T) {
	got := wrapLines("one two three four five six", 12, "> ", "  ")
	want := []string{"> one two", "  three four", "  five six"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, l := range wrapLines("é"+strings.Repeat(" ééééé", 30), 20, "", "") {
		if utf8.RuneCountInString(l) > 20 {
			t.Errorf("line of %d runes: %q", utf8.RuneCountInString(l), l)
		}
	}
	if got := wrapLines("https://example.com/a/very/long/url/that/does/not/fit", 20, "  ", "  "); len(got) != 1 {
		t.Errorf("a long word is not broken: %q", got)
	}
}

// With no known cause the answer says where the job failed, once.
func TestRenderTextNoKnownCause(t *testing.T) {
	r := &Result{Verdict: NoKnownCause, Summary: "No known publish failure.", Failure: &Evidence{Line: 5, Text: "boom", Source: "log"}}
	if out := renderText(t, r, TextOptions{}); !strings.Contains(out, "Where it failed\n  L5  boom\n") {
		t.Errorf("no failure line:\n%s", out)
	}
	r.Summary = "No known publish failure. The job failed at line 5: boom."
	if out := renderText(t, r, TextOptions{}); strings.Contains(out, "Where it failed") {
		t.Errorf("the failure line twice:\n%s", out)
	}
}
