package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/slackbot"
	"github.com/pubdoc/pubdoc/bot/weekly"
	"github.com/pubdoc/pubdoc/knowledge"
	"github.com/pubdoc/pubdoc/store"
)

// startDigests runs the weekly digests of the routes that ask for one (`digest:` in
// PUBDOC_ROUTES) until ctx ends: every replica runs the scheduler, and the store lets
// one of them post each digest.
func startDigests(ctx context.Context, routes *bot.Routes, st *store.Store, slack *slackbot.Client, kb *knowledge.Base, gh bot.GitHub, logger *slog.Logger) error {
	if len(routes.Digests()) == 0 {
		return nil
	}
	titles := make(map[string]string, len(kb.Rules))
	for _, r := range kb.Rules {
		titles[r.ID] = r.Title
	}
	host := ""
	if gh != nil {
		host = gh.WebHost()
	}
	sched, err := weekly.New(weekly.Config{Routes: routes, Store: st, Poster: slack, Titles: titles, WebHost: host}, logger)
	if err != nil {
		return fmt.Errorf("weekly digests: %w", err)
	}
	for _, rt := range routes.Digests() {
		logger.Info("weekly digest scheduled", "channel", rt.Channel, "schedule", rt.Digest.Schedule.String())
	}
	go func() { _ = sched.Run(ctx) }()
	return nil
}
