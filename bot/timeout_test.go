package bot

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A chat request that runs past ChatTimeout is answered with what was read by then, once,
// and its job ends given up instead of being retried (a retry would take as long again).
func TestChatTimeoutAnswersWithWhatWasRead(t *testing.T) {
	h := newHarness(t)
	h.svc.cfg.ChatTimeout = 200 * time.Millisecond
	h.msg.files["https://files.example/old.log"] = []byte(example(t, "old-npm.log"))
	h.msg.slow = map[string]bool{"https://files.example/stuck.log": true}
	start := time.Now()
	err := h.ask(t, Request{Kind: "dm", Direct: true, DeliveryID: "EvSlow", Channel: "D1", User: "U1", ThreadTS: "1.7",
		Files: []File{{Name: "old.log", URL: "https://files.example/old.log"}, {Name: "stuck.log", URL: "https://files.example/stuck.log"}}})
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the job took %s, past its 200ms budget", took)
	}
	if !isPermanent(err) || isRetryAfter(err) {
		t.Fatalf("Handle = %v, want a final outcome (given up, not retried)", err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 1 || len(eph) != 0 {
		t.Fatalf("posts %+v ephemerals %+v: want one reply", posts, eph)
	}
	p := posts[0]
	if p.Reply.Result == nil || p.Reply.Result.Diagnoses[0].ID != "oidc-npm-too-old" || p.Target.ThreadTS != "1.7" {
		t.Errorf("reply %+v: want old.log's diagnosis in the asker's thread", p.Reply)
	}
	if !strings.Contains(p.Reply.Text, "This took longer than 200ms, so I stopped: here is what I had.") {
		t.Errorf("reply text %q: want it to say the time ran out and this is what was read", p.Reply.Text)
	}

	// Run again (as a redelivery would be): nothing more is said.
	if err := h.svc.handleRequest(t.Context(), Request{Kind: "dm", Direct: true, DeliveryID: "EvSlow", Channel: "D1", User: "U1", ThreadTS: "1.7",
		Files: []File{{Name: "old.log", URL: "https://files.example/old.log"}, {Name: "stuck.log", URL: "https://files.example/stuck.log"}}}, 2, 10); !isPermanent(err) {
		t.Fatalf("second run = %v, want given up again", err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 1 {
		t.Errorf("%d posts after a second run, want the one reply", len(posts))
	}
}

// With nothing read by then, the person is told in one message what to do instead.
func TestChatTimeoutWithNothingReadIsSaid(t *testing.T) {
	h := newHarness(t)
	h.svc.cfg.ChatTimeout = 100 * time.Millisecond
	h.msg.slow = map[string]bool{"https://files.example/stuck.zip": true}
	err := h.ask(t, Request{Kind: "mention", DeliveryID: "EvStuck", Channel: "C1", User: "U1", ThreadTS: "1.8",
		Files: []File{{Name: "stuck.zip", URL: "https://files.example/stuck.zip"}}})
	if !isPermanent(err) {
		t.Fatalf("Handle = %v, want a final outcome", err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 0 || len(eph) != 1 {
		t.Fatalf("posts %+v ephemerals %+v: want one message to the asker", posts, eph)
	}
	if e := eph[0]; e.Target.User != "U1" || !strings.Contains(e.Reply.Text, "This took longer than 100ms") ||
		!strings.Contains(e.Reply.Text, "smaller file") {
		t.Errorf("told %+v: want the asker told the time ran out and to try a smaller file", e)
	}
}

// A GitHub rate limit met while reading a run snoozes the job until the limit resets,
// without telling the person yet (the answer comes when the run is read).
func TestGitHubRateLimitSnoozes(t *testing.T) {
	h := newHarness(t)
	h.runs.err = fmt.Errorf("listing jobs: %w", fakeRateLimit{reset: h.clock().Add(5 * time.Minute)})
	err := h.ask(t, Request{Kind: "mention", DeliveryID: "EvRL", Channel: "C0ONCALL", User: "U1", ThreadTS: "1.9", Text: "https://github.com/acme/widgets/actions/runs/77"})
	var ra RetryAfterError
	if !errors.As(err, &ra) || ra.RetryAfter() != 5*time.Minute {
		t.Fatalf("Handle = %v, want a snooze of 5m", err)
	}
	if posts, _, eph := h.msg.snapshot(); len(posts)+len(eph) != 0 {
		t.Errorf("posts %+v ephemerals %+v: want nothing said yet", posts, eph)
	}
}
