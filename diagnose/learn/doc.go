// Package learn turns Pubdoc's answers into what the team can learn from: fingerprints
// of the failures no rule explains, so that repeats of one unknown failure fall into one
// group, and the part of a log a case from feedback keeps.
//
// It is pure, like diagnose: plain functions over a log's text and a diagnose.Result, no
// network, no database, no clock.
//
// # Fingerprints
//
//	log + Result → failing lines   the lines the result cites (the top candidate's log
//	                               evidence, the line where the job failed) and the log's
//	                               error lines just before the failure, boilerplate such
//	                               as "Process completed with exit code 1" left out
//	             → redact          diagnose.Redact, before anything is kept
//	             → Normalize       numbers, versions, dates and times, hashes, base64-ish
//	                               tokens, UUIDs, paths (unix and windows), URLs' paths and
//	                               queries, package names and quoted strings become
//	                               placeholders (<n>, <ver>, <time>, <hash>, <path>, …)
//	             → Print           the sorted set of distinct normalized lines and its
//	                               SHA-256, cut to 16 hex digits: the group's id
//
// Three logs of one failure that differ in versions, paths, run ids and timestamps have
// one Print.ID; two different failures have two. Unknown says which answers are grouped:
// no known cause, or a top candidate under 0.5.
//
// # Cases
//
// Keep cuts a log to what a case needs to be diagnosed again: its head (where the runner,
// the tools and their versions are printed), the lines around every line the answer cites,
// and its tail, within a byte budget, with a marker line where lines were cut. CaseLabel
// says which cause feedback makes a case's label.
//
// # Records
//
// Case, Group, DayCount and Precision are the records the store keeps and returns, in a
// package both the store and its consumers (the bot, the CLI) may import; GroupsText is
// the unknown-failures section of `/pubdoc stats`.
package learn
