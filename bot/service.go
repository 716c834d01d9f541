package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/metrics"
)

// Task kinds: what a durable job carries.
const (
	TaskSlack  = "slack_request"
	TaskGitHub = "github_event"
)

// Config wires a Service.
type Config struct {
	Engine    *diagnose.Engine
	Store     Store
	Messenger Messenger
	// GitHub reads runs; nil when no GitHub credentials are configured (run URLs and
	// webhooks then get a message saying so).
	GitHub GitHub
	// Registry answers package and trusted-publisher questions; nil to skip them.
	Registry Registry
	Routes   *Routes
	Metrics  *metrics.Metrics
	// ThreadWindow: failures with one fingerprint within it share a triage thread.
	ThreadWindow time.Duration
	// MaxFileBytes caps a shared file.
	MaxFileBytes int64
	// ChatTimeout is how long a chat request may take to gather and diagnose; past it
	// the person is answered with what was read by then (or told it took too long), and
	// the job ends: a retry would take as long again. Default DefaultChatTimeout; keep it
	// under the store's job timeout, which would otherwise cut the job first and retry it.
	ChatTimeout time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Flood paces the messages to a channel and coalesces a thread's replies; zero
	// fields take the defaults (1 message per second per channel, one reply per thread
	// per 10 s).
	Flood Flood
}

// Service is the bot: it implements Backend for the chat adapter and Handle for the
// store's workers.
type Service struct {
	cfg    Config
	logger *slog.Logger
	flood  Flood
	pacer  *pacer
	bodies *bodyBudget // request bodies in flight (AdmitBody)
}

var _ Backend = (*Service)(nil)

// New checks cfg and returns the bot.
func New(cfg Config, logger *slog.Logger) (*Service, error) {
	if cfg.Engine == nil || cfg.Store == nil || cfg.Messenger == nil {
		return nil, errors.New("bot: an engine, a store and a messenger are required")
	}
	if cfg.Routes == nil {
		cfg.Routes = &Routes{}
	}
	if cfg.ThreadWindow <= 0 {
		cfg.ThreadWindow = 24 * time.Hour
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 32 << 20
	}
	if cfg.ChatTimeout <= 0 {
		cfg.ChatTimeout = DefaultChatTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	flood := cfg.Flood.withDefaults()
	return &Service{cfg: cfg, logger: logger, flood: flood, pacer: newPacer(flood),
		bodies: &bodyBudget{limit: DefaultInFlightBytes}}, nil
}

// Accept persists a chat request as a job; false for a delivery seen before.
func (s *Service) Accept(ctx context.Context, req Request) (bool, error) {
	if req.DeliveryID == "" {
		return false, errors.New("accepting a request: it has no delivery id")
	}
	s.cfg.Metrics.EventReceived("slack", req.Kind)
	raw, err := json.Marshal(req)
	if err != nil {
		return false, fmt.Errorf("encoding a request: %w", err)
	}
	// The pasted log, the file names and every other field are redacted before the job
	// is stored: the store keeps job arguments for days (and in its backups).
	payload, err := redactPayload(raw)
	if err != nil {
		return false, err
	}
	ok, err := s.cfg.Store.Accept(ctx, "slack", req.DeliveryID, Task{Kind: TaskSlack, Payload: payload})
	if err != nil {
		return false, fmt.Errorf("persisting a request: %w", err)
	}
	if !ok {
		s.cfg.Metrics.EventDeduplicated("slack")
	}
	return ok, nil
}

// AcceptWebhook persists a verified GitHub delivery as a job; false for a delivery seen
// before.
func (s *Service) AcceptWebhook(ctx context.Context, ev *Event) (bool, error) {
	s.cfg.Metrics.EventReceived("github", ev.Event)
	raw, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("encoding a delivery: %w", err)
	}
	payload, err := redactPayload(raw)
	if err != nil {
		return false, err
	}
	ok, err := s.cfg.Store.Accept(ctx, "github", ev.Delivery, Task{Kind: TaskGitHub, Payload: payload})
	if err != nil {
		return false, fmt.Errorf("persisting a delivery: %w", err)
	}
	if !ok {
		s.cfg.Metrics.EventDeduplicated("github")
	}
	return ok, nil
}

// Handle runs one job. Its error tells the store whether to retry (plain), wait
// (RetryAfterError) or give up (PermanentError); its text, which the store keeps, is
// redacted.
//
// The store logs each attempt's outcome once (job_id, outcome, duration, err); Handle
// counts it in pubdoc_jobs_finished_total{kind,outcome}.
func (s *Service) Handle(ctx context.Context, t Task) error {
	err := s.handle(ctx, t)
	s.cfg.Metrics.JobFinished(t.Kind, jobOutcome(ctx, t, err))
	return redactErr(err)
}

// Rejected counts a request an adapter refused before it reached the Service (a wrong
// signature, a body over its cap): pubdoc_events_rejected_total{source,reason}. The
// Slack adapter calls it; the adapter logs the refusal.
func (s *Service) Rejected(source, reason string) { s.cfg.Metrics.EventRejected(source, reason) }

// jobOutcome names how an attempt ended the way the store will act on it: completed,
// snoozed, given_up (a PermanentError, or a plain error on the last attempt) or retried
// (a plain error before the last attempt, or an attempt its context cut short).
func jobOutcome(ctx context.Context, t Task, err error) string {
	var ra RetryAfterError
	switch {
	case err == nil:
		return "completed"
	case ctx.Err() != nil:
		return "retried"
	case isPermanent(err):
		return "given_up"
	case errors.As(err, &ra):
		return "snoozed"
	case t.MaxAttempts > 0 && t.Attempt >= t.MaxAttempts:
		return "given_up"
	}
	return "retried"
}

func (s *Service) handle(ctx context.Context, t Task) error {
	switch t.Kind {
	case TaskSlack:
		var req Request
		if err := json.Unmarshal(t.Payload, &req); err != nil {
			return permanent(fmt.Errorf("decoding a request: %w", err))
		}
		return s.handleRequest(ctx, req, t.Attempt, t.MaxAttempts)
	case TaskGitHub:
		var ev Event
		if err := json.Unmarshal(t.Payload, &ev); err != nil {
			return permanent(fmt.Errorf("decoding a delivery: %w", err))
		}
		return s.handleWebhook(ctx, &ev, t.Attempt, t.MaxAttempts)
	case TaskFlush:
		var ft flushTask
		if err := json.Unmarshal(t.Payload, &ft); err != nil {
			return permanent(fmt.Errorf("decoding a flush: %w", err))
		}
		return s.flush(ctx, ft)
	case TaskFixPR:
		var r FixPRRequest
		if err := json.Unmarshal(t.Payload, &r); err != nil {
			return permanent(fmt.Errorf("decoding a fix PR request: %w", err))
		}
		return s.handleFixPR(ctx, r, t.Attempt, t.MaxAttempts)
	}
	return permanent(fmt.Errorf("unknown job kind %q", t.Kind))
}

// Help is the text of `/pubdoc help`.
func (s *Service) Help() string {
	return strings.Join([]string{
		"*Pubdoc* reads a failed publish log and names the cause, with the evidence and the fix.",
		"• `@pubdoc` + a pasted log (or a run link) — the answer comes in the thread",
		"• share a `.log`, `.txt` or run-log `.zip` file in a channel with me, or DM me",
		"• message shortcut *Diagnose this log* on anyone's message",
		"• `/pubdoc <log text | run or job URL>` — diagnose",
		"• `/pubdoc kb <words>` — search what I know (e.g. `/pubdoc kb token expired`)",
		"• `/pubdoc stats` — causes over 7 and 30 days, time to fix, how often I was right, the failures I could not explain",
		"Run URLs are read only for repositories this channel is allowed to ask about (PUBDOC_ROUTES).",
	}, "\n")
}

// SearchRules ranks rules by loose words; with no words, the first rules by id.
func (s *Service) SearchRules(query string, limit int) []RuleOption {
	kb := s.cfg.Engine.Knowledge()
	var out []RuleOption
	if strings.TrimSpace(query) == "" {
		ids := make([]RuleOption, 0, len(kb.Rules))
		for _, r := range kb.Rules {
			ids = append(ids, RuleOption{ID: r.ID, Title: r.Title})
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i].ID < ids[j].ID })
		return ids[:min(limit, len(ids))]
	}
	for _, h := range kb.Search(query, limit) {
		out = append(out, RuleOption{ID: h.Rule.ID, Title: h.Rule.Title})
	}
	return out
}

// Feedback records a verdict on a diagnosis.
func (s *Service) Feedback(ctx context.Context, f Feedback) (string, error) {
	if f.Kind != FeedbackFixed && f.Kind != FeedbackWrong {
		return "", fmt.Errorf("feedback kind %q is neither fixed nor wrong", f.Kind)
	}
	if f.RuleID != "" && f.RuleID != "other" && s.cfg.Engine.Knowledge().Rule(f.RuleID) == nil {
		return "", fmt.Errorf("feedback names rule %q, which does not exist", f.RuleID)
	}
	f.Note, f.CreatedAt = diagnose.Redact(f.Note), s.cfg.Now()
	err := s.cfg.Store.SaveFeedback(ctx, f)
	if errors.Is(err, ErrNotFound) {
		return "That diagnosis is no longer on record, so the feedback could not be kept.", nil
	}
	if err != nil {
		return "", fmt.Errorf("saving feedback: %w", err)
	}
	s.saveCase(ctx, f)
	if f.Kind == FeedbackFixed {
		return "Thanks — recorded that the fix worked.", nil
	}
	switch f.RuleID {
	case "", "other":
		return "Thanks — recorded that the cause was something else.", nil
	}
	return "Thanks — recorded that the cause was `" + f.RuleID + "`.", nil
}

// Acknowledge records who took a triage thread and refreshes its parent.
func (s *Service) Acknowledge(ctx context.Context, threadID int64, user string) error {
	th, err := s.cfg.Store.AckThread(ctx, threadID, user, s.cfg.Now())
	if err != nil {
		return fmt.Errorf("acknowledging thread %d: %w", threadID, err)
	}
	return s.refreshParent(ctx, th)
}

// Stats is the text of `/pubdoc stats`.
func (s *Service) Stats(ctx context.Context) (string, error) {
	st, err := s.cfg.Store.Stats(ctx, s.cfg.Now())
	if err != nil {
		return "", fmt.Errorf("reading stats: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Failures diagnosed:* %d in 7 days, %d in 30 days\n", st.Total7, st.Total30)
	fmt.Fprintf(&b, "*Triage threads (30 days):* %d, %d fixed", st.Threads30, st.Resolved30)
	if st.MedianTimeToFix > 0 {
		fmt.Fprintf(&b, ", median time to fix %s", humanDuration(st.MedianTimeToFix))
	}
	b.WriteString("\n")
	if len(st.Rules) == 0 {
		b.WriteString("Nothing diagnosed yet.")
		if learned := s.learnedStats(ctx); learned != "" {
			b.WriteString("\n" + learned)
		}
		return b.String(), nil
	}
	b.WriteString("*Causes* (7d / 30d · feedback precision · median time to fix)\n")
	for i, r := range st.Rules {
		if i == 15 {
			fmt.Fprintf(&b, "… and %d more\n", len(st.Rules)-i)
			break
		}
		prec := "no feedback"
		if n := r.Fixed + r.Wrong; n > 0 {
			prec = fmt.Sprintf("%.0f%% right (%d of %d)", 100*float64(r.Fixed)/float64(n), r.Fixed, n)
		}
		ttf := ""
		if r.MedianTimeToFix > 0 {
			ttf = " · " + humanDuration(r.MedianTimeToFix)
		}
		fmt.Fprintf(&b, "• `%s` %d / %d · %s%s\n", r.RuleID, r.Count7, r.Count30, prec, ttf)
	}
	b.WriteString(s.learnedStats(ctx))
	return b.String(), nil
}

func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	case d >= time.Minute:
		return fmt.Sprintf("%d min", int(d.Minutes()))
	}
	return d.Round(time.Second).String()
}

// permanentError marks an error no retry can mend.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

func permanent(err error) error { return &permanentError{err} }

// retryAfter asks the store to run the job again after d.
type retryAfterError struct {
	err error
	d   time.Duration
}

func (e *retryAfterError) Error() string             { return e.err.Error() }
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.d }

func retryAfter(d time.Duration, err error) error { return &retryAfterError{err, d} }

// isPermanent reports whether err says retrying cannot help.
func isPermanent(err error) bool {
	var pe PermanentError
	return errors.As(err, &pe) && pe.Permanent()
}
