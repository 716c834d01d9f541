package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A route with `digest:` gets its weekly digest scheduled at start: the start-up logs it
// once, with the schedule as docs/deploy.md shows it.
func TestServeSchedulesDigests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	yaml := "routes:\n  - repos: [\"acme/*\"]\n    channel: C0PUBDOC\n    digest: {weekday: mon, hour: 9, timezone: Europe/Berlin}\n" +
		"  - repos: [\"other/*\"]\n    channel: C0OTHER\n"
	if err := os.WriteFile(routes, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, append(slackEnv(t.TempDir(), slack), "PUBDOC_ROUTES="+routes)...)
	waitFor(t, 5*time.Second, "the digest's start-up line", func() bool {
		return strings.Contains(s.logs.String(), `"msg":"weekly digest scheduled"`)
	})
	logs := s.logs.String()
	if n := strings.Count(logs, `"msg":"weekly digest scheduled"`); n != 1 ||
		!strings.Contains(logs, `"channel":"C0PUBDOC","schedule":"Monday 09:00 Europe/Berlin"`) {
		t.Errorf("%d digest lines, want one for C0PUBDOC on Monday 09:00 Europe/Berlin:\n%s", n, logs)
	}
}
