package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// socketSlack is a fake Slack for Socket Mode: auth.test answers as authOK says,
// apps.connections.open refuses (invalid_auth) until allow is set and then hands out
// its WebSocket, which says hello and holds the connection until drop.
type socketSlack struct {
	srv *httptest.Server

	mu      sync.Mutex
	authOK  bool
	allow   bool
	opens   int // apps.connections.open calls
	refused int // … answered invalid_auth
	conns   []*websocket.Conn
}

func newSocketSlack(t *testing.T, authOK bool) *socketSlack {
	t.Helper()
	f := &socketSlack{authOK: authOK}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/link/" {
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			_ = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
			f.mu.Lock()
			f.conns = append(f.conns, conn)
			f.mu.Unlock()
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					return
				}
			}
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		f.mu.Lock()
		defer f.mu.Unlock()
		switch strings.TrimPrefix(r.URL.Path, "/api/") {
		case "auth.test":
			if !f.authOK {
				fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
				return
			}
			fmt.Fprint(w, `{"ok":true,"team":"Acme","user_id":"UPUBDOC","bot_id":"BPUBDOC","team_id":"T1"}`)
		case "apps.connections.open":
			f.opens++
			if !f.allow {
				f.refused++
				fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
				return
			}
			fmt.Fprintf(w, `{"ok":true,"url":%q}`, "ws"+strings.TrimPrefix(f.srv.URL, "http")+"/link/?ticket=t")
		default:
			fmt.Fprint(w, `{"ok":true}`)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *socketSlack) setAllow(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allow = v
}

// drop closes the open WebSocket connections, as a network failure would.
func (f *socketSlack) drop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.Close()
	}
	f.conns = nil
}

func (f *socketSlack) counts() (opens, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens, f.refused
}

// readyz is /readyz's status and body; 0 while nothing answers.
func (s *server) readyz() (int, string) {
	resp, err := http.Get(s.url + "/readyz")
	if err != nil {
		return 0, ""
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A wrong SLACK_APP_TOKEN: Socket Mode retries with a backoff, /readyz fails while it is
// refused or its connection is down, and passes again once it is connected.
func TestServeSocketModeReadiness(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newSocketSlack(t, true)
	start := time.Now()
	s := launchServe(t, "SLACK_BOT_TOKEN="+testBotToken, "SLACK_APP_TOKEN=xapp-1-A1-1-e2e",
		"PUBDOC_SLACK_API_URL="+slack.srv.URL+"/api/", "PUBDOC_DATA_DIR="+t.TempDir())

	var body string
	waitFor(t, 10*time.Second, "/readyz to fail on the refused app token", func() bool {
		var code int
		code, body = s.readyz()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "invalid_auth")
	})
	t.Logf("/readyz failed %s after the start: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(body))
	if !strings.Contains(body, "SLACK_APP_TOKEN") {
		t.Errorf("/readyz does not name SLACK_APP_TOKEN: %s", body)
	}
	waitFor(t, 10*time.Second, "Socket Mode to retry", func() bool { _, refused := slack.counts(); return refused >= 2 })
	if code, _ := s.readyz(); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d while the token is refused, want 503", code)
	}

	slack.setAllow(true) // the token is mended (or Slack's outage is over)
	waitFor(t, 15*time.Second, "/readyz to pass once connected", func() bool { code, _ := s.readyz(); return code == http.StatusOK })

	// The connection drops and the next attempt is refused: down, then back up.
	slack.setAllow(false)
	_, refusedBefore := slack.counts()
	slack.drop()
	waitFor(t, 10*time.Second, "/readyz to fail after the drop", func() bool {
		code, _ := s.readyz()
		_, refused := slack.counts()
		return code == http.StatusServiceUnavailable && refused > refusedBefore
	})
	slack.setAllow(true)
	waitFor(t, 15*time.Second, "/readyz to pass after reconnecting", func() bool { code, _ := s.readyz(); return code == http.StatusOK })

	// Each refusal is logged once, with its reason.
	_, refused := slack.counts()
	if n := strings.Count(s.logs.String(), `"msg":"Socket Mode is down; reconnecting"`); n != refused {
		t.Errorf("%d 'down' log lines for %d refusals", n, refused)
	}
	if n := strings.Count(s.logs.String(), `"msg":"Socket Mode connected"`); n != 2 {
		t.Errorf("%d 'connected' log lines, want 2", n)
	}
}

// A bot token Slack refuses stops the start with one line naming SLACK_BOT_TOKEN.
func TestServeRefusesAWrongBotToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newSocketSlack(t, false)
	cmd := exec.Command(pubdocBinary(t), "serve")
	cmd.Env = append(os.Environ(), "PUBDOC_ADDR="+freeAddr(t), "PUBDOC_LOG_LEVEL=info",
		"PUBDOC_NPM_REGISTRY_URL=http://127.0.0.1:1/", "SLACK_BOT_TOKEN="+testBotToken,
		"SLACK_SIGNING_SECRET="+testSigningSecret, "PUBDOC_SLACK_API_URL="+slack.srv.URL+"/api/",
		"PUBDOC_DATA_DIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("pubdoc serve did not stop on a refused bot token:\n%s", stderr.String())
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pubdoc: ") || !strings.Contains(lines[0], "SLACK_BOT_TOKEN") || !strings.Contains(lines[0], "invalid_auth") {
		t.Errorf("stderr, want one line naming SLACK_BOT_TOKEN and invalid_auth:\n%s", stderr.String())
	}
	if stdout.Len() != 0 || strings.Contains(stderr.String(), testBotToken) {
		t.Errorf("stdout %q; the token in stderr: %v", stdout.String(), strings.Contains(stderr.String(), testBotToken))
	}
}

// Forged signatures on /slack/events and /github/webhook: each refusal is counted in
// pubdoc_events_rejected_total{source,reason="bad_signature"} and logged once.
func TestServeCountsAndLogsRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	s := startServe(t, append(slackEnv(t.TempDir(), slack), "GITHUB_WEBHOOK_SECRET="+testWebhookSecret)...)

	body := mentionEvent(t, "EvForged", "1.1", "npm error")
	code, _, _ := s.slack(t, "/slack/events", "application/json", body, map[string]string{"X-Slack-Signature": "v0=" + strings.Repeat("ab", 32)})
	if code != http.StatusUnauthorized {
		t.Fatalf("forged Slack signature: %d, want 401", code)
	}
	if code, _ := s.webhook(t, "forged-1", runPayload(1, "failure"), "not-the-secret"); code != http.StatusUnauthorized {
		t.Fatalf("forged GitHub signature: %d, want 401", code)
	}
	metrics := get(t, s.url+"/metrics")
	for _, series := range []string{
		`pubdoc_events_rejected_total{reason="bad_signature",source="slack"} 1`,
		`pubdoc_events_rejected_total{reason="bad_signature",source="github"} 1`,
	} {
		if !strings.Contains(metrics, series+"\n") {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	logs := s.logs.String()
	for _, msg := range []string{`"msg":"refused a Slack request"`, `"msg":"refused a GitHub delivery"`} {
		var lines []string
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, msg) {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], `"code":"bad_signature"`) || !strings.Contains(lines[0], `"reason":`) {
			t.Errorf("want one line %s with its code and reason, got %q", msg, lines)
		}
	}
}
