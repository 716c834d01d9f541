package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// Thread is a triage thread (the bot's record type, which the store keeps).
type Thread = bot.Thread

const threadColumns = `id, fingerprint, repo, workflow, branch, rule_id, channel, parent_ts, parent_diagnosis_id,
	members, first_at, last_at, claimed_at, acked_by, acked_at, resolved_run, resolved_at,
	replies, replies_posted, reply_at, reply_owner`

func scanThread(r row) (Thread, error) {
	var t Thread
	var count, first, last, claimed, acked, resolved, replyAt int64
	err := r.Scan(&t.ID, &t.Fingerprint, &t.Repo, &t.Workflow, &t.Branch, &t.RuleID, &t.Channel, &t.ParentTS,
		&t.ParentDiagnosisID, &count, &first, &last, &claimed, &t.AckedBy, &acked, &t.ResolvedRun, &resolved,
		&t.Replies, &t.RepliesPosted, &replyAt, &t.ReplyOwner)
	if err != nil {
		return Thread{}, err
	}
	t.Count = int(count)
	t.FirstAt, t.LastAt, t.ClaimedAt, t.ReplyAt = fromMS(first), fromMS(last), fromMS(claimed), fromMS(replyAt)
	t.AckedAt, t.ResolvedAt = fromMS(acked), fromMS(resolved)
	return t, nil
}

// OpenThread returns the newest unresolved thread for (fingerprint, channel) whose
// FirstAt is at or after since, or creates one (Count 0, no parent yet, FirstAt, LastAt
// and ClaimedAt now) and reports created. Concurrent callers, in this process or other
// replicas, get the same thread and exactly one of them created=true: each holds a lock
// row for (fingerprint, channel) until it commits.
func (s *Store) OpenThread(ctx context.Context, fingerprint, repo, workflow, branch, ruleID, channel string, since, now time.Time) (t Thread, created bool, err error) {
	if fingerprint == "" || channel == "" {
		return Thread{}, false, fmt.Errorf("opening a thread: fingerprint and channel are required (got %q, %q)", fingerprint, channel)
	}
	if now.IsZero() {
		now = time.Now()
	}
	err = s.db.inTx(ctx, func(q querier, _ any) error {
		created = false
		// The upsert takes the lock row's row lock on PostgreSQL (the second caller waits
		// here until the first commits, then sees its thread); SQLite's BEGIN IMMEDIATE
		// has already serialized writers.
		if _, err := q.exec(ctx, `INSERT INTO pubdoc_thread_locks (fingerprint, channel, touched_at) VALUES ($1, $2, $3)
			ON CONFLICT (fingerprint, channel) DO UPDATE SET touched_at = excluded.touched_at`,
			fingerprint, channel, ms(now)); err != nil {
			return fmt.Errorf("locking: %w", err)
		}
		var err error
		t, err = scanThread(q.queryRow(ctx, `SELECT `+threadColumns+` FROM pubdoc_threads
			WHERE fingerprint = $1 AND channel = $2 AND resolved_at = 0 AND first_at >= $3
			ORDER BY first_at DESC, id DESC LIMIT 1`, fingerprint, channel, ms(since)))
		if err == nil || !errNoRows(err) {
			return err
		}
		t, err = scanThread(q.queryRow(ctx, `INSERT INTO pubdoc_threads
			(fingerprint, repo, workflow, branch, rule_id, channel, first_at, last_at, claimed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7)
			RETURNING `+threadColumns, fingerprint, repo, workflow, branch, ruleID, channel, ms(now)))
		created = err == nil
		return err
	})
	if err != nil {
		return Thread{}, false, fmt.Errorf("opening a thread for %s in %s: %w", fingerprint, channel, s.scrubbed(err))
	}
	return t, created, nil
}

// ReclaimThread lets a caller take over posting a thread's parent: when ParentTS is
// still empty and ClaimedAt is before olderThan (the previous claimant seems gone), it
// sets ClaimedAt to now and returns true; otherwise false.
func (s *Store) ReclaimThread(ctx context.Context, id int64, olderThan, now time.Time) (bool, error) {
	if now.IsZero() {
		now = time.Now()
	}
	n, err := s.db.q().exec(ctx, `UPDATE pubdoc_threads SET claimed_at = $1
		WHERE id = $2 AND parent_ts = '' AND claimed_at < $3`, ms(now), id, ms(olderThan))
	if err != nil {
		return false, fmt.Errorf("reclaiming thread %d: %w", id, s.scrubbed(err))
	}
	return n == 1, nil
}

// SetThreadParent records the thread's parent message and the diagnosis it shows. An empty
// ts records only the diagnosis, before its post: a parent already posted (by a job that
// was slow, then taken over) keeps its ts, so the thread is never without its parent
// again.
func (s *Store) SetThreadParent(ctx context.Context, id int64, ts string, diagnosisID int64) error {
	n, err := s.db.q().exec(ctx, `UPDATE pubdoc_threads
		SET parent_ts = CASE WHEN $1 = '' THEN parent_ts ELSE $1 END, parent_diagnosis_id = $2 WHERE id = $3`,
		ts, diagnosisID, id)
	if err != nil {
		return fmt.Errorf("recording thread %d's parent: %w", id, s.scrubbed(err))
	}
	if n == 0 {
		return fmt.Errorf("recording thread %d's parent: %w", id, ErrNotFound)
	}
	return nil
}

// AddToThread adds memberKey (one failure) to the thread once: the first time, Count
// goes up by one, LastAt becomes now and added is true. It returns the thread as it
// is after.
func (s *Store) AddToThread(ctx context.Context, id int64, memberKey string, now time.Time) (t Thread, added bool, err error) {
	return s.AddMember(ctx, id, Member{Key: memberKey, Batch: BatchNone}, now)
}

// AddMember is AddToThread with the member's label and batch: BatchPending (0) waits for
// the next TakeBatch, BatchNone (-1) is never batched (the parent's own failure). A
// member already in the thread keeps its batch and label.
func (s *Store) AddMember(ctx context.Context, id int64, m Member, now time.Time) (t Thread, added bool, err error) {
	memberKey := m.Key
	if memberKey == "" {
		return Thread{}, false, fmt.Errorf("adding to thread %d: no member key", id)
	}
	if now.IsZero() {
		now = time.Now()
	}
	err = s.db.inTx(ctx, func(q querier, _ any) error {
		added = false
		var n int64
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_threads WHERE id = $1`, id).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		n, err := q.exec(ctx, `INSERT INTO pubdoc_thread_members (thread_id, member_key, added_at, batch, label) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (thread_id, member_key) DO NOTHING`, id, memberKey, ms(now), m.Batch, m.Label)
		if err != nil {
			return err
		}
		if n == 1 {
			if _, err := q.exec(ctx, `UPDATE pubdoc_threads SET members = members + 1, last_at = $1 WHERE id = $2`,
				ms(now), id); err != nil {
				return err
			}
			added = true
		}
		t, err = scanThread(q.queryRow(ctx, `SELECT `+threadColumns+` FROM pubdoc_threads WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return Thread{}, false, fmt.Errorf("adding %q to thread %d: %w", memberKey, id, s.scrubbed(err))
	}
	return t, added, nil
}

// Thread returns the thread with this id, or ErrNotFound.
func (s *Store) Thread(ctx context.Context, id int64) (Thread, error) {
	t, err := scanThread(s.db.q().queryRow(ctx, `SELECT `+threadColumns+` FROM pubdoc_threads WHERE id = $1`, id))
	if errNoRows(err) {
		return Thread{}, fmt.Errorf("reading thread %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Thread{}, fmt.Errorf("reading thread %d: %w", id, s.scrubbed(err))
	}
	return t, nil
}

// OpenThreadsFor returns the unresolved threads of a repository's workflow on a branch,
// oldest first.
func (s *Store) OpenThreadsFor(ctx context.Context, repo, workflow, branch string) ([]Thread, error) {
	rs, err := s.db.q().query(ctx, `SELECT `+threadColumns+` FROM pubdoc_threads
		WHERE repo = $1 AND workflow = $2 AND branch = $3 AND resolved_at = 0 ORDER BY id`, repo, workflow, branch)
	if err != nil {
		return nil, fmt.Errorf("listing open threads of %s %s on %s: %w", repo, workflow, branch, s.scrubbed(err))
	}
	defer rs.Close()
	var out []Thread
	for rs.Next() {
		t, err := scanThread(rs)
		if err != nil {
			return nil, fmt.Errorf("listing open threads of %s %s on %s: %w", repo, workflow, branch, err)
		}
		out = append(out, t)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("listing open threads of %s %s on %s: %w", repo, workflow, branch, s.scrubbed(err))
	}
	return out, nil
}

// ResolveThread marks the thread fixed by run at the given time. It returns false when
// the thread was already resolved (the first resolution stands), ErrNotFound when it
// does not exist.
func (s *Store) ResolveThread(ctx context.Context, id, run int64, at time.Time) (bool, error) {
	if at.IsZero() {
		at = time.Now()
	}
	n, err := s.db.q().exec(ctx, `UPDATE pubdoc_threads SET resolved_run = $1, resolved_at = $2 WHERE id = $3 AND resolved_at = 0`,
		run, ms(at), id)
	if err != nil {
		return false, fmt.Errorf("resolving thread %d: %w", id, s.scrubbed(err))
	}
	if n == 1 {
		return true, nil
	}
	if _, err := s.Thread(ctx, id); err != nil {
		return false, fmt.Errorf("resolving thread %d: %w", id, errors.Unwrap(err))
	}
	return false, nil
}

// AckThread records that user acknowledged the thread (the latest acknowledgement is
// kept) and returns the thread. ErrNotFound when it does not exist.
func (s *Store) AckThread(ctx context.Context, id int64, user string, at time.Time) (Thread, error) {
	if at.IsZero() {
		at = time.Now()
	}
	var t Thread
	err := s.db.inTx(ctx, func(q querier, _ any) error {
		n, err := q.exec(ctx, `UPDATE pubdoc_threads SET acked_by = $1, acked_at = $2 WHERE id = $3`, user, ms(at), id)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		t, err = scanThread(q.queryRow(ctx, `SELECT `+threadColumns+` FROM pubdoc_threads WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return Thread{}, fmt.Errorf("acknowledging thread %d: %w", id, s.scrubbed(err))
	}
	return t, nil
}
