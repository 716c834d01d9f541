package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/internal/schematest"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// call makes one request and returns its status and body.
func httpCall(t *testing.T, method, u, auth string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func envelopeCode(t *testing.T, what string, body []byte) string {
	t.Helper()
	schematest.Validate(t, schematest.ErrorFile, what, body)
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Error.Code
}

// The API is a door that locks: off without PUBDOC_API_TOKEN, 401 without the token, and
// with PUBDOC_ADMIN_ADDR it and /metrics move to the admin listener.
func TestServeAPIDoor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	log := readExample(t, "old-npm.log")
	slack := newFakeSlack(t)

	off := startServe(t, slackEnv(t.TempDir(), slack)...)
	code, body := httpCall(t, http.MethodPost, off.url+"/api/diagnose", "Bearer "+testAPIToken, strings.NewReader(log))
	if code != http.StatusNotFound || envelopeCode(t, "off", body) != "disabled" || !strings.Contains(string(body), "PUBDOC_API_TOKEN") {
		t.Errorf("no PUBDOC_API_TOKEN: %d %s, want 404 disabled naming PUBDOC_API_TOKEN", code, body)
	}
	if code, _ := httpCall(t, http.MethodGet, off.url+"/metrics", "", nil); code != http.StatusOK {
		t.Errorf("without an admin listener /metrics is on the public one: %d", code)
	}

	// The token from a file, and an admin listener.
	tokenFile := filepath.Join(t.TempDir(), "api-token")
	if err := os.WriteFile(tokenFile, []byte(testAPIToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	adminAddr := freeAddr(t)
	admin := "http://" + adminAddr
	s := startServe(t, append(slackEnv(t.TempDir(), slack), "PUBDOC_API_TOKEN_FILE="+tokenFile, "PUBDOC_ADMIN_ADDR="+adminAddr)...)
	for _, path := range []string{"/metrics", "/api/diagnose"} {
		if code, _ := httpCall(t, http.MethodGet, s.url+path, "", nil); code != http.StatusNotFound {
			t.Errorf("public GET %s with an admin listener: %d, want 404", path, code)
		}
	}
	if code, _ := httpCall(t, http.MethodPost, s.url+"/api/diagnose", "Bearer "+testAPIToken, strings.NewReader(log)); code != http.StatusNotFound {
		t.Errorf("public POST /api/diagnose with an admin listener: %d, want 404", code)
	}
	if code, body := httpCall(t, http.MethodGet, admin+"/metrics", "", nil); code != http.StatusOK || !strings.Contains(string(body), "pubdoc_events_rejected_total") {
		t.Errorf("admin /metrics: %d", code)
	}
	if code, _ := httpCall(t, http.MethodGet, admin+"/readyz", "", nil); code != http.StatusOK {
		t.Errorf("admin /readyz: %d", code)
	}
	code, body = httpCall(t, http.MethodPost, admin+"/api/diagnose", "", strings.NewReader(log))
	if code != http.StatusUnauthorized || envelopeCode(t, "no token", body) != "unauthorized" {
		t.Errorf("admin API without the token: %d %s, want 401", code, body)
	}
	code, body = httpCall(t, http.MethodPost, admin+"/api/diagnose", "Bearer not-"+testAPIToken, strings.NewReader(log))
	if code != http.StatusUnauthorized || envelopeCode(t, "wrong token", body) != "unauthorized" {
		t.Errorf("admin API with a wrong token: %d %s, want 401", code, body)
	}
	code, body = httpCall(t, http.MethodPost, admin+"/api/diagnose", "Bearer "+testAPIToken, strings.NewReader(log))
	if code != http.StatusOK || !strings.Contains(string(body), `"oidc-npm-too-old"`) {
		t.Errorf("admin API with the token: %d %s, want 200 and the diagnosis", code, body)
	}
	schematest.Validate(t, schematest.DiagnosisFile, "with the token", body)
	if m := get(t, admin+"/metrics"); !strings.Contains(m, `pubdoc_events_rejected_total{reason="unauthorized",source="api"} 2`) {
		t.Error("the two refused API requests are not counted as pubdoc_events_rejected_total{source=\"api\",reason=\"unauthorized\"}")
	}
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"API request refused"`) && !strings.Contains(line, `"level":"INFO"`) {
			t.Errorf("a refused API request logged above INFO: %s", line)
		}
	}
}

// plantedSecrets are internal/secret's samples of the twelve kinds the redactor knows:
// name → the value that must never be stored, and the log line that carries it.
func plantedSecrets() map[string][2]string {
	out := map[string][2]string{}
	for kind, s := range secret.Samples() {
		out[kind] = [2]string{s.Value, s.Line}
	}
	return out
}

func secretsLog(t *testing.T, canary string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(readExample(t, "old-npm.log"))
	fmt.Fprintf(&b, "\nnpm notice %s\n", canary)
	for _, s := range plantedSecrets() {
		b.WriteString(s[1] + "\n")
	}
	return b.String()
}

// leaks names the planted secrets found in text.
func leaks(text string) []string {
	var out []string
	for name, s := range plantedSecrets() {
		if strings.Contains(text, s[0]) {
			out = append(out, name)
		}
	}
	return out
}

// plantEverywhere asks s about a log full of secrets in every way there is — a mention,
// a DM, /pubdoc, a file shared in a DM (text, content), a file shared in a channel, a
// webhook whose job log and branch carry them, the API — waits for the replies, checks
// Slack's calls and the API's answer, and stops the server gracefully. It returns the
// canaries: text without secrets that the store keeps, to prove a search sees it.
func plantEverywhere(t *testing.T, s *server, slack *fakeSlack) []string {
	t.Helper()
	secrets := plantedSecrets()
	var canaries []string
	canary := func(way string) string {
		c := "canary-" + way + "-7d2e"
		canaries = append(canaries, c)
		return c
	}
	event := func(id string, inner map[string]any) string {
		b, _ := json.Marshal(map[string]any{"token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": id,
			"event_time": time.Now().Unix(), "authorizations": []map[string]any{{"user_id": "UPUBDOC", "is_bot": true}}, "event": inner})
		return string(b)
	}
	ask := func(what, path, ctype, body string) {
		t.Helper()
		if code, resp, _ := s.slack(t, path, ctype, body, nil); code != http.StatusOK {
			t.Fatalf("%s: %d %s", what, code, resp)
		}
	}
	posts0 := len(slack.posts())
	ask("mention", "/slack/events", "application/json", mentionEvent(t, "EvSecretMention", "1764000100.000100", secretsLog(t, canary("mention"))))
	ask("DM", "/slack/events", "application/json", event("EvSecretDM", map[string]any{"type": "message", "channel_type": "im", "channel": "D0DM",
		"user": "U123", "text": secretsLog(t, canary("dm")), "ts": "1764000100.000200", "event_ts": "1764000100.000200"}))
	form := url.Values{"command": {"/pubdoc"}, "text": {secretsLog(t, canary("command"))}, "channel_id": {"C0ASK"}, "user_id": {"U123"}, "team_id": {"T1"},
		"trigger_id": {"13345224609.738474920.secretcommand"}, "response_url": {slack.srv.URL + "/response/2"}}
	ask("/pubdoc", "/slack/commands", "application/x-www-form-urlencoded", form.Encode())
	slack.mu.Lock()
	slack.files["F1/build.log"] = secretsLog(t, "dm-file-content")
	slack.files["F2/release.log"] = secretsLog(t, "channel-file-content")
	slack.mu.Unlock()
	file := func(id, name string) map[string]any {
		return map[string]any{"id": id, "name": name, "mimetype": "text/plain", "size": 1000,
			"url_private_download": slack.srv.URL + "/files/" + id + "/" + name}
	}
	ask("DM file", "/slack/events", "application/json", event("EvSecretDMFile", map[string]any{"type": "message", "subtype": "file_share", "channel_type": "im",
		"channel": "D0DM", "user": "U123", "text": "why " + canary("dm-file-text") + " " + secrets["ghp"][0], "ts": "1764000100.000300", "event_ts": "1764000100.000300",
		"files": []any{file("F1", "build.log")}}))
	ask("channel file", "/slack/events", "application/json", event("EvSecretChannelFile", map[string]any{"type": "message", "subtype": "file_share", "channel_type": "channel",
		"channel": "C0ASK", "user": "U123", "text": canary("channel-file-text") + " " + secrets["jwt"][0], "ts": "1764000100.000400", "event_ts": "1764000100.000400",
		"files": []any{file("F2", "release.log")}}))

	// A webhook whose branch carries a secret; the fake GitHub's job log carries them all.
	var payload map[string]any
	_ = json.Unmarshal(runPayload(7001, "failure"), &payload)
	payload["workflow_run"].(map[string]any)["head_branch"] = canary("webhook-branch") + "-" + secrets["pat"][0]
	body, _ := json.Marshal(payload)
	if code, _ := s.webhook(t, "secret-delivery-1", body, testWebhookSecret); code/100 != 2 {
		t.Fatalf("webhook: %d", code)
	}

	// The API: its answer carries none of them.
	code, answer := httpCall(t, http.MethodPost, s.url+"/api/diagnose", "Bearer "+testAPIToken, strings.NewReader(secretsLog(t, "api")))
	if code != http.StatusOK {
		t.Fatalf("API: %d %s", code, answer)
	}
	if l := leaks(string(answer)); len(l) > 0 {
		t.Errorf("the API's answer shows the planted secrets %v", l)
	}

	// Replies to the mention, the DM, the command, both files and the webhook.
	waitFor(t, 30*time.Second, "six replies", func() bool { return len(slack.posts())-posts0 >= 6 })
	time.Sleep(500 * time.Millisecond)
	slack.mu.Lock()
	var calls strings.Builder
	for _, c := range slack.calls {
		calls.WriteString(c.Params.Encode())
	}
	slack.mu.Unlock()
	if l := leaks(calls.String()); len(l) > 0 {
		t.Errorf("Slack was sent the planted secrets %v", l)
	}

	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			t.Fatalf("pubdoc serve after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pubdoc serve did not stop within 30s of SIGTERM")
	}
	if l := leaks(s.logs.String()); len(l) > 0 {
		t.Errorf("pubdoc serve's log shows the planted secrets %v", l)
	}
	return canaries
}

// checkStored fails the test for every planted secret in stored, and for every canary
// missing from it (then the search would not have seen a secret either).
func checkStored(t *testing.T, where, stored string, canaries []string) {
	t.Helper()
	if l := leaks(stored); len(l) > 0 {
		t.Errorf("%s: found the planted secrets %v", where, l)
	}
	for _, c := range canaries {
		if !strings.Contains(stored, c) {
			t.Errorf("%s lacks the canary %s: the search does not see what was stored", where, c)
		}
	}
}

// Twelve kinds of secret planted through every way of asking are in none of the data
// directory's files (the SQLite database and its WAL) after a graceful stop.
func TestServeStoresNoSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary")
	}
	slack := newFakeSlack(t)
	gh := fakeRunsAPI(t, e2eWorkflow, secretsLog(t, "webhook-log"))
	dataDir := t.TempDir()
	s := startServe(t, append(webhookEnv(t, slack, gh, dataDir), "PUBDOC_API_TOKEN="+testAPIToken)...)
	canaries := plantEverywhere(t, s, slack)
	var stored bytes.Buffer
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, fmt.Sprintf("%s (%d bytes)", e.Name(), len(b)))
		stored.Write(b)
	}
	t.Logf("data directory: %s", strings.Join(names, ", "))
	checkStored(t, "the data directory", stored.String(), canaries)
}

// The same on PostgreSQL: a dump of every table holds none of them.
func TestServeStoresNoSecretOnPostgres(t *testing.T) {
	dbURL := postgresURL(t)
	db := createDatabase(t, dbURL)
	slack := newFakeSlack(t)
	gh := fakeRunsAPI(t, e2eWorkflow, secretsLog(t, "webhook-log"))
	s := startServe(t, append(webhookEnv(t, slack, gh, t.TempDir()), "PUBDOC_API_TOKEN="+testAPIToken, "PUBDOC_DATABASE_URL="+db)...)
	canaries := plantEverywhere(t, s, slack)
	dump, err := exec.Command("pg_dump", "--data-only", "--no-owner", db).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	checkStored(t, "the PostgreSQL tables", string(dump), canaries)
}

// PUBDOC_API_TOKEN is a secret like the others (also from a file, never both), and the
// admin listener cannot be the public one.
func TestServeConfigAPIAndAdmin(t *testing.T) {
	files := map[string]string{"/run/secrets/api": "tok-from-file\n"}
	readFile := func(p string) ([]byte, error) {
		if c, ok := files[p]; ok {
			return []byte(c), nil
		}
		return nil, os.ErrNotExist
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	cfg, err := serveConfigFromEnv(env(), readFile)
	if err != nil || cfg.apiToken != "" || cfg.adminAddr != "" {
		t.Errorf("defaults: %+v, %v; want no token (the API off) and no admin listener", cfg, err)
	}
	cfg, err = serveConfigFromEnv(env("PUBDOC_API_TOKEN_FILE", "/run/secrets/api", "PUBDOC_ADMIN_ADDR", "127.0.0.1:9090"), readFile)
	if err != nil || string(cfg.apiToken) != "tok-from-file" || cfg.adminAddr != "127.0.0.1:9090" {
		t.Errorf("token file and admin address: %v, %v", cfg.adminAddr, err)
	}
	if s := fmt.Sprintf("%v %s %q", cfg.apiToken, cfg.apiToken, cfg.apiToken); strings.Contains(s, "tok-from-file") {
		t.Errorf("the API token prints: %s", s)
	}
	if _, err := serveConfigFromEnv(env("PUBDOC_API_TOKEN", "a", "PUBDOC_API_TOKEN_FILE", "/run/secrets/api"), readFile); err == nil {
		t.Error("PUBDOC_API_TOKEN and PUBDOC_API_TOKEN_FILE both set: no error")
	}
	if _, err := serveConfigFromEnv(env("PUBDOC_ADDR", ":8080", "PUBDOC_ADMIN_ADDR", ":8080"), readFile); err == nil {
		t.Error("PUBDOC_ADMIN_ADDR equal to PUBDOC_ADDR: no error")
	}
}
