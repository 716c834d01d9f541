package weekly

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/digest"
)

// Defaults of a Config's zero fields.
const (
	// DefaultTick is how often the scheduler looks whether a digest is due.
	DefaultTick = time.Minute
	// DefaultLease is how long a digest's post stays with the replica that took it
	// before another may take it over.
	DefaultLease = 10 * time.Minute
	// MaxLate is how far behind its time a digest is still posted (after a restart or
	// an outage); later, that week's digest is skipped.
	MaxLate = 12 * time.Hour
)

// Store is what the scheduler needs of the store; *store.Store has it.
type Store interface {
	// DigestRecords reads the records of [from, to) for every route.
	DigestRecords(ctx context.Context, from, to time.Time) (bot.DigestRecords, error)
	// TakePost leases key's post: mine is true for the one caller that holds it now.
	TakePost(ctx context.Context, key string, now time.Time, lease time.Duration) (p bot.Post, mine bool, err error)
	// FinishPost marks key's post done.
	FinishPost(ctx context.Context, key, channel, ts string) error
}

// Poster is what the scheduler needs of the chat adapter; bot/slackbot's *Client has it.
type Poster interface {
	// PostDigest posts m to channel, with chart (a PNG; nil for none) as its image, and
	// key in the message's metadata; it returns the message's ts.
	PostDigest(ctx context.Context, channel string, m digest.Message, chart []byte, key string) (ts string, err error)
	// FindPosted looks for a message posted with key since the given time.
	FindPosted(ctx context.Context, channel, threadTS, key string, since time.Time) (ts string, found bool, err error)
}

// Config wires a Scheduler.
type Config struct {
	Routes *bot.Routes
	Store  Store
	Poster Poster
	// Titles maps rule ids to their titles, for the top causes; optional.
	Titles map[string]string
	// WebHost is the GitHub web host run links point at (github.com when empty).
	WebHost string
	// Now is the clock; default time.Now. After waits (default time.After): tests
	// replace both to run weeks in milliseconds.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// Tick is how often Run looks whether a digest is due (DefaultTick); Lease how long
	// a taken post is left to its taker (DefaultLease).
	Tick, Lease time.Duration
}

// Scheduler posts the routes' weekly digests.
type Scheduler struct {
	cfg    Config
	logger *slog.Logger
}

// New checks cfg and returns a Scheduler.
func New(cfg Config, logger *slog.Logger) (*Scheduler, error) {
	if cfg.Routes == nil || cfg.Store == nil || cfg.Poster == nil {
		return nil, errors.New("weekly digest: routes, a store and a poster are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.WebHost == "" {
		cfg.WebHost = "github.com"
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, logger: logger.With("component", "digest")}, nil
}

// Run posts every digest when it is due until ctx ends; it returns nil then. With no
// route asking for a digest it returns at once.
func (s *Scheduler) Run(ctx context.Context) error {
	if len(s.cfg.Routes.Digests()) == 0 {
		return nil
	}
	for {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			// Logged per route by RunDue; the next tick tries again.
			s.logger.Debug("a digest is not posted yet", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.cfg.After(s.cfg.Tick):
		}
	}
}

// RunDue posts the digests due now that no one has posted: for each route with a
// digest, the one of its latest due time when that is at most MaxLate ago. It returns
// how many it posted; its error joins the routes' errors (each is logged too).
func (s *Scheduler) RunDue(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	var errs []error
	posted := 0
	for i := range s.cfg.Routes.Routes {
		rt := &s.cfg.Routes.Routes[i]
		if rt.Digest == nil {
			continue
		}
		due := lastDue(rt.Digest.Schedule, now)
		if now.Sub(due) > MaxLate {
			continue
		}
		ok, err := s.post(ctx, i, due, now)
		if err != nil {
			s.logger.Warn("posting a weekly digest", "channel", rt.Channel, "due", due.Format(time.RFC3339), "err", err.Error())
			errs = append(errs, fmt.Errorf("the digest for %s due %s: %w", rt.Channel, due.Format(time.RFC3339), err))
		}
		if ok {
			posted++
		}
	}
	return posted, errors.Join(errs...)
}

// lastDue is the latest time at or before now the schedule was due.
func lastDue(sc bot.DigestSchedule, now time.Time) time.Time {
	due := sc.Next(now.AddDate(0, 0, -8))
	for {
		next := sc.Next(due)
		if next.After(now) {
			return due
		}
		due = next
	}
}

// Key is the post key of a route's digest for the week starting at start.
func Key(channel string, start time.Time) string {
	return "digest:" + channel + ":" + start.Format(time.DateOnly)
}

// post posts route i's digest due at due, once; posted is false when it was posted
// before or another replica holds it.
func (s *Scheduler) post(ctx context.Context, i int, due, now time.Time) (posted bool, err error) {
	rt := &s.cfg.Routes.Routes[i]
	sc := rt.Digest.Schedule
	start, end := sc.Window(due)
	key := Key(rt.Channel, start)
	p, mine, err := s.cfg.Store.TakePost(ctx, key, now, s.cfg.Lease)
	if err != nil || !mine || p.Done {
		return false, err
	}
	if p.Claims > 1 {
		// An earlier taker's lease ran out: it may have posted without recording it.
		ts, found, err := s.cfg.Poster.FindPosted(ctx, rt.Channel, "", key, due.Add(-time.Minute))
		if err != nil {
			return false, fmt.Errorf("looking for an earlier post: %w", err)
		}
		if found {
			return false, s.cfg.Store.FinishPost(ctx, key, rt.Channel, ts)
		}
	}
	recs, err := s.cfg.Store.DigestRecords(ctx, start, end)
	if err != nil {
		return false, err
	}
	week := s.week(i, recs, start, end, now)
	d := digest.Compute(week)
	chart, err := digest.Chart(d)
	if err != nil {
		// The message says it all without the picture.
		s.logger.Warn("drawing the digest's chart", "channel", rt.Channel, "err", err.Error())
		chart = nil
	}
	ts, err := s.cfg.Poster.PostDigest(ctx, rt.Channel, digest.Render(d), chart, key)
	if err != nil {
		return false, err
	}
	if err := s.cfg.Store.FinishPost(ctx, key, rt.Channel, ts); err != nil {
		return true, err
	}
	s.logger.Info("weekly digest posted", "channel", rt.Channel, "week", start.Format(time.DateOnly),
		"failures", d.Failures, "still_red", len(d.StillRed), "chart", chart != nil)
	return true, nil
}

// week is route i's part of the records: the failures of the repositories it is the
// route of, and the feedback and unknown answers of those repositories or of its
// channel (a pasted log names no repository).
func (s *Scheduler) week(i int, recs bot.DigestRecords, start, end, now time.Time) digest.Week {
	rt := &s.cfg.Routes.Routes[i]
	ours := func(repo, channel string) bool {
		if repo == "" {
			return channel == rt.Channel
		}
		return s.cfg.Routes.RouteFor(repo) == rt
	}
	w := digest.Week{Name: strings.Join(rt.Repos, ", "), Start: start, End: end, Location: rt.Digest.Schedule.Location,
		Now: now, Titles: s.cfg.Titles}
	for _, f := range recs.Failures {
		if f.Repo == "" || !ours(f.Repo, "") {
			continue
		}
		w.Failures = append(w.Failures, digest.Failure{At: f.At, Repo: f.Repo, Workflow: f.Workflow, Branch: f.Branch,
			RunID: f.RunID, RunURL: s.runURL(f.Repo, f.RunID), RuleID: f.RuleID, Verdict: f.Verdict,
			FixedAt: f.FixedAt, RedSince: f.RedSince})
	}
	for _, fb := range recs.Feedback {
		if ours(fb.Repo, fb.Channel) {
			w.Feedback = append(w.Feedback, digest.RuleFeedback{RuleID: fb.RuleID, Right: fb.Right, Wrong: fb.Wrong})
		}
	}
	byID := map[string]int{}
	for _, u := range recs.Unknown {
		if !ours(u.Repo, u.Channel) {
			continue
		}
		if j, ok := byID[u.Fingerprint]; ok {
			w.Unknown[j].Count += u.Count
			continue
		}
		byID[u.Fingerprint] = len(w.Unknown)
		w.Unknown = append(w.Unknown, digest.UnknownGroup{ID: u.Fingerprint, Count: u.Count, Example: u.Example})
	}
	return w
}

func (s *Scheduler) runURL(repo string, id int64) string {
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("https://%s/%s/actions/runs/%d", s.cfg.WebHost, repo, id)
}
