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
// A chat request gets Config.ChatTimeout (DefaultChatTimeout, 90 s, under the store's job
// timeout): past it the person is answered with what was read by then, or told the
// request took too long, and the job is given up rather than retried. The engine gets the
// job's context throughout (DiagnoseRun, files, text), so a cancelled or timed-out job
// stops scanning.
//
// "Open a fix PR" (fixpr.go): a click on a diagnosis with a patch is a durable job
// (TaskFixPR, FixPRBackend.RequestFixPR) that reads the run's files again, makes the
// rule's patch again (diagnose/patch) and has the GitHub App push it on
// pubdoc/fix-<rule>-<sha7> and open a pull request into the run's branch (FixPROpener,
// bot/gha's Client), then replies in the thread with the link; without the App's write
// permissions it replies with the patch and the permissions to grant. The branch name, the
// post records (fixpr:…) and postOnce make retries and double clicks open one pull request
// and say it once.
//
// The package links no adapter. It declares what it needs of each as its own small
// interface, in its own types (Run, Job, Event, Task, Thread, Diagnosis, Feedback, …):
// Store (the store package implements it; its record types are these), GitHub and
// WebhookReader (bot/gha's Client and Webhook), Registry (bot/registry's Client.ForBot)
// and Messenger (bot/slackbot, which also calls Backend). Each has an in-memory fake
// beside its tests (fake_test.go, fake_store_test.go); TestBotImportsNoAdapters fails if
// go-github, pgx, River, SQLite or slack-go is linked again, and depguard refuses an
// import of an adapter package. The adapters import bot, so the tests that drive the real
// ones are in package bot_test (adapters_test.go, flood_test.go). Slack's channel ids
// mean nothing here: the adapter says whether a request is a DM (Request.Direct).
package bot
