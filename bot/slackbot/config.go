package slackbot

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// Secret is a credential: a token or the signing secret; it never prints (see internal/secret).
type Secret = secret.Secret

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// DefaultMaxFileBytes caps a shared file: a publish job's log is a few MB at most, and a
// run's log zip rarely passes ten.
const DefaultMaxFileBytes int64 = 32 << 20

// defaultTimeout bounds every Web API call and download when Config.HTTPClient is nil.
const defaultTimeout = 30 * time.Second

// Config says how to reach Slack and how to check that a request came from it.
type Config struct {
	// BotToken is the bot user's OAuth token, xoxb-… (SLACK_BOT_TOKEN). Required.
	BotToken Secret
	// SigningSecret verifies the HTTP requests Slack sends (SLACK_SIGNING_SECRET); without
	// it the HTTP endpoints refuse every request.
	SigningSecret Secret
	// AppToken is the app-level token, xapp-… (SLACK_APP_TOKEN); when set, RunSocketMode
	// receives the same events over a WebSocket and no public URL is needed.
	AppToken Secret
	// APIURL is the Web API's base URL (PUBDOC_SLACK_API_URL); DefaultAPIURL when empty.
	// A missing trailing slash is added.
	APIURL string
	// MaxFileBytes caps a downloaded file; DefaultMaxFileBytes when zero or negative.
	MaxFileBytes int64
	// HTTPClient sends every Web API call, upload and download; a client with a
	// 30-second timeout when nil.
	HTTPClient *http.Client
}

// withDefaults fills what the caller left empty.
func (cfg Config) withDefaults() (Config, error) {
	u := cfg.APIURL
	if u == "" {
		u = DefaultAPIURL
	}
	u, err := normalizeAPIURL(u)
	if err != nil {
		return Config{}, fmt.Errorf("the Slack API URL: %w", err)
	}
	cfg.APIURL = u
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = DefaultMaxFileBytes
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	return cfg, nil
}

// normalizeAPIURL checks that u is an absolute http(s) URL and ends it with a slash:
// slack-go appends method names ("chat.postMessage") to it as they are.
func normalizeAPIURL(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("not a URL: %w", err)
	}
	if (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return "", fmt.Errorf("%q is not an absolute http(s) URL", u)
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u, nil
}
