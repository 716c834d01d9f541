package slackbot

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// TestSecretsNeverLeak runs the adapter's flows, failing ones included, and checks that
// no token or signing secret reaches a log line, an error or a message body, and that
// message text (which may carry a user's secrets) is never logged.
func TestSecretsNeverLeak(t *testing.T) {
	const pasted = "npm error code E404 PASTED_LOG_TEXT_npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
	h := newHarness(t)
	ctx := context.Background()
	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}

	// Inbound: signed and unsigned requests, accepted and failing.
	h.event(callback(t, "Ev0LEAK1", map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> " + pasted, "ts": "1.1", "channel": "C0CHAN"}), nil)
	h.event(callback(t, "Ev0LEAK2", map[string]any{"type": "message", "channel_type": "im", "user": "U0ALICE", "text": pasted, "ts": "1.2", "channel": "D0DM"}), nil)
	h.event(`{"type":"event_callback"}`, map[string]string{"X-Slack-Signature": "v0=" + strings.Repeat("0", 64)})
	h.event(`{}`, map[string]string{"X-Slack-Request-Timestamp": fmt.Sprint(testNow.Add(-time.Hour).Unix())})
	h.command(commandForm(pasted))
	h.interact(viewSubmission(t, "other", pasted))
	h.backend.acceptErr = errors.New("store down")
	h.event(callback(t, "Ev0LEAK3", map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> " + pasted, "ts": "1.3", "channel": "C0CHAN"}), nil)
	h.command(commandForm(pasted))
	h.backend.acceptErr = nil

	// Outbound, succeeding and failing.
	_, err := h.c.Post(ctx, bot.Target{Channel: "C0CHAN", ThreadTS: "1.1"}, bot.Reply{Result: hugeResult(), DiagnosisID: 1, Key: "k"})
	collect(err)
	for _, a := range []answer{
		{status: 429, retryAfter: "5"},
		{body: `{"ok":false,"error":"invalid_auth"}`},
		{body: `{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"commands"}`},
		{status: 500, body: "oops"},
	} {
		h.slack.program("chat.postMessage", a)
		_, err := h.c.Post(ctx, bot.Target{Channel: "C0CHAN"}, bot.Reply{Text: "hi"})
		collect(err)
	}
	h.slack.program("chat.postMessage", answer{body: `{"ok":false,"error":"not_in_channel"}`})
	_, err = h.c.Post(ctx, bot.Target{Channel: "C0CHAN", ResponseURL: h.slack.srv.URL + "/response/r1"}, bot.Reply{Text: "hi"})
	collect(err)
	h.slack.program("chat.update", answer{body: `{"ok":false,"error":"token_revoked"}`})
	collect(h.c.Update(ctx, "C0CHAN", "1.1", bot.Reply{Text: "x"}))
	h.slack.program("chat.postEphemeral", answer{body: `{"ok":false,"error":"channel_not_found"}`})
	collect(h.c.Ephemeral(ctx, bot.Target{Channel: "C0CHAN", User: "U0ALICE"}, bot.Reply{Text: "x"}))
	h.slack.program("conversations.history", answer{body: `{"ok":false,"error":"not_authed"}`})
	_, _, err = h.c.FindPosted(ctx, "C0CHAN", "", "k", testNow)
	collect(err)
	h.slack.program("views.open", answer{body: `{"ok":false,"error":"invalid_auth"}`})
	h.interact(blockActionsPayload(t, "pubdoc_wrong", "5"))

	// Downloads: refused hosts, too large, missing, fine.
	for _, f := range []bot.File{
		{Name: "a.log", URL: "https://evil.example.com/x.log?token=" + url.QueryEscape("nothing")},
		{Name: "b.log", URL: h.slack.srv.URL + "/files/none"},
		{Name: "c.log", URL: h.slack.srv.URL + "/files/none", Size: 99 << 20},
	} {
		_, err := h.c.Download(ctx, f, 1<<20)
		collect(err)
	}
	h.slack.srv.Close()
	_, err = h.c.Post(ctx, bot.Target{Channel: "C0CHAN"}, bot.Reply{Text: "hi"})
	collect(err)
	_, err = h.c.Download(ctx, bot.File{Name: "d.log", URL: h.slack.srv.URL + "/files/x"}, 1<<20)
	collect(err)

	// Socket Mode with a refused app token.
	h2 := newHarness(t)
	h2.slack.program("apps.connections.open", answer{body: `{"ok":false,"error":"invalid_auth"}`})
	h2.c.socketRetryMin = time.Hour
	smCtx, smCancel := context.WithCancel(ctx)
	smDone := make(chan error, 1)
	go func() { smDone <- h2.c.RunSocketMode(smCtx, h2.backend) }()
	waitReady(t, h2, "invalid_auth")
	collect(h2.c.SocketModeReady())
	smCancel()
	collect(<-smDone)

	if len(errs) < 12 {
		t.Fatalf("only %d errors collected: the flows did not fail as planned", len(errs))
	}
	secrets := map[string]string{"bot token": testBotToken, "signing secret": testSigningSecret, "app token": testAppToken}
	for name, s := range secrets {
		for _, logs := range []string{h.logs.String(), h2.logs.String()} {
			if strings.Contains(logs, s) {
				t.Errorf("the %s is in the logs", name)
			}
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v", err), s) {
				t.Errorf("the %s is in an error: %v", name, err)
			}
		}
		for _, c := range append(h.slack.Calls(), h2.slack.Calls()...) {
			for _, field := range []string{"text", "blocks", "metadata", "view", "files", "initial_comment", "file", "filename", "response_type"} {
				if strings.Contains(c.Params.Get(field), s) {
					t.Errorf("the %s is in the %s of %s", name, field, c.Method)
				}
			}
			if c.Method == "response_url" && (strings.Contains(string(c.Body), s) || c.Header.Get("Authorization") != "") {
				t.Errorf("the %s went to a response URL", name)
			}
		}
	}
	for _, logs := range []string{h.logs.String(), h2.logs.String()} {
		if strings.Contains(logs, "PASTED_LOG_TEXT") {
			t.Errorf("message text is in the logs:\n%s", logs)
		}
	}
	if testing.Verbose() {
		for _, err := range errs {
			t.Log(err)
		}
	}
}
