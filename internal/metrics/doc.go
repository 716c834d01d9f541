// Package metrics counts what pubdoc serve does, for Prometheus to scrape at GET /metrics.
// It is the only package that imports client_golang.
//
// New builds a Metrics with its own registry (never the global default one, so tests and
// several servers in one process do not collide) holding pubdoc's counters, its
// diagnosis-time histogram, the durable-job gauge, and the Go runtime and process
// collectors. Handlers and workers call one method per thing that happened:
//
//	webhook / Slack handler   EventReceived, EventDeduplicated, EventRejected
//	diagnosis                 DiagnosisDone (duration by verdict, hit count by rule)
//	GitHub, Slack, registry   APIError (rate_limited | transient | permanent)
//	job worker                JobFinished; a periodic count of the queue: SetJobCounts
//	Slack replies             Posted
//	feedback in the store     a periodic count of it: SetRuleFeedback (per-rule right,
//	                          wrong and precision gauges)
//
// and Handler serves the registry in Prometheus' exposition format.
//
// Label values are bounded, since each new value is a new time series kept forever: a rule
// id longer than 80 characters or with characters outside [a-z0-9-], and any other label
// value outside [a-z0-9_-] or longer than 80 characters, is recorded as "other". Callers
// pass constants; the guard is for the bug that passes a log line or a repository name.
//
// A nil *Metrics is valid and records nothing, so code under test can be given nil.
package metrics
