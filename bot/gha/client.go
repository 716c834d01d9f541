package gha

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v89/github"
	"github.com/pubdoc/pubdoc/internal/secret"
)

const (
	// maxAPIBody bounds every REST API answer read through go-github (run, jobs page,
	// contents, installation, token). The largest, a contents answer for a 1 MiB file, is
	// under 1.5 MiB; a jobs page of 100 jobs with all their steps is well under that.
	maxAPIBody = 16 << 20
	// installationTTL bounds how long a repository's App installation id is trusted.
	installationTTL = time.Hour
	userAgent       = "pubdoc (+https://github.com/pubdoc/pubdoc)"
)

// Client reads workflow runs from GitHub's REST API with a token or as a GitHub App.
// It is safe for concurrent use.
type Client struct {
	logger      *slog.Logger
	maxLogBytes int64
	// download fetches the signed URLs that logs endpoints redirect to, through the same
	// transport as the API but without credentials: the URL authorizes itself, and the
	// storage host behind it must not receive the token.
	download *http.Client
	redact   *redactor
	// webHost is the host of the run pages this API serves (WebHost).
	webHost string

	// Exactly one of token or app is set.
	token *github.Client
	app   *appAuth
}

// appAuth holds the GitHub App's transports: the JWT one finds a repository's
// installation; one installation transport per installation mints and refreshes that
// installation's token.
type appAuth struct {
	apps    *ghinstallation.AppsTransport
	jwt     *github.Client
	newGH   func(http.RoundTripper) (*github.Client, error)
	mu      sync.Mutex
	byRepo  map[string]installation
	clients map[int64]*github.Client
}

type installation struct {
	id      int64
	expires time.Time
}

// New returns a Client for cfg. It needs a token, or an App id and private key; logger
// may be nil. New makes no request: credentials are first checked by FetchRun.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	apiURL := strings.TrimSpace(cfg.APIURL)
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err := url.Parse(apiURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil {
		return nil, fmt.Errorf("GITHUB_API_URL %q is not an http(s) URL such as %s or https://HOST/api/v3/", clip(apiURL, 200), DefaultAPIURL)
	}
	base.RawQuery, base.Fragment = "", ""
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
	}
	apiURL = base.String()

	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Minute}
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	bounded := &boundedTransport{next: next, limit: maxAPIBody, logger: logger}

	c := &Client{
		logger:      logger,
		maxLogBytes: cfg.MaxLogBytes,
		webHost:     WebHost(apiURL),
		redact:      &redactor{secrets: []string{string(cfg.Token), string(cfg.AppPrivateKey)}},
		download: &http.Client{
			Transport: &logTransport{next: next, logger: logger},
			Timeout:   hc.Timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("stopped after 5 redirects")
				}
				return nil
			},
		},
	}
	if c.maxLogBytes <= 0 {
		c.maxLogBytes = DefaultMaxLogBytes
	}

	newGH := func(rt http.RoundTripper) (*github.Client, error) {
		return github.NewClient(
			github.WithHTTPClient(&http.Client{Transport: rt, Timeout: hc.Timeout, Jar: hc.Jar}),
			github.WithURLs(&apiURL, nil),
			github.WithUserAgent(userAgent),
			// Makes the logs endpoints report rate limits and errors as typed errors
			// rather than "unexpected status code".
			github.WithRateLimitRedirectionalEndpoints(),
		)
	}

	switch {
	case cfg.AppID != 0 || cfg.AppPrivateKey != "":
		if cfg.AppID <= 0 || cfg.AppPrivateKey == "" {
			return nil, errors.New("a GitHub App needs both GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY")
		}
		apps, err := ghinstallation.NewAppsTransport(bounded, cfg.AppID, []byte(cfg.AppPrivateKey))
		if err != nil {
			// ghinstallation's message names the parse failure, never the key.
			return nil, fmt.Errorf("GITHUB_APP_PRIVATE_KEY is not a PEM-encoded RSA private key: %w", c.redact.err(err))
		}
		apps.BaseURL = strings.TrimRight(apiURL, "/")
		jwt, err := newGH(apps)
		if err != nil {
			return nil, fmt.Errorf("building the GitHub App client: %w", err)
		}
		c.app = &appAuth{apps: apps, jwt: jwt, newGH: newGH, byRepo: map[string]installation{}, clients: map[int64]*github.Client{}}
		if cfg.Token != "" {
			logger.Info("both a GitHub token and a GitHub App are configured; using the App")
		}
	case cfg.Token != "":
		gh, err := newGH(&bearerTransport{next: bounded, token: cfg.Token})
		if err != nil {
			return nil, fmt.Errorf("building the GitHub client: %w", err)
		}
		c.token = gh
	default:
		return nil, ErrNoCredentials
	}
	logger.Debug("GitHub client ready", "api_url", apiURL, "app", cfg.AppID != 0, "max_log_bytes", c.maxLogBytes)
	return c, nil
}

// api returns the go-github client that may read owner/repo: the token's, or the App
// installation's for that repository (found once, then cached).
func (c *Client) api(ctx context.Context, owner, repo string) (*github.Client, error) {
	if c.app == nil {
		return c.token, nil
	}
	a := c.app
	key := strings.ToLower(owner + "/" + repo)
	a.mu.Lock()
	inst, ok := a.byRepo[key]
	if ok && time.Now().Before(inst.expires) {
		gh := a.clients[inst.id]
		a.mu.Unlock()
		return gh, nil
	}
	a.mu.Unlock()

	found, _, err := a.jwt.Apps.GetRepositoryInstallation(ctx, owner, repo)
	if err != nil {
		err = classify(err, false)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("finding the GitHub App's installation on %s/%s: the App is not installed on this repository: %w", owner, repo, err)
		}
		return nil, fmt.Errorf("finding the GitHub App's installation on %s/%s: %w", owner, repo, err)
	}
	id := found.GetID()
	if id <= 0 {
		return nil, fmt.Errorf("finding the GitHub App's installation on %s/%s: GitHub answered without an installation id", owner, repo)
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	gh, ok := a.clients[id]
	if !ok {
		tr := ghinstallation.NewFromAppsTransport(a.apps, id)
		if gh, err = a.newGH(tr); err != nil {
			return nil, fmt.Errorf("building the client for App installation %d: %w", id, err)
		}
		a.clients[id] = gh
	}
	a.byRepo[key] = installation{id: id, expires: time.Now().Add(installationTTL)}
	c.logger.Debug("GitHub App installation", "repo", owner+"/"+repo, "installation_id", id)
	return gh, nil
}

// forget drops a cached installation after its credentials stopped working, so the next
// request looks it up again (the App may have been reinstalled).
func (c *Client) forget(owner, repo string) {
	if c.app == nil {
		return
	}
	c.app.mu.Lock()
	delete(c.app.byRepo, strings.ToLower(owner+"/"+repo))
	c.app.mu.Unlock()
}

// bearerTransport adds the token to each API request.
type bearerTransport struct {
	next  http.RoundTripper
	token Secret
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+string(t.token))
	return t.next.RoundTrip(r)
}

// boundedTransport caps every response body it passes on, so no decoder reads more than
// limit bytes whatever length the server announces, and logs each request without its
// query or headers.
type boundedTransport struct {
	next   http.RoundTripper
	limit  int64
	logger *slog.Logger
}

func (t *boundedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.logger.Debug("GitHub request failed", "method", req.Method, "path", req.URL.Path, "error", err.Error())
		return nil, err
	}
	t.logger.Debug("GitHub request", "method", req.Method, "path", req.URL.Path, "status", resp.StatusCode, "duration", time.Since(start).Round(time.Millisecond).String())
	resp.Body = http.MaxBytesReader(nil, resp.Body, t.limit)
	return resp, nil
}

// logTransport logs downloads by host only: a signed URL's path and query grant access.
type logTransport struct {
	next   http.RoundTripper
	logger *slog.Logger
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.logger.Debug("download failed", "host", req.URL.Host)
		return nil, err
	}
	t.logger.Debug("download", "host", req.URL.Host, "status", resp.StatusCode, "content_length", resp.ContentLength)
	return resp, nil
}

// redactor removes the configured secrets from error text, in case a server echoes one.
type redactor struct{ secrets []string }

func (r *redactor) err(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range r.secrets {
		if len(s) >= 8 {
			clean = strings.ReplaceAll(clean, s, secret.Redacted)
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// readCapped reads at most max bytes of r and reports whether more was there.
func readCapped(r io.Reader, maxBytes int64) ([]byte, bool, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBytes+1))
	if int64(len(b)) > maxBytes {
		return b[:maxBytes], true, err
	}
	return b, false, err
}
