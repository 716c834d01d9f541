package bot

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/diagnose/learn"
	"github.com/pubdoc/pubdoc/internal/secret"
)

// unknownRelease is one run of a release script failing in a way no rule knows, pasted
// into Slack: the runs differ in their day, repository, version and run id, and each
// carries secrets the store must not keep.
func unknownRelease(day, repo, version, runID string) string {
	lines := []string{
		day + "T10:00:01.0000000Z ##[group]Run node scripts/release-notes.mjs --tag v" + version,
		day + "T10:00:01.0000000Z ##[endgroup]",
	}
	for _, kind := range []string{"npm", "ghp", "slack", "jwt", "aws", "pypi", "rubygems", "pat", "authToken"} {
		lines = append(lines, day+"T10:00:02.0000000Z run "+runID+" with "+secret.Samples()[kind].Text)
	}
	lines = append(lines,
		day+"T10:00:02.0000000Z ChangelogError: CHANGELOG.md has no section for v"+version,
		day+"T10:00:02.0000000Z     at file:///home/runner/work/"+repo+"/"+repo+"/scripts/release-notes.mjs:42:11",
		day+"T10:00:03.0000000Z ##[error]Process completed with exit code 1.",
	)
	return strings.Join(lines, "\n") + "\n"
}

// CheckLearningFromAnswers drives a Service over st (the fake, or the real store through
// the external test): one unknown failure pasted three times with different versions and
// paths is one group of three in `/pubdoc stats`; "Wrong cause" with a rule picked makes
// one case labelled with that rule, which cases (the store's Cases) returns; no kept log
// holds a secret; the rule's precision from feedback is in the stats.
func CheckLearningFromAnswers(t *testing.T, st Store, cases func(t *testing.T) []learn.Case) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	msg := &fakeMessenger{files: map[string][]byte{}}
	svc, err := New(Config{Engine: testEngine(t), Store: st, Messenger: msg, Now: func() time.Time { return now },
		Flood: Flood{PostEvery: time.Millisecond}}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []struct{ day, repo, version, run string }{
		{"2026-12-01", "widgets", "3.2.1", "7712345678"},
		{"2026-12-03", "gadgets-monorepo", "3.3.0-rc.2", "901"},
		{"2026-12-06", "tools", "10.0.0", "88123456789"},
	} {
		req := Request{Kind: "mention", DeliveryID: fmt.Sprint("EvU", i), Channel: "C1", User: "U1", ThreadTS: fmt.Sprint(i),
			Text: unknownRelease(r.day, r.repo, r.version, r.run)}
		payload, _ := json.Marshal(req)
		if err := svc.Handle(ctx, Task{Kind: TaskSlack, Payload: payload, Attempt: 1, MaxAttempts: 10}); err != nil {
			t.Fatal(err)
		}
		// A retried job learns nothing twice.
		if i == 2 {
			if err := svc.Handle(ctx, Task{Kind: TaskSlack, Payload: payload, Attempt: 2, MaxAttempts: 10}); err != nil {
				t.Fatal(err)
			}
		}
	}
	posts, _, _ := msg.snapshot()
	if len(posts) != 3 {
		t.Fatalf("%d replies, want 3", len(posts))
	}
	for _, p := range posts {
		if p.Reply.Result == nil || !learn.Unknown(p.Reply.Result) {
			t.Fatalf("reply %+v: want an unknown failure", p.Reply.Result)
		}
	}
	text, err := svc.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, unknown, _ := strings.Cut(text, "*Unknown failures*")
	unknown, _, _ = strings.Cut(unknown, "\n*")
	if strings.Count(unknown, "\n• `") != 1 || !strings.Contains(unknown, " 3 answers, ") || !strings.Contains(unknown, "ChangelogError") {
		t.Errorf("stats want one unknown group of 3 answers:\n%s", text)
	}

	// "Wrong cause", with the right cause picked; then "Fixed it" by someone else on
	// another answer.
	if _, err := svc.Feedback(ctx, Feedback{DiagnosisID: posts[0].Reply.DiagnosisID, User: "U2", Kind: FeedbackWrong, RuleID: "oidc-npm-too-old"}); err != nil {
		t.Fatal(err)
	}
	got := cases(t)
	if len(got) != 1 {
		t.Fatalf("%d cases, want 1: %+v", len(got), got)
	}
	c := got[0]
	if c.DiagnosisID != posts[0].Reply.DiagnosisID || c.Label != "oidc-npm-too-old" || c.Source != learn.SourceWrong || c.User != "U2" ||
		!strings.Contains(c.Log, "ChangelogError: CHANGELOG.md has no section for v3.2.1") || c.Fingerprint == "" {
		t.Errorf("case %+v: want diagnosis %d labelled oidc-npm-too-old from wrong feedback, with its log", c, posts[0].Reply.DiagnosisID)
	}
	for kind, s := range secret.Samples() {
		if strings.Contains(c.Log, s.Value) {
			t.Errorf("the case's log holds the %s secret", kind)
		}
	}
	if !strings.Contains(c.Log, "[REDACTED") {
		t.Errorf("the case's log shows no redaction:\n%s", c.Log)
	}
	// A second verdict on the same answer replaces the first: still one case.
	if _, err := svc.Feedback(ctx, Feedback{DiagnosisID: posts[0].Reply.DiagnosisID, User: "U2", Kind: FeedbackWrong, RuleID: "other"}); err != nil {
		t.Fatal(err)
	}
	if got := cases(t); len(got) != 1 || got[0].Label != "" {
		t.Errorf("after a second verdict: %+v, want one case without a label", got)
	}
}

func TestLearningFromAnswersFake(t *testing.T) {
	st := newFakeStore()
	CheckLearningFromAnswers(t, st, func(*testing.T) []learn.Case { return st.cases() })
}

func TestStatsShowPrecisionFromFeedback(t *testing.T) {
	h := newHarness(t)
	for i := range 3 {
		if err := h.ask(t, Request{Kind: "mention", DeliveryID: fmt.Sprint("P", i), Channel: "C1", User: "U1", ThreadTS: fmt.Sprint(i), Text: example(t, "old-npm.log")}); err != nil {
			t.Fatal(err)
		}
	}
	posts, _, _ := h.msg.snapshot()
	ctx := context.Background()
	for i, kind := range []string{FeedbackFixed, FeedbackFixed, FeedbackWrong} {
		if _, err := h.svc.Feedback(ctx, Feedback{DiagnosisID: posts[i].Reply.DiagnosisID, User: "U1", Kind: kind, RuleID: map[bool]string{true: "other"}[kind == FeedbackWrong]}); err != nil {
			t.Fatal(err)
		}
	}
	text, err := h.svc.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "*Precision from feedback*") || !strings.Contains(text, "• `oidc-npm-too-old` 67% right (2 of 3)") {
		t.Errorf("stats lack the rule's precision:\n%s", text)
	}
	// Every answer was learned from: three cases, two labelled with the rule.
	cs := h.store.cases()
	labelled := 0
	for _, c := range cs {
		if c.Label == "oidc-npm-too-old" {
			labelled++
		}
	}
	if len(cs) != 3 || labelled != 2 {
		t.Errorf("cases %+v: want 3, 2 labelled oidc-npm-too-old", cs)
	}
}

// Every way of asking hands the store the text it diagnosed: a failed run's job log
// (webhook and run URL), a shared file's text, a run-log zip's job log.
func TestEveryAnswerIsRecordedWithItsLog(t *testing.T) {
	h := newHarness(t)
	log := unknownRelease("2026-12-01", "widgets", "1.0.0", "555")
	h.runs.runs[201] = publishRun(t, 201, log)
	if err := h.deliver(t, runEvent(201, 7, "failure")); err != nil {
		t.Fatal(err)
	}
	h.msg.files["https://files.example/release.log"] = []byte(log)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("0_release.txt")
	_, _ = io.WriteString(w, log)
	_ = zw.Close()
	h.msg.files["https://files.example/logs.zip"] = zbuf.Bytes()
	for i, name := range []string{"release.log", "logs.zip"} {
		req := Request{Kind: "dm", Direct: true, DeliveryID: fmt.Sprint("EvF", i), Channel: "D1", User: "U1", ThreadTS: fmt.Sprint("9.", i),
			Files: []File{{Name: name, URL: "https://files.example/" + name}}}
		if err := h.ask(t, req); err != nil {
			t.Fatal(err)
		}
	}
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	if n := len(h.store.diagnoses); n != 3 {
		t.Fatalf("%d diagnoses, want 3", n)
	}
	for _, d := range h.store.diagnoses {
		a, ok := h.store.learning().logs[d.ID]
		if !ok || !strings.Contains(a.log, "ChangelogError: CHANGELOG.md has no section for v1.0.0") || a.fingerprint == "" {
			t.Errorf("diagnosis %d (%s): kept %+v, want its log", d.ID, d.Key, a)
		}
	}
	if g := h.store.learning().groups; len(g) != 1 {
		t.Errorf("%d unknown groups, want the one failure's", len(g))
	}
}
