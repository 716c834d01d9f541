package bot

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/schematest"
)

// apiCall posts body to the API with the given Authorization header ("" for none) and
// returns the status, the headers and the body; every answer must be schema-valid JSON.
func apiCall(t *testing.T, url, auth string, body io.Reader) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q, want application/json", resp.Header.Get("Content-Type"))
	}
	file := schematest.ErrorFile
	if resp.StatusCode == http.StatusOK {
		file = schematest.DiagnosisFile
	}
	schematest.Validate(t, file, "answer", b)
	return resp.StatusCode, resp.Header, b
}

func errCode(t *testing.T, body []byte) string {
	t.Helper()
	var e diagnose.ErrorAnswer
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not an error envelope: %v: %s", err, body)
	}
	return e.Error.Code
}

// logSink collects a handler's log lines.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Without a token the endpoint is off; with one, a request needs it.
func TestAPIToken(t *testing.T) {
	h := newHarness(t)
	logs := &logSink{}
	h.svc.logger = slog.New(slog.NewJSONHandler(logs, nil))
	off := httptest.NewServer(h.svc.APIHandler(APIConfig{}))
	defer off.Close()
	on := httptest.NewServer(h.svc.APIHandler(APIConfig{Token: testAPIToken}))
	defer on.Close()
	log := example(t, "old-npm.log")

	code, _, body := apiCall(t, off.URL, "Bearer anything", strings.NewReader(log))
	if code != http.StatusNotFound || errCode(t, body) != ErrCodeDisabled || !strings.Contains(string(body), "PUBDOC_API_TOKEN") {
		t.Errorf("no token configured: %d %s, want 404 disabled naming PUBDOC_API_TOKEN", code, body)
	}
	for name, auth := range map[string]string{
		"none":         "",
		"wrong":        "Bearer not-the-token",
		"prefix":       "Bearer " + string(testAPIToken)[:8],
		"longer":       "Bearer " + string(testAPIToken) + "x",
		"basic scheme": "Basic " + string(testAPIToken),
		"bare token":   string(testAPIToken),
	} {
		code, hdr, body := apiCall(t, on.URL, auth, strings.NewReader(log))
		if code != http.StatusUnauthorized || errCode(t, body) != diagnose.ErrCodeUnauthorized || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s, want 401 unauthorized with WWW-Authenticate", name, code, body)
		}
	}
	for _, auth := range []string{"Bearer " + string(testAPIToken), "bearer  " + string(testAPIToken) + " "} {
		code, _, body := apiCall(t, on.URL, auth, strings.NewReader(log))
		if code != http.StatusOK || !strings.Contains(string(body), `"oidc-npm-too-old"`) {
			t.Errorf("%q: %d %s, want 200 with the diagnosis", auth, code, body)
		}
	}
	out := logs.String()
	if strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, `"status":401`) || !strings.Contains(out, `"status":404`) {
		t.Errorf("refusals must be logged once each at INFO, never ERROR:\n%s", out)
	}
	if strings.Contains(out, string(testAPIToken)) {
		t.Error("the log shows the API token")
	}
}

// A fifth request while four are being read is refused with 429 and Retry-After; once
// they are done, requests are admitted again.
func TestAPIConcurrencyLimit(t *testing.T) {
	h := newHarness(t)
	api := h.svc.APIHandler(APIConfig{Token: testAPIToken, MaxInFlight: 4})
	entered := make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Held") != "" {
			entered <- struct{}{}
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	auth := "Bearer " + string(testAPIToken)
	log := example(t, "old-npm.log")

	var wg sync.WaitGroup
	writers := make([]*io.PipeWriter, 4)
	codes := make([]int, 4)
	for i := range writers {
		pr, pw := io.Pipe()
		writers[i] = pw
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
			req.Header.Set("Authorization", auth)
			req.Header.Set("X-Held", "1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			codes[i] = resp.StatusCode
		})
		// The handler holds its slot while it reads: a first chunk makes sure it got one.
		if _, err := pw.Write([]byte(log[:100])); err != nil {
			t.Fatal(err)
		}
	}
	// The fifth: refused while the four hold their slots (each takes its slot as it
	// enters, before it reads).
	for range 4 {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatal("the four held requests did not reach the handler")
		}
	}
	time.Sleep(50 * time.Millisecond)
	code, hdr, body := apiCall(t, srv.URL, auth, strings.NewReader(log))
	if code != http.StatusTooManyRequests || errCode(t, body) != ErrCodeBusy || hdr.Get("Retry-After") == "" {
		t.Errorf("fifth request: %d %s (Retry-After %q), want 429 busy with Retry-After", code, body, hdr.Get("Retry-After"))
	}
	for _, pw := range writers {
		_, _ = pw.Write([]byte(log[100:]))
		_ = pw.Close()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("held request %d: %d, want 200", i, c)
		}
	}
	if code, _, body := apiCall(t, srv.URL, auth, strings.NewReader(log)); code != http.StatusOK {
		t.Errorf("after the four finished: %d %s, want 200", code, body)
	}
}

// A body that stops arriving is the client's fault: 408, logged at INFO.
func TestAPIBodyTimeout(t *testing.T) {
	h := newHarness(t)
	logs := &logSink{}
	h.svc.logger = slog.New(slog.NewJSONHandler(logs, nil))
	srv := httptest.NewUnstartedServer(h.svc.APIHandler(APIConfig{Token: testAPIToken}))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte("npm notice x\n")) }() // then nothing
	code, _, body := apiCall(t, srv.URL, "Bearer "+string(testAPIToken), pr)
	if code != http.StatusRequestTimeout || errCode(t, body) != ErrCodeTimeout {
		t.Errorf("stalled body: %d %s, want 408 timeout", code, body)
	}
	if out := logs.String(); strings.Contains(out, `"level":"ERROR"`) || !strings.Contains(out, `"status":408`) {
		t.Errorf("a stalled body must be logged at INFO, not ERROR:\n%s", out)
	}
}

// A gzip body that expands past the cap is 413, not 500, and is not read to its end.
func TestAPIGzipBombIs413(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 65 MB")
	}
	h := newHarness(t)
	srv := httptest.NewServer(h.svc.APIHandler(APIConfig{Token: testAPIToken}))
	defer srv.Close()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	line := []byte("npm notice padding padding padding padding padding padding padding\n")
	for n := 0; n <= MaxAPIBytes; n += len(line) {
		_, _ = zw.Write(line)
	}
	_ = zw.Close()
	code, _, body := apiCall(t, srv.URL, "Bearer "+string(testAPIToken), bytes.NewReader(gz.Bytes()))
	if code != http.StatusRequestEntityTooLarge || errCode(t, body) != diagnose.ErrCodeTooLarge {
		t.Errorf("gzip of %d MB expanding past %d MB: %d %s, want 413 too_large", gz.Len()>>20, MaxAPIBytes>>20, code, body)
	}
}
