// Package digest computes and renders the weekly digest a route opts into (issue 15,
// item 5): the week's top causes, the median time from a failure to its fix, the runs
// still red, the rules people marked wrong, and the largest groups of failures no rule
// explains — one Slack message, and a chart of failures per day by cause.
//
// The package is pure: no store, no Slack, no clock. Data moves one way:
//
//	Week (records the bot read from the store for one route and one week)
//	  → Compute → Digest (figures: causes, incidents, still red, wrong rules, unknown groups, days)
//	  → Render  → Message (neutral blocks of Slack mrkdwn; bot/slackbot turns them into Block Kit)
//	  → Chart   → PNG bytes ("failures per day by cause", stacked bars, top five causes + other)
//
// When a digest is due and which week it covers is the route's (bot.DigestSchedule, from
// the routes file's `digest:`); the caller hands the week's bounds in Week.
//
// The chart is drawn by github.com/go-analyze/charts, which this package alone imports
// (.golangci.yml's depguard): it renders PNG in pure Go with its own embedded fonts.
// The records are expected redacted already (the store keeps redacted text only); Render
// still escapes Slack's control characters and shortens long lines.
package digest
