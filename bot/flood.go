package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Flood control defaults: Slack allows about one message per second per channel and
// fewer updates; a storm of one failure must not bury the channel.
const (
	DefaultPostEvery  = time.Second
	DefaultReplyEvery = 10 * time.Second
)

// Flood says how fast the bot may talk to one channel and one thread.
type Flood struct {
	// PostEvery spaces the messages (posts and updates) to one channel; default 1s.
	// Slack's Retry-After for a channel holds that channel only.
	PostEvery time.Duration
	// ReplyEvery is the coalescing window of a triage thread: at most one reply, and one
	// update of the parent's count, per window; the failures in between are named
	// together ("and 37 more runs failed the same way"). Default 10s.
	ReplyEvery time.Duration
	// MaxWait is the longest a job waits in place for its channel's turn; beyond it the
	// job is snoozed, and its worker freed for other channels. Default PostEvery.
	MaxWait time.Duration
}

func (f Flood) withDefaults() Flood {
	if f.PostEvery <= 0 {
		f.PostEvery = DefaultPostEvery
	}
	if f.ReplyEvery <= 0 {
		f.ReplyEvery = DefaultReplyEvery
	}
	if f.MaxWait <= 0 {
		f.MaxWait = f.PostEvery
	}
	return f
}

// pacer spaces the messages to each channel and holds a channel Slack rate-limited
// until its Retry-After has passed. One message to a channel is in flight at a time and
// the next may start PostEvery after the last one ended, so that the network's jitter
// cannot bring two arrivals at Slack closer than that. It is per process: replicas each
// keep their own.
type pacer struct {
	every, maxWait time.Duration
	now            func() time.Time
	sleep          func(context.Context, time.Duration) error

	mu   sync.Mutex
	next map[string]time.Time
	busy map[string]chan struct{}
}

func newPacer(f Flood) *pacer {
	return &pacer{every: f.PostEvery, maxWait: f.MaxWait, now: time.Now, sleep: sleepCtx,
		next: map[string]time.Time{}, busy: map[string]chan struct{}{}}
}

// errChannelBusy is wrapped by wait's error when a channel's turn is too far off.
var errChannelBusy = errors.New("the channel's message rate is used up")

// wait takes the channel's next turn, sleeping until it comes, and returns the function
// to call when the turn is over: sent says a message went to Slack, err is its outcome
// (Slack's Retry-After holds the channel that long). When the turn is further than maxWait (Slack asked
// to hold the channel, or other messages are queued), it takes nothing and returns a
// retry-after error for the job to be snoozed.
func (p *pacer) wait(ctx context.Context, channel string) (func(sent bool, err error), error) {
	if channel == "" {
		return func(bool, error) {}, nil
	}
	p.mu.Lock()
	sem, ok := p.busy[channel]
	if !ok {
		sem = make(chan struct{}, 1)
		p.busy[channel] = sem
	}
	p.mu.Unlock()
	if err := p.take(ctx, channel, sem); err != nil {
		return nil, err
	}
	p.mu.Lock()
	d := p.next[channel].Sub(p.now())
	p.mu.Unlock()
	if d > p.maxWait {
		<-sem
		return nil, retryAfter(d, fmt.Errorf("channel %s: %w for %s", channel, errChannelBusy, d.Round(time.Millisecond)))
	}
	if d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			<-sem
			return nil, err
		}
	}
	return func(sent bool, err error) {
		if !sent {
			<-sem
			return
		}
		p.mu.Lock()
		next := p.now().Add(p.every)
		var ra RetryAfterError
		if errors.As(err, &ra) {
			next = p.now().Add(max(ra.RetryAfter(), p.every))
		}
		if next.After(p.next[channel]) {
			p.next[channel] = next
		}
		p.mu.Unlock()
		<-sem
	}, nil
}

// take takes the channel's semaphore, waiting at most maxWait. A free semaphore is taken
// first: with both ready, select would pick the expired timer half the time (a short
// maxWait under load refused free channels).
func (p *pacer) take(ctx context.Context, channel string, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(p.maxWait)
	defer timer.Stop()
	select {
	case sem <- struct{}{}:
		return nil
	case <-timer.C:
		return retryAfter(p.every, fmt.Errorf("channel %s: %w (a message is in flight)", channel, errChannelBusy))
	case <-ctx.Done():
		return fmt.Errorf("waiting for the channel's turn: %w", ctx.Err())
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("waiting for the channel's turn: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}
