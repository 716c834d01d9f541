package weekly_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/digest"
	"github.com/pubdoc/pubdoc/bot/slackbot"
	"github.com/pubdoc/pubdoc/bot/weekly"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/store"
)

// slackDouble is Slack's Web API and upload host on loopback, as much as a digest uses:
// it keeps the messages posted (with their metadata, for conversations.history) and the
// files uploaded.
type slackDouble struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []string
	posts   []url.Values
	uploads [][]byte
	history []map[string]any
}

func newSlackDouble(t *testing.T) *slackDouble {
	d := &slackDouble{}
	d.srv = httptest.NewServer(http.HandlerFunc(d.serve))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *slackDouble) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if strings.HasPrefix(r.URL.Path, "/upload/") {
		method = "upload"
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, method)
	answer := func(v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		v["ok"] = true
		_ = json.NewEncoder(w).Encode(v)
	}
	form, _ := url.ParseQuery(string(body))
	switch {
	case strings.HasPrefix(r.URL.Path, "/upload/"):
		d.uploads = append(d.uploads, uploaded(r, body))
		_, _ = io.WriteString(w, "OK")
	case method == "files.getUploadURLExternal":
		answer(map[string]any{"upload_url": d.srv.URL + "/upload/F0CHART", "file_id": "F0CHART"})
	case method == "files.completeUploadExternal":
		answer(map[string]any{"files": []map[string]string{{"id": "F0CHART"}}})
	case method == "chat.postMessage":
		d.posts = append(d.posts, form)
		ts := fmt.Sprintf("1765000000.%06d", len(d.posts))
		var md map[string]any
		_ = json.Unmarshal([]byte(form.Get("metadata")), &md)
		d.history = append(d.history, map[string]any{"type": "message", "ts": ts, "text": form.Get("text"), "metadata": md})
		answer(map[string]any{"channel": form.Get("channel"), "ts": ts})
	case method == "conversations.history":
		answer(map[string]any{"messages": d.history, "has_more": false})
	default:
		answer(map[string]any{})
	}
}

// uploaded is the file of an upload (multipart, as slack-go sends it).
func uploaded(r *http.Request, body []byte) []byte {
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return body
	}
	for _, fhs := range r.MultipartForm.File {
		f, err := fhs[0].Open()
		if err != nil {
			return nil
		}
		b, _ := io.ReadAll(f)
		_ = f.Close()
		return b
	}
	return body
}

func (d *slackDouble) snapshot() (calls []string, posts []url.Values, uploads [][]byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...), append([]url.Values(nil), d.posts...), append([][]byte(nil), d.uploads...)
}

const routesYAML = `
routes:
  - repos: ["acme/*"]
    channel: C0DIGEST
    digest: {weekday: monday, hour: 9, timezone: Europe/Berlin}
  - repos: ["other/*"]
    channel: C0OTHER
`

// fixture is the real store (SQLite) with a week of failures, the real Slack adapter
// against the double, and a clock.
type fixture struct {
	st     *store.Store
	slack  *slackDouble
	client *slackbot.Client
	routes *bot.Routes
	mu     sync.Mutex
	now    time.Time
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

func (f *fixture) scheduler(t *testing.T) *weekly.Scheduler {
	t.Helper()
	s, err := weekly.New(weekly.Config{Routes: f.routes, Store: f.st, Poster: f.client, Now: f.clock,
		Titles: map[string]string{"oidc-npm-too-old": "npm is too old for trusted publishing"}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var berlin, _ = time.LoadLocation("Europe/Berlin")

// monday9 is when the digest of the week 30 Nov – 6 Dec 2026 is due.
var monday9 = time.Date(2026, 12, 7, 9, 0, 0, 0, berlin)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), PollInterval: 20 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	routes, err := bot.ParseRoutes([]byte(routesYAML))
	if err != nil {
		t.Fatal(err)
	}
	sd := newSlackDouble(t)
	client, err := slackbot.New(slackbot.Config{BotToken: "xoxb-test-digest", APIURL: sd.srv.URL + "/api/", HTTPClient: sd.srv.Client()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	week := time.Date(2026, 11, 30, 0, 0, 0, 0, berlin)
	for i, f := range []struct {
		repo string
		at   time.Duration
		rule string
	}{
		{"acme/cli", 26 * time.Hour, "oidc-npm-too-old"},
		{"acme/cli", 50 * time.Hour, "oidc-npm-too-old"},
		{"acme/web", 75 * time.Hour, diagnose.NoKnownCause},
		{"other/x", 30 * time.Hour, "oidc-npm-too-old"}, // another route's
	} {
		d := &bot.Diagnosis{Key: fmt.Sprint("gh:", i), Source: "github", Repo: f.repo, RunID: int64(100 + i), Workflow: ".github/workflows/release.yml",
			Branch: "main", RuleID: f.rule, Verdict: diagnose.Diagnosed, Confidence: 0.9, Result: []byte("{}"), CreatedAt: week.Add(f.at)}
		if _, err := st.SaveDiagnosis(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	return &fixture{st: st, slack: sd, client: client, routes: routes, now: monday9.Add(-time.Minute)}
}

func TestDigestIsPostedOnceWhenDue(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	s := f.scheduler(t)

	// A minute early: nothing.
	if n, err := s.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("before it is due: posted %d, %v", n, err)
	}
	f.set(monday9)
	if n, err := s.RunDue(ctx); err != nil || n != 1 {
		t.Fatalf("when due: posted %d, %v; want 1", n, err)
	}
	calls, posts, uploads := f.slack.snapshot()
	want := []string{"files.getUploadURLExternal", "upload", "files.completeUploadExternal", "chat.postMessage"}
	if strings.Join(calls, " ") != strings.Join(want, " ") {
		t.Fatalf("Slack calls %v, want %v", calls, want)
	}
	if len(uploads) != 1 || !bytes.HasPrefix(uploads[0], []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("uploads %d, want one PNG", len(uploads))
	}
	p := posts[0]
	blocks := p.Get("blocks")
	if p.Get("channel") != "C0DIGEST" || !strings.Contains(blocks, `"slack_file":{"id":"F0CHART"}`) {
		t.Errorf("post to %s with blocks %s: want C0DIGEST with the chart", p.Get("channel"), blocks)
	}
	for _, want := range []string{"Weekly publish digest", "30 Nov – 6 Dec 2026", "3 failed publish runs", "oidc-npm-too-old",
		"npm is too old for trusted publishing", "https://github.com/acme/web/actions/runs/102"} {
		if !strings.Contains(blocks, want) {
			t.Errorf("the digest lacks %q: %s", want, blocks)
		}
	}
	if strings.Contains(blocks, "other/x") {
		t.Errorf("the digest holds another route's failure: %s", blocks)
	}
	if !strings.Contains(p.Get("metadata"), weekly.Key("C0DIGEST", time.Date(2026, 11, 30, 0, 0, 0, 0, berlin))) {
		t.Errorf("metadata %s: want the digest's key", p.Get("metadata"))
	}

	// Another tick, an hour later, and a restart (a new scheduler on the same store): no
	// second post.
	f.set(monday9.Add(time.Hour))
	if n, err := s.RunDue(ctx); err != nil || n != 0 {
		t.Errorf("a second tick posted %d, %v", n, err)
	}
	if n, err := f.scheduler(t).RunDue(ctx); err != nil || n != 0 {
		t.Errorf("after a restart: posted %d, %v", n, err)
	}
	if _, posts, _ := f.slack.snapshot(); len(posts) != 1 {
		t.Errorf("%d posts, want 1", len(posts))
	}
	// The week after, the next digest.
	f.set(monday9.AddDate(0, 0, 7).Add(time.Minute))
	if n, err := s.RunDue(ctx); err != nil || n != 1 {
		t.Errorf("the next week: posted %d, %v; want 1", n, err)
	}
}

func TestDigestReplicasPostOnce(t *testing.T) {
	f := newFixture(t)
	f.set(monday9.Add(2 * time.Minute))
	var wg sync.WaitGroup
	for range 4 {
		s := f.scheduler(t)
		wg.Go(func() {
			if _, err := s.RunDue(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, posts, _ := f.slack.snapshot(); len(posts) != 1 {
		t.Errorf("four replicas posted %d digests, want 1", len(posts))
	}
}

// A taker that died after posting, before recording it: the next taker, once the lease
// is over, finds the message by its key and does not post again.
func TestDigestTakerFindsAnEarlierPost(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.set(monday9)
	key := weekly.Key("C0DIGEST", time.Date(2026, 11, 30, 0, 0, 0, 0, berlin))
	if _, mine, err := f.st.TakePost(ctx, key, monday9, weekly.DefaultLease); err != nil || !mine {
		t.Fatal(mine, err)
	}
	if _, err := f.client.PostDigest(ctx, "C0DIGEST", digestMessage(), nil, key); err != nil {
		t.Fatal(err)
	}
	s := f.scheduler(t)
	if n, err := s.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("within the lease: posted %d, %v", n, err)
	}
	f.set(monday9.Add(weekly.DefaultLease + time.Minute))
	if n, err := s.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("after the lease: posted %d, %v; want the earlier post found", n, err)
	}
	if p, err := f.st.LookupPost(ctx, key); err != nil || !p.Done || p.TS == "" {
		t.Errorf("post %+v, %v: want it recorded done", p, err)
	}
	if _, posts, _ := f.slack.snapshot(); len(posts) != 1 {
		t.Errorf("%d posts, want 1", len(posts))
	}
}

// A digest missed by more than MaxLate (the service was down) is skipped.
func TestLateDigestIsSkipped(t *testing.T) {
	f := newFixture(t)
	f.set(monday9.Add(weekly.MaxLate + time.Minute))
	if n, err := f.scheduler(t).RunDue(context.Background()); err != nil || n != 0 {
		t.Errorf("posted %d, %v; want the late digest skipped", n, err)
	}
}

// Run ticks on the injected clock: the digest goes out on the tick at its time.
func TestRunTicks(t *testing.T) {
	f := newFixture(t)
	ticks := make(chan time.Time)
	s, err := weekly.New(weekly.Config{Routes: f.routes, Store: f.st, Poster: f.client, Now: f.clock,
		After: func(time.Duration) <-chan time.Time { return ticks }}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	ticks <- time.Time{} // the first look (before it is due) is over
	f.set(monday9)
	ticks <- time.Time{} // the second look is at 09:00
	ticks <- time.Time{} // and over
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, posts, _ := f.slack.snapshot(); len(posts) != 1 {
		t.Errorf("%d posts, want 1", len(posts))
	}
}

func digestMessage() digest.Message {
	return digest.Message{Text: "digest", Blocks: []digest.Block{{Kind: digest.BlockHeader, Text: "Weekly publish digest"}}}
}
