package ghaction

import (
	"strings"
	"testing"
)

func TestPatchSummary(t *testing.T) {
	if got := PatchSummary(" \n", 3); got != "" {
		t.Errorf("no patch: %q", got)
	}
	p := "--- a/x.yml\n+++ b/x.yml\n@@ -1,1 +1,1 @@\n-a: ```\n+a: b\n"
	got := PatchSummary(p, 2)
	for _, want := range []string{"<details><summary>Patch: the fix of 2 finding(s)", "````diff\n--- a/x.yml\n", "+a: b\n````\n", "</details>"} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
}
