package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
	"github.com/pubdoc/pubdoc/internal/secret"
)

// unknownLog is one run of a release script that fails in a way no rule knows; runs
// differ in their paths, versions, run ids and times, not in the failure.
func unknownLog(day, repo, version, runID, leak string) string {
	return strings.Join([]string{
		day + "T10:00:01.0000000Z ##[group]Run node scripts/release-notes.mjs --tag v" + version,
		day + "T10:00:01.0000000Z ##[endgroup]",
		day + "T10:00:02.0000000Z run " + runID + " using " + leak,
		day + "T10:00:02.0000000Z ChangelogError: CHANGELOG.md has no section for v" + version,
		day + "T10:00:02.0000000Z     at file:///home/runner/work/" + repo + "/" + repo + "/scripts/release-notes.mjs:42:11",
		day + "T10:00:03.0000000Z ##[error]Process completed with exit code 1.",
	}, "\n") + "\n"
}

func TestLearningFromAnswers(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := open(t, db, nil)
		day := 24 * time.Hour
		now := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
		save := func(key, rule, verdict string, conf float64) int64 {
			t.Helper()
			id, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: key, RuleID: rule, Verdict: verdict, Confidence: conf, Result: []byte("{}"), CreatedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		unknown := &diagnose.Result{Verdict: diagnose.NoKnownCause}
		samples := secret.Samples()
		leak := samples["npm"].Text

		// Three runs of one unknown failure on three days, one of them recorded twice (a
		// retried job); another failure once; a confident answer, which is no group's.
		var ids []int64
		var fp string
		for i, r := range []struct{ day, repo, version, run string }{
			{"2026-12-01", "widgets", "3.2.1", "77123"},
			{"2026-12-04", "gadgets-monorepo", "3.3.0-rc.2", "901"},
			{"2026-12-07", "tools", "10.0.0", "88123456789"},
		} {
			id := save(fmt.Sprintf("a%d", i), diagnose.NoKnownCause, diagnose.NoKnownCause, 0)
			ids = append(ids, id)
			at, _ := time.Parse("2006-01-02", r.day)
			got, err := s.RecordAnswer(ctx, id, unknown, unknownLog(r.day, r.repo, r.version, r.run, leak), at.Add(10*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if fp != "" && got != fp {
				t.Errorf("run %d: fingerprint %s, want the first run's %s", i, got, fp)
			}
			fp = got
		}
		if _, err := s.RecordAnswer(ctx, ids[0], unknown, unknownLog("2026-12-01", "widgets", "3.2.1", "77123", leak), now); err != nil {
			t.Fatal(err)
		}
		other := save("b", "some-rule", diagnose.Inconclusive, 0.3)
		weak := &diagnose.Result{Verdict: diagnose.Inconclusive, Diagnoses: []diagnose.Diagnosis{{ID: "some-rule", Confidence: 0.3,
			Evidence: []diagnose.Evidence{{Line: 2, Text: "npm error code E418", Source: "log"}}}}}
		fpOther, err := s.RecordAnswer(ctx, other, weak, "step\nnpm error code E418\n", now.Add(-day))
		if err != nil || fpOther == fp {
			t.Fatalf("the other failure: %s, %v (the first is %s)", fpOther, err, fp)
		}
		sure := save("c", "oidc-npm-too-old", diagnose.Diagnosed, 0.95)
		if _, err := s.RecordAnswer(ctx, sure, &diagnose.Result{Verdict: diagnose.Diagnosed, Diagnoses: []diagnose.Diagnosis{{ID: "oidc-npm-too-old", Confidence: 0.95}}},
			"npm error code E404\n", now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordAnswer(ctx, sure+100, unknown, "x", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("recording a missing diagnosis: %v, want ErrNotFound", err)
		}

		groups, err := s.UnknownGroups(ctx, now.Add(-30*day), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 2 {
			t.Fatalf("%d groups, want 2: %+v", len(groups), groups)
		}
		g := groups[0]
		if g.ID != fp || g.Count != 3 || g.Total != 3 || len(g.Days) != 3 || g.Verdict != diagnose.NoKnownCause {
			t.Errorf("largest group %+v; want %s with 3 answers on 3 days", g, fp)
		}
		if !g.FirstSeen.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) || !g.LastSeen.Equal(time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("first and last seen %s, %s", g.FirstSeen, g.LastSeen)
		}
		if d := g.Days[0]; !d.Day.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || d.Count != 1 {
			t.Errorf("first day %+v", d)
		}
		if len(g.Lines) == 0 || !strings.Contains(strings.Join(g.Example, "\n"), "ChangelogError: CHANGELOG.md has no section for v3.2.1") || !strings.Contains(g.Excerpt, "ChangelogError") {
			t.Errorf("lines %q, example %q, excerpt %q", g.Lines, g.Example, g.Excerpt)
		}
		if groups[1].ID != fpOther || groups[1].Count != 1 || groups[1].RuleID != "some-rule" {
			t.Errorf("second group %+v", groups[1])
		}
		// A window holds only its days.
		recent, err := s.UnknownGroups(ctx, now.Add(-2*day), 1)
		if err != nil || len(recent) != 1 || recent[0].Count != 1 || recent[0].Total != 3 && recent[0].Total != 1 {
			t.Errorf("groups of the last two days: %+v, %v", recent, err)
		}
		if got, err := s.UnknownGroup(ctx, strings.ToUpper(fp[:6]), time.Time{}); err != nil || got.ID != fp || got.Count != 3 {
			t.Errorf("UnknownGroup(%s): %+v, %v", fp[:6], got, err)
		}
		if _, err := s.UnknownGroup(ctx, "xyz1", time.Time{}); err == nil {
			t.Error("UnknownGroup took a name that is not hex")
		}
		missing := "0000"
		if strings.HasPrefix(fp, missing) || strings.HasPrefix(fpOther, missing) {
			missing = "ffff"
		}
		if _, err := s.UnknownGroup(ctx, missing, time.Time{}); !errors.Is(err, ErrNotFound) {
			t.Errorf("UnknownGroup(%s): %v, want ErrNotFound", missing, err)
		}

		// Cases from feedback.
		for _, c := range []struct {
			id             int64
			source, picked string
			want           bool
		}{
			{ids[0], learn.SourceWrong, "ci-release-notes", true},
			{ids[1], learn.SourceWrong, "other", true},
			{sure, learn.SourceFixed, "", true},
			{ids[2], learn.SourceFixed, "", true},
		} {
			saved, err := s.SaveCase(ctx, c.id, c.source, c.picked, "U1", now)
			if err != nil || saved != c.want {
				t.Errorf("SaveCase(%d, %s): %v, %v", c.id, c.source, saved, err)
			}
		}
		// A second feedback on one answer replaces the first.
		if saved, err := s.SaveCase(ctx, sure, learn.SourceWrong, "oidc-missing-id-token", "U2", now.Add(time.Minute)); err != nil || !saved {
			t.Errorf("second SaveCase: %v, %v", saved, err)
		}
		unrecorded := save("d", "x", diagnose.Diagnosed, 0.9)
		if saved, err := s.SaveCase(ctx, unrecorded, learn.SourceFixed, "", "U1", now); err != nil || saved {
			t.Errorf("a case of an answer whose log was never kept: %v, %v", saved, err)
		}
		if _, err := s.SaveCase(ctx, unrecorded+100, learn.SourceFixed, "", "U1", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("a case of a missing diagnosis: %v, want ErrNotFound", err)
		}
		if _, err := s.SaveCase(ctx, sure, "meh", "", "U1", now); err == nil {
			t.Error("SaveCase took source meh")
		}
		cases, err := s.Cases(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		labels := map[int64]string{}
		for _, c := range cases {
			labels[c.DiagnosisID] = c.Source + ":" + c.Label
			if c.Log == "" || c.CreatedAt.IsZero() {
				t.Errorf("case %+v", c)
			}
		}
		want := map[int64]string{ids[0]: "wrong:ci-release-notes", ids[1]: "wrong:", ids[2]: "fixed:", sure: "wrong:oidc-missing-id-token"}
		if fmt.Sprint(labels) != fmt.Sprint(want) {
			t.Errorf("cases %v, want %v", labels, want)
		}
		if c := cases[0]; c.Fingerprint != fp || !strings.Contains(c.Log, "ChangelogError") || c.TopRuleID != diagnose.NoKnownCause {
			t.Errorf("first case %+v", c)
		}

		// Nothing stored carries the secret the logs printed.
		for _, table := range []string{"pubdoc_answer_logs", "pubdoc_cases", "pubdoc_unknown_groups"} {
			var n int64
			if err := s.db.q().queryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n == 0 {
				t.Errorf("%s: %d rows, %v", table, n, err)
			}
		}
		assertNoSecret(t, s, samples["npm"].Value)

		// Precision from feedback, by the rule each answer named.
		for i, f := range []struct {
			id         int64
			user, kind string
		}{{sure, "U1", learn.SourceFixed}, {sure, "U2", learn.SourceFixed}, {sure, "U3", learn.SourceWrong}, {other, "U1", learn.SourceWrong}, {ids[0], "U1", learn.SourceWrong}} {
			if _, err := s.db.q().exec(ctx, `INSERT INTO pubdoc_feedback (diagnosis_id, user_id, kind, created_at) VALUES ($1, $2, $3, $4)`,
				f.id, f.user, f.kind, ms(now.Add(-time.Duration(i)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		prec, err := s.RulePrecision(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(prec); got != "[{oidc-npm-too-old 2 1} {some-rule 0 1}]" {
			t.Errorf("precision %s", got)
		}
		if prec[0].Ratio() < 0.66 || prec[0].Ratio() > 0.67 || prec[1].Ratio() != 0 {
			t.Errorf("ratios %v %v", prec[0].Ratio(), prec[1].Ratio())
		}
		if recent, _ := s.RulePrecision(ctx, now.Add(-90*time.Minute)); fmt.Sprint(recent) != "[{oidc-npm-too-old 2 0}]" {
			t.Errorf("precision of the last 90 minutes %v", recent)
		}

		// A reader beside the open store (SQLite: its lock held) sees the same.
		r, err := OpenReader(ctx, db.config())
		if err != nil {
			t.Fatalf("OpenReader: %v", err)
		}
		defer r.Close()
		rg, err := r.UnknownGroups(ctx, now.Add(-30*day), 0)
		if err != nil || len(rg) != 2 || rg[0].ID != fp || rg[0].Count != 3 {
			t.Errorf("reader's groups %+v, %v", rg, err)
		}
		rc, err := r.Cases(ctx, time.Time{})
		if err != nil || len(rc) != len(cases) {
			t.Errorf("reader's cases: %d, %v", len(rc), err)
		}
		if _, err := r.db.q().exec(ctx, `DELETE FROM pubdoc_cases`); err == nil {
			t.Error("the reader wrote")
		}
	})
}

// assertNoSecret fails when any text column of the learning tables holds value.
func assertNoSecret(t *testing.T, s *Store, value string) {
	t.Helper()
	for _, q := range []string{
		`SELECT log FROM pubdoc_answer_logs`, `SELECT log FROM pubdoc_cases`,
		`SELECT lines || example || excerpt FROM pubdoc_unknown_groups`,
	} {
		err := eachRow(context.Background(), s.db.q(), q, nil, func(r rows) error {
			var text string
			if err := r.Scan(&text); err != nil {
				return err
			}
			if strings.Contains(text, value) {
				t.Errorf("%s: holds a secret", q)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestAnswerLogIsCut(t *testing.T) {
	db := newSQLiteDB(t)
	s := open(t, db, nil)
	ctx := context.Background()
	id, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: "big", Verdict: diagnose.NoKnownCause, Result: []byte("{}")})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := 0; b.Len() < 4*MaxAnswerLogBytes; i++ {
		fmt.Fprintf(&b, "build output line %d, nothing to see\n", i)
	}
	b.WriteString("Error: the very end\n")
	if _, err := s.RecordAnswer(ctx, id, nil, b.String(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	var kept string
	if err := s.db.q().queryRow(ctx, `SELECT log FROM pubdoc_answer_logs WHERE diagnosis_id = $1`, id).Scan(&kept); err != nil {
		t.Fatal(err)
	}
	if len(kept) > MaxAnswerLogBytes+1024 || !strings.Contains(kept, "Error: the very end") || !strings.Contains(kept, "build output line 0,") {
		t.Errorf("kept %d bytes (head %t, tail %t)", len(kept), strings.Contains(kept, "line 0,"), strings.Contains(kept, "the very end"))
	}
}

func TestReaderWithoutADatabase(t *testing.T) {
	ctx := context.Background()
	if _, err := OpenReader(ctx, Config{DataDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no Pubdoc database") {
		t.Errorf("OpenReader on an empty directory: %v", err)
	}
}
