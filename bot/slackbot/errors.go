package slackbot

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
)

// ErrTooLarge is wrapped by Download's error when a file is larger than allowed.
var ErrTooLarge = bot.ErrTooLarge

// defaultRetryAfter is how long to wait after a 429 that did not say.
const defaultRetryAfter = 30 * time.Second

// RateLimitError says Slack is rate-limiting this app and when to try again. It
// implements bot.RetryAfterError, so the job is snoozed rather than failed.
type RateLimitError struct {
	// Doing is what was being done ("posting a reply").
	Doing string
	// Wait is Slack's Retry-After.
	Wait time.Duration
	err  error
}

var _ bot.RetryAfterError = (*RateLimitError)(nil)

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: Slack is rate-limiting this app; retry after %s", e.Doing, e.Wait)
}

// RetryAfter is how long Slack asked to wait.
func (e *RateLimitError) RetryAfter() time.Duration { return e.Wait }

// Unwrap returns slack-go's error.
func (e *RateLimitError) Unwrap() error { return e.err }

// APIError is Slack's refusal of a Web API call ({"ok":false,"error":"…"}), or an HTTP
// status it answered instead. Permanent reports whether retrying can mend it; it
// implements bot.PermanentError.
type APIError struct {
	// Doing is what was being done ("posting a reply").
	Doing string
	// Code is Slack's error code ("channel_not_found"), empty for an HTTP status.
	Code string
	// Status is the HTTP status, when Slack answered with one other than 200.
	Status int
	// Needed names the scope a missing_scope error asks for.
	Needed string
	// Hint, when set, says what to do instead of the usual hint for Code.
	Hint string
	err  error
}

var _ bot.PermanentError = (*APIError)(nil)

func (e *APIError) Error() string {
	switch {
	case e.Code != "" && e.Needed != "":
		return fmt.Sprintf("%s: Slack answered %s (the app needs the %s scope)", e.Doing, e.Code, e.Needed)
	case e.Code != "":
		msg := fmt.Sprintf("%s: Slack answered %s", e.Doing, e.Code)
		if hint := firstNonEmpty(e.Hint, codeHints[e.Code]); hint != "" {
			msg += " (" + hint + ")"
		}
		return msg
	default:
		return fmt.Sprintf("%s: Slack answered HTTP %d", e.Doing, e.Status)
	}
}

// Unwrap returns slack-go's error.
func (e *APIError) Unwrap() error { return e.err }

// Permanent is true for the errors no retry can mend: a channel the bot is not in or that
// is gone, a revoked or under-scoped token, a message Slack will never accept.
func (e *APIError) Permanent() bool {
	if e.Code != "" {
		return permanentCodes[e.Code]
	}
	// A 4xx other than 408 and 429 comes back the same the next time; 5xx may not.
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// permanentCodes are Slack error codes that the same request will get again.
var permanentCodes = map[string]bool{
	"channel_not_found":       true,
	"not_in_channel":          true,
	"is_archived":             true,
	"invalid_auth":            true,
	"not_authed":              true,
	"account_inactive":        true,
	"token_revoked":           true,
	"token_expired":           true,
	"missing_scope":           true,
	"no_permission":           true,
	"restricted_action":       true,
	"team_access_not_granted": true,
	"msg_too_long":            true,
	"invalid_blocks":          true,
	"invalid_blocks_format":   true,
	"invalid_metadata_format": true,
	"invalid_arguments":       true,
	"no_text":                 true,
	"too_many_attachments":    true,
	"user_not_in_channel":     true,
	"message_not_found":       true,
	"cant_update_message":     true,
	"edit_window_closed":      true,
	"expired_url":             true,
	"used_url":                true,
	"expired_trigger_id":      true,
	"ekm_access_denied":       true,
}

// codeHints say what to do about the codes people meet when installing the app.
var codeHints = map[string]string{
	"not_in_channel":    "invite the app to the channel with /invite @pubdoc",
	"channel_not_found": "the channel is gone, or private and the app is not in it",
	"is_archived":       "the channel is archived",
	"invalid_auth":      "SLACK_BOT_TOKEN is wrong",
	"token_revoked":     "the app was uninstalled or its token revoked",
	"account_inactive":  "the app was uninstalled or its token revoked",
}

// classify turns slack-go's error into one the job runner can act on: a *RateLimitError
// for 429, an *APIError for Slack's refusals (Permanent when retrying cannot help), and
// network failures wrapped as they are (transient).
func classify(doing string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		wait := rl.RetryAfter
		if wait <= 0 {
			wait = defaultRetryAfter
		}
		return &RateLimitError{Doing: doing, Wait: wait, err: err}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if se.Err == "ratelimited" {
			return &RateLimitError{Doing: doing, Wait: defaultRetryAfter, err: err}
		}
		return &APIError{Doing: doing, Code: se.Err, Needed: se.Needed, err: err}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code == http.StatusTooManyRequests {
			return &RateLimitError{Doing: doing, Wait: defaultRetryAfter, err: err}
		}
		return &APIError{Doing: doing, Status: sc.Code, err: err}
	}
	return fmt.Errorf("%s: %w", doing, err)
}

// slackCode is Slack's error code in err, or "".
func slackCode(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// tooLargeError is Download's refusal of a file over the cap.
type tooLargeError struct {
	name        string
	size, limit int64
}

func (e *tooLargeError) Error() string {
	size := "more than " + megabytes(e.limit)
	if e.size > e.limit {
		size = megabytes(e.size)
	}
	return fmt.Sprintf("downloading %s: file too large (%s MB; the limit is %s MB)", e.name, size, megabytes(e.limit))
}

func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Permanent is true: the same file is as large the next time.
func (e *tooLargeError) Permanent() bool { return true }

// megabytes prints n bytes in MB, with one decimal when it is not a whole number.
func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d", n>>20)
	}
	return fmt.Sprintf("%.1f", float64(n)/(1<<20))
}

// permanentError marks an error of this package's own making that no retry mends.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }
