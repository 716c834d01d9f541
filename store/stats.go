package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/durations"
)

// RuleStats is one rule's figures over the last 30 days (the bot's type).
type RuleStats = bot.RuleStats

// Stats are the figures behind `/pubdoc stats` (the bot's type).
type Stats = bot.Stats

// Stats computes the figures as of now.
func (s *Store) Stats(ctx context.Context, now time.Time) (Stats, error) {
	if now.IsZero() {
		now = time.Now()
	}
	d7, d30 := ms(now.Add(-7*24*time.Hour)), ms(now.Add(-30*24*time.Hour))
	var st Stats
	byRule := map[string]*RuleStats{}
	rule := func(id string) *RuleStats {
		r := byRule[id]
		if r == nil {
			r = &RuleStats{RuleID: id}
			byRule[id] = r
		}
		return r
	}
	q := s.db.q()
	fail := func(what string, err error) (Stats, error) {
		return Stats{}, fmt.Errorf("computing stats (%s): %w", what, s.scrubbed(err))
	}

	// Diagnoses by rule.
	err := eachRow(ctx, q, `SELECT rule_id,
			SUM(CASE WHEN created_at >= $1 THEN 1 ELSE 0 END),
			COUNT(*)
		FROM pubdoc_diagnoses WHERE created_at >= $2 GROUP BY rule_id`,
		[]any{d7, d30}, func(r rows) error {
			var id string
			var n7, n30 int64
			if err := r.Scan(&id, &n7, &n30); err != nil {
				return err
			}
			st.Total7 += int(n7)
			st.Total30 += int(n30)
			if id != "" {
				rs := rule(id)
				rs.Count7, rs.Count30 = int(n7), int(n30)
			}
			return nil
		})
	if err != nil {
		return fail("diagnoses", err)
	}

	// Feedback, credited to the rule of the diagnosis it is about.
	err = eachRow(ctx, q, `SELECT d.rule_id, f.kind, COUNT(*)
		FROM pubdoc_feedback f JOIN pubdoc_diagnoses d ON d.id = f.diagnosis_id
		WHERE f.created_at >= $1 GROUP BY d.rule_id, f.kind`,
		[]any{d30}, func(r rows) error {
			var id, kind string
			var n int64
			if err := r.Scan(&id, &kind, &n); err != nil {
				return err
			}
			if id == "" {
				return nil
			}
			switch kind {
			case bot.FeedbackFixed:
				rule(id).Fixed += int(n)
			case bot.FeedbackWrong:
				rule(id).Wrong += int(n)
			}
			return nil
		})
	if err != nil {
		return fail("feedback", err)
	}

	// Threads opened in the window.
	var opened int64
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_threads WHERE first_at >= $1`, d30).Scan(&opened); err != nil {
		return fail("threads", err)
	}
	st.Threads30 = int(opened)

	// Threads resolved in the window, and how long they took.
	var all []time.Duration
	perRule := map[string][]time.Duration{}
	err = eachRow(ctx, q, `SELECT rule_id, first_at, resolved_at FROM pubdoc_threads WHERE resolved_at >= $1`,
		[]any{d30}, func(r rows) error {
			var id string
			var first, resolved int64
			if err := r.Scan(&id, &first, &resolved); err != nil {
				return err
			}
			d := time.Duration(max(resolved-first, 0)) * time.Millisecond
			all = append(all, d)
			if id != "" {
				perRule[id] = append(perRule[id], d)
			}
			return nil
		})
	if err != nil {
		return fail("resolved threads", err)
	}
	st.Resolved30 = len(all)
	st.MedianTimeToFix = durations.Median(all)
	for id, ds := range perRule {
		r := rule(id)
		r.Resolved = len(ds)
		r.MedianTimeToFix = durations.Median(ds)
	}

	for _, r := range byRule {
		st.Rules = append(st.Rules, *r)
	}
	slices.SortFunc(st.Rules, func(a, b RuleStats) int {
		if c := cmp.Compare(b.Count30, a.Count30); c != 0 {
			return c
		}
		return cmp.Compare(a.RuleID, b.RuleID)
	})
	return st, nil
}

// eachRow runs a query and calls fn for each row.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(rows) error) error {
	rs, err := q.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		if err := fn(rs); err != nil {
			return err
		}
	}
	return rs.Err()
}
