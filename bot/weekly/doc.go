// Package weekly posts each route's weekly digest (issue 15, item 5) from the serving
// process: for every route with `digest:` in the routes file, when its schedule comes
// round (bot.DigestSchedule.Next), it reads the week's records from the store
// (bot.DigestRecords), keeps the route's, and hands them to bot/digest (Compute, Render,
// Chart); the chat adapter posts the message with the chart (bot/slackbot's PostDigest).
//
// One message per route per week, across restarts and replicas: the post is keyed
// "digest:<channel>:<week start>" and leased in the store (Store.TakePost) before it is
// made and marked done after; a taker that finds an earlier lease expired looks for the
// message (by the key in its metadata) before posting again. A digest more than MaxLate
// behind its time (the service was down) is skipped; the next one comes on schedule.
//
// The package holds the scheduling only: the clock is injected (Config.Now, Config.After)
// so tests run a week in milliseconds; the store and the chat adapter are the small
// interfaces Store and Poster.
package weekly
