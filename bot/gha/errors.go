package gha

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"
	"github.com/pubdoc/pubdoc/bot"
)

// Sentinel errors a caller can test with errors.Is and show as they are. FetchRun's errors
// wrap one of them (when one applies) together with GitHub's own answer, and say what was
// being fetched. Each of the first four is also the bot's kind of it (bot.ErrRunNotFound,
// bot.ErrLogsExpired, …), which is how the bot tells them apart.
var (
	// ErrNotFound: GitHub answered 404. The run or repository does not exist, or this
	// token (or App installation) cannot see it: GitHub answers 404, not 403, for a
	// private repository the caller has no access to.
	ErrNotFound error = &kindError{"not found on GitHub: the run or repository does not exist, or these credentials cannot see it", bot.ErrRunNotFound}
	// ErrLogsExpired: the logs are gone (410, or 404 from a logs endpoint of a run that
	// exists). GitHub keeps logs 90 days by default; a repository can set fewer.
	ErrLogsExpired error = &kindError{"the logs are no longer available: GitHub keeps logs 90 days by default, and a repository can keep them for less", bot.ErrLogsExpired}
	// ErrUnauthorized: GitHub rejected the credentials (401).
	ErrUnauthorized error = &kindError{"GitHub rejected the credentials: the token is invalid, expired or revoked, or the App's key or id is wrong", bot.ErrGitHubUnauthorized}
	// ErrForbidden: GitHub refused for a reason other than a rate limit (403), usually a
	// missing permission: reading runs and logs needs actions: read, the workflow file
	// contents: read.
	ErrForbidden error = &kindError{"GitHub refused the request: the credentials lack a permission (actions: read for runs and logs, contents: read for workflow files)", bot.ErrGitHubForbidden}
	// ErrNoCredentials: New was given neither a token nor an App.
	ErrNoCredentials = errors.New("no GitHub credentials: set GITHUB_TOKEN, or GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY")
	// ErrTooLarge: a response was larger than this package is willing to read.
	ErrTooLarge error = &kindError{"response too large", bot.ErrTooLarge}
	// ErrInvalidRunURL: ParseRunURL was given something that is not a run or job URL.
	ErrInvalidRunURL = errors.New("not a GitHub Actions run URL")
)

// kindError is a sentinel of this package that is also one of the bot's kinds of
// failure: its own text, and errors.Is finds kind through it.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// RateLimitError says GitHub is rate-limiting these credentials and when to try again.
// Primary limits are the hourly quota (403 or 429 with X-RateLimit-Remaining: 0);
// secondary limits guard against bursts (403 or 429 with Retry-After or a "secondary rate
// limit" message).
type RateLimitError struct {
	// Secondary is true for a secondary (burst) limit, false for the hourly quota.
	Secondary bool
	// Reset is when GitHub says requests will be accepted again; zero when it did not say.
	Reset time.Time
	// Limit is the hourly quota, for a primary limit; zero when unknown.
	Limit int
	// Message is GitHub's own wording.
	Message string

	err error
}

func (e *RateLimitError) Error() string {
	var b strings.Builder
	if e.Secondary {
		b.WriteString("GitHub secondary rate limit exceeded")
	} else {
		b.WriteString("GitHub API rate limit exceeded")
		if e.Limit > 0 {
			fmt.Fprintf(&b, " (%d requests an hour)", e.Limit)
		}
	}
	if !e.Reset.IsZero() {
		fmt.Fprintf(&b, "; try again after %s", e.Reset.UTC().Format(time.RFC3339))
	} else {
		b.WriteString("; try again in a few minutes")
	}
	if m := firstSentence(e.Message); m != "" {
		fmt.Fprintf(&b, " (GitHub: %s)", m)
	}
	return b.String()
}

// firstSentence keeps GitHub's message short: what follows the first sentence is
// boilerplate about contacting support.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}

// RateLimitReset is Reset: the bot's view of a rate limit (bot.RateLimited).
func (e *RateLimitError) RateLimitReset() time.Time { return e.Reset }

// Unwrap returns go-github's error (*github.RateLimitError, *github.AbuseRateLimitError or
// *github.ErrorResponse).
func (e *RateLimitError) Unwrap() error { return e.err }

// apiError is GitHub's answer to a request that failed, with the sentinel that names the
// outcome for people (nil when none applies).
type apiError struct {
	kind    error
	status  int
	message string
	cause   error
}

func (e *apiError) Error() string {
	var parts []string
	if e.kind != nil {
		parts = append(parts, e.kind.Error())
	}
	if e.status != 0 {
		s := fmt.Sprintf("HTTP %d", e.status)
		if m := strings.TrimSpace(e.message); m != "" {
			s += " " + m
		}
		parts = append(parts, "GitHub answered "+s)
	} else if e.cause != nil {
		parts = append(parts, e.cause.Error())
	}
	return strings.Join(parts, ": ")
}

func (e *apiError) Unwrap() []error {
	var errs []error
	if e.kind != nil {
		errs = append(errs, e.kind)
	}
	if e.cause != nil {
		errs = append(errs, e.cause)
	}
	return errs
}

// classify turns an error from go-github (or from ghinstallation, inside it) into one a
// person can act on. logs is true for the logs endpoints, where 404 means the logs are
// gone (the run itself was found a moment before).
func classify(err error, logs bool) error {
	if err == nil {
		return nil
	}
	var rl *github.RateLimitError
	if errors.As(err, &rl) {
		return &RateLimitError{Reset: rl.Rate.Reset.Time, Limit: rl.Rate.Limit, Message: rl.Message, err: err}
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		e := &RateLimitError{Secondary: true, Message: abuse.Message, err: err}
		if abuse.RetryAfter != nil {
			e.Reset = time.Now().Add(*abuse.RetryAfter).Truncate(time.Second)
		}
		return e
	}
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return classifyStatus(er.Response, er.Message, logs, err)
	}
	// The installation token is fetched inside the transport, so its failure arrives as
	// ghinstallation's error; GitHub's answer is in its Response.
	var he *ghinstallation.HTTPError
	if errors.As(err, &he) && he.Response != nil {
		resp := he.Response
		cerr := github.CheckResponse(resp) // reads at most 1 MiB of the body
		_ = resp.Body.Close()
		if cerr == nil {
			return err
		}
		var ger *github.ErrorResponse
		if errors.As(cerr, &ger) && ger.Response != nil {
			return classifyStatus(ger.Response, "creating an App installation token: "+ger.Message, false, err)
		}
		return classify(cerr, false)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &apiError{kind: ErrTooLarge, cause: err}
	}
	// go-github reports the non-302 answer of a logs endpoint this way when it is not
	// an ErrorResponse; keep the URL out (it is an API URL, but be uniform).
	var ue *url.Error
	if errors.As(err, &ue) {
		return &apiError{cause: ue.Err}
	}
	return err
}

func classifyStatus(resp *http.Response, message string, logs bool, cause error) error {
	status := resp.StatusCode
	h := resp.Header
	low := strings.ToLower(message)
	if status == http.StatusForbidden || status == http.StatusTooManyRequests {
		// go-github recognises a secondary limit by its documentation URL; GitHub does
		// not always send that, so also go by Retry-After and the message.
		if h.Get("Retry-After") != "" || strings.Contains(low, "secondary rate limit") || strings.Contains(low, "abuse") || status == http.StatusTooManyRequests {
			e := &RateLimitError{Secondary: true, Message: message, err: cause}
			if s := h.Get("Retry-After"); s != "" {
				if d, err := time.ParseDuration(s + "s"); err == nil {
					e.Reset = time.Now().Add(d).Truncate(time.Second)
				}
			}
			return e
		}
	}
	ae := &apiError{status: status, message: message, cause: cause}
	switch {
	case status == http.StatusGone:
		ae.kind = ErrLogsExpired
	case status == http.StatusNotFound && logs:
		ae.kind = ErrLogsExpired
	case status == http.StatusNotFound:
		ae.kind = ErrNotFound
	case status == http.StatusUnauthorized:
		ae.kind = ErrUnauthorized
	case status == http.StatusForbidden:
		ae.kind = ErrForbidden
	}
	return ae
}

// transient reports whether another endpoint is worth trying after err: not when the
// credentials are rate-limited, rejected or the caller gave up.
func transient(err error) bool {
	var rl *RateLimitError
	return !errors.As(err, &rl) && !errors.Is(err, ErrUnauthorized)
}
