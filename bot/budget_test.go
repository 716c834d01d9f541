package bot

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/internal/metrics"
)

// unreadBody fails the test when anything reads it.
type unreadBody struct{ t *testing.T }

func (u unreadBody) Read([]byte) (int, error) {
	u.t.Error("the body was read")
	return 0, errors.New("must not be read")
}

func TestWebhookUnhandledEventIsNotRead(t *testing.T) {
	h := newHarness(t)
	h.svc.cfg.Metrics = metrics.New()
	hook := h.svc.WebhookHandler(fakeWebhook{"s3cret"})
	for _, ev := range []string{"push", "issues", "pull_request"} {
		r := httptest.NewRequest(http.MethodPost, "/github/webhook", unreadBody{t})
		r.ContentLength = 25 << 20
		r.Header.Set("X-GitHub-Event", ev)
		r.Header.Set("X-Hub-Signature-256", "sha256=00")
		w := httptest.NewRecorder()
		hook.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent {
			t.Errorf("%s: %d, want 204 unread", ev, w.Code)
		}
	}
	// No event header at all: 400, unread, in the JSON envelope.
	r := httptest.NewRequest(http.MethodPost, "/github/webhook", unreadBody{t})
	w := httptest.NewRecorder()
	hook.ServeHTTP(w, r)
	if w.Code != http.StatusBadRequest || errorCode(t, w.Body.String()) != "unreadable" {
		t.Errorf("no X-GitHub-Event: %d %s, want 400 unreadable", w.Code, w.Body)
	}
}

// errorCode is the code of a JSON error envelope.
func errorCode(t *testing.T, body string) string {
	t.Helper()
	var env struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Errorf("not a JSON envelope: %v: %q", err, body)
	}
	return env.Error.Code
}

func TestWebhookOverOneMBIs413(t *testing.T) {
	h := newHarness(t)
	h.svc.cfg.Metrics = metrics.New()
	srv := httptest.NewServer(h.svc.WebhookHandler(fakeWebhook{"s3cret"}))
	defer srv.Close()
	body := []byte(`{"action":"completed","pad":"` + strings.Repeat("x", 2<<20) + `"}`)
	for _, chunked := range []bool{false, true} {
		var rd io.Reader = strings.NewReader(string(body))
		if chunked {
			rd = io.MultiReader(rd) // hides the length: sent chunked, cut by MaxBytesReader
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL, rd)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "workflow_run")
		req.Header.Set("X-GitHub-Delivery", "d-big")
		req.Header.Set("X-Hub-Signature-256", sign("s3cret", body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || errorCode(t, string(b)) != "too_large" || !strings.Contains(string(b), "limit is 1 MB") {
			t.Errorf("chunked=%v: 2 MB delivery: %d %s, want 413 too_large saying the 1 MB limit", chunked, resp.StatusCode, b)
		}
	}
	if got := metricValue(t, h.svc.cfg.Metrics, `pubdoc_events_rejected_total{reason="too_large",source="github"}`); got != "2" {
		t.Errorf("rejected github too_large = %s, want 2", got)
	}
}

// TestWebhookBodiesInFlightAreBudgeted holds slow bodies open on loopback until the
// budget is spent: the next delivery is refused with 503 and Retry-After before its body
// is read, and room comes back when the held ones end.
func TestWebhookBodiesInFlightAreBudgeted(t *testing.T) {
	h := newHarness(t)
	h.svc.cfg.Metrics = metrics.New()
	h.svc.bodies.limit = 3 << 20
	srv := httptest.NewServer(h.svc.WebhookHandler(fakeWebhook{"s3cret"}))
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}

	post := func(body io.Reader, length int64) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, body)
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "workflow_run")
		req.Header.Set("X-GitHub-Delivery", "d-slow")
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		return client.Do(req)
	}
	// Three bodies of an announced 1 MB that send one byte and hold.
	var wg sync.WaitGroup
	pipes := make([]*io.PipeWriter, 3)
	defer func() { // before srv.Close, which waits for the held connections
		for _, pw := range pipes {
			if pw != nil {
				_ = pw.CloseWithError(errors.New("test over"))
			}
		}
	}()
	for i := range pipes {
		pr, pw := io.Pipe()
		pipes[i] = pw
		wg.Go(func() {
			resp, err := post(pr, 1<<20)
			if err == nil {
				_ = resp.Body.Close()
			}
		})
		go func() { _, _ = pw.Write([]byte("{")) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.svc.bodies.mu.Lock()
		used := h.svc.bodies.used
		h.svc.bodies.mu.Unlock()
		if used == 3<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("held bodies charge %d bytes, want %d", used, 3<<20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, err := post(strings.NewReader("{}"), 2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || errorCode(t, string(b)) != "busy" {
		t.Errorf("over the budget: %d Retry-After %q %s, want 503 busy with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if got := metricValue(t, h.svc.cfg.Metrics, `pubdoc_events_rejected_total{reason="busy",source="github"}`); got != "1" {
		t.Errorf("rejected github busy = %s, want 1", got)
	}
	for _, pw := range pipes {
		_ = pw.CloseWithError(fmt.Errorf("client gave up"))
	}
	wg.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for {
		h.svc.bodies.mu.Lock()
		used := h.svc.bodies.used
		h.svc.bodies.mu.Unlock()
		if used == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the held bodies ended %d bytes are still charged, want 0", used)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Room again: a (forged) delivery is read and refused on its signature, not its budget.
	resp, err = post(strings.NewReader("{}"), 2)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after the budget came back: %d, want 401", resp.StatusCode)
	}
}

func TestMessageBudgetIsSaid(t *testing.T) {
	h := newHarness(t)
	failed := example(t, "old-npm.log") + "\n##[error]Process completed with exit code 1.\n"
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for i := range 30 {
		f, err := zw.Create(fmt.Sprintf("%d_publish-%02d.txt", i, i))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(f, failed)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	h.msg.files["https://files.example/runs.zip"] = zbuf.Bytes()
	if err := h.ask(t, Request{Kind: "dm", DeliveryID: "EvZip", Channel: "D1", Direct: true, User: "U1", ThreadTS: "1.1",
		Files: []File{{Name: "runs.zip", URL: "https://files.example/runs.zip"}}}); err != nil {
		t.Fatal(err)
	}
	posts, _, _ := h.msg.snapshot()
	if len(posts) != MaxMessageJobs {
		t.Fatalf("%d replies for a zip of 30 failed jobs, want %d", len(posts), MaxMessageJobs)
	}
	if want := "I diagnosed 8 of the 30 job logs in runs.zip"; !strings.Contains(posts[0].Reply.Text, want) {
		t.Errorf("first reply's text %q, want it to say %q", posts[0].Reply.Text, want)
	}
	for _, p := range posts[1:] {
		if p.Reply.Text != "" {
			t.Errorf("the note is repeated: %q", p.Reply.Text)
		}
	}

	// A gzip expanding past the message's text budget is read up to it, and the files
	// after it are not even downloaded.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = io.WriteString(w, failed)
	filler := strings.Repeat("2025-01-01T00:00:02Z cleaning up the workspace and caches\n", 1000)
	for written := 0; written < MaxMessageTextBytes+(4<<20); written += len(filler) {
		_, _ = io.WriteString(w, filler)
	}
	_ = w.Close()
	h.msg.files["https://files.example/big.log.gz"] = gz.Bytes()
	start := time.Now()
	if err := h.ask(t, Request{Kind: "dm", DeliveryID: "EvGz", Channel: "D1", Direct: true, User: "U1", ThreadTS: "1.2",
		Files: []File{
			{Name: "big.log.gz", URL: "https://files.example/big.log.gz"},
			{Name: "a<!channel>.log", URL: "https://files.example/a.log"},
			{Name: "b.log", URL: "https://files.example/b.log"},
		}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("64 MB of text diagnosed in %s", time.Since(start).Round(time.Millisecond))
	posts, _, _ = h.msg.snapshot()
	posts = posts[MaxMessageJobs:]
	if len(posts) != 1 {
		t.Fatalf("%d replies, want 1", len(posts))
	}
	text := posts[0].Reply.Text
	for _, want := range []string{"I read the first 64 MB of the text in big.log.gz", "I did not read a&lt;!channel&gt;.log, b.log"} {
		if !strings.Contains(text, want) {
			t.Errorf("reply text %q, want it to say %q", text, want)
		}
	}
	if posts[0].Reply.Result == nil || posts[0].Reply.Result.Scanned.Bytes != MaxMessageTextBytes {
		t.Errorf("scanned %+v, want exactly %d bytes", posts[0].Reply.Result, MaxMessageTextBytes)
	}
}
