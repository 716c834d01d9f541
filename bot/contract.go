package bot

import (
	"context"
	"errors"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
)

// Request is one ask from a person: a pasted log, a shared file, a run URL. The Slack
// adapter builds it from an event, a slash command or a shortcut; it is persisted as a job
// before Slack gets its ack, so every field is plain data.
type Request struct {
	// Kind is how it came in: "mention", "dm", "file", "shortcut" or "command".
	Kind string `json:"kind"`
	// DeliveryID deduplicates: Slack's event_id, or for commands and shortcuts a key
	// built from the trigger_id.
	DeliveryID string `json:"delivery_id"`
	TeamID     string `json:"team_id,omitempty"`
	Channel    string `json:"channel"`
	// Direct is true for a message to the bot alone (a DM): a file shared there is a
	// question, while one shared in a channel is answered only when it names a known
	// cause. The adapter decides it; the bot reads nothing into a channel's id.
	Direct bool   `json:"direct,omitempty"`
	User   string `json:"user"`
	// ThreadTS is the message the reply goes under: the message's thread_ts when it is
	// in a thread, else its own ts. Empty for a slash command (replies go to the channel).
	ThreadTS string `json:"thread_ts,omitempty"`
	// Text is the message text with the bot's own mention removed: a pasted log, a run
	// or job URL, or both.
	Text string `json:"text,omitempty"`
	// Files are files shared with the message (fetched by the worker, not the handler).
	Files []File `json:"files,omitempty"`
	// ResponseURL is Slack's response_url for commands and shortcuts: the fallback when
	// the bot may not post in the channel.
	ResponseURL string `json:"response_url,omitempty"`
}

// File is a file shared in Slack.
type File struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Mimetype string `json:"mimetype,omitempty"`
	Size     int64  `json:"size"`
	// URL is url_private_download: it needs the bot token.
	URL string `json:"url"`
}

// Target is where a reply goes.
type Target struct {
	Channel string
	// ThreadTS makes the reply a thread reply; empty posts to the channel.
	ThreadTS string
	// User, for ephemeral messages: the only person who sees it.
	User string
	// ResponseURL, when set, is used for ephemeral messages and as the fallback when
	// the bot may not post in the channel.
	ResponseURL string
}

// Reply is what Pubdoc says, before any transport renders it. Exactly one of Result,
// Thread or Text leads; the Slack adapter renders Block Kit from it, with a plain-text
// fallback, and uploads what does not fit as a file.
type Reply struct {
	// Result is a diagnosis to show: verdict, top cause with confidence, evidence, fix,
	// next check, other candidates, refs and rule id.
	Result *diagnose.Result
	// DiagnosisID identifies the stored diagnosis; non-zero adds the feedback buttons
	// ("Fixed it", "Wrong cause") whose values carry it.
	DiagnosisID int64
	// JobURL links evidence of a run's job log (evidence lines link to it).
	JobURL string
	// RunURL names the run the diagnosis is about, shown in the header.
	RunURL string
	// Title heads the message when set (e.g. "acme/cli · release.yml failed on main").
	Title string
	// Thread, on a triage parent, is the line under it: how many failures since when,
	// who is on it, resolved or not; with ThreadID it adds the "I'm on it" button.
	Thread *ThreadStatus
	// Text is a plain message (help, errors, "fixed in run #12").
	Text string
	// Key is an idempotency key the transport may attach to the message (Slack message
	// metadata) so that FindPosted can find it again after a crash.
	Key string
}

// ThreadStatus is the state line of a triage parent.
type ThreadStatus struct {
	ThreadID int64
	Count    int
	Since    time.Time
	AckedBy  string
	// ResolvedRun and ResolvedAt are set once a later run of the workflow passed.
	ResolvedRun int64
	ResolvedAt  time.Time
}

// Messenger is what the bot needs of a chat transport. The Slack adapter implements it
// with slack-go; tests use a fake beside the consumer.
type Messenger interface {
	// Post sends reply to t and returns the message's ts. Content beyond the transport's
	// limits goes up as a file in the same thread.
	Post(ctx context.Context, t Target, r Reply) (ts string, err error)
	// Update replaces the message at ts.
	Update(ctx context.Context, channel, ts string, r Reply) error
	// Ephemeral shows r to t.User only (or through t.ResponseURL).
	Ephemeral(ctx context.Context, t Target, r Reply) error
	// FindPosted looks for a message Post sent with Reply.Key == key in channel (and
	// thread, when threadTS is set) since the given time; it lets a retried job tell
	// whether its earlier attempt's post went through before a crash.
	FindPosted(ctx context.Context, channel, threadTS, key string, since time.Time) (ts string, found bool, err error)
	// Download fetches a shared file's bytes, at most max of them (ErrTooLarge beyond).
	Download(ctx context.Context, f File, max int64) ([]byte, error)
}

// ErrTooLarge is wrapped by an adapter's error when what it reads is over its cap: a
// shared file (Messenger.Download), a webhook body (WebhookReader.Read).
var ErrTooLarge = errors.New("file too large")

// RetryAfterError is implemented by errors that say when to try again (Slack 429 with
// Retry-After, GitHub rate limits). The store snoozes the job for that long.
type RetryAfterError interface {
	error
	RetryAfter() time.Duration
}

// PermanentError is implemented by errors that no retry can mend (a run whose logs
// expired, a channel the bot was removed from). The store gives the job up.
type PermanentError interface {
	error
	Permanent() bool
}

// RuleOption is one rule offered by the "what was the real cause?" picker and by
// `/pubdoc kb`.
type RuleOption struct {
	ID    string
	Title string
}

// Backend is what a chat adapter's HTTP handlers need of the bot while Slack waits for
// its ack: persisting a request, and the few answers that must be synchronous (the
// picker's options, help, the knowledge-base search, stats, feedback and the "I'm on
// it" button).
type Backend interface {
	// Accept persists req as a durable job unless its DeliveryID was seen before; it
	// returns false (and persists nothing) for a repeat.
	Accept(ctx context.Context, req Request) (bool, error)
	// SearchRules ranks rules by loose words, best first.
	SearchRules(query string, limit int) []RuleOption
	// Feedback records a verdict and returns what to tell the person.
	Feedback(ctx context.Context, f Feedback) (string, error)
	// Acknowledge records that user took the triage thread and refreshes its parent.
	Acknowledge(ctx context.Context, threadID int64, user string) error
	// Stats is the text of `/pubdoc stats`.
	Stats(ctx context.Context) (string, error)
	// Help is the text of `/pubdoc help`.
	Help() string
}
