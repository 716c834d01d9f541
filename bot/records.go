package bot

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
)

// Store is what the bot needs of persistence and the job queue, in the bot's own types.
// The store package implements it (its record types are these); tests use the in-memory
// fake beside the consumer (fake_test.go).
type Store interface {
	// Accept persists t as a durable job unless (source, deliveryID) was accepted
	// before; false, and nothing persisted, for a repeat.
	Accept(ctx context.Context, source, deliveryID string, t Task) (bool, error)
	SaveDiagnosis(ctx context.Context, d *Diagnosis) (int64, error)
	Diagnosis(ctx context.Context, id int64) (*Diagnosis, error)
	SetDiagnosisMessage(ctx context.Context, id int64, channel, ts string, threadID int64) error
	SaveFeedback(ctx context.Context, f Feedback) error
	ClaimPost(ctx context.Context, key string, now time.Time) (Post, error)
	FinishPost(ctx context.Context, key, channel, ts string) error
	LookupPost(ctx context.Context, key string) (Post, error)
	OpenThread(ctx context.Context, fingerprint, repo, workflow, branch, ruleID, channel string, since, now time.Time) (Thread, bool, error)
	ReclaimThread(ctx context.Context, id int64, olderThan, now time.Time) (bool, error)
	// SetThreadParent records a thread's parent; an empty ts keeps a recorded one.
	SetThreadParent(ctx context.Context, id int64, ts string, diagnosisID int64) error
	AddToThread(ctx context.Context, id int64, memberKey string, now time.Time) (Thread, bool, error)
	AddMember(ctx context.Context, id int64, m Member, now time.Time) (Thread, bool, error)
	TakeBatch(ctx context.Context, id, expect int64, owner string, now time.Time) (int64, []Member, error)
	BatchMembers(ctx context.Context, id, batch int64) ([]Member, error)
	FinishBatch(ctx context.Context, id, batch int64, channel, ts string) error
	ReclaimBatch(ctx context.Context, id, batch int64, owner string, olderThan, now time.Time) (bool, error)
	Thread(ctx context.Context, id int64) (Thread, error)
	OpenThreadsFor(ctx context.Context, repo, workflow, branch string) ([]Thread, error)
	ResolveThread(ctx context.Context, id, run int64, at time.Time) (bool, error)
	AckThread(ctx context.Context, id int64, user string, at time.Time) (Thread, error)
	Stats(ctx context.Context, now time.Time) (Stats, error)

	// RecordAnswer learns from a stored answer, once per diagnosis: it keeps log (cut
	// and redacted by the store) so that feedback can make the answer a case, and counts
	// an unknown answer (learn.Unknown) in the group of its fingerprint, which it returns.
	RecordAnswer(ctx context.Context, diagnosisID int64, res *diagnose.Result, log string, at time.Time) (string, error)
	// SaveCase makes a diagnosis's answer a case from feedback on it (source
	// learn.SourceFixed or learn.SourceWrong, picked the rule named instead); false, and
	// no error, when no log was kept for it.
	SaveCase(ctx context.Context, diagnosisID int64, source, picked, user string, at time.Time) (bool, error)
	// UnknownGroups are the largest groups of unknown answers since since, at most limit.
	UnknownGroups(ctx context.Context, since time.Time, limit int) ([]learn.Group, error)
	// RulePrecision is, per rule, how often feedback since since said it was right and
	// wrong.
	RulePrecision(ctx context.Context, since time.Time) ([]learn.Precision, error)
}

// ErrNotFound is wrapped by a Store's error when the record asked for does not exist.
var ErrNotFound = errors.New("store: not found")

// Task is one unit of durable work: the bot decides what Kind and Payload mean.
type Task struct {
	// ID is the queue's job id (filled when handed to Handle).
	ID int64
	// Kind names the work: TaskSlack, TaskGitHub or TaskFlush.
	Kind string
	// Payload is the work's input as JSON. Handle gets back exactly the bytes that were
	// accepted (an empty payload becomes null).
	Payload json.RawMessage
	// Attempt is 1 on the first run (filled when handed to Handle). A snooze does not
	// use up an attempt.
	Attempt int
	// MaxAttempts is how many attempts the job has in all (filled when handed to Handle).
	MaxAttempts int
}

// Thread is a triage thread: one Slack thread per failure fingerprint per channel, for
// failures within a window, until a passing run resolves it.
type Thread struct {
	ID          int64
	Fingerprint string
	Repo        string
	Workflow    string
	Branch      string
	RuleID      string
	Channel     string
	// ParentTS is the thread's parent message, empty until it is posted.
	ParentTS          string
	ParentDiagnosisID int64
	// Count is how many distinct members (failures) AddToThread has added.
	Count   int
	FirstAt time.Time
	LastAt  time.Time
	// ClaimedAt is when a job last took on posting the parent (see ReclaimThread).
	ClaimedAt time.Time
	AckedBy   string
	AckedAt   time.Time
	// ResolvedRun and ResolvedAt say which run fixed it; zero while open.
	ResolvedRun int64
	ResolvedAt  time.Time
	// Replies is the number of the last reply batch taken (TakeBatch), RepliesPosted the
	// last one posted (FinishBatch); ReplyAt is when the last batch was taken and
	// ReplyOwner who took it and must post it.
	Replies       int64
	RepliesPosted int64
	ReplyAt       time.Time
	ReplyOwner    string
}

// Member is one failure of a triage thread.
type Member struct {
	Key string
	// Label names the failure in a reply that lists several (the bot decides its form).
	Label string
	// Batch is the reply batch that named it: BatchPending until TakeBatch assigns one,
	// BatchNone for a member that is never batched (the failure the parent shows).
	Batch int64
}

// Batch values of a Member that are not a batch number.
const (
	BatchPending int64 = 0
	BatchNone    int64 = -1
)

// Post makes a side effect (a Slack message) happen once across retries and crashes:
// a job claims the post's key before posting and finishes it after.
type Post struct {
	Key string
	// Channel and TS locate the message once Done.
	Channel string
	TS      string
	// Done is set by FinishPost: the message exists.
	Done bool
	// Claims counts ClaimPost calls before Done; above 1, an earlier attempt may have
	// posted without recording it, so the caller looks before posting again.
	Claims int
	// ClaimedAt is when the post was first claimed.
	ClaimedAt time.Time
}

// Diagnosis is one diagnosed failure as posted or answered.
type Diagnosis struct {
	// ID is the store's id, set by SaveDiagnosis.
	ID int64
	// Key makes saving idempotent: a second save with the same Key keeps the first row.
	Key string
	// Source is "slack" or "github".
	Source string
	// Repo, RunID, Attempt, Workflow, Branch and Job say which run failed (GitHub).
	Repo     string
	RunID    int64
	Attempt  int
	Workflow string
	Branch   string
	Job      string
	// RuleID, Verdict and Confidence summarize the result.
	RuleID     string
	Verdict    string
	Confidence float64
	// Evidence is a redacted excerpt (the caller redacts); kept up to 4 KiB.
	Evidence string
	// Result is the redacted Result JSON for re-rendering; at most 512 KiB.
	Result []byte
	// Channel and TS locate the Slack message showing it; ThreadID its triage thread.
	Channel  string
	TS       string
	ThreadID int64
	// CreatedAt is when it was diagnosed (now when zero at save).
	CreatedAt time.Time
}

// Feedback is a person's verdict on a stored diagnosis: the one type the chat adapter
// hands the bot (Backend.Feedback) and the bot hands the store (Store.SaveFeedback).
type Feedback struct {
	DiagnosisID int64
	User        string
	// Kind is FeedbackFixed (the fix worked: the diagnosis was right) or FeedbackWrong.
	Kind string
	// RuleID is the cause the person picked instead, for "wrong"; "other" when none
	// of the rules fits, empty when they did not say.
	RuleID string
	// Note is their free text, for "wrong" (the bot redacts it before storing).
	Note string
	// CreatedAt is when it was given (the bot's clock; now when zero at save).
	CreatedAt time.Time
}

// Feedback kinds.
const (
	FeedbackFixed = "fixed"
	FeedbackWrong = "wrong"
)

// RuleStats is one rule's figures over the last 30 days.
type RuleStats struct {
	RuleID string
	// Count7 and Count30 count diagnoses naming the rule in the last 7 and 30 days.
	Count7, Count30 int
	// Fixed and Wrong count feedback given in the last 30 days on diagnoses naming the rule.
	Fixed, Wrong int
	// Resolved counts the rule's threads resolved in the last 30 days, and
	// MedianTimeToFix is their median ResolvedAt-FirstAt.
	Resolved        int
	MedianTimeToFix time.Duration
}

// Stats are the figures behind `/pubdoc stats`.
type Stats struct {
	// Rules lists every rule with a diagnosis, feedback or resolved thread in the last
	// 30 days, by Count30 descending, then rule id. Diagnoses without a rule are counted
	// in the totals only.
	Rules []RuleStats
	// Total7 and Total30 count diagnoses in the last 7 and 30 days.
	Total7, Total30 int
	// Threads30 counts threads opened in the last 30 days; Resolved30 threads resolved in
	// them, with MedianTimeToFix their median ResolvedAt-FirstAt.
	Threads30, Resolved30 int
	MedianTimeToFix       time.Duration
}
