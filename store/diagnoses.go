package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/bot"
)

// Size limits on what a diagnosis keeps.
const (
	// MaxEvidenceBytes is where SaveDiagnosis cuts Evidence (at a UTF-8 boundary).
	MaxEvidenceBytes = 4 << 10
	// MaxResultBytes is the largest Result SaveDiagnosis accepts.
	MaxResultBytes = 512 << 10
)

// Diagnosis is one diagnosed failure as posted or answered (the bot's record type).
type Diagnosis = bot.Diagnosis

// SaveDiagnosis stores d and returns its id, also set in d.ID. When a diagnosis with
// d.Key exists, it is left unchanged and its id returned. Evidence is cut to 4 KiB; a
// Result over 512 KiB is refused.
func (s *Store) SaveDiagnosis(ctx context.Context, d *Diagnosis) (id int64, err error) {
	if d == nil || d.Key == "" {
		return 0, errors.New("saving a diagnosis: it needs a Key")
	}
	if len(d.Result) > MaxResultBytes {
		return 0, fmt.Errorf("saving diagnosis %q: its result is %d bytes, over the %d-byte limit", d.Key, len(d.Result), MaxResultBytes)
	}
	created := d.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	result := d.Result
	if result == nil {
		result = []byte{}
	}
	err = s.db.inTx(ctx, func(q querier, _ any) error {
		err := q.queryRow(ctx, `INSERT INTO pubdoc_diagnoses
			(idem_key, source, repo, run_id, attempt, workflow, branch, job, rule_id, verdict, confidence,
			 evidence, result, channel, ts, thread_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (idem_key) DO NOTHING
			RETURNING id`,
			d.Key, d.Source, d.Repo, d.RunID, d.Attempt, d.Workflow, d.Branch, d.Job, d.RuleID, d.Verdict,
			d.Confidence, cleanEvidence(d.Evidence, MaxEvidenceBytes), result, d.Channel, d.TS, d.ThreadID,
			ms(created)).Scan(&id)
		if errNoRows(err) {
			return q.queryRow(ctx, `SELECT id FROM pubdoc_diagnoses WHERE idem_key = $1`, d.Key).Scan(&id)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("saving diagnosis %q: %w", d.Key, s.scrubbed(err))
	}
	d.ID = id
	return id, nil
}

// Diagnosis returns the diagnosis with this id, or ErrNotFound.
func (s *Store) Diagnosis(ctx context.Context, id int64) (*Diagnosis, error) {
	d := &Diagnosis{}
	var created int64
	err := s.db.q().queryRow(ctx, `SELECT id, idem_key, source, repo, run_id, attempt, workflow, branch, job,
			rule_id, verdict, confidence, evidence, result, channel, ts, thread_id, created_at
		FROM pubdoc_diagnoses WHERE id = $1`, id).Scan(
		&d.ID, &d.Key, &d.Source, &d.Repo, &d.RunID, &d.Attempt, &d.Workflow, &d.Branch, &d.Job,
		&d.RuleID, &d.Verdict, &d.Confidence, &d.Evidence, &d.Result, &d.Channel, &d.TS, &d.ThreadID, &created)
	if errNoRows(err) {
		return nil, fmt.Errorf("reading diagnosis %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading diagnosis %d: %w", id, s.scrubbed(err))
	}
	d.CreatedAt = fromMS(created)
	return d, nil
}

// SetDiagnosisMessage records where a diagnosis was posted: the Slack channel and
// message ts, and the triage thread (0 for none). ErrNotFound when id does not exist.
func (s *Store) SetDiagnosisMessage(ctx context.Context, id int64, channel, ts string, threadID int64) error {
	n, err := s.db.q().exec(ctx, `UPDATE pubdoc_diagnoses SET channel = $1, ts = $2, thread_id = $3 WHERE id = $4`,
		channel, ts, threadID, id)
	if err != nil {
		return fmt.Errorf("recording where diagnosis %d was posted: %w", id, s.scrubbed(err))
	}
	if n == 0 {
		return fmt.Errorf("recording where diagnosis %d was posted: %w", id, ErrNotFound)
	}
	return nil
}

// SaveFeedback records f; a person's later feedback on the same diagnosis replaces
// their earlier one. ErrNotFound when the diagnosis does not exist.
func (s *Store) SaveFeedback(ctx context.Context, f bot.Feedback) error {
	if f.Kind != bot.FeedbackFixed && f.Kind != bot.FeedbackWrong {
		return fmt.Errorf("saving feedback on diagnosis %d: kind %q is neither %q nor %q", f.DiagnosisID, f.Kind, bot.FeedbackFixed, bot.FeedbackWrong)
	}
	if f.User == "" {
		return fmt.Errorf("saving feedback on diagnosis %d: no user", f.DiagnosisID)
	}
	created := f.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	err := s.db.inTx(ctx, func(q querier, _ any) error {
		var n int64
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_diagnoses WHERE id = $1`, f.DiagnosisID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := q.exec(ctx, `INSERT INTO pubdoc_feedback (diagnosis_id, user_id, kind, rule_id, note, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (diagnosis_id, user_id) DO UPDATE
			SET kind = excluded.kind, rule_id = excluded.rule_id, note = excluded.note, created_at = excluded.created_at`,
			f.DiagnosisID, f.User, f.Kind, f.RuleID, f.Note, ms(created))
		return err
	})
	if err != nil {
		return fmt.Errorf("saving feedback on diagnosis %d: %w", f.DiagnosisID, s.scrubbed(err))
	}
	return nil
}

// cleanEvidence makes text storable on both databases (PostgreSQL's TEXT takes neither
// NUL nor invalid UTF-8) and cuts it to at most n bytes without splitting a character.
func cleanEvidence(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
