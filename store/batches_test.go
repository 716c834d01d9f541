package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Members added while batches are taken concurrently each land in exactly one batch or
// see the batch that missed them (so their job schedules the next one).
func TestReplyBatches(t *testing.T) {
	eachDriver(t, func(t *testing.T, db testDB) {
		s := open(t, db, nil)
		ctx := context.Background()
		th, _, err := s.OpenThread(ctx, "fp", "acme/cli", "release.yml", "main", "r", "C1", t0.Add(-time.Hour), t0)
		if err != nil {
			t.Fatal(err)
		}
		if th, _, err = s.AddToThread(ctx, th.ID, "parent", t0); err != nil || th.Count != 1 {
			t.Fatalf("AddToThread = %+v, %v", th, err)
		}
		if b, m, err := s.TakeBatch(ctx, th.ID, 0, "x", t0); b != 0 || m != nil || err != nil {
			t.Fatalf("TakeBatch with only the parent = %d, %v, %v; want nothing (the parent is never batched)", b, m, err)
		}
		for i := range 3 {
			if _, _, err := s.AddMember(ctx, th.ID, Member{Key: fmt.Sprint("m", i), Label: fmt.Sprint(i)}, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		b, m, err := s.TakeBatch(ctx, th.ID, 0, "owner-1", t0.Add(time.Minute))
		if err != nil || b != 1 || len(m) != 3 || m[0].Key != "m0" || m[2].Label != "2" {
			t.Fatalf("TakeBatch = %d, %+v, %v; want batch 1 of m0..m2", b, m, err)
		}
		if _, _, err := s.AddMember(ctx, th.ID, Member{Key: "m3"}, t0); err != nil {
			t.Fatal(err)
		}
		if b, _, _ := s.TakeBatch(ctx, th.ID, 1, "owner-2", t0); b != 0 {
			t.Fatalf("batch 2 taken before batch 1 was posted")
		}
		got, _ := s.Thread(ctx, th.ID)
		if got.Replies != 1 || got.RepliesPosted != 0 || got.ReplyOwner != "owner-1" || !got.ReplyAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("thread %+v after taking batch 1", got)
		}
		if again, _ := s.BatchMembers(ctx, th.ID, 1); len(again) != 3 {
			t.Fatalf("BatchMembers = %+v", again)
		}
		if ok, err := s.ReclaimBatch(ctx, th.ID, 1, "flush", t0, t0.Add(2*time.Minute)); ok || err != nil {
			t.Fatalf("ReclaimBatch of a fresh batch = %v, %v", ok, err)
		}
		if ok, err := s.ReclaimBatch(ctx, th.ID, 1, "flush", t0.Add(2*time.Minute), t0.Add(3*time.Minute)); !ok || err != nil {
			t.Fatalf("ReclaimBatch of a stale batch = %v, %v", ok, err)
		}
		if got, _ := s.Thread(ctx, th.ID); got.ReplyOwner != "flush" || got.Replies != 1 {
			t.Fatalf("thread %+v after the reclaim", got)
		}
		if err := s.FinishBatch(ctx, th.ID, 1, "C1", "1.5"); err != nil {
			t.Fatal(err)
		}
		if b, _, _ := s.TakeBatch(ctx, th.ID, 0, "late", t0); b != 0 {
			t.Fatalf("a stale TakeBatch (expecting 0) took batch %d", b)
		}
		if ok, _ := s.ReclaimBatch(ctx, th.ID, 1, "x", t0.Add(time.Hour), t0.Add(time.Hour)); ok {
			t.Fatal("a posted batch was reclaimed")
		}

		// Concurrent adders and takers: every member ends in exactly one batch, or is
		// pending and was added after the last batch its adder could see.
		var wg sync.WaitGroup
		seenReplies := make([]int64, 40)
		for i := range 40 {
			wg.Go(func() {
				th, _, err := s.AddMember(ctx, th.ID, Member{Key: fmt.Sprint("c", i)}, t0)
				if err != nil {
					t.Error(err)
					return
				}
				seenReplies[i] = th.Replies
			})
		}
		wg.Go(func() {
			for range 10 {
				cur, _ := s.Thread(ctx, th.ID)
				if b, _, _ := s.TakeBatch(ctx, th.ID, cur.Replies, "t", t0); b > 0 {
					_ = s.FinishBatch(ctx, th.ID, b, "C1", "1.6")
				}
			}
		})
		wg.Wait()
		for i := range 40 {
			var batch int64
			if err := s.db.q().queryRow(ctx, `SELECT batch FROM pubdoc_thread_members WHERE thread_id = $1 AND member_key = $2`,
				th.ID, fmt.Sprint("c", i)).Scan(&batch); err != nil {
				t.Fatal(err)
			}
			// A member its adder saw as after batch k is either in a later batch or pending
			// (and its job schedules batch k+1).
			if batch != 0 && batch <= seenReplies[i] {
				t.Errorf("c%d is in batch %d, but its adder saw %d batches already taken", i, batch, seenReplies[i])
			}
		}
	})
}
