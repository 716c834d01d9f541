package slackbot

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
)

// fixPRBackend is the fake Backend with the bot's FixPRBackend: it keeps the clicks
// handed to it, one job per delivery as the bot's store does.
type fixPRBackend struct {
	*fakeBackend
	mu     sync.Mutex
	clicks []bot.FixPRRequest
	seen   map[string]bool
	fail   error
}

var _ bot.FixPRBackend = (*fixPRBackend)(nil)

func (b *fixPRBackend) RequestFixPR(_ context.Context, r bot.FixPRRequest) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return "", b.fail
	}
	if !b.seen[r.DeliveryID] {
		b.seen[r.DeliveryID] = true
		b.clicks = append(b.clicks, r)
	}
	return "Opening a pull request with this fix… I will post its link in the thread.", nil
}

func withFixPRBackend(h *harness) *fixPRBackend {
	b := &fixPRBackend{fakeBackend: h.backend, seen: map[string]bool{}}
	h.mux = http.NewServeMux()
	h.c.Routes(h.mux, b)
	return b
}

func patched(id int64) bot.Reply {
	return bot.Reply{DiagnosisID: id, Result: &diagnose.Result{Verdict: diagnose.Diagnosed, Diagnoses: []diagnose.Diagnosis{{
		ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing", Confidence: 0.9,
		Fix: diagnose.AnswerFix{Patch: "--- a/.github/workflows/release.yml\n+++ b/.github/workflows/release.yml\n@@ -3 +3,2 @@\n       - uses: actions/setup-node@v5\n+      - run: npm install -g npm@^11.5.1\n"},
	}}}}
}

// buttons lists the action ids and values of a rendered reply's buttons.
func buttons(t *testing.T, r bot.Reply) map[string]string {
	t.Helper()
	raw, err := json.Marshal(render(r, noteShortened).Blocks)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []struct {
		Type     string `json:"type"`
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, b := range blocks {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			out[e.ActionID] = e.Value
		}
	}
	return out
}

func TestFixPRButtonOnlyWithAPatch(t *testing.T) {
	if got := buttons(t, patched(42))[actionFixPR]; got != "42" {
		t.Errorf("a diagnosis with a patch: button value %q, want 42", got)
	}
	plainReply := patched(42)
	plainReply.Result.Diagnoses[0].Fix.Patch = ""
	if _, ok := buttons(t, plainReply)[actionFixPR]; ok {
		t.Error("a diagnosis without a patch has the button")
	}
	unstored := patched(0)
	if _, ok := buttons(t, unstored)[actionFixPR]; ok {
		t.Error("an unstored diagnosis has the button")
	}
	fixed := patched(42)
	fixed.Thread = &bot.ThreadStatus{ThreadID: 3, Count: 2, ResolvedRun: 14}
	if _, ok := buttons(t, fixed)[actionFixPR]; ok {
		t.Error("a fixed thread's parent has the button")
	}
	open := patched(42)
	open.Thread = &bot.ThreadStatus{ThreadID: 3, Count: 2}
	if b := buttons(t, open); b[actionFixPR] != "42" || b[actionAck] != "3" || b[actionFixed] != "42" {
		t.Errorf("an open thread's parent: buttons %v", b)
	}
}

// The click goes to the bot as a job keyed by Slack's trigger_id, with where to answer;
// the person who clicked is told at once. A click Slack delivers twice is one job.
func TestFixPRClick(t *testing.T) {
	h := newHarness(t)
	b := withFixPRBackend(h)
	for range 2 {
		if rec := h.interact(blockActionsPayload(t, actionFixPR, "77")); rec.Code != http.StatusOK {
			t.Fatalf("status %d", rec.Code)
		}
	}
	want := bot.FixPRRequest{DeliveryID: "trig-block-1", DiagnosisID: 77, User: "U0CLICK", Channel: "C0CHAN", ThreadTS: "1764061000.000001"}
	if len(b.clicks) != 1 || b.clicks[0] != want {
		t.Fatalf("clicks %+v, want [%+v]", b.clicks, want)
	}
	eph := h.slack.only("chat.postEphemeral")
	if len(eph) != 2 || eph[0].Params.Get("user") != "U0CLICK" || !strings.Contains(eph[0].Params.Get("text"), "Opening a pull request") {
		t.Errorf("ephemerals %+v", eph)
	}

	// A value that is no diagnosis id is ignored; a bot that cannot take the click says so.
	if rec := h.interact(blockActionsPayload(t, actionFixPR, "x")); rec.Code != http.StatusOK || len(b.clicks) != 1 {
		t.Errorf("a bad value: status %d, %d clicks", rec.Code, len(b.clicks))
	}
	b.fail = errors.New("store down")
	h.interact(blockActionsPayload(t, actionFixPR, "78"))
	if eph := h.slack.only("chat.postEphemeral"); len(eph) != 3 || !strings.Contains(eph[2].Params.Get("text"), "Try the button again") || strings.Contains(eph[2].Params.Get("text"), "store down") {
		t.Errorf("after a failure: %+v", eph)
	}
}
