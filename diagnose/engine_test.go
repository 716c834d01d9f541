package diagnose

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pubdoc/pubdoc/knowledge"
)

var update = flag.Bool("update", os.Getenv("UPDATE") == "1", "rewrite golden files")

var (
	engOnce sync.Once
	engVal  *Engine
	engErr  error
)

func testEngine(t testing.TB) *Engine {
	t.Helper()
	engOnce.Do(func() {
		kb, err := knowledge.Load()
		if err != nil {
			engErr = err
			return
		}
		engVal, engErr = New(kb, nil, Options{})
	})
	if engErr != nil {
		t.Fatalf("engine: %v", engErr)
	}
	return engVal
}

// golden is the reviewed shape of a result: what a reviewer needs to judge a change.
type golden struct {
	Verdict    string            `json:"verdict"`
	Top        []goldenDiag      `json:"top"`
	Facts      map[string]string `json:"facts"`
	NextChecks []string          `json:"next_checks,omitempty"`
	Groups     []Group           `json:"groups,omitempty"`
	Failures   []string          `json:"failures,omitempty"`
	Failure    string            `json:"failure,omitempty"`
}

type goldenDiag struct {
	ID         string  `json:"id"`
	Confidence float64 `json:"confidence"`
	Evidence   []int   `json:"evidence_lines"`
}

func toGolden(r *Result) golden {
	g := golden{Verdict: r.Verdict, Facts: r.Facts, NextChecks: r.NextChecks, Groups: r.Groups, Failures: r.Failures}
	for _, d := range r.Diagnoses[:min(3, len(r.Diagnoses))] {
		gd := goldenDiag{ID: d.ID, Confidence: d.Confidence}
		for _, e := range d.Evidence {
			gd.Evidence = append(gd.Evidence, e.Line)
		}
		g.Top = append(g.Top, gd)
	}
	if r.Failure != nil {
		g.Failure = r.Failure.Text
	}
	return g
}

func checkGolden(t *testing.T, path string, got golden) {
	t.Helper()
	data, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("missing golden %s (run UPDATE=1 go test ./diagnose and review the diff): %v", path, err)
	}
	if !bytes.Equal(want, data) {
		t.Errorf("%s differs from the engine's output (UPDATE=1 to accept after review)\n--- want\n%s\n--- got\n%s", path, want, data)
	}
}

func diagnoseFile(t *testing.T, e *Engine, path string) *Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := e.Diagnose(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res
}

// TestRealCases runs every real case of shared/cases (copied into testdata) against its
// reviewed golden result.
func TestRealCases(t *testing.T) {
	e := testEngine(t)
	for _, c := range loadCases(t, caseSets...) {
		t.Run(c.set+"/"+c.name, func(t *testing.T) {
			res, err := e.DiagnoseText(c.text)
			if err != nil {
				t.Fatal(err)
			}
			negative := strings.HasPrefix(c.set, "negative")
			accepted := len(res.Diagnoses) > 0 && labelMatches(res.Diagnoses[0].ID, c.accept)
			if negative && res.Verdict != NoKnownCause && !accepted {
				t.Errorf("a log whose failure is not a publish cause got %s (%s)", res.Verdict, ranking(res))
			}
			if !negative && c.label != "" && res.Verdict == Diagnosed && !labelMatches(res.Diagnoses[0].ID, c.label) {
				t.Errorf("confident and wrong: labelled %s, got %s", c.label, ranking(res))
			}
			checkGolden(t, filepath.Join("testdata", "golden", c.set, strings.TrimSuffix(c.name, ".log")+".json"), toGolden(res))
		})
	}
}

// TestRuleExamples runs every rule's own examples and near-misses through the whole base.
func TestRuleExamples(t *testing.T) {
	e := testEngine(t)
	n, fails := e.TestExamples("")
	if n == 0 {
		t.Fatal("no examples ran")
	}
	for _, f := range fails {
		t.Error(f)
	}
}

// TestCatalogueCovered: every id of the catalogues has a rule (a rule that splits an id
// keeps it as prefix).
func TestCatalogueCovered(t *testing.T) {
	e := testEngine(t)
	for _, file := range []string{"catalogue-npm.txt", "catalogue-registries.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range strings.Fields(string(data)) {
			if e.kb.Rule(id) != nil {
				continue
			}
			found := false
			for _, r := range e.kb.Rules {
				found = found || strings.HasPrefix(r.ID, id+"-")
			}
			if !found {
				t.Errorf("%s: catalogue id %s has no rule", file, id)
			}
		}
	}
}

func TestEvalCountsAndTable(t *testing.T) {
	e := testEngine(t)
	rep, err := e.Eval(filepath.Join("testdata", "cases", "negative"), false)
	if err != nil {
		t.Fatal(err)
	}
	top1, top3, cw := rep.Totals()
	if len(rep.Cases) != 12 || top1 != 12 || top3 != 12 || cw != 0 {
		t.Fatalf("negative set: %d cases, top1 %d, top3 %d, confident-wrong %d; want 12/12/12/0", len(rep.Cases), top1, top3, cw)
	}
	var b bytes.Buffer
	if err := rep.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "top-1 12/12 (100.0%)") || !strings.Contains(b.String(), "none ") {
		t.Fatalf("report:\n%s", b.String())
	}
	if _, err := e.Eval(t.TempDir(), false); err == nil {
		t.Fatal("Eval of a folder without labels.tsv succeeded")
	}
}
