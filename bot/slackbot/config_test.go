package slackbot

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

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
