package bot_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/gha"
	"github.com/pubdoc/pubdoc/diagnose/learn"
	"github.com/pubdoc/pubdoc/store"
)

// The planted secrets reach none of the files of the real store's data directory (SQLite
// and its WAL), with the real webhook reader in front.
func TestNoSecretReachesTheDataDirectory(t *testing.T) {
	open := func(t *testing.T, dir string) bot.DurableStore {
		st, err := store.Open(context.Background(), store.Config{DataDir: dir, PollInterval: 20 * time.Millisecond}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	bot.CheckNoSecretReachesTheDataDirectory(t, open, gha.Webhook{Secret: "s3cret"})
}

// A chat request's budget ends before the store's job timeout, so that a long request is
// answered by the bot rather than cut by the queue and retried.
func TestChatTimeoutIsUnderTheJobTimeout(t *testing.T) {
	if margin := store.DefaultJobTimeout - bot.DefaultChatTimeout; margin < 15*time.Second {
		t.Errorf("DefaultChatTimeout %s leaves %s of the store's %s job timeout to post the answer", bot.DefaultChatTimeout, margin, store.DefaultJobTimeout)
	}
}

// Learning from answers through the real store (SQLite): one unknown failure pasted three
// times is one group of three, "Wrong cause" with a rule picked is one case that
// store.Cases returns with that label, and the kept logs hold no secret.
func TestLearningFromAnswersInTheStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), PollInterval: 20 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	bot.CheckLearningFromAnswers(t, st, func(t *testing.T) []learn.Case {
		cs, err := st.Cases(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	})
}
