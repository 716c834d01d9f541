package registry

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/fakenpm"
)

// ForBot answers the bot's questions from the registry's documents: whether a package and
// a version exist, and how a run stands against the trusted publishers (none, a match, or
// the closest entry and how it differs); without a token, an error the bot recognises.
func TestForBot(t *testing.T) {
	reg, err := fakenpm.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	reg.AddToken("npm_readToken", "")
	reg.AddPackage("@acme/widgets", fakenpm.Package{Versions: []string{"2.3.0"}, Trusted: &fakenpm.TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "release.yml", AllowPublish: true}})
	reg.AddPackage("@acme/bare", fakenpm.Package{Versions: []string{"1.0.0"}})
	ctx := context.Background()
	b := New(reg.URL, Secret("npm_readToken"), nil, slog.New(slog.DiscardHandler)).ForBot()
	if b.BaseURL() == "" {
		t.Error("no base URL")
	}

	if f, err := b.Package(ctx, "@acme/widgets", "2.3.0"); err != nil || !f.Exists || !f.Published {
		t.Errorf("Package(@acme/widgets, 2.3.0) = %+v, %v; want it and the version published", f, err)
	}
	if f, err := b.Package(ctx, "@acme/widgets", "9.9.9"); err != nil || !f.Exists || f.Published {
		t.Errorf("Package(@acme/widgets, 9.9.9) = %+v, %v; want it, the version not published", f, err)
	}
	if f, err := b.Package(ctx, "@acme/absent", ""); err != nil || f.Exists {
		t.Errorf("Package(@acme/absent) = %+v, %v; want it absent", f, err)
	}

	run := bot.RunIdentity{Repository: "acme/widgets", WorkflowFile: "release.yml"}
	if c, err := b.CheckPublishers(ctx, "@acme/widgets", run); err != nil || !c.Configured || !c.Match {
		t.Errorf("CheckPublishers(match) = %+v, %v", c, err)
	}
	run.WorkflowFile = "publish.yml"
	c, err := b.CheckPublishers(ctx, "@acme/widgets", run)
	if err != nil || !c.Configured || c.Match || len(c.Mismatches) == 0 || c.Closest == nil || c.Closest.WorkflowFile != "release.yml" {
		t.Errorf("CheckPublishers(mismatch) = %+v, %v; want the closest entry (release.yml) and what differs", c, err)
	}
	if c, err := b.CheckPublishers(ctx, "@acme/bare", run); err != nil || c.Configured {
		t.Errorf("CheckPublishers(none configured) = %+v, %v", c, err)
	}

	noToken := New(reg.URL, "", nil, slog.New(slog.DiscardHandler)).ForBot()
	if _, err := noToken.CheckPublishers(ctx, "@acme/widgets", run); !errors.Is(err, bot.ErrNoRegistryToken) || !errors.Is(err, ErrNoToken) {
		t.Errorf("CheckPublishers without a token = %v, want bot.ErrNoRegistryToken", err)
	}
	var nilClient *Client
	if nilClient.ForBot() != nil {
		t.Error("a nil client is a registry")
	}
}
