package slackbot

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnv(t *testing.T) {
	files := map[string]string{
		"/run/secrets/bot":     testBotToken + "\n",
		"/run/secrets/signing": testSigningSecret + "\r\n",
		"/run/secrets/app":     testAppToken,
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "nothing set", env: map[string]string{}, want: Config{MaxFileBytes: DefaultMaxFileBytes}},
		{name: "from the environment", env: map[string]string{
			"SLACK_BOT_TOKEN": testBotToken, "SLACK_SIGNING_SECRET": " " + testSigningSecret + " ", "SLACK_APP_TOKEN": testAppToken,
			"PUBDOC_SLACK_API_URL": "http://127.0.0.1:9999/api",
		}, want: Config{BotToken: testBotToken, SigningSecret: testSigningSecret, AppToken: testAppToken, APIURL: "http://127.0.0.1:9999/api", MaxFileBytes: DefaultMaxFileBytes}},
		{name: "from files", env: map[string]string{
			"SLACK_BOT_TOKEN_FILE": "/run/secrets/bot", "SLACK_SIGNING_SECRET_FILE": "/run/secrets/signing", "SLACK_APP_TOKEN_FILE": "/run/secrets/app",
		}, want: Config{BotToken: testBotToken, SigningSecret: testSigningSecret, AppToken: testAppToken, MaxFileBytes: DefaultMaxFileBytes}},
		{name: "both a token and its file", env: map[string]string{"SLACK_BOT_TOKEN": testBotToken, "SLACK_BOT_TOKEN_FILE": "/run/secrets/bot"},
			wantErr: "both SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE"},
		{name: "missing file", env: map[string]string{"SLACK_SIGNING_SECRET_FILE": "/nope"}, wantErr: "reading SLACK_SIGNING_SECRET_FILE"},
		{name: "API URL not a URL", env: map[string]string{"PUBDOC_SLACK_API_URL": "slack.com/api"}, wantErr: "PUBDOC_SLACK_API_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(mapEnv(tt.env), readFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, s := range []string{testBotToken, testSigningSecret, testAppToken} {
					if strings.Contains(err.Error(), s) {
						t.Fatalf("error carries a secret: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigPrintsNoSecret(t *testing.T) {
	cfg := Config{BotToken: testBotToken, SigningSecret: testSigningSecret, AppToken: testAppToken}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		for _, secret := range []string{testBotToken, testSigningSecret, testAppToken} {
			if strings.Contains(s, secret) {
				t.Fatalf("config prints a secret: %s", s)
			}
		}
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{SigningSecret: testSigningSecret}, nil); err == nil || !strings.Contains(err.Error(), "SLACK_BOT_TOKEN") {
		t.Fatalf("err = %v, want one naming SLACK_BOT_TOKEN", err)
	}
	if _, err := New(Config{BotToken: testBotToken, APIURL: "::"}, nil); err == nil {
		t.Fatal("a bad API URL was accepted")
	}
	for in, want := range map[string]string{
		"":                            "https://slack.com/api/",
		"https://slack.com/api":       "https://slack.com/api/",
		"https://slack.com/api/":      "https://slack.com/api/",
		"http://127.0.0.1:8080/slack": "http://127.0.0.1:8080/slack/",
	} {
		c, err := New(Config{BotToken: testBotToken, APIURL: in}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if c.cfg.APIURL != want {
			t.Errorf("APIURL %q → %q, want %q", in, c.cfg.APIURL, want)
		}
		if c.cfg.MaxFileBytes != 32<<20 || c.http == nil || c.http.Timeout != defaultTimeout {
			t.Errorf("defaults not applied: %+v", c.cfg)
		}
	}
	hc := &http.Client{}
	c, _ := New(Config{BotToken: testBotToken, HTTPClient: hc, MaxFileBytes: 5}, nil)
	if c.http != hc || c.cfg.MaxFileBytes != 5 {
		t.Fatal("the caller's settings were replaced")
	}
}

func TestRunSocketModeNeedsAnAppToken(t *testing.T) {
	c, _ := New(Config{BotToken: testBotToken}, nil)
	if err := c.RunSocketMode(t.Context(), newFakeBackend()); !errors.Is(err, ErrNoAppToken) {
		t.Fatalf("err = %v", err)
	}
}
