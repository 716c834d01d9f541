package config

import (
	"strconv"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// Entry is one variable of the effective configuration, as `pubdoc config` shows it.
type Entry struct {
	// Name is the variable.
	Name string `json:"name"`
	// Value is its effective value; a secret that is set shows as <secret>, never itself.
	Value string `json:"value"`
	// Secret says the variable is a credential (it also reads NAME_FILE).
	Secret bool `json:"secret"`
	// Default says the value is the default (the variable is unset or says the same).
	Default bool `json:"default"`
}

// Entries is the effective configuration, one entry per variable of Vars, secrets redacted.
func (c Config) Entries() []Entry {
	str := func(v, def string) (string, bool) { return v, v == def }
	sec := func(s secret.Secret) (string, bool) {
		if s == "" {
			return "", true
		}
		return secret.Redacted, false
	}
	values := map[string]func() (string, bool){
		"PUBDOC_ADDR":          func() (string, bool) { return str(c.Addr, DefaultAddr) },
		"PUBDOC_ADMIN_ADDR":    func() (string, bool) { return str(c.AdminAddr, "") },
		"PUBDOC_DATA_DIR":      func() (string, bool) { return str(c.DataDir, DefaultDataDir) },
		"PUBDOC_DATABASE_URL":  func() (string, bool) { return sec(c.DatabaseURL) },
		"PUBDOC_ROUTES":        func() (string, bool) { return str(c.Routes, "") },
		"PUBDOC_THREAD_WINDOW": func() (string, bool) { return shortDuration(c.ThreadWindow), c.ThreadWindow == DefaultThreadWindow },
		"PUBDOC_LOG_LEVEL":     func() (string, bool) { return str(c.LogLevel, "") },
		"PUBDOC_API_TOKEN":     func() (string, bool) { return sec(c.APIToken) },
		"SLACK_BOT_TOKEN":      func() (string, bool) { return sec(c.SlackBotToken) },
		"SLACK_SIGNING_SECRET": func() (string, bool) { return sec(c.SlackSigningSecret) },
		"SLACK_APP_TOKEN":      func() (string, bool) { return sec(c.SlackAppToken) },
		"PUBDOC_SLACK_API_URL": func() (string, bool) {
			if c.SlackAPIURL == "" {
				return DefaultSlackAPIURL, true
			}
			return c.SlackAPIURL, false
		},
		"GITHUB_WEBHOOK_SECRET": func() (string, bool) { return sec(c.GitHubWebhookSecret) },
		"GITHUB_TOKEN":          func() (string, bool) { return sec(c.GitHubToken) },
		"GITHUB_APP_ID": func() (string, bool) {
			if c.GitHubAppID == 0 {
				return "", true
			}
			return strconv.FormatInt(c.GitHubAppID, 10), false
		},
		"GITHUB_APP_PRIVATE_KEY": func() (string, bool) { return sec(c.GitHubAppPrivateKey) },
		"GITHUB_API_URL": func() (string, bool) {
			if c.GitHubAPIURL == "" {
				return DefaultGitHubAPIURL, true
			}
			return c.GitHubAPIURL, false
		},
		"PUBDOC_NPM_REGISTRY_URL": func() (string, bool) { return str(c.NPMRegistryURL, DefaultNPMRegistryURL) },
		"NPM_TOKEN":               func() (string, bool) { return sec(c.NPMToken) },
	}
	out := make([]Entry, 0, len(Vars))
	for _, v := range Vars {
		e := Entry{Name: v.Name, Secret: v.Secret}
		if f, ok := values[v.Name]; ok {
			e.Value, e.Default = f()
		}
		out = append(out, e)
	}
	return out
}

// shortDuration prints 24h, not 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
