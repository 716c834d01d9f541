package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot/registry"
)

// env is a getenv over pairs; files is a readFile over a map.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func files(m map[string]string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		if v, ok := m[p]; ok {
			return []byte(v), nil
		}
		return nil, fs.ErrNotExist
	}
}

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: ":8080", DataDir: "./data", ThreadWindow: 24 * time.Hour, NPMRegistryURL: "https://registry.npmjs.org/"}
	if c != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if DefaultNPMRegistryURL != registry.DefaultBaseURL {
		t.Errorf("the default registry %q is not the registry client's %q", DefaultNPMRegistryURL, registry.DefaultBaseURL)
	}
	if c.Level(slog.LevelInfo) != slog.LevelInfo || c.Level(slog.LevelError) != slog.LevelError {
		t.Error("an unset PUBDOC_LOG_LEVEL must keep the command's own default")
	}
}

func TestEveryVariableIsRead(t *testing.T) {
	var kv []string
	for _, v := range Vars {
		val := "x-" + strings.ToLower(v.Name)
		switch v.Name {
		case "PUBDOC_ADDR":
			val = ":9000"
		case "PUBDOC_ADMIN_ADDR":
			val = "127.0.0.1:9090"
		case "PUBDOC_THREAD_WINDOW":
			val = "2h"
		case "PUBDOC_LOG_LEVEL":
			val = "DEBUG"
		case "GITHUB_APP_ID":
			val = "42"
		case "PUBDOC_DATABASE_URL":
			val = "postgres://u:p@db:5432/pubdoc"
		case "PUBDOC_SLACK_API_URL", "GITHUB_API_URL", "PUBDOC_NPM_REGISTRY_URL":
			val = "http://127.0.0.1:1/" + strings.ToLower(v.Name) + "/"
		}
		kv = append(kv, v.Name, val)
	}
	c, err := FromEnv(env(kv...), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range c.Entries() {
		if e.Default {
			t.Errorf("%s is set but shows as its default (%q): FromEnv does not read it", e.Name, e.Value)
		}
	}
	if c.Level(slog.LevelError) != slog.LevelDebug || c.ThreadWindow != 2*time.Hour || c.GitHubAppID != 42 {
		t.Errorf("parsed values: %+v", c)
	}
}

func TestFileForms(t *testing.T) {
	secrets := map[string]func(Config) string{
		"PUBDOC_DATABASE_URL":    func(c Config) string { return string(c.DatabaseURL) },
		"PUBDOC_API_TOKEN":       func(c Config) string { return string(c.APIToken) },
		"SLACK_BOT_TOKEN":        func(c Config) string { return string(c.SlackBotToken) },
		"SLACK_SIGNING_SECRET":   func(c Config) string { return string(c.SlackSigningSecret) },
		"SLACK_APP_TOKEN":        func(c Config) string { return string(c.SlackAppToken) },
		"GITHUB_WEBHOOK_SECRET":  func(c Config) string { return string(c.GitHubWebhookSecret) },
		"GITHUB_TOKEN":           func(c Config) string { return string(c.GitHubToken) },
		"GITHUB_APP_PRIVATE_KEY": func(c Config) string { return string(c.GitHubAppPrivateKey) },
		"NPM_TOKEN":              func(c Config) string { return string(c.NPMToken) },
	}
	for _, v := range Vars {
		if v.Secret && secrets[v.Name] == nil {
			t.Errorf("secret %s is not covered by this test", v.Name)
		}
	}
	for name, get := range secrets {
		t.Run(name, func(t *testing.T) {
			value := "from-file-" + strings.ToLower(name)
			if name == "PUBDOC_DATABASE_URL" {
				value = "postgres://u:p@db/x"
			}
			extra := []string{}
			if name == "GITHUB_APP_PRIVATE_KEY" {
				extra = []string{"GITHUB_APP_ID", "7"}
			}
			rf := files(map[string]string{"/run/secrets/s": value + "\n"})
			c, err := FromEnv(env(append([]string{name + "_FILE", "/run/secrets/s"}, extra...)...), rf)
			if err != nil {
				t.Fatal(err)
			}
			if got := get(c); got != value {
				t.Errorf("%s_FILE alone: got %q, want %q", name, got, value)
			}
			_, err = FromEnv(env(append([]string{name, value, name + "_FILE", "/run/secrets/s"}, extra...)...), rf)
			if err == nil || !strings.Contains(err.Error(), name+"_FILE") {
				t.Errorf("%s and %s_FILE both set: %v, want an error naming both", name, name, err)
			}
			_, err = FromEnv(env(append([]string{name + "_FILE", "/run/secrets/missing"}, extra...)...), rf)
			if err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), name+"_FILE") {
				t.Errorf("%s_FILE unreadable: %v", name, err)
			}
		})
	}
}

func TestInvalidValuesNameTheirVariable(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		name string
	}{
		{[]string{"PUBDOC_LOG_LEVEL", "loud"}, "PUBDOC_LOG_LEVEL"},
		{[]string{"PUBDOC_LOG_LEVEL", "trace"}, "PUBDOC_LOG_LEVEL"},
		{[]string{"PUBDOC_ADDR", "8080"}, "PUBDOC_ADDR"},
		{[]string{"PUBDOC_ADDR", ":http-alt"}, "PUBDOC_ADDR"},
		{[]string{"PUBDOC_ADMIN_ADDR", "localhost"}, "PUBDOC_ADMIN_ADDR"},
		{[]string{"PUBDOC_ADDR", ":9000", "PUBDOC_ADMIN_ADDR", ":9000"}, "PUBDOC_ADMIN_ADDR"},
		{[]string{"PUBDOC_ADMIN_ADDR", ":8080"}, "PUBDOC_ADMIN_ADDR"},
		{[]string{"PUBDOC_THREAD_WINDOW", "a day"}, "PUBDOC_THREAD_WINDOW"},
		{[]string{"PUBDOC_THREAD_WINDOW", "-1h"}, "PUBDOC_THREAD_WINDOW"},
		{[]string{"PUBDOC_NPM_REGISTRY_URL", "registry.npmjs.org"}, "PUBDOC_NPM_REGISTRY_URL"},
		{[]string{"PUBDOC_NPM_REGISTRY_URL", "ftp://mirror/"}, "PUBDOC_NPM_REGISTRY_URL"},
		{[]string{"GITHUB_API_URL", "api.github.com"}, "GITHUB_API_URL"},
		{[]string{"PUBDOC_SLACK_API_URL", "/api/"}, "PUBDOC_SLACK_API_URL"},
		{[]string{"GITHUB_APP_ID", "my-app"}, "GITHUB_APP_ID"},
		{[]string{"GITHUB_APP_ID", "7"}, "GITHUB_APP_ID"},
		{[]string{"GITHUB_APP_PRIVATE_KEY", "pem"}, "GITHUB_APP_ID"},
		{[]string{"PUBDOC_DATABASE_URL", "mysql://u:hunter2@db/x"}, "PUBDOC_DATABASE_URL"},
	} {
		_, err := FromEnv(env(tc.env...), files(nil))
		if err == nil {
			t.Errorf("%q: no error", tc.env)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.name) || strings.Contains(msg, "\n") {
			t.Errorf("%q: %q, want one line naming %s", tc.env, msg, tc.name)
		}
		if strings.Contains(msg, "hunter2") {
			t.Errorf("%q: the error shows the database password: %q", tc.env, msg)
		}
	}
}

func TestParseLogLevel(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "Warning": slog.LevelWarn, "error": slog.LevelError,
	} {
		if got, err := ParseLogLevel(in); err != nil || got != want {
			t.Errorf("ParseLogLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseLogLevel("verbose"); err == nil || !strings.HasPrefix(err.Error(), "PUBDOC_LOG_LEVEL ") {
		t.Errorf("ParseLogLevel(verbose) = %v, want an error naming PUBDOC_LOG_LEVEL", err)
	}
}

func TestPrivateKeyNewlines(t *testing.T) {
	c, err := FromEnv(env("GITHUB_APP_ID", "1", "GITHUB_APP_PRIVATE_KEY", `-----BEGIN KEY-----\nabc\n-----END KEY-----`), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.GitHubAppPrivateKey) != "-----BEGIN KEY-----\nabc\n-----END KEY-----" {
		t.Errorf("escaped newlines not restored: %q", string(c.GitHubAppPrivateKey))
	}
}

func TestEntriesRedactSecrets(t *testing.T) {
	const planted = "planted-d41d8cd98f00b204"
	var kv []string
	for _, v := range Vars {
		if v.Secret {
			val := planted
			if v.Name == "PUBDOC_DATABASE_URL" {
				val = "postgres://u:" + planted + "@db/x"
			}
			kv = append(kv, v.Name, val)
		}
	}
	c, err := FromEnv(env(append(kv, "GITHUB_APP_ID", "3")...), files(nil))
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(c.Entries())
	all := fmt.Sprintf("%v %+v %#v %s", c, c, c, js)
	if strings.Contains(all, planted) {
		t.Fatalf("a secret prints: %s", all)
	}
	for _, e := range c.Entries() {
		if e.Secret && e.Value != "<secret>" {
			t.Errorf("%s = %q, want <secret>", e.Name, e.Value)
		}
	}
	empty, _ := FromEnv(env(), files(nil))
	for _, e := range empty.Entries() {
		if e.Secret && e.Value != "" {
			t.Errorf("unset %s shows %q, want empty", e.Name, e.Value)
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 30 * time.Second: "30s", 2*time.Hour + 5*time.Second: "2h0m5s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
