package learn

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/lazyre"
	"github.com/pubdoc/pubdoc/internal/secret"
	"github.com/pubdoc/pubdoc/knowledge"
)

var (
	engineOnce sync.Once
	engine     *diagnose.Engine
	engineErr  error
)

func testEngine(t testing.TB) *diagnose.Engine {
	t.Helper()
	engineOnce.Do(func() {
		kb, err := knowledge.Load()
		if err != nil {
			engineErr = err
			return
		}
		engine, engineErr = diagnose.New(kb, slog.New(slog.DiscardHandler), diagnose.Options{})
	})
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

func TestNormalizeMasks(t *testing.T) {
	for in, want := range map[string]string{
		"2024-05-01T12:34:56.1234567Z ##[error]Process completed with exit code 1.":           "Process completed with exit code <n>.",
		"npm ERR! 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found": "npm error <n> Not Found - PUT https://registry.npmjs.org/<path> - Not found",
		"npm error 404  '@acme/widgets@2.4.0' is not in this registry.":                       "npm error <n> '<str>' is not in this registry.",
		"Error: ENOENT: no such file or directory, open 'C:\\Users\\runneradmin\\x.json'":     "Error: ENOENT: no such file or directory, open '<str>'",
		"  at Object.<anonymous> (/home/runner/work/x/y.js:12:5)":                             "at Object.<anonymous> (<path>)",
		"    at C:\\a\\b\\index.js":                                                                       "at <path>",
		"failed at 2026-12-07 17:23:45 UTC in run 123456789 (sha 3f9a2b1c)":                               "failed at <time> in run <n> (sha <hash>)",
		"Integrity sha512-AbCdEf0123456789abcdefGHIJKLmnop+/qrstuv== mismatch":                            "Integrity <hash> mismatch",
		"token ghp_Abcdefghijklmnopqrstuvwxyz0123456789 refused":                                          "token <blob> refused",
		"request 1b4e28ba-2fa1-11d2-883f-0016d3cca427 failed":                                             "request <uuid> failed",
		"published @acme/widgets@2.4.0-beta.1 and left-pad@^1.3.0":                                        "published <pkg>@<ver> and <pkg>@<ver>",
		"cannot publish over @acme/widgets":                                                               "cannot publish over <pkg>",
		"Error: package my-lib_2 is broken":                                                               "Error: package <name> is broken",
		"\x1b[31merror\x1b[0m dist/index.js: v20.11.1 at Mon, 07 Dec 2026 17:23:45 GMT":                   "error <path>: <ver> at <time>",
		"mail from ci@example.com bounced":                                                                "mail from <email> bounced",
		"fatal: unable to access 'https://github.com/acme/x.git/': The requested URL returned error: 403": "fatal: unable to access '<str>': The requested URL returned error: <n>",
		"GET https://npm.pkg.github.com/ 401":                                                             "GET https://npm.pkg.github.com/ <n>",
		"can't resolve it, don't know":                                                                    "can't resolve it, don't know",
		"word deadbeefcafe and decade":                                                                    "word <hash> and decade",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// run is one run of a failing job: what differs between two runs of one failure.
type run struct {
	day, node, version, repo, pkg, runID, sha string
	windows                                   bool
}

var runs = []run{
	{day: "2026-12-01", node: "20.11.1", version: "3.2.1", repo: "widgets", pkg: "@acme/widgets", runID: "7712345678", sha: "3f9a2b1c"},
	{day: "2026-12-04", node: "22.3.0", version: "3.3.0-rc.2", repo: "gadgets-monorepo", pkg: "@other/gadgets", runID: "901", sha: "ab12cd34ef56"},
	{day: "2026-12-07", node: "24.1.0", version: "10.0.0", repo: "tools", pkg: "tools-cli", runID: "88123456789", sha: "0d0e0f0a0b", windows: true},
}

// changelogFailure is a release script that finds no changelog section: a failure no
// rule knows.
func changelogFailure(r run) string {
	dir := "/home/runner/work/" + r.repo + "/" + r.repo
	if r.windows {
		dir = `D:\a\` + r.repo + `\` + r.repo
	}
	ts := r.day + "T10:00:0"
	return strings.Join([]string{
		ts + "1.1234567Z ##[group]Run actions/setup-node@v4",
		ts + "1.1234567Z   node-version: " + r.node,
		ts + "1.1234567Z ##[endgroup]",
		ts + "5.5551234Z Found in cache @ /opt/hostedtoolcache/node/" + r.node + "/x64",
		ts + "6.0000000Z ##[group]Run node scripts/release-notes.mjs --tag v" + r.version,
		ts + "6.0000000Z ##[endgroup]",
		ts + "6.5000000Z Preparing " + r.pkg + "@" + r.version + " (run " + r.runID + ", commit " + r.sha + ")",
		ts + "7.1000000Z file://" + dir + "/scripts/release-notes.mjs:42",
		ts + "7.1000000Z     throw new ChangelogError(`no section for ${tag}`);",
		ts + "7.1000000Z ChangelogError: CHANGELOG.md has no section for v" + r.version + " (looked at " + r.runID[:3] + " headings)",
		ts + "7.1000000Z     at file://" + dir + "/scripts/release-notes.mjs:42:11",
		ts + "7.1000000Z     at ModuleJob.run (node:internal/modules/esm/module_job:218:25)",
		ts + "7.1000000Z Node.js v" + r.node,
		ts + "7.2000000Z ##[error]Process completed with exit code 1.",
	}, "\n") + "\n"
}

// typeFailure is a TypeScript build that fails before the publish.
func typeFailure(r run) string {
	ts := r.day + "T11:00:0"
	return strings.Join([]string{
		ts + "1.0000000Z ##[group]Run npm run build",
		ts + "1.0000000Z ##[endgroup]",
		ts + "2.0000000Z > " + r.pkg + "@" + r.version + " build",
		ts + "2.0000000Z > tsc -p tsconfig.build.json",
		ts + "4.0000000Z src/index.ts(12,7): error TS2322: Type 'string' is not assignable to type 'number'.",
		ts + "4.1000000Z npm error Lifecycle script `build` failed with error:",
		ts + "4.1000000Z npm error code 2",
		ts + "4.2000000Z ##[error]Process completed with exit code 2.",
	}, "\n") + "\n"
}

func TestSameFailureOneFingerprint(t *testing.T) {
	eng := testEngine(t)
	ids := map[string][]string{}
	for _, kind := range []struct {
		name string
		log  func(run) string
	}{{"changelog", changelogFailure}, {"types", typeFailure}} {
		for i, r := range runs {
			log := kind.log(r)
			res, err := eng.DiagnoseText(log)
			if err != nil {
				t.Fatal(err)
			}
			if !Unknown(res) {
				t.Fatalf("%s run %d: want an unknown failure, got %s %v", kind.name, i, res.Verdict, res.Diagnoses[0].ID)
			}
			p := Fingerprint(res, log)
			if len(p.ID) != 16 || len(p.Lines) == 0 || len(p.Raw) != len(p.Lines) {
				t.Fatalf("%s run %d: print %+v", kind.name, i, p)
			}
			for _, l := range p.Lines {
				if strings.Contains(l, "Process completed") {
					t.Errorf("%s run %d: boilerplate in the fingerprint: %q", kind.name, i, l)
				}
			}
			if !strings.Contains(strings.ToLower(p.Excerpt), "error") || strings.Contains(p.Excerpt, "2026-12-0") {
				t.Errorf("%s run %d: excerpt %q", kind.name, i, p.Excerpt)
			}
			ids[kind.name] = append(ids[kind.name], p.ID)
			t.Logf("%s run %d: %s %q", kind.name, i, p.ID, p.Lines)
		}
	}
	for name, got := range ids {
		if got[0] != got[1] || got[1] != got[2] {
			t.Errorf("%s: three runs of one failure have fingerprints %v, want one", name, got)
		}
	}
	if ids["changelog"][0] == ids["types"][0] {
		t.Errorf("two different failures share fingerprint %s", ids["types"][0])
	}
}

func TestFingerprintCitesLowConfidenceEvidence(t *testing.T) {
	res := &diagnose.Result{Verdict: diagnose.Inconclusive, Diagnoses: []diagnose.Diagnosis{{
		ID: "some-rule", Confidence: 0.3,
		Evidence: []diagnose.Evidence{{Line: 2, Text: "npm error code E418", Source: "log"}, {Line: 9, Text: "node-version: 20", Source: "workflow"}},
	}}}
	if !Unknown(res) {
		t.Fatal("a top candidate at 0.3 is not grouped")
	}
	p := Fingerprint(res, "step\nnpm error code E418\ndone\n")
	if len(p.Lines) != 1 || p.Lines[0] != "npm error code E<n>" {
		t.Errorf("lines %q, want the cited log line only", p.Lines)
	}
	res.Diagnoses[0].Confidence = 0.5
	if Unknown(res) {
		t.Error("a top candidate at 0.5 is grouped")
	}
	if !Unknown(nil) || !Unknown(&diagnose.Result{Verdict: diagnose.NoKnownCause}) {
		t.Error("no answer or no known cause is not grouped")
	}
}

func TestFingerprintOrderAndSecrets(t *testing.T) {
	a := FromLines([]string{"error one 12", "fatal two /tmp/x"})
	b := FromLines([]string{"fatal two /var/y", "error one 13", "error one 14"})
	if a.ID != b.ID {
		t.Errorf("order or repeats change the id: %s vs %s", a.ID, b.ID)
	}
	if c := FromLines([]string{"error one 12"}); c.ID == a.ID {
		t.Error("a subset has the same id")
	}
	for kind, s := range secret.Samples() {
		p := Fingerprint(nil, "some step\n"+s.Line+"\nError: publish refused\n")
		all := strings.Join(p.Lines, "\n") + strings.Join(p.Raw, "\n") + p.Excerpt
		if strings.Contains(all, s.Value) {
			t.Errorf("%s: the secret survives in the print", kind)
		}
	}
}

func TestFingerprintWithoutErrorLines(t *testing.T) {
	p := Fingerprint(nil, "step one\nstep two done\n\n")
	if len(p.Lines) != 1 || p.Lines[0] != "step two done" {
		t.Errorf("lines %q, want the last line", p.Lines)
	}
	p = Fingerprint(nil, "x\n##[error]Process completed with exit code 1.\n")
	if len(p.Lines) != 1 || !strings.Contains(p.Lines[0], "Process completed") {
		t.Errorf("lines %q, want the boilerplate when there is nothing else", p.Lines)
	}
	if p := Fingerprint(nil, ""); p.ID == "" {
		t.Error("an empty log has no id")
	}
}

func TestKeep(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= 20000; i++ {
		fmt.Fprintf(&b, "line %05d of a long and boring build log\n", i)
	}
	log := b.String()
	res := &diagnose.Result{
		Diagnoses: []diagnose.Diagnosis{{Evidence: []diagnose.Evidence{{Line: 9000, Text: "x", Source: "log"}}}},
		Failure:   &diagnose.Evidence{Line: 19990},
	}
	got := Keep(log, res, 64<<10)
	if len(got) > 64<<10+200 {
		t.Errorf("kept %d bytes of a 64 KiB budget", len(got))
	}
	for _, want := range []string{"line 00001 ", "line 08990 ", "line 09000 ", "line 09010 ", "line 19990 ", "line 20000 ", "lines cut …"} {
		if !strings.Contains(got, want) {
			t.Errorf("kept log lacks %q", want)
		}
	}
	if strings.Contains(got, "line 05000 ") {
		t.Error("kept a line far from the head, the evidence and the tail")
	}
	if small := "a\nb\n"; Keep(small, nil, 0) != small {
		t.Error("a small log is not kept whole")
	}
}

var reDigit = regexp.MustCompile(`[0-9]`)

// FuzzNormalize: no panic; the output is valid UTF-8, holds no digit, fits MaxLineRunes,
// and normalizing it again changes nothing. A fingerprint of the same text is stable.
func FuzzNormalize(f *testing.F) {
	for _, r := range runs {
		for _, l := range strings.Split(changelogFailure(r)+typeFailure(r), "\n") {
			f.Add(l)
		}
	}
	for _, s := range []string{
		"npm ERR! 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found",
		"'unterminated \"quote `x", "C:\\", "\\\\srv\\share\\x", "@/", "a@1", "<n><path>", "sha512-==",
		"\xff\xfe invalid", "Mon, 07 Dec 2026 17:23:45 GMT", "v1.2.3-+", "x://", "::error file=a::boom",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if !utf8.ValidString(n) {
			t.Fatalf("invalid UTF-8 from %q: %q", s, n)
		}
		if reDigit.MatchString(n) {
			t.Fatalf("a digit survives in %q (from %q)", n, s)
		}
		if utf8.RuneCountInString(n) > MaxLineRunes {
			t.Fatalf("%d runes from %q", utf8.RuneCountInString(n), s)
		}
		if again := Normalize(n); again != n {
			t.Fatalf("not idempotent:\n in  %q\n once %q\n twice %q", s, n, again)
		}
		p := Fingerprint(nil, s)
		if q := Fingerprint(nil, s); p.ID != q.ID || len(p.ID) != 16 {
			t.Fatalf("unstable or malformed id %q vs %q", p.ID, q.ID)
		}
		res := &diagnose.Result{Failure: &diagnose.Evidence{Line: len(s)%7 + 1}}
		if k := Keep(s, res, 64); len(s) > 64 && len(k) > 64+80 {
			t.Fatalf("Keep(64) of %d bytes kept %d", len(s), len(k))
		}
	})
}

func TestKeepEdges(t *testing.T) {
	long := strings.Repeat("x", 100) + "\n"
	log := strings.Repeat(long, 50) + "Error: boom\n" + strings.Repeat(long, 50)
	for _, max := range []int{1, 50, 200, 1000, 5000} {
		got := Keep(log, &diagnose.Result{Failure: &diagnose.Evidence{Line: 51, Text: "Error: boom"}}, max)
		if len(got) > max+200 {
			t.Errorf("max %d: kept %d bytes", max, len(got))
		}
		if !strings.Contains(got, "lines cut") {
			t.Errorf("max %d: no marker", max)
		}
		if max >= 200 && !strings.Contains(got, "Error: boom") {
			t.Errorf("max %d: the failure line is gone:\n%s", max, got)
		}
	}
	// A log larger than what a fingerprint reads keeps its fingerprint.
	res := &diagnose.Result{Verdict: diagnose.NoKnownCause, Failure: &diagnose.Evidence{Line: 3, Text: "Process completed with exit code 1."}}
	small := "step\nChangelogError: no section for v1.2.3\nProcess completed with exit code 1.\n"
	big := strings.Repeat("noise line of a big build, all fine here\n", 3*DefaultKeepBytes/40) + small
	res2 := *res
	res2.Failure = &diagnose.Evidence{Line: strings.Count(big, "\n"), Text: "Process completed with exit code 1."}
	if a, b := Fingerprint(res, small), Fingerprint(&res2, big); a.ID != b.ID {
		t.Errorf("a big log's fingerprint %q differs from the small one's %q", b.Lines, a.Lines)
	}
}

func TestGroupsText(t *testing.T) {
	if GroupsText(nil, 5) != "" {
		t.Error("text for no groups")
	}
	last := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	got := GroupsText([]Group{
		{ID: "5a5fab8f5afece64", Count: 3, LastSeen: last, Example: []string{"Error: <b> & `x`"}},
		{ID: "cbf39067a50eecee", Count: 1, LastSeen: last, Lines: []string{"npm error <n>"}},
	}, 1)
	want := "*Unknown failures* (largest groups; `pubdoc kb unknown` lists them, `pubdoc kb new --from ID` starts a rule)\n" +
		"• `5a5fab8f` 3 answers, last 2026-12-07 — Error: &lt;b&gt; &amp; 'x'\n" +
		"… and 1 more\n"
	if got != want {
		t.Errorf("GroupsText:\n%s\nwant\n%s", got, want)
	}
}

// Every expression of the package compiles (they compile on first use).
func TestLazyRegexesCompile(t *testing.T) {
	n := 0
	for _, r := range lazyre.All() {
		if _, err := regexp.Compile(r.Expr()); err != nil {
			t.Errorf("%q: %v", r.Expr(), err)
		}
		n++
	}
	if n < 20 {
		t.Fatalf("only %d expressions registered", n)
	}
}
