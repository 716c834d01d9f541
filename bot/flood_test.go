package bot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/slackbot"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
	"github.com/pubdoc/pubdoc/store"
)

// rateSlack is a fake Slack Web API that enforces Slack's limit: a channel that gets a
// second chat.postMessage or chat.update within a second is answered 429 with
// Retry-After. It can also hold a channel (429 with a longer Retry-After) on demand.
type rateSlack struct {
	mu      sync.Mutex
	seq     int
	calls   []rateCall // every postMessage/update that arrived, answered or not
	last    map[string]time.Time
	armed   map[string]int // channel → Retry-After seconds for its next call
	heldTil map[string]time.Time
	tooFast int // calls refused for coming within a second of the last
	held    int // calls refused while the channel was held
}

type rateCall struct {
	At       time.Time
	Method   string
	Channel  string
	ThreadTS string
	Text     string // text and blocks
	Plain    string // text alone
	Refused  bool
}

// minGap is how close two calls to one channel may come before the fake refuses them.
const minGap = time.Second

func (f *rateSlack) serve(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(r.Body)
	params, _ := url.ParseQuery(string(body))
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		params = url.Values{}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		for k, v := range m {
			if s, ok := v.(string); ok {
				params.Set(k, s)
			} else {
				b, _ := json.Marshal(v)
				params.Set(k, string(b))
			}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if method != "chat.postMessage" && method != "chat.update" {
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "messages": []any{}})
		return
	}
	ch := params.Get("channel")
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	c := rateCall{At: now, Method: method, Channel: ch, ThreadTS: params.Get("thread_ts"), Text: params.Get("text") + params.Get("blocks"), Plain: params.Get("text")}
	refuse := func(secs int) {
		c.Refused = true
		f.calls = append(f.calls, c)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"ok":false,"error":"ratelimited"}`)
	}
	switch {
	case now.Before(f.heldTil[ch]):
		f.held++
		refuse(1)
		return
	case f.armed[ch] > 0:
		f.heldTil[ch] = now.Add(time.Duration(f.armed[ch]) * time.Second)
		refuse(f.armed[ch])
		delete(f.armed, ch)
		return
	case !f.last[ch].IsZero() && now.Sub(f.last[ch]) < minGap:
		f.tooFast++
		refuse(1)
		return
	}
	f.last[ch] = now
	f.calls = append(f.calls, c)
	f.seq++
	ts := fmt.Sprintf("1764000000.%06d", f.seq)
	if method == "chat.update" {
		ts = params.Get("ts")
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": ch, "ts": ts})
}

func (f *rateSlack) snapshot() []rateCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rateCall(nil), f.calls...)
}

func (f *rateSlack) arm(channel string, secs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed[channel] = secs
}

// stormRuns serves every run id as a failed publish of acme/widgets (or acme/other for
// ids from 900000).
type stormRuns struct{ log, workflow []byte }

func (stormRuns) WebHost() string { return "github.com" }

func (stormRuns) ParseRunURL(u string) (bot.RunRef, string, error) {
	return bot.RunRef{}, "", fmt.Errorf("%q: the storm reads no run links", u)
}

func (f stormRuns) FetchRun(_ context.Context, ref bot.RunRef) (*bot.Run, error) {
	id := ref.RunID
	return &bot.Run{
		Ref: ref, WorkflowPath: ".github/workflows/release.yml", WorkflowName: "Release", Event: "push", HeadBranch: "main",
		Conclusion: "failure", HTMLURL: fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d", ref.Owner, ref.Repo, id), Attempt: 1, Workflow: f.workflow,
		FailedJobs: []bot.Job{{ID: id * 10, Name: "publish", Conclusion: "failure", Log: f.log,
			HTMLURL: fmt.Sprintf("https://github.com/%s/%s/actions/runs/%d/job/%d", ref.Owner, ref.Repo, id, id*10)}},
	}, nil
}

func stormEvent(repo string, id int64) *bot.Event {
	return &bot.Event{Delivery: fmt.Sprintf("storm-%s-%d", repo, id), Event: "workflow_run", Action: "completed", Repo: repo,
		Run: &bot.EventRun{ID: id, Attempt: 1, Number: int(id), Name: "Release", Path: ".github/workflows/release.yml", Event: "push",
			Status: "completed", Conclusion: "failure", HeadBranch: "main", HTMLURL: fmt.Sprintf("https://github.com/%s/actions/runs/%d", repo, id)}}
}

const stormWorkflow = `name: Release
on: push
permissions:
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/setup-node@v5
        with:
          node-version: 22
      - run: npm publish
`

var (
	reTitleRun  = regexp.MustCompile(`run #(\d+)\)`)
	reDigestRun = regexp.MustCompile(`#(\d+)>?(?:–(\d+))?`)
	reCount     = regexp.MustCompile(`(\d+) failures? since`)
)

// namedRuns counts, per run number, the accepted posts that name it: in a diagnosis's
// title or in a digest's links (a range names every run in it).
func namedRuns(calls []rateCall) map[int]int {
	out := map[int]int{}
	for _, c := range calls {
		if c.Refused || c.Method != "chat.postMessage" {
			continue
		}
		seen := map[int]bool{}
		for _, m := range reTitleRun.FindAllStringSubmatch(c.Text, -1) {
			n, _ := strconv.Atoi(m[1])
			seen[n] = true
		}
		_, digest, _ := strings.Cut(c.Plain, "failed the same way*")
		for _, m := range reDigestRun.FindAllStringSubmatch(digest, -1) {
			a, _ := strconv.Atoi(m[1])
			b := a
			if m[2] != "" {
				b, _ = strconv.Atoi(m[2])
			}
			for n := a; n <= b; n++ {
				seen[n] = true
			}
		}
		for n := range seen {
			out[n]++
		}
	}
	return out
}

// maxInWindow is the most calls to one channel that arrived within any window of d.
func maxInWindow(calls []rateCall, channel string, d time.Duration) int {
	var at []time.Time
	for _, c := range calls {
		if c.Channel == channel {
			at = append(at, c.At)
		}
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	best, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= d {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// A storm of 2,000 failures of one workflow, against a Slack that refuses more than one
// message per second per channel: every failure is in the record, no channel gets more
// than one message a second, the failures are named in a few coalesced replies, the
// parent ends at 2,000, and a 429 for one channel does not hold another.
func TestStormCoalescesUnderSlackLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("a storm of 2,000 jobs")
	}
	const n = 2000
	const chanA, chanB = "C0STORM", "C0OTHER"
	ctx := context.Background()
	// Warnings and errors are kept, to say what went wrong if the parent's count stalls.
	logs := &lockedLog{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	fake := &rateSlack{last: map[string]time.Time{}, armed: map[string]int{}, heldTil: map[string]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(fake.serve))
	t.Cleanup(srv.Close)
	slack, err := slackbot.New(slackbot.Config{BotToken: "xoxb-test", APIURL: srv.URL + "/api/"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), Workers: 8, PollInterval: 20 * time.Millisecond}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := diagnose.New(kb, logger, diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log, err := os.ReadFile(filepath.Join("..", "examples", "old-npm.log"))
	if err != nil {
		t.Fatal(err)
	}
	routes, err := bot.ParseRoutes([]byte("routes:\n  - repos: [acme/widgets]\n    channel: " + chanA + "\n  - repos: [acme/other]\n    channel: " + chanB + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := bot.New(bot.Config{Engine: eng, Store: st, Messenger: slack, GitHub: stormRuns{log, []byte(stormWorkflow)}, Routes: routes,
		Flood: bot.Flood{PostEvery: time.Second, ReplyEvery: 2 * time.Second}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Start(ctx, svc.Handle); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = st.Stop(sctx)
	})

	start := time.Now()
	thread := func() store.Thread {
		ths, err := st.OpenThreadsFor(ctx, "acme/widgets", ".github/workflows/release.yml", "main")
		if err != nil || len(ths) != 1 {
			return store.Thread{}
		}
		return ths[0]
	}
	waitUntil := func(d time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out after %s waiting for %s", d, what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	deliver := func(repo string, from, to int64) {
		for id := from; id <= to; id++ {
			if ok, err := svc.AcceptWebhook(ctx, stormEvent(repo, id)); err != nil || !ok {
				t.Fatalf("accepting run %d: %v, %v", id, ok, err)
			}
		}
	}

	// All but the last few, then a hold on the storm's channel and the last few with a
	// failure of another repository, whose channel must not wait for the storm's.
	deliver("acme/widgets", 1, n-5)
	waitUntil(90*time.Second, "the first failures recorded", func() bool { return thread().Count == n-5 })
	fake.arm(chanA, 3)
	deliver("acme/widgets", n-4, n)
	armedAt := time.Now()
	deliver("acme/other", 900001, 900001)
	waitUntil(10*time.Second, "the other channel's post", func() bool {
		for _, c := range fake.snapshot() {
			if c.Channel == chanB && !c.Refused {
				return true
			}
		}
		return false
	})
	otherTook := time.Since(armedAt)

	waitUntil(90*time.Second, "every run named in the storm's channel", func() bool {
		return thread().Count == n && len(namedRuns(fake.snapshot())) >= n+1
	})
	// The parent's count catches up with the last batch. A refresh refused or cut short
	// is retried by the job queue with its backoff, which under a loaded machine (a full
	// parallel `go test ./...`) has taken this past a minute once: the wait allows two
	// retries, and a timeout says what the parent last showed.
	lastUpdate := func() string {
		var last string
		for _, c := range fake.snapshot() {
			if c.Channel == chanA && c.Method == "chat.update" && !c.Refused {
				last = c.Text
			}
		}
		return last
	}
	for deadline := time.Now().Add(150 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := reCount.FindStringSubmatch(lastUpdate()); m != nil && m[1] == strconv.Itoa(n) {
			break
		}
		if time.Now().After(deadline) {
			th := thread()
			var updates, refused int
			for _, c := range fake.snapshot() {
				if c.Channel == chanA && c.Method == "chat.update" {
					updates++
					if c.Refused {
						refused++
					}
				}
			}
			t.Fatalf("timed out after 150s waiting for the parent's count of 2,000: it last showed %.300q; the thread records %d "+
				"(parent ts %q, parent diagnosis %d, replies %d taken, %d posted); %d updates of %s, %d refused; last warnings:\n%s",
				lastUpdate(), th.Count, th.ParentTS, th.ParentDiagnosisID, th.Replies, th.RepliesPosted, updates, chanA, refused, logs.tail(40))
		}
	}
	took := time.Since(start)
	time.Sleep(500 * time.Millisecond) // anything still in flight
	calls := fake.snapshot()

	th := thread()
	if th.Count != n {
		t.Errorf("the thread records %d failures, want %d", th.Count, n)
	}
	named := namedRuns(calls)
	for i := 1; i <= n; i++ {
		if named[i] != 1 {
			t.Errorf("run #%d named in %d posts, want 1", i, named[i])
		}
	}
	var posts, replies, updates, refusedA, refusedB int
	for _, c := range calls {
		switch {
		case c.Refused && c.Channel == chanA:
			refusedA++
		case c.Refused:
			refusedB++
		case c.Channel != chanA:
		case c.Method == "chat.update":
			updates++
		case c.ThreadTS != "":
			replies++
			posts++
		default:
			posts++
		}
	}
	fake.mu.Lock()
	tooFast, held := fake.tooFast, fake.held
	fake.mu.Unlock()
	perSecA, perSecB := maxInWindow(calls, chanA, minGap), maxInWindow(calls, chanB, minGap)
	t.Logf("%d failures in %s: %d posts (%d replies) and %d parent updates in the storm's channel; "+
		"most calls to one channel within %s: %d and %d; refused: %d (storm channel, %d while held), %d (other), %d too fast; "+
		"the other channel's first post %s after the hold began",
		n, took.Round(time.Millisecond), posts, replies, updates, minGap, perSecA, perSecB, refusedA, held, refusedB, tooFast, otherTook.Round(time.Millisecond))
	if perSecA > 1 || perSecB > 1 {
		t.Errorf("up to %d and %d calls to a channel within %s, want at most 1", perSecA, perSecB, minGap)
	}
	if tooFast != 0 || held != 0 {
		t.Errorf("%d calls came within a second of the last, %d while the channel was held: Retry-After and the pace were not kept", tooFast, held)
	}
	if refusedA == 0 {
		t.Error("the storm's channel was never refused: the test tested nothing")
	}
	if refusedB != 0 {
		t.Errorf("the other channel was refused %d times", refusedB)
	}
	if otherTook > 2500*time.Millisecond { // the hold is 3 s: a post held with the storm comes after it
		t.Errorf("the other channel's post came %s after the storm's channel was held (for 3s), want it not held with it", otherTook)
	}
	if replies > int(took/(2*time.Second))+3 {
		t.Errorf("%d replies in %s, want at most one per 2s window", replies, took)
	}
}

// lockedLog keeps what a logger writes, for a failing test to show its end.
type lockedLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tail is the last n lines written.
func (l *lockedLog) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines[max(0, len(l.lines)-n):], "\n")
}
