// Package slackbot is Pubdoc's Slack adapter and the only package that imports slack-go.
// It turns what Slack sends into bot.Requests and bot.Backend calls, and implements
// bot.Messenger: the worker's replies rendered as Block Kit and posted through the Web API.
//
// Inbound, over HTTP (Routes) or Socket Mode (RunSocketMode), the same dispatchers:
//
//	POST /slack/events         signature → url_verification: echo the challenge
//	                                     → app_mention, a DM, a *.log/*.txt/*.zip shared in a
//	                                       channel → bot.Request{DeliveryID: event_id}
//	                                       → Backend.Accept (durable job) → 200
//	                                       (500 when Accept fails, so that Slack retries)
//	POST /slack/commands       /pubdoc help | kb WORDS | stats → answered at once (ephemeral)
//	                           /pubdoc <log or run URL> → Accept → "Diagnosing…"
//	POST /slack/interactivity  "Diagnose this log" shortcut → Accept
//	                           "Fixed it" → Backend.Feedback → ephemeral thanks
//	                           "Wrong cause" → views.open: the rule picker modal
//	                           picker query (block_suggestion) → Backend.SearchRules
//	                           modal submitted → Backend.Feedback → empty 200 closes it
//	                           "I'm on it" → Backend.Acknowledge
//	                           "Open a fix PR" → bot.FixPRBackend.RequestFixPR (durable job)
//	                                             → ephemeral "Opening a pull request…"
//
// Every HTTP request is bounded (MaxRequestBytes) and must carry Slack's v0 signature
// (HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret, the timestamp within five
// minutes); anything else gets 401 and reaches nothing. Handlers answer within Slack's
// three seconds: the diagnosis itself happens later, in the job Accept persisted. A
// refused request is logged once with its reason and counted through the Backend's
// Rejected, when it has one (pubdoc_events_rejected_total{source="slack"}). Socket
// Mode acknowledges an envelope once its request is persisted, with the same answer the
// HTTP endpoint would give; a dropped or refused connection is retried with a backoff,
// and SocketModeReady (the readiness probe) fails until it is back. CheckToken (auth.test)
// lets the server refuse to start on a bot token Slack refuses.
//
// Outbound (Messenger):
//
//	Post        render (blocks.go) → chat.postMessage (thread_ts, metadata
//	            {event_type: pubdoc_post, event_payload: {key}}) → when the reply did not fit
//	            Slack's limits (3,000 characters a section, 50 blocks, ~40,000 in all), the
//	            shortened message is posted and the full Markdown report
//	            (diagnose.RenderMarkdown) goes up in the thread: files.getUploadURLExternal →
//	            POST to upload_url → files.completeUploadExternal. not_in_channel or
//	            channel_not_found with a response_url → the reply goes there instead.
//	Update      chat.update with the same rendering
//	Ephemeral   chat.postEphemeral, else the response_url
//	FindPosted  conversations.replies / conversations.history with include_all_metadata:
//	            the message whose metadata carries the key
//	Download    GET url_private_download with the bot token, capped; the token goes only to
//	            https://files.slack.com or the API URL's host
//
// Errors say what was being done. A 429 becomes a *RateLimitError (bot.RetryAfterError,
// with Slack's Retry-After); refusals no retry can mend (channel_not_found, not_in_channel,
// invalid_auth, missing_scope, invalid_blocks…) an *APIError whose Permanent is true;
// network failures and 5xx stay transient.
//
// Tokens and the signing secret are Secrets (they print as <secret>) and never reach a
// log, an error or a message; logs carry ids, kinds and sizes, never message text.
package slackbot
