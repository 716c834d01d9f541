package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// Credentials of the tests. They look like Slack's so that a leak would be noticed.
const (
	testBotToken      = "xoxb-1111111111-2222222222-testBotTokenValue"
	testSigningSecret = "8f742231b10e8888abcd99yyyzzz85a5"
	testAppToken      = "xapp-1-A0TEST-3333333333-testAppTokenValue"
)

// testNow is the clock of the signature checks.
var testNow = time.Date(2026, 11, 25, 9, 14, 0, 0, time.UTC)

// call is one request the fake Slack received.
type call struct {
	// Method is the Web API method ("chat.postMessage"), or "upload", "response_url",
	// "download" for the non-API URLs.
	Method string
	// Params are the form fields, or the top-level fields of a JSON body (as JSON text
	// for objects and arrays).
	Params url.Values
	Body   []byte
	Header http.Header
	Path   string
}

// answer is a programmed response of the fake.
type answer struct {
	status     int
	retryAfter string
	body       string
}

// fakeSlack is Slack's Web API, the upload and file hosts, and response URLs, on one
// loopback server. It records every call and answers like Slack.
type fakeSlack struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	calls    []call
	answers  map[string][]answer
	messages []map[string]any // conversations.history and .replies
	files    map[string][]byte
	seq      int
	// wsURL is what apps.connections.open answers.
	wsURL string
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, answers: map[string][]answer{}, files: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// apiURL is the API base URL, without the trailing slash (New must add it).
func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api" }

// program makes the next calls of method answer with a, in order.
func (f *fakeSlack) program(method string, a ...answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[method] = append(f.answers[method], a...)
}

func (f *fakeSlack) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c := call{Body: body, Header: r.Header.Clone(), Path: r.URL.Path, Params: url.Values{}}
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		c.Method = strings.TrimPrefix(r.URL.Path, "/api/")
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		c.Method = "upload"
	case strings.HasPrefix(r.URL.Path, "/response/"):
		c.Method = "response_url"
	case strings.HasPrefix(r.URL.Path, "/files/"):
		c.Method = "download"
	default:
		c.Method = "unknown:" + r.URL.Path
	}
	for k, v := range r.URL.Query() {
		c.Params[k] = v
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		form, _ := url.ParseQuery(string(body))
		for k, v := range form {
			c.Params[k] = v
		}
	case "application/json":
		var m map[string]json.RawMessage
		_ = json.Unmarshal(body, &m)
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) == nil {
				c.Params.Set(k, s)
			} else {
				c.Params.Set(k, string(v))
			}
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			if p.FileName() != "" {
				c.Params.Set("filename", p.FileName())
			}
			c.Params.Set(p.FormName(), string(b))
		}
	}

	f.mu.Lock()
	f.calls = append(f.calls, c)
	var a *answer
	if q := f.answers[c.Method]; len(q) > 0 {
		a = &q[0]
		f.answers[c.Method] = q[1:]
	}
	f.seq++
	seq := f.seq
	msgs := f.messages
	file, hasFile := f.files[r.URL.Path]
	wsURL := f.wsURL
	f.mu.Unlock()

	if a != nil {
		if a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(max(a.status, http.StatusOK))
		_, _ = io.WriteString(w, a.body)
		return
	}
	ts := fmt.Sprintf("1764062040.%06d", seq)
	switch c.Method {
	case "chat.postMessage", "chat.update":
		writeJSONAnswer(w, map[string]any{"ok": true, "channel": c.Params.Get("channel"), "ts": firstNonEmpty(c.Params.Get("ts"), ts)})
	case "chat.postEphemeral":
		writeJSONAnswer(w, map[string]any{"ok": true, "message_ts": ts})
	case "files.getUploadURLExternal":
		writeJSONAnswer(w, map[string]any{"ok": true, "upload_url": f.srv.URL + "/upload/F0REPORT", "file_id": "F0REPORT"})
	case "files.completeUploadExternal":
		writeJSONAnswer(w, map[string]any{"ok": true, "files": []map[string]string{{"id": "F0REPORT", "title": "report"}}})
	case "views.open":
		writeJSONAnswer(w, map[string]any{"ok": true, "view": map[string]any{"id": "V0MODAL"}})
	case "conversations.history", "conversations.replies":
		writeJSONAnswer(w, map[string]any{"ok": true, "messages": msgs, "has_more": false})
	case "apps.connections.open":
		writeJSONAnswer(w, map[string]any{"ok": true, "url": wsURL})
	case "upload":
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "OK - "+fmt.Sprint(len(body)))
	case "response_url":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
	case "download":
		if !hasFile {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(file)
	default:
		writeJSONAnswer(w, map[string]any{"ok": true})
	}
}

func writeJSONAnswer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// Calls returns the calls so far.
func (f *fakeSlack) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// methods lists the methods called, in order.
func (f *fakeSlack) methods() []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Method)
	}
	return out
}

// only returns the calls of method.
func (f *fakeSlack) only(method string) []call {
	var out []call
	for _, c := range f.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// one returns the single call of method, failing the test otherwise.
func (f *fakeSlack) one(method string) call {
	f.t.Helper()
	cs := f.only(method)
	if len(cs) != 1 {
		f.t.Fatalf("%s called %d times, want once; calls: %v", method, len(cs), f.methods())
	}
	return cs[0]
}

// fakeBackend records what the handlers asked of the bot and deduplicates Accept by
// DeliveryID, as the store does.
type fakeBackend struct {
	mu        sync.Mutex
	seen      map[string]bool
	calls     []bot.Request // every Accept call
	accepted  []bot.Request // the fresh ones
	acceptErr error
	feedback  []bot.Feedback
	feedErr   error
	acks      []string
	ackErr    error
	searches  []string
	rules     []bot.RuleOption
	statsErr  error
	rejected  []string // source/reason of each Rejected call
}

var (
	_ bot.Backend    = (*fakeBackend)(nil)
	_ refusalCounter = (*fakeBackend)(nil)
)

func (b *fakeBackend) Rejected(source, reason string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rejected = append(b.rejected, source+"/"+reason)
}

func (b *fakeBackend) rejections() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.rejected...)
}

func newFakeBackend() *fakeBackend { return &fakeBackend{seen: map[string]bool{}} }

func (b *fakeBackend) Accept(_ context.Context, req bot.Request) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, req)
	if b.acceptErr != nil {
		return false, b.acceptErr
	}
	if b.seen[req.DeliveryID] {
		return false, nil
	}
	b.seen[req.DeliveryID] = true
	b.accepted = append(b.accepted, req)
	return true, nil
}

func (b *fakeBackend) SearchRules(query string, limit int) []bot.RuleOption {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.searches = append(b.searches, fmt.Sprintf("%s/%d", query, limit))
	var out []bot.RuleOption
	for _, r := range b.rules {
		if query == "" || strings.Contains(r.ID+" "+strings.ToLower(r.Title), strings.ToLower(query)) {
			out = append(out, r)
		}
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

func (b *fakeBackend) Feedback(_ context.Context, f bot.Feedback) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.feedback = append(b.feedback, f)
	if b.feedErr != nil {
		return "", b.feedErr
	}
	return "Thanks! Noted that the fix worked.", nil
}

func (b *fakeBackend) Acknowledge(_ context.Context, threadID int64, user string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.acks = append(b.acks, fmt.Sprintf("%d/%s", threadID, user))
	return b.ackErr
}

func (b *fakeBackend) Stats(context.Context) (string, error) {
	if b.statsErr != nil {
		return "", b.statsErr
	}
	return "42 diagnoses this week; 3 open threads.", nil
}

func (b *fakeBackend) Help() string { return "Mention me with a failing publish log." }

func (b *fakeBackend) snapshot() (calls, accepted []bot.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]bot.Request(nil), b.calls...), append([]bot.Request(nil), b.accepted...)
}

// harness is a Client wired to a fake Slack and a fake Backend, with its logs in a buffer.
type harness struct {
	t       *testing.T
	c       *Client
	slack   *fakeSlack
	backend *fakeBackend
	mux     *http.ServeMux
	logs    *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	fs := newFakeSlack(t)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(Config{
		BotToken: testBotToken, SigningSecret: testSigningSecret, AppToken: testAppToken,
		APIURL: fs.apiURL(), HTTPClient: &http.Client{Timeout: 5 * time.Second},
	}, logger)
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return testNow }
	h := &harness{t: t, c: c, slack: fs, backend: newFakeBackend(), mux: http.NewServeMux(), logs: logs}
	c.Routes(h.mux, h.backend)
	return h
}

// sign returns Slack's v0 signature of body at ts.
func sign(secret string, ts int64, body string) string {
	mac := hmacSHA256(secret, fmt.Sprintf("v0:%d:%s", ts, body))
	return "v0=" + mac
}

// do sends a signed request to the Client's routes and returns the response.
func (h *harness) do(path, contentType, body string, hdr map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	ts := testNow.Unix()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(ts))
	req.Header.Set("X-Slack-Signature", sign(testSigningSecret, ts, body))
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	return rec
}

func (h *harness) event(body string, hdr map[string]string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do("/slack/events", "application/json", body, hdr)
}

func (h *harness) command(form url.Values) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do("/slack/commands", "application/x-www-form-urlencoded", form.Encode(), nil)
}

func (h *harness) interact(payload string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do("/slack/interactivity", "application/x-www-form-urlencoded", url.Values{"payload": {payload}}.Encode(), nil)
}

// mustJSON marshals v or fails.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errorAs is errors.As for interface targets, returning the match.
func errorAs[T any](err error) (T, bool) {
	var target T
	ok := errors.As(err, &target)
	return target, ok
}
