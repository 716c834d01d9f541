package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// The defaults, in one place.
const (
	// DefaultAddr is the listen address of `pubdoc serve`.
	DefaultAddr = ":8080"
	// DefaultDataDir holds the SQLite database when PUBDOC_DATABASE_URL is unset.
	DefaultDataDir = "./data"
	// DefaultThreadWindow is how long a repeated failure joins its triage thread.
	DefaultThreadWindow = 24 * time.Hour
	// DefaultNPMRegistryURL is the public npm registry: look-ups are on by default.
	DefaultNPMRegistryURL = "https://registry.npmjs.org/"
	// DefaultGitHubAPIURL is GitHub.com's REST API.
	DefaultGitHubAPIURL = "https://api.github.com/"
	// DefaultSlackAPIURL is Slack's Web API.
	DefaultSlackAPIURL = "https://slack.com/api/"
)

// Config is the effective configuration. Empty strings and secrets mean "not set" except
// where a default is filled in (Addr, DataDir, ThreadWindow, NPMRegistryURL).
type Config struct {
	// Addr is the listen address of `pubdoc serve` (PUBDOC_ADDR).
	Addr string
	// AdminAddr is an optional second listener for /metrics and /api/diagnose
	// (PUBDOC_ADMIN_ADDR).
	AdminAddr string
	// DataDir is the SQLite database's directory (PUBDOC_DATA_DIR).
	DataDir string
	// DatabaseURL is a postgres:// URL (PUBDOC_DATABASE_URL[_FILE]); SQLite when empty.
	DatabaseURL secret.Secret
	// Routes is the path of the routes file (PUBDOC_ROUTES).
	Routes string
	// ThreadWindow is how long a repeat joins a triage thread (PUBDOC_THREAD_WINDOW).
	ThreadWindow time.Duration
	// LogLevel is PUBDOC_LOG_LEVEL as ParseLogLevel reads it; "" when unset, and then each
	// command keeps its own default (Level).
	LogLevel string
	// APIToken guards POST /api/diagnose (PUBDOC_API_TOKEN[_FILE]); the API is off without.
	APIToken secret.Secret

	// SlackBotToken is the bot user's token, xoxb-… (SLACK_BOT_TOKEN[_FILE]).
	SlackBotToken secret.Secret
	// SlackSigningSecret verifies Slack's HTTP requests (SLACK_SIGNING_SECRET[_FILE]).
	SlackSigningSecret secret.Secret
	// SlackAppToken turns Socket Mode on, xapp-… (SLACK_APP_TOKEN[_FILE]).
	SlackAppToken secret.Secret
	// SlackAPIURL overrides Slack's Web API base URL (PUBDOC_SLACK_API_URL); "" is Slack's.
	SlackAPIURL string

	// GitHubWebhookSecret verifies /github/webhook (GITHUB_WEBHOOK_SECRET[_FILE]).
	GitHubWebhookSecret secret.Secret
	// GitHubToken reads Actions runs (GITHUB_TOKEN[_FILE]).
	GitHubToken secret.Secret
	// GitHubAppID is the GitHub App's numeric id (GITHUB_APP_ID); 0 when unset.
	GitHubAppID int64
	// GitHubAppPrivateKey is the App's PEM key (GITHUB_APP_PRIVATE_KEY[_FILE]); escaped
	// newlines (\n in a one-line variable) are restored.
	GitHubAppPrivateKey secret.Secret
	// GitHubAPIURL is GitHub's REST API (GITHUB_API_URL); "" is GitHub.com's.
	GitHubAPIURL string

	// NPMRegistryURL is where the public npm registry is reached (PUBDOC_NPM_REGISTRY_URL):
	// DefaultNPMRegistryURL unless a mirror, a proxy or a test double is named.
	NPMRegistryURL string
	// NPMToken adds the trusted-publisher list (NPM_TOKEN[_FILE]).
	NPMToken secret.Secret
}

// Var describes one environment variable.
type Var struct {
	// Name is the variable, e.g. PUBDOC_ADDR.
	Name string
	// Secret variables also read NAME_FILE and never print.
	Secret bool
}

// Vars is every variable FromEnv reads, in the order `pubdoc config` prints them.
var Vars = []Var{
	{"PUBDOC_ADDR", false}, {"PUBDOC_ADMIN_ADDR", false}, {"PUBDOC_DATA_DIR", false},
	{"PUBDOC_DATABASE_URL", true}, {"PUBDOC_ROUTES", false}, {"PUBDOC_THREAD_WINDOW", false},
	{"PUBDOC_LOG_LEVEL", false}, {"PUBDOC_API_TOKEN", true},
	{"SLACK_BOT_TOKEN", true}, {"SLACK_SIGNING_SECRET", true}, {"SLACK_APP_TOKEN", true},
	{"PUBDOC_SLACK_API_URL", false},
	{"GITHUB_WEBHOOK_SECRET", true}, {"GITHUB_TOKEN", true}, {"GITHUB_APP_ID", false},
	{"GITHUB_APP_PRIVATE_KEY", true}, {"GITHUB_API_URL", false},
	{"PUBDOC_NPM_REGISTRY_URL", false}, {"NPM_TOKEN", true},
}

// FromEnv reads the configuration from the environment and validates it. getenv is
// usually os.Getenv and readFile os.ReadFile (it reads the NAME_FILE forms). Every error
// names its variable and fits on one line; no error carries a secret's value.
func FromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := Config{
		Addr:           get("PUBDOC_ADDR"),
		AdminAddr:      get("PUBDOC_ADMIN_ADDR"),
		DataDir:        get("PUBDOC_DATA_DIR"),
		Routes:         get("PUBDOC_ROUTES"),
		SlackAPIURL:    get("PUBDOC_SLACK_API_URL"),
		GitHubAPIURL:   get("GITHUB_API_URL"),
		NPMRegistryURL: get("PUBDOC_NPM_REGISTRY_URL"),
		ThreadWindow:   DefaultThreadWindow,
	}
	for _, s := range []struct {
		name string
		dst  *secret.Secret
	}{
		{"PUBDOC_DATABASE_URL", &c.DatabaseURL},
		{"PUBDOC_API_TOKEN", &c.APIToken},
		{"SLACK_BOT_TOKEN", &c.SlackBotToken},
		{"SLACK_SIGNING_SECRET", &c.SlackSigningSecret},
		{"SLACK_APP_TOKEN", &c.SlackAppToken},
		{"GITHUB_WEBHOOK_SECRET", &c.GitHubWebhookSecret},
		{"GITHUB_TOKEN", &c.GitHubToken},
		{"GITHUB_APP_PRIVATE_KEY", &c.GitHubAppPrivateKey},
		{"NPM_TOKEN", &c.NPMToken},
	} {
		v, err := secret.FromEnv(getenv, readFile, s.name)
		if err != nil {
			return Config{}, err
		}
		*s.dst = secret.Secret(strings.TrimSpace(string(v)))
	}
	// A PEM key stored in a one-line variable often arrives with its newlines escaped.
	if k := string(c.GitHubAppPrivateKey); !strings.Contains(k, "\n") && strings.Contains(k, `\n`) {
		c.GitHubAppPrivateKey = secret.Secret(strings.ReplaceAll(k, `\n`, "\n"))
	}
	if w := get("PUBDOC_THREAD_WINDOW"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("PUBDOC_THREAD_WINDOW must be a duration such as 24h, not %q", w)
		}
		c.ThreadWindow = d
	}
	if id := get("GITHUB_APP_ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return Config{}, fmt.Errorf("GITHUB_APP_ID must be the App's numeric id, not %q", id)
		}
		c.GitHubAppID = n
	}
	if lv := get("PUBDOC_LOG_LEVEL"); lv != "" {
		if _, err := ParseLogLevel(lv); err != nil {
			return Config{}, err
		}
		c.LogLevel = strings.ToLower(lv)
	}
	c = c.withDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// withDefaults fills what the environment left empty.
func (c Config) withDefaults() Config {
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.ThreadWindow == 0 {
		c.ThreadWindow = DefaultThreadWindow
	}
	if c.NPMRegistryURL == "" {
		c.NPMRegistryURL = DefaultNPMRegistryURL
	}
	return c
}

// Validate checks every value; the error names the variable that is wrong.
func (c Config) Validate() error {
	if err := checkAddr("PUBDOC_ADDR", c.Addr); err != nil {
		return err
	}
	if c.AdminAddr != "" {
		if err := checkAddr("PUBDOC_ADMIN_ADDR", c.AdminAddr); err != nil {
			return err
		}
		if c.AdminAddr == c.Addr {
			return fmt.Errorf("PUBDOC_ADMIN_ADDR (%s) must differ from PUBDOC_ADDR", c.AdminAddr)
		}
	}
	if c.ThreadWindow <= 0 {
		return fmt.Errorf("PUBDOC_THREAD_WINDOW must be a positive duration such as 24h, not %s", c.ThreadWindow)
	}
	if c.LogLevel != "" {
		if _, err := ParseLogLevel(c.LogLevel); err != nil {
			return err
		}
	}
	if c.DatabaseURL != "" {
		// The value holds a password: say what is wrong without it.
		if scheme, _, _ := strings.Cut(string(c.DatabaseURL), "://"); scheme != "postgres" && scheme != "postgresql" {
			return errors.New("PUBDOC_DATABASE_URL must be a postgres:// URL (its value is not shown: it holds a password)")
		}
	}
	for _, u := range []struct{ name, value string }{
		{"PUBDOC_SLACK_API_URL", c.SlackAPIURL},
		{"GITHUB_API_URL", c.GitHubAPIURL},
		{"PUBDOC_NPM_REGISTRY_URL", c.NPMRegistryURL},
	} {
		if err := checkURL(u.name, u.value); err != nil {
			return err
		}
	}
	switch {
	case c.GitHubAppID < 0:
		return fmt.Errorf("GITHUB_APP_ID must be the App's numeric id, not %d", c.GitHubAppID)
	case c.GitHubAppID != 0 && c.GitHubAppPrivateKey == "":
		return errors.New("GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE are not")
	case c.GitHubAppID == 0 && c.GitHubAppPrivateKey != "":
		return errors.New("GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not")
	}
	return nil
}

// Level is the log level PUBDOC_LOG_LEVEL names, or def when it is unset: a server logs at
// info, a one-shot command at error.
func (c Config) Level(def slog.Level) slog.Level {
	if c.LogLevel == "" {
		return def
	}
	l, err := ParseLogLevel(c.LogLevel)
	if err != nil {
		return def
	}
	return l
}

// ParseLogLevel reads a PUBDOC_LOG_LEVEL value: debug, info, warn (or warning) or error,
// in any case. It is the one parser of every command.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("PUBDOC_LOG_LEVEL must be debug, info, warn or error, not %q", s)
}

// checkAddr accepts a listen address: [HOST]:PORT.
func checkAddr(name, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s must be a listen address such as :8080 or 127.0.0.1:9090, not %q", name, addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%s must be a listen address such as :8080 or 127.0.0.1:9090, not %q (bad port)", name, addr)
	}
	return nil
}

// checkURL accepts "" or an absolute http(s) URL.
func checkURL(name, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// Only the variable: a URL may carry credentials (https://user:pass@host/).
		return fmt.Errorf("%s must be an absolute http(s) URL such as https://host/path/", name)
	}
	return nil
}
