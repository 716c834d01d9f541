package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
)

// What the learning tables keep (migration 3).
const (
	// AnswerLogRetention is how long the log of an answer is kept for feedback to make a
	// case of it; a case keeps its own copy.
	AnswerLogRetention = 30 * 24 * time.Hour
	// MaxAnswerLogBytes is about how much of a log an answer keeps (learn.Keep).
	MaxAnswerLogBytes = learn.DefaultKeepBytes
	// maxGroupText bounds a group's example lines and excerpt.
	maxGroupText = 8 << 10
)

// RecordAnswer learns from one stored answer, once per diagnosis however often it is
// called (a retried job calls it again): it keeps the log, cut to what a case needs
// (learn.Keep) and redacted, so that feedback on the answer can make it a case; and when
// the answer names no known cause or its top candidate is under 0.5 (learn.Unknown), it
// counts it in the unknown group of its fingerprint, on the day of at. It returns the
// fingerprint of the answer's failing lines. ErrNotFound when the diagnosis does not
// exist. Logs older than AnswerLogRetention are dropped on the way.
func (s *Store) RecordAnswer(ctx context.Context, diagnosisID int64, res *diagnose.Result, log string, at time.Time) (fingerprint string, err error) {
	if at.IsZero() {
		at = time.Now()
	}
	kept := learn.Keep(log, res, MaxAnswerLogBytes)
	p := learn.Fingerprint(res, log)
	kept = cleanEvidence(diagnose.Redact(kept), 2*MaxAnswerLogBytes)
	err = s.db.inTx(ctx, func(q querier, _ any) error {
		var n int64
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_diagnoses WHERE id = $1`, diagnosisID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		first, err := q.exec(ctx, `INSERT INTO pubdoc_answer_logs (diagnosis_id, fingerprint, log, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (diagnosis_id) DO NOTHING`, diagnosisID, p.ID, kept, ms(at))
		if err != nil || first == 0 || !learn.Unknown(res) {
			return err
		}
		return countUnknown(ctx, q, p, res, at)
	})
	if err != nil {
		return "", fmt.Errorf("recording the answer of diagnosis %d: %w", diagnosisID, s.scrubbed(err))
	}
	if _, err := s.db.q().exec(ctx, `DELETE FROM pubdoc_answer_logs WHERE created_at < $1`,
		ms(time.Now().Add(-AnswerLogRetention))); err != nil {
		s.logger.Warn("dropping old answer logs", "err", s.scrubbed(err).Error())
	}
	return p.ID, nil
}

// countUnknown adds one answer to its group and to the group's day.
func countUnknown(ctx context.Context, q querier, p learn.Print, res *diagnose.Result, at time.Time) error {
	verdict, rule := diagnose.NoKnownCause, ""
	if res != nil {
		verdict = res.Verdict
		if len(res.Diagnoses) > 0 {
			rule = res.Diagnoses[0].ID
		}
	}
	t := ms(at)
	_, err := q.exec(ctx, `INSERT INTO pubdoc_unknown_groups
			(fingerprint, lines, example, excerpt, verdict, rule_id, total, first_at, last_at)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)
		ON CONFLICT (fingerprint) DO UPDATE SET
			total = pubdoc_unknown_groups.total + 1,
			first_at = CASE WHEN excluded.first_at < pubdoc_unknown_groups.first_at THEN excluded.first_at ELSE pubdoc_unknown_groups.first_at END,
			last_at = CASE WHEN excluded.last_at > pubdoc_unknown_groups.last_at THEN excluded.last_at ELSE pubdoc_unknown_groups.last_at END`,
		p.ID, cleanEvidence(strings.Join(p.Lines, "\n"), maxGroupText),
		cleanEvidence(diagnose.Redact(strings.Join(p.Raw, "\n")), maxGroupText),
		cleanEvidence(diagnose.Redact(p.Excerpt), maxGroupText), verdict, rule, t)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, `INSERT INTO pubdoc_unknown_days (fingerprint, day, answers) VALUES ($1, $2, 1)
		ON CONFLICT (fingerprint, day) DO UPDATE SET answers = pubdoc_unknown_days.answers + 1`,
		p.ID, ms(dayOf(at)))
	return err
}

// dayOf is the UTC midnight of t's day.
func dayOf(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// SaveCase makes the answer of a diagnosis a case, from feedback on it: source is
// learn.SourceFixed or learn.SourceWrong, picked the rule the person named as the real
// cause ("" or "other" for none). The case takes the log RecordAnswer kept and the
// answer's verdict, top rule and confidence; its label is learn.CaseLabel's. A later
// call for the same diagnosis replaces the feedback of the earlier one. saved is false
// when no log is kept for the diagnosis (it was never recorded, or is older than
// AnswerLogRetention); ErrNotFound when the diagnosis does not exist.
func (s *Store) SaveCase(ctx context.Context, diagnosisID int64, source, picked, user string, at time.Time) (saved bool, err error) {
	if source != learn.SourceFixed && source != learn.SourceWrong {
		return false, fmt.Errorf("saving a case of diagnosis %d: source %q is neither %q nor %q", diagnosisID, source, learn.SourceFixed, learn.SourceWrong)
	}
	if at.IsZero() {
		at = time.Now()
	}
	err = s.db.inTx(ctx, func(q querier, _ any) error {
		var c learn.Case
		err := q.queryRow(ctx, `SELECT d.verdict, d.rule_id, d.confidence, d.thread_id,
				COALESCE(l.log, ''), COALESCE(l.fingerprint, '')
			FROM pubdoc_diagnoses d LEFT JOIN pubdoc_answer_logs l ON l.diagnosis_id = d.id
			WHERE d.id = $1`, diagnosisID).Scan(&c.Verdict, &c.TopRuleID, &c.Confidence, &c.ThreadID, &c.Log, &c.Fingerprint)
		if errNoRows(err) {
			return ErrNotFound
		}
		if err != nil || c.Log == "" {
			return err
		}
		_, err = q.exec(ctx, `INSERT INTO pubdoc_cases
				(diagnosis_id, log, verdict, top_rule_id, confidence, label, source, user_id, thread_id, fingerprint, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (diagnosis_id) DO UPDATE SET
				label = excluded.label, source = excluded.source, user_id = excluded.user_id, created_at = excluded.created_at`,
			diagnosisID, c.Log, c.Verdict, c.TopRuleID, c.Confidence, learn.CaseLabel(source, c.TopRuleID, picked),
			source, user, c.ThreadID, c.Fingerprint, ms(at))
		saved = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("saving a case of diagnosis %d: %w", diagnosisID, s.scrubbed(err))
	}
	return saved, nil
}

// Cases returns the cases made since since (all when zero), oldest first.
func (s *Store) Cases(ctx context.Context, since time.Time) ([]learn.Case, error) {
	return s.learning().cases(ctx, since)
}

// UnknownGroups returns the largest unknown groups: those with answers since since,
// by their count since then (then the latest first), at most limit (10 when 0).
func (s *Store) UnknownGroups(ctx context.Context, since time.Time, limit int) ([]learn.Group, error) {
	return s.learning().groups(ctx, since, limit, "")
}

// UnknownGroup returns the group whose fingerprint is id or starts with it (at least 4
// hex digits), with its counts since since. ErrNotFound when none is; an error saying so
// when the prefix names several.
func (s *Store) UnknownGroup(ctx context.Context, id string, since time.Time) (learn.Group, error) {
	return s.learning().group(ctx, id, since)
}

// RulePrecision returns, for every rule whose answers got feedback since since (all
// when zero), how often it was right ("Fixed it") and wrong ("Wrong cause"), by rule id.
func (s *Store) RulePrecision(ctx context.Context, since time.Time) ([]learn.Precision, error) {
	return s.learning().precision(ctx, since)
}

// learning reads the learning tables; Store and Reader share it.
type learning struct {
	q     querier
	scrub func(error) error
}

func (s *Store) learning() learning { return learning{q: s.db.q(), scrub: s.scrubbed} }

func (l learning) cases(ctx context.Context, since time.Time) ([]learn.Case, error) {
	var out []learn.Case
	err := eachRow(ctx, l.q, `SELECT id, diagnosis_id, log, verdict, top_rule_id, confidence, label, source, user_id,
			thread_id, fingerprint, created_at
		FROM pubdoc_cases WHERE created_at >= $1 ORDER BY created_at, id`, []any{ms(since)}, func(r rows) error {
		var c learn.Case
		var created int64
		if err := r.Scan(&c.ID, &c.DiagnosisID, &c.Log, &c.Verdict, &c.TopRuleID, &c.Confidence, &c.Label, &c.Source,
			&c.User, &c.ThreadID, &c.Fingerprint, &created); err != nil {
			return err
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing cases: %w", l.scrub(err))
	}
	return out, nil
}

func (l learning) groups(ctx context.Context, since time.Time, limit int, prefix string) ([]learn.Group, error) {
	if limit <= 0 {
		limit = 10
	}
	from := ms(dayOf(since))
	where, args := "", []any{from, limit}
	if prefix != "" {
		where, args = "WHERE g.fingerprint LIKE $3", append(args, prefix+"%")
	}
	var out []learn.Group
	err := eachRow(ctx, l.q, `SELECT g.fingerprint, g.lines, g.example, g.excerpt, g.verdict, g.rule_id, g.total,
			g.first_at, g.last_at, COALESCE(SUM(d.answers), 0)
		FROM pubdoc_unknown_groups g LEFT JOIN pubdoc_unknown_days d ON d.fingerprint = g.fingerprint AND d.day >= $1
		`+where+`
		GROUP BY g.fingerprint
		ORDER BY COALESCE(SUM(d.answers), 0) DESC, g.last_at DESC, g.fingerprint
		LIMIT $2`, args, func(r rows) error {
		var g learn.Group
		var lines, example string
		var total, count, first, last int64
		if err := r.Scan(&g.ID, &lines, &example, &g.Excerpt, &g.Verdict, &g.RuleID, &total, &first, &last, &count); err != nil {
			return err
		}
		g.Lines, g.Example = splitLines(lines), splitLines(example)
		g.Total, g.Count = int(total), int(count)
		g.FirstSeen, g.LastSeen = fromMS(first), fromMS(last)
		if prefix == "" && count == 0 {
			return nil // no answer in the window
		}
		out = append(out, g)
		return nil
	})
	if err == nil {
		for i := range out {
			if out[i].Days, err = l.days(ctx, out[i].ID, from); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listing unknown groups: %w", l.scrub(err))
	}
	return out, nil
}

func (l learning) days(ctx context.Context, id string, from int64) ([]learn.DayCount, error) {
	var out []learn.DayCount
	err := eachRow(ctx, l.q, `SELECT day, answers FROM pubdoc_unknown_days WHERE fingerprint = $1 AND day >= $2 ORDER BY day`,
		[]any{id, from}, func(r rows) error {
			var day, n int64
			if err := r.Scan(&day, &n); err != nil {
				return err
			}
			out = append(out, learn.DayCount{Day: fromMS(day), Count: int(n)})
			return nil
		})
	return out, err
}

func (l learning) group(ctx context.Context, id string, since time.Time) (learn.Group, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < 4 || len(id) > 16 || strings.Trim(id, "0123456789abcdef") != "" {
		return learn.Group{}, fmt.Errorf("finding unknown group %q: a group is named by 4 to 16 hex digits of its fingerprint", id)
	}
	gs, err := l.groups(ctx, since, 2, id)
	if err != nil {
		return learn.Group{}, err
	}
	switch len(gs) {
	case 0:
		return learn.Group{}, fmt.Errorf("finding unknown group %q: %w", id, ErrNotFound)
	case 1:
		return gs[0], nil
	}
	return learn.Group{}, fmt.Errorf("finding unknown group %q: it names several groups (%s, %s, …); give more digits", id, gs[0].ID, gs[1].ID)
}

func (l learning) precision(ctx context.Context, since time.Time) ([]learn.Precision, error) {
	byRule := map[string]*learn.Precision{}
	err := eachRow(ctx, l.q, `SELECT d.rule_id, f.kind, COUNT(*)
		FROM pubdoc_feedback f JOIN pubdoc_diagnoses d ON d.id = f.diagnosis_id
		WHERE f.created_at >= $1 GROUP BY d.rule_id, f.kind`, []any{ms(since)}, func(r rows) error {
		var id, kind string
		var n int64
		if err := r.Scan(&id, &kind, &n); err != nil {
			return err
		}
		if id == "" || id == diagnose.NoKnownCause {
			return nil
		}
		p := byRule[id]
		if p == nil {
			p = &learn.Precision{RuleID: id}
			byRule[id] = p
		}
		switch kind {
		case learn.SourceFixed:
			p.Right += int(n)
		case learn.SourceWrong:
			p.Wrong += int(n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("computing rule precision: %w", l.scrub(err))
	}
	out := make([]learn.Precision, 0, len(byRule))
	for _, p := range byRule {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b learn.Precision) int { return cmp.Compare(a.RuleID, b.RuleID) })
	return out, nil
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// errNoLearning says the database predates the learning tables.
var errNoLearning = errors.New("the database has no cases or unknown groups yet (store schema 3): start this version of pubdoc serve on it once, which migrates it")
