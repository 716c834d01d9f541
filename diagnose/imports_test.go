package diagnose

import (
	"os/exec"
	"strings"
	"testing"
)

// The core stays pure: no adapter dependency and no network client reaches diagnose or
// knowledge.
func TestCoreImportsNoAdapters(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/pubdoc/pubdoc/diagnose", "github.com/pubdoc/pubdoc/knowledge").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed %d packages: %s", len(deps), out)
	}
	for _, d := range deps {
		for _, banned := range []string{"github.com/slack-go/", "github.com/google/go-github", "net/http", "github.com/pubdoc/pubdoc/bot", "github.com/pubdoc/pubdoc/store", "github.com/modelcontextprotocol/", "github.com/pubdoc/pubdoc/mcpserver", "github.com/santhosh-tekuri/"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("core depends on %s", d)
			}
		}
	}
}
