package diagnose

import (
	"regexp"
	"testing"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// Every package-level expression compiles: lazy compilation must not move a typo from the
// tests to a user's run.
func TestLazyRegexesCompile(t *testing.T) {
	all := lazyre.All()
	if len(all) < 90 {
		t.Fatalf("only %d lazy expressions registered; were some made outside package init?", len(all))
	}
	for _, r := range all {
		if _, err := regexp.Compile(r.Expr()); err != nil {
			t.Errorf("%q: %v", r.Expr(), err)
		}
	}
}
