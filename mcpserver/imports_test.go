package mcpserver

import (
	"os/exec"
	"strings"
	"testing"
)

// The MCP SDK stays behind this package: no other package of the module imports it (tests
// aside: cmd/pubdoc's end-to-end test drives the server with the SDK's client).
func TestOnlyThisPackageImportsTheSDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/pubdoc/pubdoc/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	importers := 0
	for line := range strings.Lines(string(out)) {
		pkg, imports, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !strings.Contains(" "+imports, " github.com/modelcontextprotocol/") {
			continue
		}
		importers++
		if pkg != "github.com/pubdoc/pubdoc/mcpserver" {
			t.Errorf("%s imports the MCP SDK; only mcpserver may", pkg)
		}
	}
	if importers != 1 {
		t.Errorf("%d packages import the MCP SDK, want mcpserver alone:\n%s", importers, out)
	}
}
