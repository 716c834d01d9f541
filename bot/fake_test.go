package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeMessenger records what the bot says. It sits beside the consumer, as the style
// guide asks; the Slack adapter's own tests drive slack-go against a fake Slack API.
type fakeMessenger struct {
	mu         sync.Mutex
	posts      []fakePost
	updates    []fakePost
	ephemerals []fakePost
	files      map[string][]byte
	// slow are file URLs whose Download blocks until its context ends.
	slow map[string]bool
	// failPost, when set, is returned by the next len(failPost) posts in order.
	failPost []error
	seq      int
}

type fakePost struct {
	Target Target
	Reply  Reply
	TS     string
}

var _ Messenger = (*fakeMessenger)(nil)

func (m *fakeMessenger) Post(_ context.Context, t Target, r Reply) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.failPost) > 0 {
		err := m.failPost[0]
		m.failPost = m.failPost[1:]
		if err != nil {
			return "", err
		}
	}
	m.seq++
	ts := fmt.Sprintf("1700000000.%06d", m.seq)
	m.posts = append(m.posts, fakePost{t, r, ts})
	return ts, nil
}

func (m *fakeMessenger) Update(_ context.Context, channel, ts string, r Reply) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.updates = append(m.updates, fakePost{Target{Channel: channel}, r, ts})
	return nil
}

func (m *fakeMessenger) Ephemeral(_ context.Context, t Target, r Reply) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ephemerals = append(m.ephemerals, fakePost{t, r, ""})
	return nil
}

func (m *fakeMessenger) FindPosted(_ context.Context, channel, threadTS, key string, _ time.Time) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range m.posts {
		if p.Target.Channel == channel && p.Target.ThreadTS == threadTS && p.Reply.Key == key {
			return p.TS, true, nil
		}
	}
	return "", false, nil
}

func (m *fakeMessenger) Download(ctx context.Context, f File, limit int64) ([]byte, error) {
	m.mu.Lock()
	slow := m.slow[f.URL]
	m.mu.Unlock()
	if slow {
		<-ctx.Done()
		return nil, fmt.Errorf("downloading %s: %w", f.Name, ctx.Err())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.files[f.URL]
	if !ok {
		return nil, errors.New("no such file")
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("downloading %s: %d bytes: %w", f.Name, len(b), ErrTooLarge)
	}
	return b, nil
}

func (m *fakeMessenger) snapshot() (posts, updates, ephemerals []fakePost) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]fakePost(nil), m.posts...), append([]fakePost(nil), m.updates...), append([]fakePost(nil), m.ephemerals...)
}

// fakeRuns is the in-memory GitHub: it serves runs by id.
type fakeRuns struct {
	mu    sync.Mutex
	runs  map[int64]*Run
	err   error
	calls int
	// host is the GitHub web host it says it reads (WebHost); "" for github.com.
	host string
	// prs are the fix pull requests OpenFixPR opened, by branch; asked counts its calls,
	// and missing, when set, are the App permissions it lacks.
	prs     map[string]*PullRequest
	asked   []FixPR
	missing []string
}

var _ FixPROpener = (*fakeRuns)(nil)

// OpenFixPR opens one pull request per branch, as GitHub would: a second call for the
// same branch returns the first, Existing.
func (f *fakeRuns) OpenFixPR(_ context.Context, pr FixPR) (*PullRequest, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, pr)
	if len(f.missing) > 0 {
		return nil, fmt.Errorf("opening a fix pull request: %w", &PermissionError{Repo: pr.Owner + "/" + pr.Repo, Missing: f.missing})
	}
	if f.prs == nil {
		f.prs = map[string]*PullRequest{}
	}
	if p, ok := f.prs[pr.Branch]; ok {
		cp := *p
		cp.Existing = true
		return &cp, nil
	}
	n := 7 + len(f.prs)
	p := &PullRequest{Number: n, URL: fmt.Sprintf("https://github.com/%s/%s/pull/%d", pr.Owner, pr.Repo, n), Branch: pr.Branch, Base: pr.Base, State: "open"}
	f.prs[pr.Branch] = p
	cp := *p
	return &cp, nil
}

var _ GitHub = (*fakeRuns)(nil)

func (f *fakeRuns) WebHost() string { return f.host }

var reFakeRunURL = regexp.MustCompile(`^https?://([^/]+)/([\w.-]+)/([\w.-]+)/actions/runs/(\d+)(?:/job/(\d+))?(?:/attempts/(\d+))?/?(?:[?#].*)?$`)

// ParseRunURL reads the run links the tests use: /OWNER/REPO/actions/runs/ID[/job/ID][/attempts/N].
func (f *fakeRuns) ParseRunURL(u string) (RunRef, string, error) {
	m := reFakeRunURL.FindStringSubmatch(strings.TrimSpace(u))
	if m == nil {
		return RunRef{}, "", fmt.Errorf("%q is not a run's page", u)
	}
	ref := RunRef{Owner: m[2], Repo: m[3]}
	ref.RunID, _ = strconv.ParseInt(m[4], 10, 64)
	ref.JobID, _ = strconv.ParseInt(m[5], 10, 64)
	ref.Attempt, _ = strconv.Atoi(m[6])
	return ref, strings.TrimPrefix(strings.ToLower(m[1]), "www."), nil
}

func (f *fakeRuns) FetchRun(_ context.Context, ref RunRef) (*Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	r, ok := f.runs[ref.RunID]
	if !ok {
		return nil, fmt.Errorf("run %d: %w", ref.RunID, ErrRunNotFound)
	}
	cp := *r
	cp.Ref = ref
	return &cp, nil
}

// fakeRateLimit is the GitHub adapter's rate-limit error.
type fakeRateLimit struct{ reset time.Time }

func (e fakeRateLimit) Error() string             { return "GitHub API rate limit exceeded" }
func (e fakeRateLimit) RateLimitReset() time.Time { return e.reset }

// fakeRegistry is the in-memory npm registry: packages by name, with their versions
// and trusted publishers (nil: none configured); asked records the names looked up.
type fakeRegistry struct {
	mu       sync.Mutex
	base     string
	packages map[string][]string
	trusted  map[string][]RunIdentity
	noToken  bool
	asked    []string
}

var _ Registry = (*fakeRegistry)(nil)

func (r *fakeRegistry) BaseURL() string { return r.base }

func (r *fakeRegistry) Package(_ context.Context, name, version string) (PackageFacts, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, name)
	versions, ok := r.packages[name]
	return PackageFacts{Exists: ok, Published: version != "" && slices.Contains(versions, version)}, nil
}

func (r *fakeRegistry) CheckPublishers(_ context.Context, name string, run RunIdentity) (PublisherCheck, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.noToken {
		return PublisherCheck{}, fmt.Errorf("listing the trusted publishers of %s: %w", name, ErrNoRegistryToken)
	}
	tps := r.trusted[name]
	if len(tps) == 0 {
		return PublisherCheck{}, nil
	}
	for _, tp := range tps {
		if tp.Repository == run.Repository && tp.WorkflowFile == run.WorkflowFile && (tp.Environment == "" || tp.Environment == run.Environment) {
			return PublisherCheck{Configured: true, Match: true, Closest: &tp}, nil
		}
	}
	closest := tps[0]
	var why []string
	if closest.WorkflowFile != run.WorkflowFile {
		why = append(why, fmt.Sprintf("workflow file differs: trusted: `%s`; this run: `%s`", closest.WorkflowFile, run.WorkflowFile))
	}
	if closest.Repository != run.Repository {
		why = append(why, fmt.Sprintf("repository differs: trusted: `%s`; this run: `%s`", closest.Repository, run.Repository))
	}
	return PublisherCheck{Configured: true, Mismatches: why, Closest: &closest}, nil
}

// rateLimited is a Slack 429.
type rateLimited struct{ d time.Duration }

func (e rateLimited) Error() string             { return "slack rate limited" }
func (e rateLimited) RetryAfter() time.Duration { return e.d }

// fakeWebhook is the in-memory WebhookReader: HMAC-SHA256 signatures keyed with secret,
// and the fields of workflow_run and workflow_job deliveries the bot reads.
type fakeWebhook struct{ secret string }

var _ WebhookReader = fakeWebhook{}

func (fakeWebhook) Handles(event string) bool {
	return event == "workflow_run" || event == "workflow_job" || event == "ping"
}

func (h fakeWebhook) Read(w http.ResponseWriter, r *http.Request, limit int64) (*Event, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w (%w)", ErrTooLarge, err)
	}
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(body)
	if got := r.Header.Get("X-Hub-Signature-256"); h.secret == "" || got != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		return nil, fmt.Errorf("%w: X-Hub-Signature-256 does not match the body", ErrBadSignature)
	}
	var p struct {
		Action      string `json:"action"`
		WorkflowRun *struct {
			EventRun
			Number  int `json:"run_number"`
			Attempt int `json:"run_attempt"`
		} `json:"workflow_run"`
		WorkflowJob *EventJob `json:"workflow_job"`
		Repository  struct {
			FullName string `json:"full_name"`
		} `json:"repository"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("malformed delivery: %w", err)
	}
	ev := &Event{Delivery: r.Header.Get("X-GitHub-Delivery"), Event: r.Header.Get("X-GitHub-Event"), Action: p.Action,
		Repo: p.Repository.FullName, Job: p.WorkflowJob}
	if wr := p.WorkflowRun; wr != nil {
		run := wr.EventRun
		run.Number, run.Attempt = wr.Number, wr.Attempt
		ev.Run = &run
	}
	return ev, nil
}
