package slackbot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

func hmacSHA256(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// callback wraps an inner event as Slack's event_callback, with the bot user U0BOT in
// its authorizations.
func callback(t *testing.T, eventID string, inner map[string]any) string {
	t.Helper()
	return mustJSON(t, map[string]any{
		"token": "legacy-verification-token", "team_id": "T0TEAM", "api_app_id": "A0APP",
		"type": "event_callback", "event_id": eventID, "event_time": testNow.Unix(),
		"authorizations": []map[string]any{{"team_id": "T0TEAM", "user_id": "U0BOT", "is_bot": true}},
		"event":          inner,
	})
}

var logFile = map[string]any{
	"id": "F0LOG", "name": "publish.log", "mimetype": "text/plain", "filetype": "text", "size": 1234,
	"url_private":          "https://files.slack.com/files-pri/T0TEAM-F0LOG/publish.log",
	"url_private_download": "https://files.slack.com/files-pri/T0TEAM-F0LOG/download/publish.log",
}

var pngFile = map[string]any{
	"id": "F0PNG", "name": "screenshot.png", "mimetype": "image/png", "size": 999,
	"url_private_download": "https://files.slack.com/files-pri/T0TEAM-F0PNG/download/screenshot.png",
}

func TestSignatureChecks(t *testing.T) {
	body := callback(t, "Ev0SIG", map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> hi", "ts": "1.1", "channel": "C0CHAN"})
	stale := fmt.Sprint(testNow.Add(-6 * time.Minute).Unix())
	future := fmt.Sprint(testNow.Add(6 * time.Minute).Unix())
	tests := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"good", nil, http.StatusOK},
		{"bad signature", map[string]string{"X-Slack-Signature": "v0=" + strings.Repeat("ab", 32)}, http.StatusUnauthorized},
		{"signed with another secret", map[string]string{"X-Slack-Signature": sign("not-the-secret", testNow.Unix(), body)}, http.StatusUnauthorized},
		{"not hex", map[string]string{"X-Slack-Signature": "v0=zz"}, http.StatusUnauthorized},
		{"v1 signature", map[string]string{"X-Slack-Signature": "v1=" + hmacSHA256(testSigningSecret, "v0:"+fmt.Sprint(testNow.Unix())+":"+body)}, http.StatusUnauthorized},
		{"stale timestamp (6 min)", map[string]string{"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": "v0=" + hmacSHA256(testSigningSecret, "v0:"+stale+":"+body)}, http.StatusUnauthorized},
		{"future timestamp (6 min)", map[string]string{"X-Slack-Request-Timestamp": future, "X-Slack-Signature": "v0=" + hmacSHA256(testSigningSecret, "v0:"+future+":"+body)}, http.StatusUnauthorized},
		{"no signature", map[string]string{"X-Slack-Signature": ""}, http.StatusUnauthorized},
		{"no timestamp", map[string]string{"X-Slack-Request-Timestamp": ""}, http.StatusUnauthorized},
		{"no headers", map[string]string{"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			rec := h.event(body, tt.hdr)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.want, rec.Body)
			}
			calls, _ := h.backend.snapshot()
			if tt.want == http.StatusUnauthorized && len(calls) != 0 {
				t.Fatalf("backend saw %d requests of an unsigned request", len(calls))
			}
			// A refusal is counted once (pubdoc_events_rejected_total{source="slack"}) and
			// logged once, with its reason.
			wantRejected, wantLines := []string(nil), 0
			if tt.want == http.StatusUnauthorized {
				wantRejected, wantLines = []string{"slack/bad_signature"}, 1
			}
			if got := h.backend.rejections(); !slices.Equal(got, wantRejected) {
				t.Errorf("rejections counted %q, want %q", got, wantRejected)
			}
			if got := strings.Count(h.logs.String(), `msg="refused a Slack request"`); got != wantLines {
				t.Errorf("%d log lines about the refusal, want %d:\n%s", got, wantLines, h.logs.String())
			}
			if wantLines == 1 && !strings.Contains(h.logs.String(), "code=bad_signature reason=") {
				t.Errorf("the refusal's line lacks its code and reason:\n%s", h.logs.String())
			}
			if tt.want == http.StatusOK && len(calls) != 1 {
				t.Fatalf("backend saw %d requests, want 1", len(calls))
			}
			if len(h.slack.Calls()) != 0 {
				t.Fatalf("Slack was called: %v", h.slack.methods())
			}
		})
	}
}

func TestUnsignedCommandsAndInteractionsReachNothing(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/slack/commands", "/slack/interactivity", "/slack/events"} {
		rec := h.do(path, "application/x-www-form-urlencoded", "text=help&trigger_id=1", map[string]string{"X-Slack-Signature": "v0=00"})
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", path, rec.Code)
		}
	}
	if calls, _ := h.backend.snapshot(); len(calls) != 0 || len(h.backend.searches) != 0 {
		t.Fatalf("backend was called")
	}
}

func TestNoSigningSecretRefusesEverything(t *testing.T) {
	h := newHarness(t)
	h.c.cfg.SigningSecret = ""
	if rec := h.event(`{"type":"url_verification","challenge":"x"}`, nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}

func TestBodyTooLarge(t *testing.T) {
	h := newHarness(t)
	big := `{"type":"url_verification","challenge":"` + strings.Repeat("x", MaxRequestBytes) + `"}`
	if rec := h.event(big, nil); rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if got := h.backend.rejections(); !slices.Equal(got, []string{"slack/too_large"}) {
		t.Errorf("rejections counted %q, want slack/too_large", got)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t)
	rec := httptestGet(h, "/slack/events")
	if rec != http.StatusMethodNotAllowed {
		t.Fatalf("GET status %d, want 405", rec)
	}
}

func TestURLVerification(t *testing.T) {
	h := newHarness(t)
	rec := h.event(`{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`, nil)
	if rec.Code != http.StatusOK || rec.Body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
}

func TestEvents(t *testing.T) {
	tests := []struct {
		name  string
		inner map[string]any
		want  *bot.Request // nil: ignored
	}{
		{
			name:  "mention in a channel",
			inner: map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> why did this fail?\nnpm error code E404", "ts": "1764062000.000100", "channel": "C0CHAN", "event_ts": "1764062000.000100"},
			want:  &bot.Request{Kind: "mention", Channel: "C0CHAN", User: "U0ALICE", ThreadTS: "1764062000.000100", Text: "why did this fail?\nnpm error code E404"},
		},
		{
			name:  "mention in a thread, with a file and another user named",
			inner: map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "cc <@U0BOB> <@U0BOT|pubdoc> look", "ts": "1764062000.000200", "thread_ts": "1764061000.000001", "channel": "C0CHAN", "files": []any{logFile}},
			want: &bot.Request{Kind: "mention", Channel: "C0CHAN", User: "U0ALICE", ThreadTS: "1764061000.000001", Text: "cc <@U0BOB>  look",
				Files: []bot.File{{ID: "F0LOG", Name: "publish.log", Mimetype: "text/plain", Size: 1234, URL: "https://files.slack.com/files-pri/T0TEAM-F0LOG/download/publish.log"}}},
		},
		{
			name:  "DM",
			inner: map[string]any{"type": "message", "channel_type": "im", "user": "U0ALICE", "text": "npm error code E404", "ts": "1764062000.000300", "channel": "D0DM"},
			want:  &bot.Request{Kind: "dm", Channel: "D0DM", Direct: true, User: "U0ALICE", ThreadTS: "1764062000.000300", Text: "npm error code E404"},
		},
		{
			name:  "DM with a file",
			inner: map[string]any{"type": "message", "subtype": "file_share", "channel_type": "im", "user": "U0ALICE", "text": "", "ts": "1764062000.000400", "channel": "D0DM", "files": []any{logFile}},
			want: &bot.Request{Kind: "file", Channel: "D0DM", Direct: true, User: "U0ALICE", ThreadTS: "1764062000.000400",
				Files: []bot.File{{ID: "F0LOG", Name: "publish.log", Mimetype: "text/plain", Size: 1234, URL: "https://files.slack.com/files-pri/T0TEAM-F0LOG/download/publish.log"}}},
		},
		{
			name:  "log file shared in a channel",
			inner: map[string]any{"type": "message", "subtype": "file_share", "channel_type": "channel", "user": "U0ALICE", "text": "release failed", "ts": "1764062000.000500", "channel": "C0CHAN", "files": []any{pngFile, logFile}},
			want: &bot.Request{Kind: "file", Channel: "C0CHAN", User: "U0ALICE", ThreadTS: "1764062000.000500", Text: "release failed",
				Files: []bot.File{{ID: "F0LOG", Name: "publish.log", Mimetype: "text/plain", Size: 1234, URL: "https://files.slack.com/files-pri/T0TEAM-F0LOG/download/publish.log"}}},
		},
		{
			name:  "image shared in a channel",
			inner: map[string]any{"type": "message", "subtype": "file_share", "channel_type": "channel", "user": "U0ALICE", "ts": "1.5", "channel": "C0CHAN", "files": []any{pngFile}},
		},
		{
			name:  "log file shared with a mention (the app_mention asks)",
			inner: map[string]any{"type": "message", "subtype": "file_share", "channel_type": "channel", "user": "U0ALICE", "text": "<@U0BOT> this", "ts": "1.6", "channel": "C0CHAN", "files": []any{logFile}},
		},
		{
			name:  "plain channel message",
			inner: map[string]any{"type": "message", "channel_type": "channel", "user": "U0ALICE", "text": "npm error", "ts": "1.7", "channel": "C0CHAN"},
		},
		{
			name:  "bot message in a DM",
			inner: map[string]any{"type": "message", "channel_type": "im", "bot_id": "B0OTHER", "text": "hello", "ts": "1.8", "channel": "D0DM"},
		},
		{
			name:  "our own message",
			inner: map[string]any{"type": "message", "channel_type": "im", "user": "U0BOT", "text": "DIAGNOSED", "ts": "1.9", "channel": "D0DM"},
		},
		{
			name:  "edited DM",
			inner: map[string]any{"type": "message", "subtype": "message_changed", "channel_type": "im", "channel": "D0DM", "ts": "1.10", "message": map[string]any{"type": "message", "user": "U0ALICE", "text": "edited", "ts": "1.1"}},
		},
		{
			name:  "deleted DM",
			inner: map[string]any{"type": "message", "subtype": "message_deleted", "channel_type": "im", "channel": "D0DM", "ts": "1.11", "deleted_ts": "1.1"},
		},
		{
			name:  "mention by a bot",
			inner: map[string]any{"type": "app_mention", "bot_id": "B0OTHER", "user": "U0OTHERBOT", "text": "<@U0BOT> hi", "ts": "1.12", "channel": "C0CHAN"},
		},
		{
			name:  "an event Pubdoc does not handle",
			inner: map[string]any{"type": "reaction_added", "user": "U0ALICE", "reaction": "eyes", "item": map[string]any{"type": "message", "channel": "C0CHAN", "ts": "1.1"}},
		},
		{
			name:  "an event slack-go does not know",
			inner: map[string]any{"type": "something_new", "user": "U0ALICE"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			id := fmt.Sprintf("Ev0%03d", i)
			rec := h.event(callback(t, id, tt.inner), nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body)
			}
			calls, _ := h.backend.snapshot()
			if tt.want == nil {
				if len(calls) != 0 {
					t.Fatalf("accepted %+v, want it ignored", calls)
				}
				return
			}
			want := *tt.want
			want.DeliveryID, want.TeamID = id, "T0TEAM"
			if len(calls) != 1 || !reflect.DeepEqual(calls[0], want) {
				t.Fatalf("accepted\n%+v\nwant\n%+v", calls, want)
			}
			if len(h.slack.Calls()) != 0 {
				t.Fatalf("the ack path called Slack: %v", h.slack.methods())
			}
		})
	}
}

func TestEventRetriesAreDeduplicated(t *testing.T) {
	h := newHarness(t)
	body := callback(t, "Ev0RETRY", map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> log", "ts": "1.1", "channel": "C0CHAN"})
	for i, hdr := range []map[string]string{nil, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}, {"X-Slack-Retry-Num": "2"}} {
		if rec := h.event(body, hdr); rec.Code != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i, rec.Code)
		}
	}
	calls, accepted := h.backend.snapshot()
	if len(calls) != 3 || len(accepted) != 1 {
		t.Fatalf("Accept called %d times with %d accepted; want 3 and 1", len(calls), len(accepted))
	}
	for _, c := range calls {
		if c.DeliveryID != "Ev0RETRY" {
			t.Fatalf("DeliveryID %q, want Ev0RETRY", c.DeliveryID)
		}
	}
}

func TestEventAcceptFailureAsksForARetry(t *testing.T) {
	h := newHarness(t)
	h.backend.acceptErr = errors.New("database is locked")
	rec := h.event(callback(t, "Ev0FAIL", map[string]any{"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> x", "ts": "1.1", "channel": "C0CHAN"}), nil)
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", rec.Code)
	}
}

func TestMalformedEvent(t *testing.T) {
	h := newHarness(t)
	if rec := h.event(`{not json`, nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", rec.Code)
	}
	if got := h.backend.rejections(); !slices.Equal(got, []string{"slack/malformed"}) {
		t.Errorf("rejections counted %q, want slack/malformed", got)
	}
	if n := strings.Count(h.logs.String(), "code=malformed"); n != 1 {
		t.Errorf("%d log lines about the malformed event, want 1:\n%s", n, h.logs)
	}
}

func commandForm(text string) url.Values {
	return url.Values{
		"token": {"legacy"}, "team_id": {"T0TEAM"}, "channel_id": {"C0CHAN"}, "user_id": {"U0ALICE"},
		"command": {"/pubdoc"}, "text": {text}, "trigger_id": {"13345224609.738474920.8088930838d88f008e0"},
		"response_url": {"https://hooks.slack.com/commands/T0TEAM/1/abc"},
	}
}

func decodeCommand(t *testing.T, body []byte) commandAnswer {
	t.Helper()
	var a commandAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("not JSON: %s", body)
	}
	if a.ResponseType != "ephemeral" {
		t.Fatalf("response_type %q, want ephemeral", a.ResponseType)
	}
	return a
}

func TestCommands(t *testing.T) {
	rules := []bot.RuleOption{
		{ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing"},
		{ID: "oidc-missing-id-token", Title: "The workflow lacks permissions: id-token: write"},
		{ID: "token-expired", Title: "The npm token expired"},
	}
	tests := []struct {
		name, text, want string
		statsErr         error
	}{
		{name: "empty", text: "", want: "Mention me with a failing publish log."},
		{name: "help", text: " help ", want: "Mention me with a failing publish log."},
		{name: "kb", text: "kb oidc", want: "Rules matching “oidc”:\n• `oidc-npm-too-old` — npm is too old for trusted publishing\n• `oidc-missing-id-token` — The workflow lacks permissions: id-token: write"},
		{name: "kb nothing", text: "kb <nope>", want: "Nothing matches “&lt;nope&gt;”."},
		{name: "kb without words", text: "kb", want: "Say what to look for: `/pubdoc kb token expired`."},
		{name: "stats", text: "stats", want: "42 diagnoses this week; 3 open threads."},
		{name: "stats failing", text: "stats", statsErr: errors.New("db down"), want: "Sorry, I could not read the stats just now. Try again in a minute."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.backend.rules, h.backend.statsErr = rules, tt.statsErr
			rec := h.command(commandForm(tt.text))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if got := decodeCommand(t, rec.Body.Bytes()).Text; got != tt.want {
				t.Fatalf("text\n%q\nwant\n%q", got, tt.want)
			}
			if calls, _ := h.backend.snapshot(); len(calls) != 0 {
				t.Fatalf("Accept called for %q", tt.text)
			}
		})
	}
	t.Run("kb asks for 8", func(t *testing.T) {
		h := newHarness(t)
		h.command(commandForm("kb token expired"))
		if !reflect.DeepEqual(h.backend.searches, []string{"token expired/8"}) {
			t.Fatalf("searches %v", h.backend.searches)
		}
	})
}

func TestCommandWithALog(t *testing.T) {
	h := newHarness(t)
	start := time.Now()
	rec := h.command(commandForm("npm error code E404\nnpm error 404 Not Found - PUT https://registry.npmjs.org/pkg"))
	if time.Since(start) > time.Second {
		t.Fatalf("took %s to answer", time.Since(start))
	}
	if a := decodeCommand(t, rec.Body.Bytes()); rec.Code != http.StatusOK || a.Text != "Diagnosing…" {
		t.Fatalf("status %d, text %q", rec.Code, a.Text)
	}
	_, accepted := h.backend.snapshot()
	want := bot.Request{Kind: "command", DeliveryID: "command:13345224609.738474920.8088930838d88f008e0", TeamID: "T0TEAM",
		Channel: "C0CHAN", User: "U0ALICE", Text: "npm error code E404\nnpm error 404 Not Found - PUT https://registry.npmjs.org/pkg",
		ResponseURL: "https://hooks.slack.com/commands/T0TEAM/1/abc"}
	if len(accepted) != 1 || !reflect.DeepEqual(accepted[0], want) {
		t.Fatalf("accepted\n%+v\nwant\n%+v", accepted, want)
	}
}

func TestCommandAcceptFailure(t *testing.T) {
	h := newHarness(t)
	h.backend.acceptErr = errors.New("disk full")
	rec := h.command(commandForm("https://github.com/acme/cli/actions/runs/1"))
	a := decodeCommand(t, rec.Body.Bytes())
	if rec.Code != http.StatusOK || a.Text != "Sorry, I could not take that just now. Try again in a minute." {
		t.Fatalf("status %d, text %q", rec.Code, a.Text)
	}
	if strings.Contains(rec.Body.String(), "disk full") {
		t.Fatalf("internal error shown to the person: %s", rec.Body)
	}
}

func blockActionsPayload(t *testing.T, actionID, value string) string {
	t.Helper()
	return mustJSON(t, map[string]any{
		"type": "block_actions", "trigger_id": "trig-block-1", "response_url": "", "api_app_id": "A0APP",
		"team": map[string]any{"id": "T0TEAM"}, "user": map[string]any{"id": "U0CLICK"},
		"channel":   map[string]any{"id": "C0CHAN"},
		"container": map[string]any{"type": "message", "message_ts": "1764062040.000001", "channel_id": "C0CHAN", "thread_ts": "1764061000.000001"},
		"message":   map[string]any{"type": "message", "ts": "1764062040.000001", "thread_ts": "1764061000.000001", "text": "DIAGNOSED"},
		"actions": []map[string]any{{
			"type": "button", "action_id": actionID, "block_id": blockActions, "value": value,
			"text": map[string]any{"type": "plain_text", "text": "x"}, "action_ts": "1764062041.000001",
		}},
	})
}

func TestShortcut(t *testing.T) {
	h := newHarness(t)
	rec := h.interact(mustJSON(t, map[string]any{
		"type": "message_action", "callback_id": "pubdoc_diagnose", "trigger_id": "trig-shortcut-1",
		"response_url": "https://hooks.slack.com/app/T0TEAM/2/def",
		"team":         map[string]any{"id": "T0TEAM"}, "user": map[string]any{"id": "U0ALICE"}, "channel": map[string]any{"id": "C0CHAN"},
		"message_ts": "1764062000.000100",
		"message": map[string]any{"type": "message", "user": "U0BOB", "ts": "1764062000.000100", "thread_ts": "1764061000.000001",
			"text": "npm error code E404", "files": []any{logFile}},
	}))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
	_, accepted := h.backend.snapshot()
	want := bot.Request{Kind: "shortcut", DeliveryID: "shortcut:trig-shortcut-1", TeamID: "T0TEAM", Channel: "C0CHAN", User: "U0ALICE",
		ThreadTS: "1764061000.000001", Text: "npm error code E404", ResponseURL: "https://hooks.slack.com/app/T0TEAM/2/def",
		Files: []bot.File{{ID: "F0LOG", Name: "publish.log", Mimetype: "text/plain", Size: 1234, URL: "https://files.slack.com/files-pri/T0TEAM-F0LOG/download/publish.log"}}}
	if len(accepted) != 1 || !reflect.DeepEqual(accepted[0], want) {
		t.Fatalf("accepted\n%+v\nwant\n%+v", accepted, want)
	}
}

func TestFixedButton(t *testing.T) {
	h := newHarness(t)
	rec := h.interact(blockActionsPayload(t, "pubdoc_fixed", "77"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if want := []bot.Feedback{{DiagnosisID: 77, User: "U0CLICK", Kind: "fixed"}}; !reflect.DeepEqual(h.backend.feedback, want) {
		t.Fatalf("feedback %+v", h.backend.feedback)
	}
	eph := h.slack.one("chat.postEphemeral")
	if eph.Params.Get("channel") != "C0CHAN" || eph.Params.Get("user") != "U0CLICK" || eph.Params.Get("thread_ts") != "1764061000.000001" {
		t.Fatalf("postEphemeral params %v", eph.Params)
	}
	if !strings.Contains(eph.Params.Get("text"), "Thanks! Noted that the fix worked.") {
		t.Fatalf("ephemeral text %q", eph.Params.Get("text"))
	}
}

func TestWrongButtonOpensTheModal(t *testing.T) {
	h := newHarness(t)
	rec := h.interact(blockActionsPayload(t, "pubdoc_wrong", "77"))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	open := h.slack.one("views.open")
	if open.Params.Get("trigger_id") != "trig-block-1" {
		t.Fatalf("trigger_id %q", open.Params.Get("trigger_id"))
	}
	if got := open.Header.Get("Authorization"); got != "Bearer "+testBotToken {
		t.Fatalf("views.open without the bot token")
	}
	var view struct {
		Type            string `json:"type"`
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Blocks          []struct {
			Type     string `json:"type"`
			BlockID  string `json:"block_id"`
			Optional bool   `json:"optional"`
			Element  struct {
				Type           string `json:"type"`
				ActionID       string `json:"action_id"`
				MinQueryLength *int   `json:"min_query_length"`
				Multiline      bool   `json:"multiline"`
				Placeholder    struct {
					Text string `json:"text"`
				} `json:"placeholder"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal([]byte(open.Params.Get("view")), &view); err != nil {
		t.Fatalf("view: %v: %s", err, open.Params.Get("view"))
	}
	if view.Type != "modal" || view.CallbackID != "pubdoc_feedback" || view.PrivateMetadata != "77" {
		t.Fatalf("view %+v", view)
	}
	var rule, note bool
	for _, b := range view.Blocks {
		if b.Type != "input" {
			continue
		}
		switch b.Element.ActionID {
		case "rule":
			rule = b.Element.Type == "external_select" && b.Element.MinQueryLength != nil && *b.Element.MinQueryLength == 0 &&
				b.Element.Placeholder.Text == "Search the rules" && !b.Optional
		case "note":
			note = b.Element.Type == "plain_text_input" && b.Element.Multiline && b.Optional
		}
	}
	if !rule || !note {
		t.Fatalf("modal lacks the rule picker (%v) or the note (%v): %s", rule, note, open.Params.Get("view"))
	}
}

func TestWrongButtonWhenViewsOpenFails(t *testing.T) {
	h := newHarness(t)
	h.slack.program("views.open", answer{body: `{"ok":false,"error":"expired_trigger_id"}`})
	if rec := h.interact(blockActionsPayload(t, "pubdoc_wrong", "77")); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if eph := h.slack.one("chat.postEphemeral"); !strings.Contains(eph.Params.Get("text"), "could not open the form") {
		t.Fatalf("ephemeral %q", eph.Params.Get("text"))
	}
}

func TestAckButton(t *testing.T) {
	h := newHarness(t)
	if rec := h.interact(blockActionsPayload(t, "pubdoc_ack", "12")); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	if !reflect.DeepEqual(h.backend.acks, []string{"12/U0CLICK"}) {
		t.Fatalf("acks %v", h.backend.acks)
	}
	if len(h.slack.Calls()) != 0 {
		t.Fatalf("Slack called: %v", h.slack.methods())
	}
}

func TestBlockSuggestion(t *testing.T) {
	h := newHarness(t)
	h.backend.rules = []bot.RuleOption{
		{ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing"},
		{ID: "oidc-trusted-publisher-workflow-mismatch", Title: "The trusted publisher names another workflow file than the one that ran"},
	}
	rec := h.interact(mustJSON(t, map[string]any{
		"type": "block_suggestion", "action_id": "rule", "block_id": "rule", "value": "oidc",
		"team": map[string]any{"id": "T0TEAM"}, "user": map[string]any{"id": "U0ALICE"},
		"view": map[string]any{"id": "V0MODAL", "callback_id": "pubdoc_feedback", "private_metadata": "77"},
	}))
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var got struct {
		Options []struct {
			Text  struct{ Type, Text string }
			Value string
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, rec.Body)
	}
	want := []struct{ text, value string }{
		{"oidc-npm-too-old — npm is too old for trusted publishing", "oidc-npm-too-old"},
		{"oidc-trusted-publisher-workflow-mismatch — The trusted publisher names ano…", "oidc-trusted-publisher-workflow-mismatch"},
		{"Something else", "other"},
	}
	if len(got.Options) != len(want) {
		t.Fatalf("options %s", rec.Body)
	}
	for i, w := range want {
		o := got.Options[i]
		if o.Text.Type != "plain_text" || o.Text.Text != w.text || o.Value != w.value || len([]rune(o.Text.Text)) > 75 {
			t.Errorf("option %d = %+v, want %q %q", i, o, w.text, w.value)
		}
	}
	if !reflect.DeepEqual(h.backend.searches, []string{"oidc/20"}) {
		t.Fatalf("searches %v", h.backend.searches)
	}
}

func viewSubmission(t *testing.T, rule, note string) string {
	t.Helper()
	values := map[string]any{
		"rule": map[string]any{"rule": map[string]any{"type": "external_select", "selected_option": map[string]any{
			"text": map[string]any{"type": "plain_text", "text": rule}, "value": rule}}},
		"note": map[string]any{"note": map[string]any{"type": "plain_text_input", "value": note}},
	}
	return mustJSON(t, map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T0TEAM"}, "user": map[string]any{"id": "U0ALICE"},
		"trigger_id": "trig-view-1",
		"view": map[string]any{"id": "V0MODAL", "type": "modal", "callback_id": "pubdoc_feedback", "private_metadata": "77",
			"state": map[string]any{"values": values}},
	})
}

func TestViewSubmission(t *testing.T) {
	h := newHarness(t)
	rec := h.interact(viewSubmission(t, "oidc-missing-id-token", " permissions block was on the wrong job "))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("status %d body %q", rec.Code, rec.Body)
	}
	want := []bot.Feedback{{DiagnosisID: 77, User: "U0ALICE", Kind: "wrong", RuleID: "oidc-missing-id-token", Note: "permissions block was on the wrong job"}}
	if !reflect.DeepEqual(h.backend.feedback, want) {
		t.Fatalf("feedback\n%+v\nwant\n%+v", h.backend.feedback, want)
	}
}

func TestViewSubmissionFailureShowsAnError(t *testing.T) {
	h := newHarness(t)
	h.backend.feedErr = errors.New("db down")
	rec := h.interact(viewSubmission(t, "other", ""))
	var got viewErrors
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.ResponseAction != "errors" || got.Errors["rule"] == "" {
		t.Fatalf("body %s", rec.Body)
	}
}

func TestUnknownInteraction(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{
		`{"type":"view_closed","view":{"callback_id":"pubdoc_feedback"}}`,
		`{"type":"shortcut","callback_id":"something_else","trigger_id":"x"}`,
		`{"type":"message_action","callback_id":"another_app_action","trigger_id":"x"}`,
	} {
		if rec := h.interact(p); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
			t.Fatalf("%s: status %d body %q", p, rec.Code, rec.Body)
		}
	}
	if calls, _ := h.backend.snapshot(); len(calls) != 0 || len(h.slack.Calls()) != 0 {
		t.Fatalf("something was called")
	}
	if rec := h.do("/slack/interactivity", "application/x-www-form-urlencoded", "nopayload=1", nil); rec.Code != http.StatusBadRequest {
		t.Fatalf("no payload: status %d", rec.Code)
	}
}

func httptestGet(h *harness, path string) int {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	return rec.Code
}
