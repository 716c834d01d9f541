package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
)

// DigestRecords reads what the weekly digest is made of for [from, to), for every route
// at once (the caller sorts them by repository and channel): the failed runs diagnosed
// from GitHub deliveries, with their triage threads' first and resolved times; the
// feedback given, per rule, repository and channel; and the unknown answers, per
// fingerprint, repository and channel.
func (s *Store) DigestRecords(ctx context.Context, from, to time.Time) (bot.DigestRecords, error) {
	var out bot.DigestRecords
	q := s.db.q()
	fail := func(what string, err error) (bot.DigestRecords, error) {
		return bot.DigestRecords{}, fmt.Errorf("reading the digest's %s: %w", what, s.scrubbed(err))
	}
	// A diagnosis knows its thread once it was posted (thread_id); a repeat replied in a
	// batch is known to its thread as a member, by the diagnosis's key.
	err := eachRow(ctx, q, `SELECT d.created_at, d.repo, d.workflow, d.branch, d.run_id, d.rule_id, d.verdict,
			COALESCE(t.first_at, 0), COALESCE(t.resolved_at, 0)
		FROM pubdoc_diagnoses d
		LEFT JOIN pubdoc_threads t ON t.id = CASE WHEN d.thread_id <> 0 THEN d.thread_id ELSE
			(SELECT MIN(m.thread_id) FROM pubdoc_thread_members m WHERE m.member_key = d.idem_key) END
		WHERE d.source = 'github' AND d.created_at >= $1 AND d.created_at < $2
		ORDER BY d.created_at, d.id`, []any{ms(from), ms(to)}, func(r rows) error {
		var f bot.DigestFailure
		var at, first, resolved int64
		if err := r.Scan(&at, &f.Repo, &f.Workflow, &f.Branch, &f.RunID, &f.RuleID, &f.Verdict, &first, &resolved); err != nil {
			return err
		}
		f.At, f.RedSince, f.FixedAt = fromMS(at), fromMS(first), fromMS(resolved)
		out.Failures = append(out.Failures, f)
		return nil
	})
	if err != nil {
		return fail("failures", err)
	}
	err = eachRow(ctx, q, `SELECT d.repo, d.channel, d.rule_id,
			SUM(CASE WHEN f.kind = $3 THEN 1 ELSE 0 END), SUM(CASE WHEN f.kind = $4 THEN 1 ELSE 0 END)
		FROM pubdoc_feedback f JOIN pubdoc_diagnoses d ON d.id = f.diagnosis_id
		WHERE f.created_at >= $1 AND f.created_at < $2
		GROUP BY d.repo, d.channel, d.rule_id ORDER BY d.repo, d.channel, d.rule_id`,
		[]any{ms(from), ms(to), bot.FeedbackFixed, bot.FeedbackWrong}, func(r rows) error {
			var fb bot.DigestFeedback
			var right, wrong int64
			if err := r.Scan(&fb.Repo, &fb.Channel, &fb.RuleID, &right, &wrong); err != nil {
				return err
			}
			fb.Right, fb.Wrong = int(right), int(wrong)
			out.Feedback = append(out.Feedback, fb)
			return nil
		})
	if err != nil {
		return fail("feedback", err)
	}
	// The unknown answers are those RecordAnswer counted in a group (learn.Unknown): no
	// known cause, or a top candidate under learn.LowConfidence.
	err = eachRow(ctx, q, `SELECT d.repo, d.channel, l.fingerprint, g.example, COUNT(*)
		FROM pubdoc_answer_logs l
		JOIN pubdoc_diagnoses d ON d.id = l.diagnosis_id
		JOIN pubdoc_unknown_groups g ON g.fingerprint = l.fingerprint
		WHERE l.created_at >= $1 AND l.created_at < $2 AND (d.verdict = $3 OR d.confidence < $4)
		GROUP BY d.repo, d.channel, l.fingerprint, g.example ORDER BY d.repo, d.channel, l.fingerprint`,
		[]any{ms(from), ms(to), diagnose.NoKnownCause, learn.LowConfidence}, func(r rows) error {
			var u bot.DigestUnknown
			var example string
			var n int64
			if err := r.Scan(&u.Repo, &u.Channel, &u.Fingerprint, &example, &n); err != nil {
				return err
			}
			u.Example, _, _ = strings.Cut(example, "\n")
			u.Count = int(n)
			out.Unknown = append(out.Unknown, u)
			return nil
		})
	if err != nil {
		return fail("unknown failures", err)
	}
	return out, nil
}

// TakePost leases key's post to one caller among replicas and restarts: the first call
// creates it (Claims 1) and gets it; a later call gets it only when it is not Done and
// its last lease is older than lease (its taker is presumed gone: Claims then counts
// the takes, and above 1 the taker looks for an earlier post before posting). mine says
// whether this call holds the lease; the Post is as stored after the call.
func (s *Store) TakePost(ctx context.Context, key string, now time.Time, lease time.Duration) (p Post, mine bool, err error) {
	if key == "" {
		return Post{}, false, errors.New("taking a post: no key")
	}
	if now.IsZero() {
		now = time.Now()
	}
	err = s.db.inTx(ctx, func(q querier, _ any) error {
		n, err := q.exec(ctx, `INSERT INTO pubdoc_posts (post_key, claims, claimed_at) VALUES ($1, 1, $2)
			ON CONFLICT (post_key) DO NOTHING`, key, ms(now))
		if err != nil {
			return err
		}
		if n == 0 {
			n, err = q.exec(ctx, `UPDATE pubdoc_posts SET claims = claims + 1, claimed_at = $2
				WHERE post_key = $1 AND done = 0 AND claimed_at < $3`, key, ms(now), ms(now.Add(-lease)))
			if err != nil {
				return err
			}
		}
		mine = n > 0
		p, err = scanPost(q.queryRow(ctx, `SELECT `+postColumns+` FROM pubdoc_posts WHERE post_key = $1`, key))
		return err
	})
	if err != nil {
		return Post{}, false, fmt.Errorf("taking post %q: %w", key, s.scrubbed(err))
	}
	return p, mine, nil
}
