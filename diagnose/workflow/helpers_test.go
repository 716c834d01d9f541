package workflow

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// load parses a testdata workflow, as the bot would parse .github/workflows/<name>.
func load(t testing.TB, name string) *Workflow {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	w, err := Parse(".github/workflows/"+filepath.Base(name), src)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return w
}

// factLines renders facts as "line name=value", the form the tables below are written in.
func factLines(t testing.TB, w *Workflow, fs []Fact) []string {
	t.Helper()
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.File != w.File {
			t.Errorf("fact %s has file %q, want %q", f.Name, f.File, w.File)
		}
		if f.Line < 1 {
			t.Errorf("fact %s has line %d", f.Name, f.Line)
		}
		out = append(out, fmt.Sprintf("%d %s=%s", f.Line, f.Name, f.Value))
	}
	return out
}

// findingLines renders findings as "file:line id severity".
func findingLines(t testing.TB, fs []Finding) []string {
	t.Helper()
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		if f.Message == "" || f.Fix == "" || f.Snippet == "" || f.Rule == "" {
			t.Errorf("%s: finding without message, fix, snippet or rule: %+v", f.ID, f)
		}
		if f.Severity != SeverityError && f.Severity != SeverityWarning && f.Severity != SeverityNote {
			t.Errorf("%s: severity %q", f.ID, f.Severity)
		}
		out = append(out, fmt.Sprintf("%s:%d %s %s", f.File, f.Line, f.ID, f.Severity))
	}
	return out
}

func equalLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if len(got) == len(want) {
		same := true
		for i := range got {
			if got[i] != want[i] {
				same = false
			}
		}
		if same {
			return
		}
	}
	t.Errorf("%s:\n got:\n\t%s\n want:\n\t%s", what, join(got), join(want))
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "\n\t"
		}
		out += s
	}
	return out
}
