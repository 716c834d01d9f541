package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pubdoc/pubdoc/bot/gha"
)

// fakeMessenger records what the bot says. It sits beside the consumer, as the style
// guide asks; the Slack adapter's own tests drive slack-go against a fake Slack API.
type fakeMessenger struct {
	mu         sync.Mutex
	posts      []fakePost
	updates    []fakePost
	ephemerals []fakePost
	files      map[string][]byte
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

func (m *fakeMessenger) Download(_ context.Context, f File, limit int64) ([]byte, error) {
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

// fakeRuns serves runs by id.
type fakeRuns struct {
	mu    sync.Mutex
	runs  map[int64]*gha.Run
	err   error
	calls int
	// host is the GitHub web host it says it reads (WebHost); "" for github.com.
	host string
}

var _ RunFetcher = (*fakeRuns)(nil)

func (f *fakeRuns) WebHost() string { return f.host }

func (f *fakeRuns) FetchRun(_ context.Context, ref gha.RunRef) (*gha.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	r, ok := f.runs[ref.RunID]
	if !ok {
		return nil, fmt.Errorf("run %d: %w", ref.RunID, gha.ErrNotFound)
	}
	cp := *r
	cp.Ref = ref
	return &cp, nil
}

// rateLimited is a Slack 429.
type rateLimited struct{ d time.Duration }

func (e rateLimited) Error() string             { return "slack rate limited" }
func (e rateLimited) RetryAfter() time.Duration { return e.d }
