package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/bot"
)

// t0 is a fixed clock for records; stored times have millisecond precision.
var t0 = time.Date(2026, 11, 25, 9, 12, 0, 0, time.UTC)

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                              `SELECT 1`,
		`WHERE a = $1 AND b = $2`:               `WHERE a = ?1 AND b = ?2`,
		`VALUES ($2, $1, $10, $1)`:              `VALUES (?2, ?1, ?10, ?1)`,
		`SELECT '$' || x FROM t WHERE y = $3`:   `SELECT '$' || x FROM t WHERE y = ?3`,
		`UPDATE t SET a = $12 WHERE id = $1234`: `UPDATE t SET a = ?12 WHERE id = ?1234`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlaceholdersBindByNumber(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		var a, b string
		// $2 appears first: SQLite would bind it first if $N were named parameters.
		if err := s.db.q().queryRow(context.Background(), `SELECT CAST($2 AS TEXT), CAST($1 AS TEXT)`, "one", "two").Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		if a != "two" || b != "one" {
			t.Fatalf("SELECT $2, $1 with (one, two) = %q, %q", a, b)
		}
	})
}

func TestMigrationsAreIdempotent(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s1, err := Open(ctx, db.config(), nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := s1.SaveDiagnosis(ctx, &Diagnosis{Key: "k1", RuleID: "r", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s1.Accept(ctx, "test", "d1", Task{Kind: "k"}); err != nil {
			t.Fatal(err)
		}
		if err := s1.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := open(t, db, nil)
		if d, err := s2.Diagnosis(ctx, id); err != nil || d.Key != "k1" {
			t.Fatalf("after reopening: %+v, %v", d, err)
		}
		var versions int64
		if err := s2.db.q().queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_schema`).Scan(&versions); err != nil {
			t.Fatal(err)
		}
		if int(versions) != len(migrations()) {
			t.Errorf("%d schema versions recorded, want %d", versions, len(migrations()))
		}
		if c, err := s2.JobCounts(ctx); err != nil || c["available"] != 1 {
			t.Errorf("jobs after reopening: %v, %v", c, err)
		}
	})
}

func TestPostgresReplicasMigrateTogether(t *testing.T) {
	t.Parallel()
	db := newPostgresDB(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 3)
	errs := make([]error, 3)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), db.config(), nil)
		}()
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		if err := s.Ping(context.Background()); err != nil {
			t.Error(err)
		}
		_ = s.Close()
	}
}

func TestDiagnoses(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		d := &Diagnosis{
			Key: "github:acme/cli:123:1:publish", Source: "github", Repo: "acme/cli", RunID: 123, Attempt: 1,
			Workflow: ".github/workflows/release.yml", Branch: "main", Job: "publish",
			RuleID: "oidc-npm-too-old", Verdict: "diagnosed", Confidence: 0.93,
			Evidence: "npm error 404 'pkg@1.2.3' is not in this registry.", Result: []byte(`{"verdict":"diagnosed"}`),
			CreatedAt: t0,
		}
		id, err := s.SaveDiagnosis(ctx, d)
		if err != nil || id == 0 || d.ID != id {
			t.Fatalf("SaveDiagnosis = %d, %v (d.ID %d)", id, err, d.ID)
		}
		got, err := s.Diagnosis(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Key != d.Key || got.Source != d.Source || got.Repo != d.Repo || got.RunID != 123 || got.Attempt != 1 ||
			got.Workflow != d.Workflow || got.Branch != "main" || got.Job != "publish" || got.RuleID != d.RuleID ||
			got.Verdict != d.Verdict || got.Confidence != 0.93 || got.Evidence != d.Evidence ||
			!bytes.Equal(got.Result, d.Result) || !got.CreatedAt.Equal(t0) {
			t.Errorf("read back %+v, want %+v", got, d)
		}

		// Same key: the first row stands.
		again := *d
		again.RuleID, again.ID = "something-else", 0
		if id2, err := s.SaveDiagnosis(ctx, &again); err != nil || id2 != id {
			t.Fatalf("second save of a key = %d, %v; want %d", id2, err, id)
		}
		if got, _ := s.Diagnosis(ctx, id); got.RuleID != "oidc-npm-too-old" {
			t.Errorf("a repeated save changed the row: rule %q", got.RuleID)
		}

		// Where it was posted.
		if err := s.SetDiagnosisMessage(ctx, id, "C1", "1700000000.000100", 42); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Diagnosis(ctx, id); got.Channel != "C1" || got.TS != "1700000000.000100" || got.ThreadID != 42 {
			t.Errorf("after SetDiagnosisMessage: %+v", got)
		}
		if err := s.SetDiagnosisMessage(ctx, 9999, "C1", "1", 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetDiagnosisMessage of a missing diagnosis: %v, want ErrNotFound", err)
		}
		if _, err := s.Diagnosis(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("Diagnosis(9999): %v, want ErrNotFound", err)
		}

		// Evidence is capped at 4 KiB without splitting a character; NUL and bad UTF-8 are cleaned.
		long := strings.Repeat("é", 3000) + "\x00\xff"
		id3, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: "long", Evidence: long})
		if err != nil {
			t.Fatal(err)
		}
		got, _ = s.Diagnosis(ctx, id3)
		if len(got.Evidence) != MaxEvidenceBytes || !utf8.ValidString(got.Evidence) || !strings.HasPrefix(long, got.Evidence) {
			t.Errorf("evidence of %d bytes stored as %d bytes (valid UTF-8: %v)", len(long), len(got.Evidence), utf8.ValidString(got.Evidence))
		}
		if got.CreatedAt.IsZero() || time.Since(got.CreatedAt) > time.Minute {
			t.Errorf("a diagnosis saved without CreatedAt has %v", got.CreatedAt)
		}
		id4, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: "odd", Evidence: "a\x00b\xffc"})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Diagnosis(ctx, id4); got.Evidence != "ab\uFFFDc" {
			t.Errorf("evidence stored as %q", got.Evidence)
		}

		// Result: up to 512 KiB kept whole, beyond refused.
		big := bytes.Repeat([]byte("x"), MaxResultBytes)
		id5, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: "big", Result: big})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Diagnosis(ctx, id5); !bytes.Equal(got.Result, big) {
			t.Errorf("a %d-byte result came back as %d bytes", len(big), len(got.Result))
		}
		if _, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: "too-big", Result: append(big, 'x')}); err == nil {
			t.Error("SaveDiagnosis took a result over 512 KiB")
		}
		if _, err := s.SaveDiagnosis(ctx, &Diagnosis{}); err == nil {
			t.Error("SaveDiagnosis took a diagnosis without a key")
		}
	})
}

func TestFeedback(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		id, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: "k", RuleID: "oidc-npm-too-old", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFeedback(ctx, bot.Feedback{DiagnosisID: id, User: "U1", Kind: bot.FeedbackWrong, RuleID: "x", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFeedback(ctx, bot.Feedback{DiagnosisID: id, User: "U1", Kind: bot.FeedbackFixed, Note: "worked", CreatedAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveFeedback(ctx, bot.Feedback{DiagnosisID: id, User: "U2", Kind: bot.FeedbackWrong, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		var kind, note, rule string
		var n int64
		q := s.db.q()
		if err := q.queryRow(ctx, `SELECT kind, note, rule_id FROM pubdoc_feedback WHERE diagnosis_id = $1 AND user_id = $2`, id, "U1").Scan(&kind, &note, &rule); err != nil {
			t.Fatal(err)
		}
		if kind != bot.FeedbackFixed || note != "worked" || rule != "" {
			t.Errorf("U1's feedback is %q %q %q; want the later one (fixed, worked)", kind, note, rule)
		}
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM pubdoc_feedback`).Scan(&n); err != nil || n != 2 {
			t.Errorf("%d feedback rows (%v), want 2: one per person", n, err)
		}
		if err := s.SaveFeedback(ctx, bot.Feedback{DiagnosisID: id + 100, User: "U1", Kind: bot.FeedbackFixed}); !errors.Is(err, ErrNotFound) {
			t.Errorf("feedback on a missing diagnosis: %v, want ErrNotFound", err)
		}
		if err := s.SaveFeedback(ctx, bot.Feedback{DiagnosisID: id, User: "U1", Kind: "meh"}); err == nil {
			t.Error("SaveFeedback took kind \"meh\"")
		}
	})
}

func TestPosts(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		p, err := s.ClaimPost(ctx, "reply:abc", t0)
		if err != nil {
			t.Fatal(err)
		}
		if p.Key != "reply:abc" || p.Claims != 1 || p.Done || !p.ClaimedAt.Equal(t0) {
			t.Fatalf("first claim: %+v", p)
		}
		p, err = s.ClaimPost(ctx, "reply:abc", t0.Add(time.Minute))
		if err != nil || p.Claims != 2 || p.Done || !p.ClaimedAt.Equal(t0) {
			t.Fatalf("second claim: %+v, %v; want Claims 2 and the first claim's time", p, err)
		}
		if _, err := s.LookupPost(ctx, "reply:none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("LookupPost of an unclaimed key: %v, want ErrNotFound", err)
		}
		if p, err := s.LookupPost(ctx, "reply:abc"); err != nil || p.Claims != 2 || p.Done {
			t.Fatalf("LookupPost: %+v, %v; want the post with Claims 2, not done", p, err)
		}
		if err := s.FinishPost(ctx, "reply:abc", "C1", "1700.01"); err != nil {
			t.Fatal(err)
		}
		if p, err := s.LookupPost(ctx, "reply:abc"); err != nil || !p.Done || p.TS != "1700.01" || p.Claims != 2 {
			t.Fatalf("LookupPost after finish: %+v, %v; want done with its ts and no claim counted", p, err)
		}
		p, err = s.ClaimPost(ctx, "reply:abc", t0.Add(2*time.Minute))
		if err != nil || !p.Done || p.Claims != 2 || p.Channel != "C1" || p.TS != "1700.01" {
			t.Fatalf("claim after finish: %+v, %v; want it unchanged and done", p, err)
		}
		// Concurrent claims each count.
		var wg sync.WaitGroup
		for range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := s.ClaimPost(ctx, "parent:7", t0); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if p, _ := s.ClaimPost(ctx, "parent:7", t0); p.Claims != 11 {
			t.Errorf("after 11 claims, Claims = %d", p.Claims)
		}
	})
}

func TestThreads(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		since := t0.Add(-24 * time.Hour)
		th, created, err := s.OpenThread(ctx, "fp1", "acme/cli", "release.yml", "main", "oidc-npm-too-old", "C1", since, t0)
		if err != nil || !created {
			t.Fatalf("OpenThread = %+v, %v, %v", th, created, err)
		}
		if th.Count != 0 || th.ParentTS != "" || !th.ClaimedAt.Equal(t0) || !th.FirstAt.Equal(t0) || th.Repo != "acme/cli" ||
			th.Workflow != "release.yml" || th.Branch != "main" || th.RuleID != "oidc-npm-too-old" || th.Channel != "C1" {
			t.Errorf("new thread %+v", th)
		}
		again, created, err := s.OpenThread(ctx, "fp1", "acme/cli", "release.yml", "main", "oidc-npm-too-old", "C1", since, t0.Add(time.Minute))
		if err != nil || created || again.ID != th.ID {
			t.Fatalf("second OpenThread = %+v, %v, %v; want thread %d", again, created, err, th.ID)
		}
		// Another channel, or a window that starts after the thread did, gets a new thread.
		other, created, _ := s.OpenThread(ctx, "fp1", "acme/cli", "release.yml", "main", "r", "C2", since, t0)
		if !created || other.ID == th.ID {
			t.Errorf("another channel shared thread %d", th.ID)
		}
		newer, created, _ := s.OpenThread(ctx, "fp1", "acme/cli", "release.yml", "main", "r", "C1", t0.Add(time.Second), t0.Add(time.Hour))
		if !created || newer.ID == th.ID {
			t.Errorf("a thread older than the window was reused")
		}
		// The newest open thread in the window is the one returned.
		got, created, _ := s.OpenThread(ctx, "fp1", "acme/cli", "release.yml", "main", "r", "C1", since, t0.Add(2*time.Hour))
		if created || got.ID != newer.ID {
			t.Errorf("OpenThread returned %d (created %v), want the newest, %d", got.ID, created, newer.ID)
		}

		// Reclaiming the parent post.
		if ok, err := s.ReclaimThread(ctx, th.ID, t0, t0.Add(time.Minute)); err != nil || ok {
			t.Errorf("ReclaimThread with a fresh claim = %v, %v; want false", ok, err)
		}
		if ok, err := s.ReclaimThread(ctx, th.ID, t0.Add(time.Second), t0.Add(2*time.Minute)); err != nil || !ok {
			t.Errorf("ReclaimThread with a stale claim = %v, %v; want true", ok, err)
		}
		if th2, _ := s.Thread(ctx, th.ID); !th2.ClaimedAt.Equal(t0.Add(2 * time.Minute)) {
			t.Errorf("after reclaiming, ClaimedAt = %v", th2.ClaimedAt)
		}
		if err := s.SetThreadParent(ctx, th.ID, "1700.5", 77); err != nil {
			t.Fatal(err)
		}
		// A job taking the post over records its diagnosis first: the posted parent stays.
		if err := s.SetThreadParent(ctx, th.ID, "", 78); err != nil {
			t.Fatal(err)
		}
		if th2, _ := s.Thread(ctx, th.ID); th2.ParentTS != "1700.5" || th2.ParentDiagnosisID != 78 {
			t.Errorf("after recording another diagnosis before its post: parent %q, diagnosis %d; want 1700.5, 78", th2.ParentTS, th2.ParentDiagnosisID)
		}
		if err := s.SetThreadParent(ctx, th.ID, "1700.5", 77); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.ReclaimThread(ctx, th.ID, t0.Add(time.Hour), t0.Add(time.Hour)); ok {
			t.Error("reclaimed a thread whose parent is posted")
		}
		if err := s.SetThreadParent(ctx, 9999, "1", 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetThreadParent of a missing thread: %v", err)
		}

		// Members count once each.
		for i, key := range []string{"run:1:1", "run:2:1", "run:1:1", "run:3:1", "run:2:1"} {
			at := t0.Add(time.Duration(i+1) * time.Minute)
			th2, added, err := s.AddToThread(ctx, th.ID, key, at)
			if err != nil {
				t.Fatal(err)
			}
			wantAdded := i != 2 && i != 4
			if added != wantAdded {
				t.Errorf("AddToThread(%s) added = %v, want %v", key, added, wantAdded)
			}
			if wantAdded && !th2.LastAt.Equal(at) {
				t.Errorf("after adding %s, LastAt = %v, want %v", key, th2.LastAt, at)
			}
		}
		th2, err := s.Thread(ctx, th.ID)
		if err != nil || th2.Count != 3 || th2.ParentTS != "1700.5" || th2.ParentDiagnosisID != 77 || !th2.LastAt.Equal(t0.Add(4*time.Minute)) {
			t.Errorf("thread after adds: %+v, %v; want Count 3, parent 1700.5/77, LastAt +4m", th2, err)
		}
		if _, _, err := s.AddToThread(ctx, 9999, "x", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("AddToThread of a missing thread: %v", err)
		}

		// Ack.
		acked, err := s.AckThread(ctx, th.ID, "U9", t0.Add(3*time.Minute))
		if err != nil || acked.AckedBy != "U9" || !acked.AckedAt.Equal(t0.Add(3*time.Minute)) {
			t.Errorf("AckThread = %+v, %v", acked, err)
		}
		if _, err := s.AckThread(ctx, 9999, "U9", t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("AckThread of a missing thread: %v", err)
		}

		// Open threads of the workflow, then resolution once.
		openList, err := s.OpenThreadsFor(ctx, "acme/cli", "release.yml", "main")
		if err != nil || len(openList) != 3 {
			t.Fatalf("OpenThreadsFor = %d threads, %v; want 3", len(openList), err)
		}
		if none, err := s.OpenThreadsFor(ctx, "acme/cli", "release.yml", "dev"); err != nil || len(none) != 0 {
			t.Errorf("OpenThreadsFor another branch = %v, %v", none, err)
		}
		if ok, err := s.ResolveThread(ctx, th.ID, 14, t0.Add(time.Hour)); err != nil || !ok {
			t.Fatalf("ResolveThread = %v, %v", ok, err)
		}
		if ok, err := s.ResolveThread(ctx, th.ID, 15, t0.Add(2*time.Hour)); err != nil || ok {
			t.Errorf("second ResolveThread = %v, %v; want false", ok, err)
		}
		if _, err := s.ResolveThread(ctx, 9999, 1, t0); !errors.Is(err, ErrNotFound) {
			t.Errorf("ResolveThread of a missing thread: %v", err)
		}
		th2, _ = s.Thread(ctx, th.ID)
		if th2.ResolvedRun != 14 || !th2.ResolvedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("resolved thread %+v; want run 14 at +1h", th2)
		}
		if openList, _ := s.OpenThreadsFor(ctx, "acme/cli", "release.yml", "main"); len(openList) != 2 {
			t.Errorf("%d open threads after resolving one, want 2", len(openList))
		}
		if _, err := s.Thread(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("Thread(9999): %v", err)
		}
		// A resolved thread is not reused.
		fresh, _, _ := s.OpenThread(ctx, "fp1", "acme/cli", "release.yml", "main", "r", "C1", since, t0.Add(3*time.Hour))
		if fresh.ID == th.ID || fresh.ID != newer.ID {
			t.Errorf("OpenThread after resolving returned %d, want the other open thread %d", fresh.ID, newer.ID)
		}
	})
}

func TestOpenThreadConcurrently(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		stores := []*Store{open(t, db, nil)}
		if db.driver == DriverPostgres { // two replicas on one database
			stores = append(stores, open(t, db, nil))
		}
		for round := range 3 {
			fp := fmt.Sprintf("fp-%d", round)
			var created atomic.Int32
			ids := make([]int64, 20)
			var wg sync.WaitGroup
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					th, c, err := stores[i%len(stores)].OpenThread(context.Background(), fp, "acme/cli", "release.yml", "main", "r", "C1", t0.Add(-time.Hour), t0)
					if err != nil {
						t.Error(err)
						return
					}
					if c {
						created.Add(1)
					}
					ids[i] = th.ID
				}()
			}
			wg.Wait()
			if n := created.Load(); n != 1 {
				t.Fatalf("round %d: %d of 20 concurrent OpenThreads created a thread, want 1", round, n)
			}
			for i, id := range ids {
				if id != ids[0] || id == 0 {
					t.Fatalf("round %d: caller %d got thread %d, caller 0 got %d", round, i, id, ids[0])
				}
			}
		}
	})
}

func TestStats(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		now := t0
		day := 24 * time.Hour
		save := func(key, rule string, age time.Duration) int64 {
			t.Helper()
			id, err := s.SaveDiagnosis(ctx, &Diagnosis{Key: key, RuleID: rule, CreatedAt: now.Add(-age)})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		// rule a: 2 within 7 days, 3 within 30, 1 older.
		a1 := save("a1", "a", time.Hour)
		save("a2", "a", 6*day)
		save("a3", "a", 20*day)
		save("a4", "a", 40*day)
		// rule b: 4 within 30 days, none within 7.
		b1 := save("b1", "b", 8*day)
		save("b2", "b", 9*day)
		save("b3", "b", 10*day)
		save("b4", "b", 29*day)
		// rule c: 1 within 7 (ties with nothing); no rule: 1 within 7.
		save("c1", "c", 2*day)
		save("n1", "", day)
		// Feedback: on a1 two fixed and one wrong; on b1 one wrong; one old on b1.
		fb := func(id int64, user, kind string, age time.Duration) {
			t.Helper()
			if err := s.SaveFeedback(ctx, bot.Feedback{DiagnosisID: id, User: user, Kind: kind, CreatedAt: now.Add(-age)}); err != nil {
				t.Fatal(err)
			}
		}
		fb(a1, "U1", bot.FeedbackFixed, time.Hour)
		fb(a1, "U2", bot.FeedbackFixed, time.Hour)
		fb(a1, "U3", bot.FeedbackWrong, time.Hour)
		fb(b1, "U1", bot.FeedbackWrong, day)
		fb(b1, "U2", bot.FeedbackFixed, 31*day)
		// Threads: rule a fixed in 1h and 3h, rule b in 2h (but resolved 40 days ago), one open.
		thread := func(fp, rule string, first time.Time, fix time.Duration) {
			t.Helper()
			th, _, err := s.OpenThread(ctx, fp, "acme/cli", "release.yml", "main", rule, "C1", first.Add(-time.Hour), first)
			if err != nil {
				t.Fatal(err)
			}
			if fix > 0 {
				if ok, err := s.ResolveThread(ctx, th.ID, 1, first.Add(fix)); err != nil || !ok {
					t.Fatal(ok, err)
				}
			}
		}
		thread("t1", "a", now.Add(-5*day), time.Hour)
		thread("t2", "a", now.Add(-4*day), 3*time.Hour)
		thread("t3", "b", now.Add(-45*day), 2*time.Hour)
		thread("t4", "b", now.Add(-2*day), 0)
		thread("t5", "c", now.Add(-35*day), 34*day) // opened before the window, fixed in it

		st, err := s.Stats(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if st.Total7 != 4 || st.Total30 != 9 {
			t.Errorf("totals %d / %d, want 4 / 9", st.Total7, st.Total30)
		}
		if st.Threads30 != 3 || st.Resolved30 != 3 {
			t.Errorf("threads %d opened, %d resolved in 30 days; want 3 and 3", st.Threads30, st.Resolved30)
		}
		if st.MedianTimeToFix != 3*time.Hour {
			t.Errorf("median time to fix %s, want 3h (of 1h, 3h, 34d)", st.MedianTimeToFix)
		}
		want := []RuleStats{
			{RuleID: "b", Count7: 0, Count30: 4, Fixed: 0, Wrong: 1},
			{RuleID: "a", Count7: 2, Count30: 3, Fixed: 2, Wrong: 1, Resolved: 2, MedianTimeToFix: 2 * time.Hour},
			{RuleID: "c", Count7: 1, Count30: 1, Resolved: 1, MedianTimeToFix: 34 * day},
		}
		if len(st.Rules) != len(want) {
			t.Fatalf("rules %+v, want %+v", st.Rules, want)
		}
		for i := range want {
			if st.Rules[i] != want[i] {
				t.Errorf("rule %d: %+v, want %+v", i, st.Rules[i], want[i])
			}
		}
	})
}
