package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
	"github.com/pubdoc/pubdoc/internal/metrics"
	"github.com/pubdoc/pubdoc/internal/schematest"
	"github.com/pubdoc/pubdoc/knowledge"
	"github.com/pubdoc/pubdoc/store"
)

// learnDrivers runs fn with the environment pointing the kb commands at a fresh SQLite
// directory and, when PUBDOC_TEST_DATABASE_URL is set, at a fresh PostgreSQL database.
// fn gets the store, open as pubdoc serve holds it while the commands read it.
func learnDrivers(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("PUBDOC_DATA_DIR", dir)
		t.Setenv("PUBDOC_DATABASE_URL", "")
		fn(t, openTestStore(t, store.Config{DataDir: dir}))
	})
	t.Run("postgres", func(t *testing.T) {
		db := createDatabase(t, postgresURL(t))
		t.Setenv("PUBDOC_DATA_DIR", t.TempDir())
		t.Setenv("PUBDOC_DATABASE_URL", db)
		fn(t, openTestStore(t, store.Config{DatabaseURL: db}))
	})
}

func openTestStore(t *testing.T, cfg store.Config) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// answer stores one answer as the bot does: the diagnosis, then what it teaches.
func answer(t *testing.T, st *store.Store, key string, res *diagnose.Result, log string, at time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	d := &store.Diagnosis{Key: key, Verdict: res.Verdict, RuleID: diagnose.NoKnownCause, Result: []byte("{}"), CreatedAt: at}
	if len(res.Diagnoses) > 0 && res.Verdict != diagnose.NoKnownCause {
		d.RuleID, d.Confidence = res.Diagnoses[0].ID, res.Diagnoses[0].Confidence
	}
	id, err := st.SaveDiagnosis(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordAnswer(ctx, id, res, log, at); err != nil {
		t.Fatal(err)
	}
	return id
}

// Feedback on ten answers → kb cases export writes ten cases → kb eval reads ten.
func TestKBCasesExportEval(t *testing.T) {
	eng := cliEngine(t)
	rows, err := diagnose.ReadLabels(repo("diagnose/testdata/cases/real"))
	if err != nil {
		t.Fatal(err)
	}
	learnDrivers(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		right := 0
		for i, row := range rows[:10] {
			data, err := os.ReadFile(filepath.Join(repo("diagnose/testdata/cases/real"), row.File))
			if err != nil {
				t.Fatal(err)
			}
			res, err := eng.DiagnoseText(string(data))
			if err != nil {
				t.Fatal(err)
			}
			id := answer(t, st, fmt.Sprint("case", i), res, string(data), time.Now())
			source, picked := learn.SourceWrong, row.Label
			if len(res.Diagnoses) > 0 && res.Diagnoses[0].ID == row.Label {
				source, picked = learn.SourceFixed, ""
				right++
			}
			if saved, err := st.SaveCase(ctx, id, source, picked, "U1", time.Now()); err != nil || !saved {
				t.Fatalf("SaveCase %s: %v, %v", row.File, saved, err)
			}
		}
		out := filepath.Join(t.TempDir(), "cases")
		code, stdout, stderr := runCLI(t, "", "kb", "cases", "export", out)
		if code != exitOK || !strings.Contains(stdout, "wrote 10 cases") {
			t.Fatalf("export: exit %d\n%s%s", code, stdout, stderr)
		}
		labels, err := diagnose.ReadLabels(out)
		if err != nil || len(labels) != 10 {
			t.Fatalf("labels.tsv: %d rows, %v", len(labels), err)
		}
		tsv, _ := os.ReadFile(filepath.Join(out, "labels.tsv"))
		if !strings.HasPrefix(string(tsv), "file\troot_cause_id\tconfidence\tsource\t") || !strings.Contains(string(tsv), "\tfeedback:") {
			t.Errorf("labels.tsv starts %q", string(tsv)[:min(len(tsv), 200)])
		}
		code, stdout, stderr = runCLI(t, "", "kb", "eval", out)
		if code != exitOK || !strings.HasPrefix(stdout, "cases 10  top-1 ") {
			t.Fatalf("eval: exit %d\n%s%s", code, stdout, stderr)
		}
		if want := fmt.Sprintf("top-1 %d/10", right); right == 10 && !strings.Contains(stdout, want) {
			t.Errorf("eval says %q, want %s", strings.SplitN(stdout, "\n", 2)[0], want)
		}
		// A second export into the same place needs --force.
		if code, _, stderr := runCLI(t, "", "kb", "cases", "export", out); code != exitUsage || !strings.Contains(stderr, "--force") {
			t.Errorf("export over a labels.tsv: exit %d %s", code, stderr)
		}
		if code, _, stderr := runCLI(t, "", "kb", "cases", "export", "--force", "--since", "1d", out); code != exitOK {
			t.Errorf("export --force: exit %d %s", code, stderr)
		}
	})
}

// changelogLog is a release script failing in a way no rule knows; runs differ in paths,
// versions and run ids.
func changelogLog(repoName, version, run string) string {
	return strings.Join([]string{
		"2026-12-01T10:00:01.0000000Z ##[group]Run node scripts/release-notes.mjs --tag v" + version,
		"2026-12-01T10:00:01.0000000Z ##[endgroup]",
		"2026-12-01T10:00:02.0000000Z Preparing run " + run,
		"2026-12-01T10:00:02.0000000Z ChangelogError: CHANGELOG.md has no section for v" + version,
		"2026-12-01T10:00:02.0000000Z     at file:///home/runner/work/" + repoName + "/" + repoName + "/scripts/release-notes.mjs:42:11",
		"2026-12-01T10:00:03.0000000Z ##[error]Process completed with exit code 1.",
	}, "\n") + "\n"
}

func seedUnknown(t *testing.T, st *store.Store) string {
	t.Helper()
	eng := cliEngine(t)
	now := time.Now()
	var fp string
	for i, r := range [][3]string{{"widgets", "3.2.1", "77123"}, {"gadgets", "3.3.0-rc.2", "901"}, {"tools", "10.0.0", "88123456789"}} {
		log := changelogLog(r[0], r[1], r[2])
		res, err := eng.DiagnoseText(log)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != diagnose.NoKnownCause {
			t.Fatalf("the changelog failure is known: %s", res.Verdict)
		}
		id := answer(t, st, fmt.Sprint("u", i), res, log, now.Add(-time.Duration(i)*24*time.Hour))
		var d *store.Diagnosis
		if d, err = st.Diagnosis(context.Background(), id); err != nil || d.ID != id {
			t.Fatal(err)
		}
		fp = learn.Fingerprint(res, log).ID
	}
	other := "step\nError: Input required and not supplied: release-name\n"
	res, err := eng.DiagnoseText(other)
	if err != nil {
		t.Fatal(err)
	}
	answer(t, st, "other", res, other, now)
	return fp
}

func TestKBUnknown(t *testing.T) {
	learnDrivers(t, func(t *testing.T, st *store.Store) {
		fp := seedUnknown(t, st)
		code, out, stderr := runCLI(t, "", "kb", "unknown", "--format", "json")
		if code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		schematest.Validate(t, "unknown.v1.json", "kb unknown --format json", []byte(out))
		var ans struct {
			Schema string
			Groups []struct {
				ID           string
				Count, Total int
				Lines        []string
				Example      []string
				Days         []struct {
					Day   string
					Count int
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &ans); err != nil {
			t.Fatal(err)
		}
		if ans.Schema != SchemaUnknown || len(ans.Groups) != 2 {
			t.Fatalf("answer %s", out)
		}
		if g := ans.Groups[0]; g.ID != fp || g.Count != 3 || g.Total != 3 || len(g.Days) != 3 || len(g.Lines) == 0 ||
			!strings.Contains(strings.Join(g.Example, "\n"), "ChangelogError") {
			t.Errorf("largest group %+v, want %s with 3 answers on 3 days", g, fp)
		}
		code, out, _ = runCLI(t, "", "kb", "unknown", "--since", "36h", "--limit", "1")
		if code != exitOK || !strings.Contains(out, fp+"  2 answers (3 in all)") || !strings.Contains(out, "ChangelogError: CHANGELOG.md has no section for v") ||
			!strings.Contains(out, "new rule: pubdoc kb new --from "+fp[:8]) || strings.Count(out, "new rule:") != 1 {
			t.Errorf("text answer:\n%s", out)
		}
		if code, out, _ := runCLI(t, "", "kb", "unknown", "--since", "soon", "--format", "json"); code != exitUsage {
			t.Errorf("a bad --since: exit %d", code)
		} else {
			schematest.Validate(t, schematest.ErrorFile, "kb unknown error", []byte(out))
		}
	})
}

func TestKBUnknownWithoutADatabase(t *testing.T) {
	t.Setenv("PUBDOC_DATA_DIR", t.TempDir())
	t.Setenv("PUBDOC_DATABASE_URL", "")
	code, out, stderr := runCLI(t, "", "kb", "unknown", "--format", "json")
	if code != exitRuntime || !strings.Contains(stderr, "no Pubdoc database") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	schematest.Validate(t, schematest.ErrorFile, "kb unknown without a database", []byte(out))
}

// kb new --from GROUP writes a rule file that the loader refuses until its TODO fields
// are filled, and that then loads, passes kb lint, and whose first example (the group's
// lines) produces the rule.
func TestKBNewFromGroup(t *testing.T) {
	learnDrivers(t, func(t *testing.T, st *store.Store) {
		fp := seedUnknown(t, st)
		kbDir := filepath.Join(t.TempDir(), "knowledge")
		if err := os.CopyFS(kbDir, os.DirFS(repo("knowledge"))); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(kbDir, "rules", "npm", "changelog-section-missing.yaml")
		code, out, stderr := runCLI(t, "", "kb", "new", "--from", fp[:6], "--id", "changelog-section-missing", "-o", file)
		if code != exitOK || !strings.Contains(out, "wrote "+file) {
			t.Fatalf("exit %d\n%s%s", code, out, stderr)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		for _, want := range []string{"id: changelog-section-missing\n", "registry: npm\n", "ChangelogError: CHANGELOG.md has no section for v", "near_misses:", "TODO", fp} {
			if !strings.Contains(text, want) {
				t.Errorf("the scaffold lacks %q:\n%s", want, text)
			}
		}
		if _, err := knowledge.LoadFS(os.DirFS(kbDir)); err == nil || !strings.Contains(err.Error(), "changelog-section-missing") {
			t.Errorf("the unfilled scaffold loads: %v", err)
		}
		filled := strings.NewReplacer(
			`title: ""`, `title: "CHANGELOG.md has no section for the version being released"`,
			`cause: ""`, `cause: "The release script looks for the version's section in CHANGELOG.md and stops when there is none."`,
			`summary: ""`, `summary: "Add the version's section to CHANGELOG.md before tagging."`,
			`refs: []`, `refs: ["https://keepachangelog.com/"]`,
			"TODO: paste a log that looks like this failure but must not produce this rule", "ChangelogError: CHANGELOG.md could not be read",
		).Replace(text)
		if err := os.WriteFile(file, []byte(filled), 0o644); err != nil {
			t.Fatal(err)
		}
		kb, err := knowledge.LoadFS(os.DirFS(kbDir))
		if err != nil {
			t.Fatalf("the filled scaffold does not load: %v\n%s", err, filled)
		}
		for _, p := range lint(kb) {
			if strings.Contains(p, "changelog-section-missing") {
				t.Errorf("kb lint: %s", p)
			}
		}
		eng, err := diagnose.New(kb, slog.New(slog.DiscardHandler), diagnose.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if n, fails := eng.TestExamples("changelog-section-missing"); n != 2 || len(fails) != 0 {
			t.Errorf("kb test --rule changelog-section-missing: %d run, failures %v\n%s", n, fails, filled)
		}
		// The default place, and no overwriting.
		if code, out, _ := runCLI(t, "", "kb", "new", "--from", fp, "-o", "-"); code != exitOK || !strings.HasPrefix(out, "# Scaffolded by") || !strings.Contains(out, "id: todo-"+fp[:8]) {
			t.Errorf("-o -: exit %d\n%s", code, out)
		}
		if code, _, stderr := runCLI(t, "", "kb", "new", "--from", fp[:6], "--id", "changelog-section-missing", "-o", file); code != exitUsage || !strings.Contains(stderr, "exists") {
			t.Errorf("over an existing file: exit %d %s", code, stderr)
		}
		if code, _, stderr := runCLI(t, "", "kb", "new", "--from", "abcd0000"); code != exitUsage || !strings.Contains(stderr, "no unknown group") {
			t.Errorf("an unknown group: exit %d %s", code, stderr)
		}
	})
}

func TestSuggestAnchorAndRegistry(t *testing.T) {
	g := learn.Group{
		ID:      "0123456789abcdef",
		Lines:   []string{"npm error <n> '<str>' is not in this registry.", "ERROR: HTTPError: <n> Bad Request from https://upload.pypi.org/<path>"},
		Example: []string{"npm ERR! 404  '@acme/x@1.0.0' is not in this registry.", "ERROR: HTTPError: 400 Bad Request from https://upload.pypi.org/legacy/"},
	}
	if got := suggestAnchor(g); got != "HTTPError" && got != "is not in this registry." && got != "Bad Request from https://upload.pypi.org/" {
		t.Errorf("suggestAnchor = %q", got)
	}
	if got := guessRegistry(g); got != "pypi" {
		t.Errorf("guessRegistry = %q, want pypi", got)
	}
	if got := guessRegistry(learn.Group{Lines: []string{"something odd"}}); got != "npm" {
		t.Errorf("guessRegistry = %q, want npm", got)
	}
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "72h": 72 * time.Hour, "": 0} {
		now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		got, err := parseSince(in, now)
		if err != nil || (want == 0) != got.IsZero() || want != 0 && now.Sub(got) != want {
			t.Errorf("parseSince(%q) = %s, %v", in, got, err)
		}
	}
	if got, err := parseSince("2026-11-01", time.Now()); err != nil || got.Format(time.DateOnly) != "2026-11-01" {
		t.Errorf("parseSince(date) = %s, %v", got, err)
	}
}

// unknown.v1.json is strict enough to catch a drifting answer.
func TestUnknownSchemaRejectsDrift(t *testing.T) {
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	good, err := json.Marshal(newUnknownAnswer(day.Add(-30*24*time.Hour), []learn.Group{{
		ID: "5a5fab8f5afece64", Count: 2, Total: 3, FirstSeen: day, LastSeen: day, Verdict: diagnose.NoKnownCause,
		Lines: []string{"Error x"}, Days: []learn.DayCount{{Day: day, Count: 2}},
	}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := schematest.Check("unknown.v1.json", good); err != nil {
		t.Fatalf("a real answer fails its schema: %v\n%s", err, good)
	}
	for name, bad := range map[string]string{
		"null lines":     strings.Replace(string(good), `"lines":["Error x"]`, `"lines":null`, 1),
		"a short id":     strings.Replace(string(good), `"5a5fab8f5afece64"`, `"5a5f"`, 1),
		"another schema": strings.Replace(string(good), SchemaUnknown, "pubdoc.unknown/v2", 1),
		"a Go name":      strings.Replace(string(good), `"first_seen"`, `"FirstSeen"`, 1),
		"a bad day":      strings.Replace(string(good), `"2026-12-07","count"`, `"12/07","count"`, 1),
	} {
		if bad == string(good) {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		if schematest.Check("unknown.v1.json", []byte(bad)) == nil {
			t.Errorf("%s: accepted by unknown.v1.json", name)
		}
	}
}

type fakePrecision struct {
	prec []learn.Precision
	err  error
}

func (f fakePrecision) RulePrecision(context.Context, time.Time) ([]learn.Precision, error) {
	return f.prec, f.err
}

func TestCountFeedback(t *testing.T) {
	m := metrics.New()
	countFeedback(context.Background(), fakePrecision{prec: []learn.Precision{{RuleID: "oidc-npm-too-old", Right: 3, Wrong: 1}}}, m)
	countFeedback(context.Background(), fakePrecision{err: errors.New("database gone")}, m) // keeps the last count
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`pubdoc_rule_feedback{rule="oidc-npm-too-old",verdict="right"} 3`, `pubdoc_rule_precision{rule="oidc-npm-too-old"} 0.75`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
