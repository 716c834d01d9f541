package bot

import "time"

// DigestRecords are what the store keeps of one week, for the weekly digest of every
// route (bot/weekly sorts them by route and hands them to bot/digest): the failed runs,
// the feedback per rule, and the unknown answers per fingerprint. Text in them is
// redacted (the store keeps nothing else).
type DigestRecords struct {
	Failures []DigestFailure
	Feedback []DigestFeedback
	Unknown  []DigestUnknown
}

// DigestFailure is one stored diagnosis of a failed run (a GitHub webhook's), with its
// triage thread's times.
type DigestFailure struct {
	// At is when it was diagnosed.
	At time.Time
	// Repo, Workflow (the workflow file's path) and Branch say which workflow failed;
	// RunID which run.
	Repo, Workflow, Branch string
	RunID                  int64
	// RuleID and Verdict are the diagnosis's top rule ("no-known-cause" for none) and
	// verdict.
	RuleID, Verdict string
	// FixedAt is when its thread was resolved (a later run passed), RedSince when the
	// thread began; zero when it has no thread or the thread is open.
	FixedAt, RedSince time.Time
}

// DigestFeedback counts the feedback given in the week on one rule's answers in one
// repository (a run's) or channel (a pasted log's, Repo empty).
type DigestFeedback struct {
	Repo, Channel string
	RuleID        string
	// Right counts "Fixed it", Wrong "Wrong cause".
	Right, Wrong int
}

// DigestUnknown counts the week's unknown answers (learn.Unknown) of one fingerprint in
// one repository or channel.
type DigestUnknown struct {
	Repo, Channel string
	// Fingerprint is the unknown group's id; Example its first example line.
	Fingerprint, Example string
	Count                int
}
