package gha

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// The package's errors are also the bot's kinds of failure, with their own text: the bot
// sorts them without importing this package.
func TestErrorsAreTheBotsKinds(t *testing.T) {
	for _, c := range []struct {
		err, kind error
	}{
		{ErrNotFound, bot.ErrRunNotFound},
		{ErrLogsExpired, bot.ErrLogsExpired},
		{ErrUnauthorized, bot.ErrGitHubUnauthorized},
		{ErrForbidden, bot.ErrGitHubForbidden},
		{ErrTooLarge, bot.ErrTooLarge},
		{ErrBadSignature, bot.ErrBadSignature},
		{ErrNoWebhookSecret, bot.ErrBadSignature},
	} {
		wrapped := fmt.Errorf("fetching logs: %w", c.err)
		if !errors.Is(wrapped, c.kind) || !errors.Is(wrapped, c.err) {
			t.Errorf("%q is not %q", c.err, c.kind)
		}
		if own := errors.Is(c.err, ErrNoWebhookSecret) || errors.Is(c.err, ErrTooLarge); !own && !strings.HasPrefix(c.err.Error(), c.kind.Error()+": ") {
			t.Errorf("%q does not read as %q", c.err, c.kind)
		}
	}
	reset := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var rl bot.RateLimited
	if err := fmt.Errorf("listing jobs: %w", &RateLimitError{Reset: reset}); !errors.As(err, &rl) || !rl.RateLimitReset().Equal(reset) {
		t.Errorf("a rate limit is not the bot's RateLimited with its reset: %v", err)
	}
}

// The Client reads run links as the bot asks: the reference and the link's host.
func TestClientParseRunURL(t *testing.T) {
	c, err := New(Config{Token: "ghp_test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, host, err := c.ParseRunURL("https://www.github.com/acme/widgets/actions/runs/42/job/7")
	if err != nil || host != "github.com" || ref != (bot.RunRef{Owner: "acme", Repo: "widgets", RunID: 42, JobID: 7}) {
		t.Errorf("ParseRunURL = %+v, %q, %v", ref, host, err)
	}
	if _, host, err := c.ParseRunURL("https://github.evil.example/acme/widgets/actions/runs/42"); err != nil || host != "github.evil.example" {
		t.Errorf("foreign host = %q, %v; want it read and its host named", host, err)
	}
	if _, _, err := c.ParseRunURL("https://github.com/acme/widgets/pull/3"); !errors.Is(err, ErrInvalidRunURL) {
		t.Errorf("a pull request link = %v, want ErrInvalidRunURL", err)
	}
	if !(Webhook{}).Handles("workflow_run") || (Webhook{}).Handles("push") {
		t.Error("Webhook.Handles differs from HandledEvent")
	}
}
