package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// Member is one failure of a triage thread (the bot's record type).
type Member = bot.Member

// Batch values of a Member that are not a batch number.
const (
	BatchPending = bot.BatchPending
	BatchNone    = bot.BatchNone
)

// errNothingPending rolls back a TakeBatch that found no pending member.
var errNothingPending = errors.New("no pending member")

// TakeBatch starts reply batch expect+1 of a thread: when the thread's last taken batch
// is expect and it has been posted (FinishBatch), every pending member is assigned the
// new batch, ReplyAt becomes now and ReplyOwner owner. It returns the batch number and
// its members in the order they were added, or 0 and nil when another caller took the
// batch first, the previous batch is not posted yet, or no member is pending.
//
// The thread row is updated before the members, so a concurrent AddMember (which
// updates the thread row after inserting its member) is either in the batch or sees the
// new Replies afterwards.
func (s *Store) TakeBatch(ctx context.Context, id, expect int64, owner string, now time.Time) (int64, []Member, error) {
	if now.IsZero() {
		now = time.Now()
	}
	var batch int64
	var members []Member
	err := s.db.inTx(ctx, func(q querier, _ any) error {
		batch, members = 0, nil
		n, err := q.exec(ctx, `UPDATE pubdoc_threads SET replies = replies + 1, reply_at = $1, reply_owner = $2
			WHERE id = $3 AND replies = $4 AND replies_posted = replies`, ms(now), owner, id, expect)
		if err != nil || n == 0 {
			return err
		}
		n, err = q.exec(ctx, `UPDATE pubdoc_thread_members SET batch = $1 WHERE thread_id = $2 AND batch = 0`, expect+1, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return errNothingPending
		}
		batch = expect + 1
		members, err = batchMembers(ctx, q, id, batch)
		return err
	})
	if errors.Is(err, errNothingPending) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("taking a reply batch of thread %d: %w", id, s.scrubbed(err))
	}
	return batch, members, nil
}

// BatchMembers returns the members of a thread's reply batch in the order they were added.
func (s *Store) BatchMembers(ctx context.Context, id, batch int64) ([]Member, error) {
	m, err := batchMembers(ctx, s.db.q(), id, batch)
	if err != nil {
		return nil, fmt.Errorf("reading reply batch %d of thread %d: %w", batch, id, s.scrubbed(err))
	}
	return m, nil
}

func batchMembers(ctx context.Context, q querier, id, batch int64) ([]Member, error) {
	rs, err := q.query(ctx, `SELECT member_key, label FROM pubdoc_thread_members WHERE thread_id = $1 AND batch = $2
		ORDER BY added_at, member_key`, id, batch)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Member
	for rs.Next() {
		m := Member{Batch: batch}
		if err := rs.Scan(&m.Key, &m.Label); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rs.Err()
}

// FinishBatch records that reply batch batch of a thread is posted, and where: the
// stored diagnoses of its members get the message (channel, ts) and the thread.
func (s *Store) FinishBatch(ctx context.Context, id, batch int64, channel, ts string) error {
	err := s.db.inTx(ctx, func(q querier, _ any) error {
		if _, err := q.exec(ctx, `UPDATE pubdoc_diagnoses SET channel = $1, ts = $2, thread_id = $3
			WHERE idem_key IN (SELECT member_key FROM pubdoc_thread_members WHERE thread_id = $3 AND batch = $4)`,
			channel, ts, id, batch); err != nil {
			return err
		}
		_, err := q.exec(ctx, `UPDATE pubdoc_threads SET replies_posted = $1 WHERE id = $2 AND replies_posted < $1`, batch, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("finishing reply batch %d of thread %d: %w", batch, id, s.scrubbed(err))
	}
	return nil
}

// ReclaimBatch hands reply batch batch of a thread to owner when it is still the last
// one taken, is not posted, and was taken before olderThan (its owner seems gone): it
// sets ReplyOwner and ReplyAt (now) and returns true; otherwise false.
func (s *Store) ReclaimBatch(ctx context.Context, id, batch int64, owner string, olderThan, now time.Time) (bool, error) {
	if now.IsZero() {
		now = time.Now()
	}
	n, err := s.db.q().exec(ctx, `UPDATE pubdoc_threads SET reply_owner = $1, reply_at = $2
		WHERE id = $3 AND replies = $4 AND replies_posted < replies AND reply_at < $5`, owner, ms(now), id, batch, ms(olderThan))
	if err != nil {
		return false, fmt.Errorf("reclaiming reply batch %d of thread %d: %w", batch, id, s.scrubbed(err))
	}
	return n == 1, nil
}
