package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// DefaultBaseURL is the public npm registry.
const DefaultBaseURL = "https://registry.npmjs.org/"

const (
	// DefaultMaxBodyBytes caps how much of one answer is read. The abbreviated document of
	// even a large package fits; a full one of a package with thousands of versions may not,
	// and is then refused with ErrTooLarge rather than read into memory.
	DefaultMaxBodyBytes int64 = 8 << 20
	// DefaultCacheTTL is how long an answer is reused: long enough to absorb a burst of
	// failures of one package, short enough that a fixed trusted publisher is seen soon.
	DefaultCacheTTL = 2 * time.Minute
	// defaultTimeout bounds a request when the caller gives no http.Client of its own.
	defaultTimeout = 20 * time.Second
	// maxCacheEntries bounds the cache of a long-running server.
	maxCacheEntries = 1024
)

// Errors a caller can test with errors.Is. Every error a Client returns wraps one of them
// and says what was being asked.
var (
	// ErrUnavailable means the registry could not be asked: the connection failed, the
	// request timed out or was cancelled, or the registry answered 429 or 5xx. The caller
	// should say so and fall back to the log.
	ErrUnavailable = errors.New("the registry could not be asked")
	// ErrNoToken means the trusted-publisher list was wanted but no token is configured.
	ErrNoToken = errors.New("no npm token is configured (NPM_TOKEN); the trusted-publisher list needs one")
	// ErrUnauthorized means the registry refused the token (401 or 403).
	ErrUnauthorized = errors.New("the registry refused the npm token")
	// ErrNotFound means the registry does not know the package (or will not show it to
	// this token). Package reports a missing package as Exists=false instead.
	ErrNotFound = errors.New("the registry does not know the package")
	// ErrTooLarge means an answer was longer than the cap and was not read.
	ErrTooLarge = errors.New("the registry's answer is too large")
	// ErrMalformed means an answer could not be decoded.
	ErrMalformed = errors.New("the registry's answer could not be decoded")
	// ErrInvalidName means a name is not a valid npm package name; nothing was sent.
	ErrInvalidName = errors.New("not a valid npm package name")
)

// Client asks one npm registry about packages. It is safe for concurrent use.
type Client struct {
	base    *url.URL // ends in "/"
	baseErr error
	// tok is a pointer so that printing a Client with %+v shows an address, not the token
	// (fmt cannot call String on an unexported field).
	tok     *Secret
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time
	ttl     time.Duration
	maxBody int64
	cache   *cache
}

// Option adjusts a Client made by New.
type Option func(*Client)

// WithClock replaces time.Now for the cache, so tests can move time.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithCacheTTL sets how long answers are reused; zero or less turns the cache off.
func WithCacheTTL(d time.Duration) Option { return func(c *Client) { c.ttl = d } }

// WithMaxBodyBytes sets the cap on one answer's size.
func WithMaxBodyBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// New returns a Client for the registry at baseURL (DefaultBaseURL when empty). token may be
// empty; it is sent as a bearer token to that registry only, and the trusted-publisher list
// needs it. hc nil means a client with a 20-second timeout; logger nil discards. The caller
// reads PUBDOC_NPM_REGISTRY_URL and NPM_TOKEN; New reads no environment. An unusable
// baseURL is reported by every call rather than here.
func New(baseURL string, token Secret, hc *http.Client, logger *slog.Logger, opts ...Option) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{hc: hc, log: logger, now: time.Now, ttl: DefaultCacheTTL, maxBody: DefaultMaxBodyBytes, cache: newCache()}
	if token != "" {
		c.tok = &token
	}
	c.base, c.baseErr = parseBase(baseURL)
	for _, o := range opts {
		o(c)
	}
	return c
}

func parseBase(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// The url package quotes the input, which may hold credentials: say less.
		return nil, fmt.Errorf("the registry URL is not a valid URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the registry URL %q is not an http(s) URL", u.Redacted())
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// BaseURL is the registry this Client asks, with any password in it hidden.
func (c *Client) BaseURL() string {
	if c.base == nil {
		return ""
	}
	return c.base.Redacted()
}

// endpoint joins the base with an already-escaped path.
func (c *Client) endpoint(escapedPath string) string {
	return c.base.String() + escapedPath
}

// answer is what get read: a status the caller decides about, and the capped body.
type answer struct {
	status int
	body   []byte
}

// get sends one GET and reads its body under the cap. Transport failures, timeouts, 429 and
// 5xx wrap ErrUnavailable; 401/403 wrap ErrUnauthorized; other statuses are the caller's.
func (c *Client) get(ctx context.Context, rawURL string, auth bool) (*answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	// The abbreviated document, as `npm install` asks for it; servers that do not know it
	// send the full one.
	req.Header.Set("Accept", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8")
	req.Header.Set("User-Agent", "pubdoc (+https://github.com/pubdoc/pubdoc)")
	if auth && c.tok != nil {
		req.Header.Set("Authorization", "Bearer "+string(*c.tok))
	}
	start := time.Now()
	res, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "registry request failed", "url", req.URL.Redacted(), "err", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer func() { _ = res.Body.Close() }()
	body, err := readCapped(res.Body, res.ContentLength, c.maxBody)
	c.log.DebugContext(ctx, "registry request", "url", req.URL.Redacted(), "status", res.StatusCode,
		"bytes", len(body), "duration", time.Since(start), "authenticated", req.Header.Get("Authorization") != "")
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: reading the answer (HTTP %d): %w", ErrUnavailable, res.StatusCode, err)
	}
	switch {
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return nil, fmt.Errorf("%w: HTTP %d%s", ErrUnavailable, res.StatusCode, c.said(body))
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: HTTP %d%s", ErrUnauthorized, res.StatusCode, c.said(body))
	}
	return &answer{status: res.StatusCode, body: body}, nil
}

// readCapped reads at most limit bytes and fails with ErrTooLarge past it, without reading
// the rest. A declared Content-Length over the cap fails before reading anything.
func readCapped(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared > limit {
		return nil, fmt.Errorf("%w: %d bytes declared, the cap is %s", ErrTooLarge, declared, mib(limit))
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %s", ErrTooLarge, mib(limit))
	}
	return body, nil
}

func mib(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// said is the registry's own short explanation from an error body, for error messages,
// with the token scrubbed in case a server echoes it back.
func (c *Client) said(body []byte) string {
	var doc struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	msg := doc.Error
	if msg == "" {
		msg = doc.Message
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if r := []rune(msg); len(r) > 200 {
		msg = string(r[:200]) + "…"
	}
	if msg == "" {
		return ""
	}
	return fmt.Sprintf(" (%q)", c.scrub(msg))
}

func (c *Client) scrub(s string) string {
	if c.tok == nil || *c.tok == "" {
		return s
	}
	return strings.ReplaceAll(s, string(*c.tok), secret.Redacted)
}

// seal is the last step of every exported method's error: it says what was being asked and
// makes sure the token is not in the text, keeping the chain for errors.Is.
func (c *Client) seal(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	host := ""
	if c.base != nil {
		host = " at " + c.base.Redacted()
	}
	wrapped := fmt.Errorf("registry: %s%s: %w", what, host, err)
	if msg := c.scrub(wrapped.Error()); msg != wrapped.Error() {
		return &scrubbed{msg: msg, err: wrapped}
	}
	return wrapped
}

// scrubbed is an error whose text had the token replaced; Unwrap keeps errors.Is working.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
