// Package gha reads a failed GitHub Actions run for the doctor: the run's metadata, its
// failed jobs and steps, each failed job's log, and the workflow files it ran. It is the
// only package that imports go-github and ghinstallation; everything it returns is plain
// data (Run, Job, byte slices), so the engine never sees a GitHub type. Run, Job, RunRef
// and WebhookEvent are the bot's types (aliases of bot.Run, …); the Client is the bot's
// GitHub and Webhook its WebhookReader, and the sentinel errors are also the bot's kinds
// (ErrNotFound is bot.ErrRunNotFound, …), so the bot sorts them without importing this
// package.
//
// How a run URL becomes a Run:
//
//	ParseRunURL    https://HOST/OWNER/REPO/actions/runs/ID[/job/JOB][/attempts/N] → RunRef
//	FetchRun       GET /repos/{o}/{r}/actions/jobs/{job}           (when a job was named)
//	               GET /repos/{o}/{r}/actions/runs/{id}[/attempts/N] → workflow path, event,
//	                                                                 head SHA, attempt
//	               GET …/runs/{id}[/attempts/N]/jobs                → jobs that failed or timed
//	                                                                 out, their failed steps
//	               GET …/actions/jobs/{job}/logs → 302 → signed URL  → the log, capped at
//	                   (else GET …/runs/{id}/attempts/N/logs → zip)    MaxLogBytes
//	               GET …/contents/{workflow path}?ref={head SHA}    → the workflow file, then
//	                                                                 each ./.github/workflows
//	                                                                 file it calls
//
// A pull request's failed checks: ParsePullURL reads https://HOST/OWNER/REPO/pull/N, and
// PullFailedRuns asks GET /repos/{o}/{r}/pulls/{n} for the head commit, then
// GET …/actions/runs?head_sha={sha} for its runs that failed or timed out (RunRefs for
// FetchRun).
//
// A fix pull request (OpenFixPR, pulls.go): as the GitHub App only, after
// GET /repos/{o}/{r}/installation shows contents and pull_requests write (and workflows
// write for a workflow file), it looks for a pull request or branch pubdoc/fix-… first,
// and only when neither exists creates the blobs, a tree on the failing commit's tree, one
// commit, the ref and the pull request. A 403 on a write wraps bot.ErrNoWritePermission.
//
// Authentication is a token (GITHUB_TOKEN), or a GitHub App: the App's JWT finds the
// repository's installation (GET /repos/{o}/{r}/installation), and a ghinstallation
// transport per installation mints and refreshes that installation's token. The
// repository's installation is remembered for an hour, the transport for the life of the
// Client, so a burst of failures costs one lookup and one token. The signed URLs that
// logs endpoints redirect to are fetched through the same transport without credentials:
// they authorize themselves, and the storage host behind them must not receive the token.
//
// Webhooks: ReadWebhook verifies a delivery's X-Hub-Signature-256 (an HMAC-SHA256 of the
// exact body; an empty secret is refused rather than skipped, sha1 alone is refused),
// bounds the body, and decodes workflow_run and workflow_job deliveries into WebhookEvent,
// plain data the bot persists as a job before it answers GitHub.
//
// Everything read is bounded: API answers by http.MaxBytesReader (16 MiB), logs by
// io.LimitReader at MaxLogBytes per job (Job.LogTruncated says when it cut), a run's logs
// together at four times that, workflow files at 1 MiB, the jobs listing at ten pages.
//
// Errors say what was being fetched and wrap a sentinel a caller can show as it is:
// ErrNotFound (404), ErrLogsExpired (410, or 404 from a logs endpoint: GitHub keeps logs
// 90 days by default), ErrUnauthorized (401), ErrForbidden (a missing permission),
// ErrTooLarge, or a *RateLimitError with the time to retry, for primary and secondary
// limits alike. Credentials are Secrets, which print as <secret>; no error or log line
// carries them.
package gha
