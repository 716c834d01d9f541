package slackbot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pubdoc/pubdoc/bot"
)

// fakeSocket is Slack's Socket Mode WebSocket: it says hello, sends the envelopes it was
// given, and passes on the acknowledgements it reads.
func fakeSocket(t *testing.T, envelopes []map[string]any) (wsURL string, acks <-chan map[string]any) {
	t.Helper()
	out := make(chan map[string]any, 16)
	// slack-go sends Origin: https://api.slack.com, which is not this host.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0APP"}})
		for _, e := range envelopes {
			if err := conn.WriteJSON(e); err != nil {
				return
			}
		}
		for {
			var ack map[string]any
			if err := conn.ReadJSON(&ack); err != nil {
				return
			}
			out <- ack
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/link/?ticket=abc", out
}

func TestSocketMode(t *testing.T) {
	h := newHarness(t)
	h.backend.rules = []bot.RuleOption{{ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing"}}
	var event map[string]any
	if err := json.Unmarshal([]byte(callback(t, "Ev0SOCKET", map[string]any{
		"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> npm error code E404", "ts": "1764062000.000100", "channel": "C0CHAN",
	})), &event); err != nil {
		t.Fatal(err)
	}
	wsURL, acks := fakeSocket(t, []map[string]any{
		{"type": "events_api", "envelope_id": "env-event", "payload": event, "accepts_response_payload": false, "retry_attempt": 0},
		{"type": "slash_commands", "envelope_id": "env-command", "accepts_response_payload": true, "payload": map[string]any{
			"team_id": "T0TEAM", "channel_id": "C0CHAN", "user_id": "U0ALICE", "command": "/pubdoc",
			"text": "npm error code E404", "trigger_id": "trig-sm-1", "response_url": "https://hooks.slack.com/commands/x",
		}},
		{"type": "interactive", "envelope_id": "env-suggest", "accepts_response_payload": true, "payload": map[string]any{
			"type": "block_suggestion", "action_id": "rule", "block_id": "rule", "value": "npm",
			"user": map[string]any{"id": "U0ALICE"}, "view": map[string]any{"callback_id": "pubdoc_feedback"},
		}},
	})
	h.slack.wsURL = wsURL

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.c.RunSocketMode(ctx, h.backend) }()

	got := map[string]map[string]any{}
	timeout := time.After(10 * time.Second)
	for len(got) < 3 {
		select {
		case a := <-acks:
			id, _ := a["envelope_id"].(string)
			got[id] = a
		case <-timeout:
			t.Fatalf("acknowledged %d of 3 envelopes; calls %v; logs:\n%s", len(got), h.slack.methods(), h.logs)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunSocketMode: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunSocketMode did not return after its context ended")
	}

	if _, ok := got["env-event"]["payload"]; ok {
		t.Errorf("event ack carries a payload: %v", got["env-event"])
	}
	if p, _ := got["env-command"]["payload"].(map[string]any); p["text"] != "Diagnosing…" || p["response_type"] != "ephemeral" {
		t.Errorf("command ack %v", got["env-command"])
	}
	opts, _ := got["env-suggest"]["payload"].(map[string]any)["options"].([]any)
	if len(opts) != 2 || opts[0].(map[string]any)["value"] != "oidc-npm-too-old" || opts[1].(map[string]any)["value"] != "other" {
		t.Errorf("suggestion ack %v", got["env-suggest"])
	}

	_, accepted := h.backend.snapshot()
	if len(accepted) != 2 {
		t.Fatalf("accepted %+v", accepted)
	}
	byKind := map[string]bot.Request{}
	for _, r := range accepted {
		byKind[r.Kind] = r
	}
	if m := byKind["mention"]; m.DeliveryID != "Ev0SOCKET" || m.Text != "npm error code E404" || m.ThreadTS != "1764062000.000100" {
		t.Errorf("mention %+v", m)
	}
	if c := byKind["command"]; c.DeliveryID != "command:trig-sm-1" || c.Channel != "C0CHAN" {
		t.Errorf("command %+v", c)
	}
	open := h.slack.one("apps.connections.open")
	if open.Header.Get("Authorization") != "Bearer "+testAppToken {
		t.Errorf("apps.connections.open was not sent the app token")
	}
}

func TestSocketModeLeavesAFailedEventUnacknowledged(t *testing.T) {
	h := newHarness(t)
	h.backend.acceptErr = context.DeadlineExceeded
	var event map[string]any
	_ = json.Unmarshal([]byte(callback(t, "Ev0NOACK", map[string]any{
		"type": "app_mention", "user": "U0ALICE", "text": "<@U0BOT> x", "ts": "1.1", "channel": "C0CHAN",
	})), &event)
	wsURL, acks := fakeSocket(t, []map[string]any{
		{"type": "events_api", "envelope_id": "env-fail", "payload": event},
		{"type": "slash_commands", "envelope_id": "env-help", "payload": map[string]any{"text": "help", "trigger_id": "t", "channel_id": "C0CHAN", "user_id": "U0ALICE"}},
	})
	h.slack.wsURL = wsURL
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.c.RunSocketMode(ctx, h.backend) }()
	select {
	case a := <-acks:
		if a["envelope_id"] != "env-help" {
			t.Fatalf("acknowledged %v, want only env-help", a)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no acknowledgement")
	}
	select {
	case a := <-acks:
		t.Fatalf("acknowledged %v", a)
	case <-time.After(300 * time.Millisecond):
	}
	cancel()
	<-done
	if calls, _ := h.backend.snapshot(); len(calls) != 1 {
		t.Fatalf("Accept called %d times", len(calls))
	}
}

// droppableSocket is a Socket Mode WebSocket that says hello and holds the connection
// until drop is called, which closes the current one.
func droppableSocket(t *testing.T) (wsURL string, drop func()) {
	t.Helper()
	conns := make(chan *websocket.Conn, 4)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		_ = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
		conns <- conn
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/link/?ticket=abc", func() {
		select {
		case c := <-conns:
			_ = c.Close()
		case <-time.After(5 * time.Second):
			t.Error("no connection to drop")
		}
	}
}

// waitReady waits until SocketModeReady agrees with want: nil, or an error containing it.
func waitReady(t *testing.T, h *harness, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := h.c.SocketModeReady()
		if want == "" && err == nil || want != "" && err != nil && strings.Contains(err.Error(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SocketModeReady = %v, want %q; logs:\n%s", err, want, h.logs)
		}
		time.Sleep(time.Millisecond)
	}
}

// A refused app token or a dropped connection is retried with a backoff, and
// SocketModeReady fails while the connection is down and passes once it is back.
func TestSocketModeReconnects(t *testing.T) {
	h := newHarness(t)
	h.c.socketRetryMin = 100 * time.Millisecond
	wsURL, drop := droppableSocket(t)
	h.slack.wsURL = wsURL
	h.slack.program("apps.connections.open", answer{body: `{"ok":false,"error":"invalid_auth"}`})
	if err := h.c.SocketModeReady(); err == nil || !strings.Contains(err.Error(), "no Socket Mode connection yet") {
		t.Fatalf("before the start: SocketModeReady = %v", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.c.RunSocketMode(ctx, h.backend) }()

	waitReady(t, h, "invalid_auth")
	if err := h.c.SocketModeReady(); err == nil || !strings.Contains(err.Error(), "SLACK_APP_TOKEN") {
		t.Errorf("the refusal does not name SLACK_APP_TOKEN: %v", err)
	}
	waitReady(t, h, "") // the second apps.connections.open is answered

	// The connection drops and Slack refuses the next one once: down, then up again.
	h.slack.program("apps.connections.open", answer{body: `{"ok":false,"error":"invalid_auth"}`})
	drop()
	waitReady(t, h, "invalid_auth")
	waitReady(t, h, "")

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("RunSocketMode: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunSocketMode did not return after its context ended")
	}
	if err := h.c.SocketModeReady(); err == nil {
		t.Error("SocketModeReady is nil after RunSocketMode returned")
	}
	if n := len(h.slack.only("apps.connections.open")); n != 4 {
		t.Errorf("apps.connections.open called %d times, want 4 (refused, connected, refused, connected)", n)
	}
	// Each refusal is logged once, with its reason.
	if n := strings.Count(h.logs.String(), `msg="Socket Mode is down; reconnecting"`); n != 2 {
		t.Errorf("%d 'down' log lines for two refusals, want 2:\n%s", n, h.logs)
	}
	if n := strings.Count(h.logs.String(), `msg="Socket Mode connected"`); n != 2 {
		t.Errorf("%d 'connected' log lines, want 2:\n%s", n, h.logs)
	}
}

func TestSocketModeInvalidAppToken(t *testing.T) {
	h := newHarness(t)
	h.c.socketRetryMin = time.Hour // one attempt within the test
	h.slack.program("apps.connections.open", answer{body: `{"ok":false,"error":"invalid_auth"}`})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.c.RunSocketMode(ctx, h.backend) }()
	waitReady(t, h, "invalid_auth")
	err := h.c.SocketModeReady()
	if pe, ok := errorAs[bot.PermanentError](err); !ok || !pe.Permanent() {
		t.Errorf("err %v does not wrap a permanent Slack error", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunSocketMode: %v, want nil once its context ended", err)
	}
	if err := h.c.SocketModeReady(); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("after the stop: SocketModeReady = %v, want stopped", err)
	}
}
