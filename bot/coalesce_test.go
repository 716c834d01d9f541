package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDigestTextFoldsRuns(t *testing.T) {
	var members []Member
	for _, n := range []int{1005, 1001, 1002, 1003, 1009, 1003} {
		members = append(members, Member{Key: fmt.Sprint(n), Label: fmt.Sprintf("%d https://github.com/acme/w/actions/runs/%d", n, n)})
	}
	got := digestText(members)
	want := "*5 more runs failed the same way*: <https://github.com/acme/w/actions/runs/1001|#1001>–1003, " +
		"<https://github.com/acme/w/actions/runs/1005|#1005>, <https://github.com/acme/w/actions/runs/1009|#1009>."
	if got != want {
		t.Errorf("digestText =\n%s\nwant\n%s", got, want)
	}
	if got := digestText(members[:1]); !strings.HasPrefix(got, "*1 more run failed the same way*: ") {
		t.Errorf("one run: %s", got)
	}
	// Thousands of scattered runs stay within one Slack section, and say how many are left.
	members = nil
	for n := 0; n < 3000; n += 2 {
		members = append(members, Member{Key: fmt.Sprint(n), Label: fmt.Sprintf("%d https://github.com/acme/w/actions/runs/%d", n, n)})
	}
	got = digestText(members)
	if len(got) > 3000 || !strings.HasPrefix(got, "*1500 more runs failed the same way*") || !strings.Contains(got, "more.") {
		t.Errorf("%d bytes: %.200s…%s", len(got), got, got[max(0, len(got)-40):])
	}
}

// A 429 for one channel holds that channel alone, for its Retry-After; the others keep
// their pace. One message per channel is in flight at a time.
func TestPacerHoldsOneChannel(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	var slept []time.Duration
	p := newPacer(Flood{PostEvery: time.Second, MaxWait: 1500 * time.Millisecond}.withDefaults())
	p.now = func() time.Time { return now }
	p.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	ctx := context.Background()

	done, err := p.wait(ctx, "A")
	if err != nil || len(slept) != 0 {
		t.Fatalf("first message: %v, slept %v", err, slept)
	}
	done(true, nil)
	now = now.Add(200 * time.Millisecond)
	done, err = p.wait(ctx, "A")
	if err != nil || len(slept) != 1 || slept[0] != 800*time.Millisecond {
		t.Fatalf("second message to A: %v, slept %v, want 800ms", err, slept)
	}
	// While it is in flight, B goes at once and another message to A waits its turn
	// (here: longer than MaxWait, so the job is snoozed).
	doneB, err := p.wait(ctx, "B")
	if err != nil || len(slept) != 1 {
		t.Fatalf("B while A is in flight: %v, slept %v", err, slept)
	}
	doneB(true, nil)
	var ra RetryAfterError
	if _, err := p.wait(ctx, "A"); !errors.As(err, &ra) || !errors.Is(err, errChannelBusy) {
		t.Fatalf("A while A is in flight: %v, want a retry-after", err)
	}
	// Slack answers 429 with Retry-After 30s: A is held that long, B is not.
	done(true, fmt.Errorf("posting: %w", rateLimited{30 * time.Second}))
	if _, err := p.wait(ctx, "A"); !errors.As(err, &ra) || ra.RetryAfter() != 30*time.Second {
		t.Fatalf("A after a 429: %v, want a 30s retry-after", err)
	}
	now = now.Add(time.Second)
	doneB, err = p.wait(ctx, "B")
	if err != nil || len(slept) != 1 {
		t.Fatalf("B while A is held: %v, slept %v, want at once", err, slept)
	}
	doneB(false, nil) // nothing sent: B's pace is not used up
	if doneB, err = p.wait(ctx, "B"); err != nil || len(slept) != 1 {
		t.Fatalf("B after a turn that sent nothing: %v, slept %v", err, slept)
	}
	doneB(true, nil)
	now = now.Add(30 * time.Second)
	if done, err = p.wait(ctx, "A"); err != nil {
		t.Fatalf("A after its Retry-After: %v", err)
	}
	done(true, nil)
}

// Failures within a thread's window go out together, in one reply by a flush job; the
// jobs of those failures finish at once, and a flush job run again posts nothing twice.
func TestRepeatsWithinTheWindowCoalesce(t *testing.T) {
	h := newHarness(t)
	for id := int64(201); id <= 206; id++ {
		h.runs.runs[id] = publishRun(t, id, example(t, "old-npm.log"))
	}
	for id := int64(201); id <= 206; id++ {
		if err := h.deliver(t, runEvent(id, int(id), "failure")); err != nil {
			t.Fatalf("run %d: %v", id, err)
		}
	}
	posts, updates, _ := h.msg.snapshot()
	// The parent, then run 202 at once (the window was open), then nothing: 203-206 wait.
	if len(posts) != 2 || posts[1].Reply.Result == nil || !strings.Contains(posts[1].Reply.Title, "run #202") {
		t.Fatalf("posts %+v, want the parent and run 202's reply", posts)
	}
	if len(updates) != 1 || updates[0].Reply.Thread.Count != 2 {
		t.Fatalf("updates %+v, want the parent refreshed once, to 2", updates)
	}
	th, err := h.store.Thread(context.Background(), 1)
	if err != nil || th.Count != 6 {
		t.Fatalf("thread %+v, %v: want all 6 failures recorded", th, err)
	}
	flush := func() error {
		payload, _ := json.Marshal(flushTask{Thread: 1, Batch: 2})
		return h.svc.Handle(context.Background(), Task{Kind: TaskFlush, Payload: payload, Attempt: 1, MaxAttempts: 10})
	}
	var ra RetryAfterError
	if err := flush(); !errors.As(err, &ra) || ra.RetryAfter() != DefaultReplyEvery {
		t.Fatalf("flush within the window = %v, want a snooze of %s", err, DefaultReplyEvery)
	}
	h.advance(DefaultReplyEvery)
	// The flush job dies mid-post (Slack unreachable); run again, it posts the batch it
	// took, once.
	h.msg.failPost = []error{errors.New("connection reset")}
	if err := flush(); err == nil {
		t.Fatal("the failed post was not reported")
	}
	for range 2 {
		if err := flush(); err != nil {
			t.Fatal(err)
		}
	}
	posts, updates, _ = h.msg.snapshot()
	if len(posts) != 3 || posts[2].Target.ThreadTS != posts[0].TS || !strings.HasPrefix(posts[2].Reply.Text, "*4 more runs failed the same way*: ") ||
		!strings.Contains(posts[2].Reply.Text, "|#203>–206.") {
		t.Fatalf("posts %+v, want one reply naming runs 203-206", posts[2:])
	}
	if len(updates) != 2 || updates[1].Reply.Thread.Count != 6 {
		t.Errorf("updates %+v, want the parent at 6", updates)
	}
	d, err := h.store.Diagnosis(context.Background(), 6)
	if err != nil || d.TS != posts[2].TS || d.ThreadID != 1 {
		t.Errorf("run 206's diagnosis %+v, %v: want it pointing at the reply", d, err)
	}
}

// A batch whose owner's job was given up before posting it is taken over by the next
// flush job once its lease has passed: no failure waits forever.
func TestAbandonedBatchIsTakenOver(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for id := int64(301); id <= 305; id++ {
		h.runs.runs[id] = publishRun(t, id, example(t, "old-npm.log"))
	}
	for id := int64(301); id <= 304; id++ {
		if err := h.deliver(t, runEvent(id, int(id), "failure")); err != nil {
			t.Fatal(err)
		}
	}
	h.advance(DefaultReplyEvery)
	// A member's job takes batch 2 (runs 303, 304) and is never seen again.
	if b, m, err := h.store.TakeBatch(ctx, 1, 1, "gone", h.clock()); b != 2 || len(m) != 2 || err != nil {
		t.Fatalf("TakeBatch = %d, %+v, %v", b, m, err)
	}
	if err := h.deliver(t, runEvent(305, 305, "failure")); err != nil {
		t.Fatal(err)
	}
	flush := func(b int64) error {
		payload, _ := json.Marshal(flushTask{Thread: 1, Batch: b})
		return h.svc.Handle(ctx, Task{Kind: TaskFlush, Payload: payload, Attempt: 1, MaxAttempts: 10})
	}
	var ra RetryAfterError
	if err := flush(3); !errors.As(err, &ra) {
		t.Fatalf("flush 3 while batch 2 is fresh = %v, want a snooze", err)
	}
	if posts, _, _ := h.msg.snapshot(); len(posts) != 2 {
		t.Fatalf("%d posts, want the parent and run 302's reply only", len(posts))
	}
	h.advance(batchLease + time.Second)
	if err := flush(3); !errors.As(err, &ra) {
		t.Fatalf("flush 3 taking over batch 2 = %v, want a snooze for its own turn", err)
	}
	h.advance(DefaultReplyEvery)
	if err := flush(3); err != nil {
		t.Fatal(err)
	}
	posts, _, _ := h.msg.snapshot()
	if len(posts) != 4 || !strings.Contains(posts[2].Reply.Text, "|#303>–304.") || !strings.Contains(posts[3].Reply.Text, "|#305>.") {
		t.Fatalf("posts %+v, want batch 2 (303-304) then batch 3 (305)", posts[2:])
	}
}

// A free channel is taken however short the wait allowed: with the wait's timer already
// expired, select used to pick it over the free channel half the time and refuse.
func TestPacerTakesAFreeChannelWithoutWaiting(t *testing.T) {
	p := newPacer(Flood{PostEvery: time.Nanosecond, MaxWait: time.Nanosecond}.withDefaults())
	p.sleep = func(context.Context, time.Duration) error { return nil }
	for i := range 200 {
		done, err := p.wait(context.Background(), "C1")
		if err != nil {
			t.Fatalf("wait %d on a free channel: %v", i, err)
		}
		done(false, nil)
	}
}

// A batch is not posted while its thread's parent has no message (a job that took the
// parent over from a slow one is posting it): the reply would land outside the thread and
// the parent's count would not follow. The flush is snoozed and posts once it has one.
func TestBatchWaitsForItsParent(t *testing.T) {
	h := newHarness(t)
	for id := int64(301); id <= 303; id++ {
		h.runs.runs[id] = publishRun(t, id, example(t, "old-npm.log"))
		if err := h.deliver(t, runEvent(id, int(id), "failure")); err != nil {
			t.Fatalf("run %d: %v", id, err)
		}
	}
	h.store.mu.Lock()
	th, err := h.store.thread(1)
	if err != nil {
		h.store.mu.Unlock()
		t.Fatal(err)
	}
	parent := th.ParentTS
	th.ParentTS = "" // as while the parent is posted again
	h.store.mu.Unlock()
	before, updatesBefore, _ := h.msg.snapshot()
	h.advance(DefaultReplyEvery)
	flush := func() error {
		payload, _ := json.Marshal(flushTask{Thread: 1, Batch: 2})
		return h.svc.Handle(context.Background(), Task{Kind: TaskFlush, Payload: payload, Attempt: 1, MaxAttempts: 10})
	}
	var ra RetryAfterError
	if err := flush(); !errors.As(err, &ra) {
		t.Fatalf("flush without a parent = %v, want a snooze", err)
	}
	if posts, updates, _ := h.msg.snapshot(); len(posts) != len(before) || len(updates) != len(updatesBefore) {
		t.Fatalf("posted %d and updated %d without a parent", len(posts)-len(before), len(updates)-len(updatesBefore))
	}
	if err := h.store.SetThreadParent(context.Background(), 1, parent, th.ParentDiagnosisID); err != nil {
		t.Fatal(err)
	}
	if err := flush(); err != nil {
		t.Fatal(err)
	}
	posts, updates, _ := h.msg.snapshot()
	last := posts[len(posts)-1]
	if len(posts) != len(before)+1 || last.Target.ThreadTS != parent || !strings.Contains(last.Reply.Text, "#303") {
		t.Fatalf("after the parent: %d new posts, last %+v; want run 303 named in the thread", len(posts)-len(before), last)
	}
	if len(updates) != len(updatesBefore)+1 || updates[len(updates)-1].Reply.Thread.Count != 3 {
		t.Fatalf("updates %+v, want the parent refreshed to 3", updates[len(updatesBefore):])
	}
}
