package workflow

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// realPair is one fix commit of testdata/realfix/manifest.tsv: the workflow files (and
// package.json) of a public repository before and after a commit that fixed its publish.
type realPair struct {
	dir, repo, commit, file, expected, kind, source string
}

// readRealManifest reads manifest.tsv, the pairs the checks were developed against, and
// heldout.tsv, pairs collected after, run as they were found.
func readRealManifest(t *testing.T) []realPair {
	t.Helper()
	out := readManifestFile(t, "manifest.tsv", "")
	return append(out, readManifestFile(t, "heldout.tsv", "held-out ")...)
}

func readManifestFile(t *testing.T, name, prefix string) []realPair {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "realfix", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []realPair
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan(); n++ {
		cols := strings.Split(sc.Text(), "\t")
		if n == 0 || len(cols) == 0 || cols[0] == "" {
			continue
		}
		if len(cols) != 7 {
			t.Fatalf("%s:%d: %d columns, want 7", name, n+1, len(cols))
		}
		out = append(out, realPair{cols[0], cols[1], cols[2], cols[3], cols[4], prefix + cols[5], cols[6]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkRealSide runs CheckAll on one side (before or after) of a pair: every workflow file
// under .github/workflows, judged together with the repository's root package.json.
func checkRealSide(t *testing.T, p realPair, side string) []Finding {
	t.Helper()
	root := filepath.Join("testdata", "realfix", p.dir, side)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.y*ml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s/%s: no workflow files (%v)", p.dir, side, err)
	}
	var ws []*Workflow
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		w, err := Parse(".github/workflows/"+filepath.Base(f), src)
		if err != nil {
			t.Fatalf("%s/%s: %v", p.dir, side, err)
		}
		w.Repo = p.repo
		ws = append(ws, w)
	}
	var pkg *Package
	if src, err := os.ReadFile(filepath.Join(root, "package.json")); err == nil {
		if pkg, err = ParsePackage("package.json", src); err != nil {
			t.Fatalf("%s/%s: %v", p.dir, side, err)
		}
	}
	return CheckAll(ws, pkg)
}

// TestRealFixes runs the checker on workflows from public repositories at the commit before
// and after a fix of their publish (testdata/realfix/manifest.tsv names each commit and
// what its fix removed). Before: the finding the fix removed must be there (recall, per
// kind, at least 90 % overall). After: the workflow published, so no error may fire.
func TestRealFixes(t *testing.T) {
	pairs := readRealManifest(t)
	if len(pairs) < 20 {
		t.Fatalf("%d pairs in manifest.tsv, want at least 20", len(pairs))
	}
	type tally struct{ found, total int }
	kinds := map[string]*tally{}
	var found, falseErrors int
	bySeverity := map[string]int{} // of the expected findings found
	afterSeverity := map[string]int{}
	for _, p := range pairs {
		k := kinds[p.kind]
		if k == nil {
			k = &tally{}
			kinds[p.kind] = k
		}
		k.total++
		before := checkRealSide(t, p, "before")
		i := slices.IndexFunc(before, func(f Finding) bool { return f.ID == p.expected })
		if i >= 0 {
			k.found++
			found++
			bySeverity[before[i].Severity]++
		} else {
			t.Logf("MISSED %s (%s): want %s, got:\n%s", p.dir, p.kind, p.expected, findingSummary(before))
		}
		for _, f := range checkRealSide(t, p, "after") {
			afterSeverity[f.Severity]++
			if f.Severity == SeverityError {
				falseErrors++
				t.Errorf("%s after the fix (%s): error %s:%d %s: %s", p.dir, p.source, f.File, f.Line, f.ID, f.Message)
			}
		}
	}
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		t.Logf("recall %-28s %d/%d", n, kinds[n].found, kinds[n].total)
	}
	t.Logf("recall overall %d/%d (%.0f %%): %d as error, %d as warning, %d as note (cannot tell)", found, len(pairs), 100*float64(found)/float64(len(pairs)),
		bySeverity[SeverityError], bySeverity[SeverityWarning], bySeverity[SeverityNote])
	t.Logf("findings on the healthy after files: %d errors, %d warnings, %d notes", afterSeverity[SeverityError], afterSeverity[SeverityWarning], afterSeverity[SeverityNote])
	if found*10 < len(pairs)*9 {
		t.Errorf("recall %d/%d is below 90 %%", found, len(pairs))
	}
}

func findingSummary(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\t%s:%d %s %s\n", f.File, f.Line, f.ID, f.Severity)
	}
	if b.Len() == 0 {
		return "\t(none)\n"
	}
	return b.String()
}

// TestRealFixesDump prints every finding on both sides of every pair (go test -run
// TestRealFixesDump -v), to review what the checker says beyond the expected finding.
func TestRealFixesDump(t *testing.T) {
	if !testing.Verbose() {
		t.Skip("prints only with -v")
	}
	for _, p := range readRealManifest(t) {
		for _, side := range []string{"before", "after"} {
			t.Logf("%s %s:\n%s", p.dir, side, findingSummary(checkRealSide(t, p, side)))
		}
	}
}
