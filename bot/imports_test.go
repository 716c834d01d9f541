package bot

import (
	"os/exec"
	"strings"
	"testing"
)

// The bot links no adapter: it declares what it needs of the store, GitHub, the registry
// and Slack as its own small interfaces (Store, GitHub, Registry, WebhookReader,
// Messenger), and the adapter packages implement them.
func TestBotImportsNoAdapters(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/pubdoc/pubdoc/bot").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed %d packages: %s", len(deps), out)
	}
	banned := []string{
		"github.com/google/go-github", "github.com/bradleyfalzon/ghinstallation", "github.com/jackc/pgx",
		"github.com/riverqueue/", "modernc.org/sqlite", "github.com/slack-go/",
		"github.com/pubdoc/pubdoc/store", "github.com/pubdoc/pubdoc/bot/gha", "github.com/pubdoc/pubdoc/bot/registry",
		"github.com/pubdoc/pubdoc/bot/slackbot",
	}
	for _, d := range deps {
		for _, b := range banned {
			if strings.HasPrefix(d, b) {
				t.Errorf("bot depends on %s", d)
			}
		}
	}
}
