package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// Post makes a side effect (a Slack message) happen once across retries and crashes
// (the bot's record type).
type Post = bot.Post

// ClaimPost claims key: the first call creates the post with Claims 1 and ClaimedAt now;
// later calls count another claim while it is not Done; a Done post is returned unchanged.
func (s *Store) ClaimPost(ctx context.Context, key string, now time.Time) (Post, error) {
	if key == "" {
		return Post{}, errors.New("claiming a post: no key")
	}
	if now.IsZero() {
		now = time.Now()
	}
	var p Post
	err := s.db.inTx(ctx, func(q querier, _ any) error {
		var err error
		p, err = scanPost(q.queryRow(ctx, `INSERT INTO pubdoc_posts (post_key, claims, claimed_at) VALUES ($1, 1, $2)
			ON CONFLICT (post_key) DO UPDATE SET claims = pubdoc_posts.claims + 1 WHERE pubdoc_posts.done = 0
			RETURNING `+postColumns, key, ms(now)))
		if errNoRows(err) { // done: the upsert's WHERE left it alone
			p, err = scanPost(q.queryRow(ctx, `SELECT `+postColumns+` FROM pubdoc_posts WHERE post_key = $1`, key))
		}
		return err
	})
	if err != nil {
		return Post{}, fmt.Errorf("claiming post %q: %w", key, s.scrubbed(err))
	}
	return p, nil
}

// LookupPost reads key's post without claiming it; ErrNotFound when nobody claimed or
// finished it yet.
func (s *Store) LookupPost(ctx context.Context, key string) (Post, error) {
	p, err := scanPost(s.db.q().queryRow(ctx, `SELECT `+postColumns+` FROM pubdoc_posts WHERE post_key = $1`, key))
	if errNoRows(err) {
		return Post{}, fmt.Errorf("post %q: %w", key, ErrNotFound)
	}
	if err != nil {
		return Post{}, fmt.Errorf("reading post %q: %w", key, s.scrubbed(err))
	}
	return p, nil
}

// FinishPost marks key's post Done, recording where the message is. Finishing a post
// never claimed creates it Done.
func (s *Store) FinishPost(ctx context.Context, key, channel, ts string) error {
	if key == "" {
		return errors.New("finishing a post: no key")
	}
	now := time.Now().UnixMilli()
	_, err := s.db.q().exec(ctx, `INSERT INTO pubdoc_posts (post_key, channel, ts, done, claims, claimed_at, done_at)
		VALUES ($1, $2, $3, 1, 0, $4, $4)
		ON CONFLICT (post_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, done = 1, done_at = excluded.done_at`,
		key, channel, ts, now)
	if err != nil {
		return fmt.Errorf("finishing post %q: %w", key, s.scrubbed(err))
	}
	return nil
}

const postColumns = `post_key, channel, ts, done, claims, claimed_at`

func scanPost(r row) (Post, error) {
	var p Post
	var done, claims, claimed int64
	if err := r.Scan(&p.Key, &p.Channel, &p.TS, &done, &claims, &claimed); err != nil {
		return Post{}, err
	}
	p.Done, p.Claims, p.ClaimedAt = done != 0, int(claims), fromMS(claimed)
	return p, nil
}
