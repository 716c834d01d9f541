package npmfixtures

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
)

type manifestRow struct {
	file, expect, scenario, npm, level string
}

func readManifest(t *testing.T) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "labels.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		c := strings.Split(sc.Text(), "\t")
		if i == 0 || len(c) < 5 {
			continue
		}
		rows = append(rows, manifestRow{c[0], c[1], c[2], c[3], c[4]})
	}
	if len(rows) < 100 {
		t.Fatalf("manifest lists %d fixtures", len(rows))
	}
	return rows
}

// honestlyAmbiguous are fixtures whose log cannot show their cause: at the default log
// level npm prints nothing that tells a package's first publish from a trusted-publisher
// mismatch. Their expected id must still be a candidate, under an inconclusive verdict.
func honestlyAmbiguous(r manifestRow) bool {
	return r.scenario == "oidc-first-publish" && r.level == "default"
}

// Every recorded fixture gets its expected diagnosis.
func TestFixturesAreDiagnosed(t *testing.T) {
	eng, err := diagnose.New(knowledge.MustLoad(), nil, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range readManifest(t) {
		f, err := os.Open(filepath.Join("testdata", row.file))
		if err != nil {
			t.Fatal(err)
		}
		res, err := eng.Diagnose(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", row.file, err)
		}
		switch {
		case row.expect == "none":
			if res.Verdict != diagnose.NoKnownCause {
				t.Errorf("%s: a successful publish got %s %v", row.file, res.Verdict, top(res))
			}
		case honestlyAmbiguous(row):
			if res.Verdict == diagnose.Diagnosed || rank(res, row.expect) == 0 {
				t.Errorf("%s: want %s among inconclusive candidates, got %s %v", row.file, row.expect, res.Verdict, top(res))
			}
		case rank(res, row.expect) != 1:
			t.Errorf("%s: want %s first, got %s %v", row.file, row.expect, res.Verdict, top(res))
		case res.Verdict == diagnose.Diagnosed && res.Diagnoses[0].ID != row.expect:
			t.Errorf("%s: confident and wrong", row.file)
		}
	}
}

func rank(r *diagnose.Result, id string) int {
	for i, d := range r.Diagnoses {
		if d.ID == id {
			return i + 1
		}
	}
	return 0
}

func top(r *diagnose.Result) []string {
	var out []string
	for _, d := range r.Diagnoses[:min(3, len(r.Diagnoses))] {
		out = append(out, d.ID)
	}
	return out
}

// representative is the subset CI re-records with the real npm (installed by .ci/run): the
// seed's three causes and the registry policies, on Node 22's npm and the newest 11.
var representative = []struct{ scenario, npm, level string }{
	{"oidc-npm-too-old", "10.9.8", "default"},
	{"oidc-missing-id-token-permission", "11.21.2", "default"},
	{"oidc-trusted-publisher-other-workflow", "11.21.2", "verbose"},
	{"eotp-required", "11.21.2", "default"},
	{"version-already-published", "10.9.8", "default"},
	{"version-already-published", "11.21.2", "default"},
	{"e402-scoped-without-access", "11.21.2", "default"},
	{"prerelease-without-tag", "11.21.2", "default"},
	{"npm-latest-ebadengine", "10.9.8", "default"},
	{"success-trusted-publishing", "11.21.2", "verbose"},
}

// What npm prints must still be what the fixtures say it prints.
func TestRealNPMStillPrintsTheFixtures(t *testing.T) {
	cache := filepath.Join("..", "..", ".cache")
	require := os.Getenv("PUBDOC_REQUIRE_NPM") == "1"
	byName := map[string]Scenario{}
	for _, s := range Scenarios {
		byName[s.Name] = s
	}
	for _, c := range representative {
		t.Run(c.scenario+"/"+c.npm+"/"+c.level, func(t *testing.T) {
			if _, err := os.Stat(CLIPath(cache, c.npm)); err != nil {
				if require {
					t.Fatalf("npm %s is not installed in %s (.ci/run installs it)", c.npm, cache)
				}
				t.Skipf("npm %s not installed in %s: run make fixtures", c.npm, cache)
			}
			rec, err := Record(context.Background(), cache, byName[c.scenario], c.npm, c.level)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", FileName(rec)))
			if err != nil {
				t.Fatal(err)
			}
			if got := JobLog(rec); got != string(want) {
				t.Errorf("npm %s prints something else now for %s; run make fixtures and review the diff\n--- got\n%s", c.npm, c.scenario, rec.Output)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	out := Sanitize("npm http fetch PUT 404 http://127.0.0.1:4321/@a%2fb 87ms\nnpm verbose logfile /tmp/w/home/.npm/_logs/2026-01-02T03_04_05_678Z-debug-0.log\n",
		"http://127.0.0.1:4321/", "/tmp/w", "/tmp/w/home", "/c/npm/bin/npm-cli.js", "20.20.2")
	want := "npm http fetch PUT 404 https://registry.npmjs.org/@a%2fb 100ms\nnpm verbose logfile /home/runner/.npm/_logs/2026-11-20T10_00_00_000Z-debug-0.log\n"
	if out != want {
		t.Fatalf("Sanitize:\n%s\nwant\n%s", out, want)
	}
}
