package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
)

func TestDigestRecords(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := open(t, db, nil)
		from := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		to := from.AddDate(0, 0, 7)
		save := func(d *Diagnosis) int64 {
			t.Helper()
			d.Result = []byte("{}")
			id, err := s.SaveDiagnosis(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		// A thread opened before the week, two failures in it (the parent, and a repeat
		// known only as a member), fixed in the week.
		first := from.Add(-2 * time.Hour)
		th, _, err := s.OpenThread(ctx, "fp1", "acme/cli", ".github/workflows/release.yml", "main", "oidc-npm-too-old", "C1", first.Add(-time.Hour), first)
		if err != nil {
			t.Fatal(err)
		}
		parent := save(&Diagnosis{Key: "gh:acme/cli:10:1:1", Source: "github", Repo: "acme/cli", RunID: 10, Workflow: ".github/workflows/release.yml",
			Branch: "main", RuleID: "oidc-npm-too-old", Verdict: diagnose.Diagnosed, Confidence: 0.9, CreatedAt: from.Add(time.Hour)})
		if _, _, err := s.AddToThread(ctx, th.ID, "gh:acme/cli:10:1:1", first); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDiagnosisMessage(ctx, parent, "C1", "1.1", th.ID); err != nil {
			t.Fatal(err)
		}
		save(&Diagnosis{Key: "gh:acme/cli:11:1:1", Source: "github", Repo: "acme/cli", RunID: 11, Workflow: ".github/workflows/release.yml",
			Branch: "main", RuleID: "oidc-npm-too-old", Verdict: diagnose.Diagnosed, Confidence: 0.9, CreatedAt: from.Add(2 * time.Hour)})
		if _, _, err := s.AddMember(ctx, th.ID, Member{Key: "gh:acme/cli:11:1:1"}, from.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		fixed := from.Add(5 * time.Hour)
		if _, err := s.ResolveThread(ctx, th.ID, 12, fixed); err != nil {
			t.Fatal(err)
		}
		// A failure with no thread, one outside the week, and a pasted log (not a run).
		save(&Diagnosis{Key: "gh:acme/web:20:1:1", Source: "github", Repo: "acme/web", RunID: 20, Workflow: ".github/workflows/publish.yml",
			Branch: "main", RuleID: diagnose.NoKnownCause, Verdict: diagnose.NoKnownCause, CreatedAt: from.Add(30 * time.Hour)})
		save(&Diagnosis{Key: "gh:acme/web:19:1:1", Source: "github", Repo: "acme/web", RunID: 19, CreatedAt: from.Add(-time.Minute)})
		pasted := save(&Diagnosis{Key: "slack:Ev1:0", Source: "slack", RuleID: diagnose.NoKnownCause, Verdict: diagnose.NoKnownCause, CreatedAt: from.Add(3 * time.Hour)})
		if err := s.SetDiagnosisMessage(ctx, pasted, "C9", "2.2", 0); err != nil {
			t.Fatal(err)
		}
		// Feedback: two on the rule in the week, one before it.
		for i, f := range []bot.Feedback{
			{DiagnosisID: parent, User: "U1", Kind: bot.FeedbackWrong, CreatedAt: from.Add(6 * time.Hour)},
			{DiagnosisID: parent, User: "U2", Kind: bot.FeedbackFixed, CreatedAt: from.Add(7 * time.Hour)},
			{DiagnosisID: parent, User: "U3", Kind: bot.FeedbackWrong, CreatedAt: from.Add(-time.Hour)},
		} {
			if err := s.SaveFeedback(ctx, f); err != nil {
				t.Fatal(i, err)
			}
		}
		// Unknown answers: the pasted log, and the run of acme/web; the known answer is
		// not counted.
		unknown := &diagnose.Result{Verdict: diagnose.NoKnownCause}
		log := "2026-12-01T10:00:02Z ChangelogError: CHANGELOG.md has no section for v1.2.3\n##[error]Process completed with exit code 1.\n"
		for _, a := range []struct {
			id  int64
			res *diagnose.Result
		}{{pasted, unknown}, {3, unknown}, {parent, &diagnose.Result{Verdict: diagnose.Diagnosed, Diagnoses: []diagnose.Diagnosis{{ID: "oidc-npm-too-old", Confidence: 0.9}}}}} {
			if _, err := s.RecordAnswer(ctx, a.id, a.res, log, from.Add(8*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}

		got, err := s.DigestRecords(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Failures) != 3 {
			t.Fatalf("failures %+v, want 3 (the week's runs)", got.Failures)
		}
		for i, f := range got.Failures[:2] {
			if f.Repo != "acme/cli" || f.Workflow != ".github/workflows/release.yml" || f.Branch != "main" || f.RuleID != "oidc-npm-too-old" ||
				!f.FixedAt.Equal(fixed) || !f.RedSince.Equal(first) || f.RunID != int64(10+i) {
				t.Errorf("failure %d: %+v, want run %d of acme/cli in the thread fixed at %s, red since %s", i, f, 10+i, fixed, first)
			}
		}
		if f := got.Failures[2]; f.Repo != "acme/web" || !f.FixedAt.IsZero() || !f.RedSince.IsZero() || f.Verdict != diagnose.NoKnownCause ||
			!f.At.Equal(from.Add(30*time.Hour)) {
			t.Errorf("failure 2: %+v, want acme/web's, still red and threadless", f)
		}
		if len(got.Feedback) != 1 || got.Feedback[0] != (bot.DigestFeedback{Repo: "acme/cli", Channel: "C1", RuleID: "oidc-npm-too-old", Right: 1, Wrong: 1}) {
			t.Errorf("feedback %+v, want one right and one wrong on acme/cli's rule", got.Feedback)
		}
		if len(got.Unknown) != 2 {
			t.Fatalf("unknown %+v, want the pasted log's and acme/web's", got.Unknown)
		}
		byWhere := map[string]bot.DigestUnknown{}
		for _, u := range got.Unknown {
			byWhere[u.Repo+"|"+u.Channel] = u
		}
		web, paste := byWhere["acme/web|"], byWhere["|C9"]
		if web.Count != 1 || paste.Count != 1 || web.Fingerprint == "" || web.Fingerprint != paste.Fingerprint ||
			!strings.Contains(web.Example, "ChangelogError: CHANGELOG.md has no section for v1.2.3") {
			t.Errorf("unknown %+v", got.Unknown)
		}
		// Another week has none of it.
		if other, err := s.DigestRecords(ctx, to, to.AddDate(0, 0, 7)); err != nil || len(other.Failures)+len(other.Feedback)+len(other.Unknown) != 0 {
			t.Errorf("next week: %+v, %v", other, err)
		}
	})
}

func TestTakePostLeasesToOne(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := open(t, db, nil)
		lease := 10 * time.Minute
		// Eight takers at once: one gets it.
		var wg sync.WaitGroup
		var mu sync.Mutex
		mine := 0
		for range 8 {
			wg.Go(func() {
				_, ok, err := s.TakePost(ctx, "digest:C1:2026-11-30", t0, lease)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					mine++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if mine != 1 {
			t.Fatalf("%d takers got the lease, want 1", mine)
		}
		// Within the lease nobody else gets it; after it, one more does, told it is a retake.
		if _, ok, err := s.TakePost(ctx, "digest:C1:2026-11-30", t0.Add(lease-time.Second), lease); err != nil || ok {
			t.Errorf("within the lease: mine=%v, %v", ok, err)
		}
		p, ok, err := s.TakePost(ctx, "digest:C1:2026-11-30", t0.Add(lease+time.Second), lease)
		if err != nil || !ok || p.Claims != 2 || p.Done {
			t.Errorf("after the lease: %+v mine=%v, %v; want a second take", p, ok, err)
		}
		// Done: nobody gets it again, however late.
		if err := s.FinishPost(ctx, "digest:C1:2026-11-30", "C1", "1.2"); err != nil {
			t.Fatal(err)
		}
		p, ok, err = s.TakePost(ctx, "digest:C1:2026-11-30", t0.Add(48*time.Hour), lease)
		if err != nil || ok || !p.Done || p.TS != "1.2" {
			t.Errorf("after it was posted: %+v mine=%v, %v", p, ok, err)
		}
		if _, _, err := s.TakePost(ctx, "", t0, lease); err == nil {
			t.Error("TakePost took an empty key")
		}
	})
}
