package diagnose

import (
	"regexp"
	"testing"
)

// Every package-level expression compiles: lazy compilation must not move a typo from the
// tests to a user's run.
func TestLazyRegexesCompile(t *testing.T) {
	if len(allLazy) < 90 {
		t.Fatalf("only %d lazy expressions registered; were some made outside package init?", len(allLazy))
	}
	for _, r := range allLazy {
		if _, err := regexp.Compile(r.expr); err != nil {
			t.Errorf("%q: %v", r.expr, err)
		}
		if r.get().String() != r.expr {
			t.Errorf("%q compiled to %q", r.expr, r.get().String())
		}
	}
}
