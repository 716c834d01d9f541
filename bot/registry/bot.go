package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/pubdoc/pubdoc/bot"
)

// ForBot is c as the bot's Registry; nil for a nil c (no registry to ask).
func (c *Client) ForBot() bot.Registry {
	if c == nil {
		return nil
	}
	return botRegistry{c}
}

// botRegistry converts between the Client's answers and the bot's types.
type botRegistry struct{ c *Client }

func (r botRegistry) BaseURL() string { return r.c.BaseURL() }

// Package asks for the package's document.
func (r botRegistry) Package(ctx context.Context, name, version string) (bot.PackageFacts, error) {
	info, err := r.c.Package(ctx, name)
	if err != nil {
		return bot.PackageFacts{}, err
	}
	return bot.PackageFacts{Exists: info.Exists, Published: version != "" && info.HasVersion(version)}, nil
}

// CheckPublishers lists the package's trusted publishers and compares them with run.
func (r botRegistry) CheckPublishers(ctx context.Context, name string, run bot.RunIdentity) (bot.PublisherCheck, error) {
	tps, err := r.c.TrustedPublishers(ctx, name)
	if errors.Is(err, ErrNoToken) {
		return bot.PublisherCheck{}, fmt.Errorf("%w: %w", bot.ErrNoRegistryToken, err)
	}
	if err != nil {
		return bot.PublisherCheck{}, err
	}
	if len(tps) == 0 {
		return bot.PublisherCheck{}, nil
	}
	cmp := Compare(tps, RunIdentity(run))
	out := bot.PublisherCheck{Configured: true, Match: cmp.Match, Mismatches: cmp.Mismatches}
	if tp := cmp.Closest; tp != nil {
		out.Closest = &bot.RunIdentity{Repository: tp.Repository, WorkflowFile: tp.WorkflowFile, Environment: tp.Environment}
	}
	return out, nil
}
