// Package bot is the transport-neutral flow of `pubdoc serve`: a Request (a pasted log, a
// shared file, a run URL) or a GitHub workflow_run event becomes a durable job; the worker
// fetches what the diagnosis needs (the file, the run's logs and workflow), diagnoses,
// stores the diagnosis and posts a Reply through a Messenger. Failed runs are grouped
// into one triage thread per fingerprint (repository, workflow, rule id); a later green
// run of the same workflow and branch marks the thread fixed.
//
// Flood control (Flood): a thread gets at most one reply per window (ReplyEvery, 10 s),
// and its parent one count update with it; the failures in between are named together
// in that reply ("37 more runs failed the same way: #1001–1037"), posted by a durable
// flush job (TaskFlush), and every one is in the thread's members at once. Messages to a
// channel are paced (PostEvery, 1 s, one in flight) and Slack's Retry-After holds that
// channel alone: a job that would wait longer is snoozed, freeing its worker.
//
// Nothing reaches the store unredacted: a job's arguments (the pasted text, file names and
// URLs, a webhook's branch and names) go through diagnose.Redact when the job is accepted,
// and so do the diagnoses, feedback notes and a failed job's error text. POST
// /api/diagnose (APIHandler) stores nothing; it is off without a bearer token and takes a
// few requests at a time.
//
// The package imports neither slack-go nor the store's drivers: the Slack adapter
// (bot/slackbot) implements Messenger and calls Backend; the store (store/) runs the jobs.
package bot
