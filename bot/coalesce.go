package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
)

// TaskFlush is the durable job that posts a thread's pending failures once its
// coalescing window allows: the jobs of those failures complete as soon as it is
// enqueued, and it is enqueued once per batch.
const TaskFlush = "thread_flush"

// flushTask is TaskFlush's payload: post reply batch Batch of thread Thread.
type flushTask struct {
	Thread int64 `json:"thread"`
	Batch  int64 `json:"batch"`
}

// batchLease is how long a reply batch may stay unposted before a flush job takes it
// over from its owner.
const batchLease = 2 * time.Minute

// ownReply is the reply a failure's own job would post for it alone.
type ownReply struct {
	member string
	reply  Reply
}

// reply names a repeat failure (member, already added to th as pending) in the thread:
// at once, in full, when the thread's window is open; else with the failures that
// follow it, in one reply posted by a flush job when the window opens. Either way the
// failure is in the record (the thread's members) before this returns.
func (s *Service) reply(ctx context.Context, th Thread, member string, r Reply) error {
	done, th, err := s.tryBatch(ctx, th, member, &ownReply{member, r})
	if err != nil || done {
		return err
	}
	b := th.Replies + 1
	payload, err := json.Marshal(flushTask{Thread: th.ID, Batch: b})
	if err != nil {
		return fmt.Errorf("encoding a flush: %w", err)
	}
	if _, err := s.cfg.Store.Accept(ctx, "pubdoc", flushKey(th.ID, b), Task{Kind: TaskFlush, Payload: payload}); err != nil {
		return fmt.Errorf("scheduling thread %d's next reply: %w", th.ID, err)
	}
	return nil
}

func flushKey(thread, batch int64) string { return fmt.Sprintf("replies:%d:%d", thread, batch) }

// tryBatch posts th's pending failures as the next reply batch when the window allows,
// or finishes posting the batch owner took earlier (its job died before it was posted).
// It reports whether it posted, and returns the thread as it last read it.
func (s *Service) tryBatch(ctx context.Context, th Thread, owner string, own *ownReply) (bool, Thread, error) {
	if th.Replies > th.RepliesPosted {
		if th.ReplyOwner != owner {
			return false, th, nil // its owner's job posts it
		}
		members, err := s.cfg.Store.BatchMembers(ctx, th.ID, th.Replies)
		if err != nil {
			return false, th, fmt.Errorf("reading a reply batch: %w", err)
		}
		return true, th, s.postBatch(ctx, th, th.Replies, members, own)
	}
	now := s.cfg.Now()
	if now.Before(th.ReplyAt.Add(s.flood.ReplyEvery)) {
		return false, th, nil
	}
	b, members, err := s.cfg.Store.TakeBatch(ctx, th.ID, th.Replies, owner, now)
	if err != nil {
		return false, th, fmt.Errorf("taking a reply batch: %w", err)
	}
	if b == 0 {
		th, err = s.cfg.Store.Thread(ctx, th.ID)
		if err != nil {
			return false, th, fmt.Errorf("reading a thread: %w", err)
		}
		return false, th, nil
	}
	return true, th, s.postBatch(ctx, th, b, members, own)
}

// postBatch posts reply batch b of th once (the failure's full diagnosis when it is the
// job's own failure alone, else one line naming them all), refreshes the parent's count
// and records the batch posted. A retry after a crash anywhere in between completes it
// without posting twice.
func (s *Service) postBatch(ctx context.Context, th Thread, b int64, members []Member, own *ownReply) error {
	if th.ParentTS == "" && s.cfg.Now().Sub(th.ClaimedAt) < batchLease {
		// The parent is being posted (again, by a job that took over from a slow one): a
		// reply now would land outside the thread, and the parent's count would not follow.
		// A parent that cannot be posted at all does not hold its failures past the lease:
		// they are posted in the channel.
		return retryAfter(s.flood.PostEvery, fmt.Errorf("thread %d's parent is not posted yet", th.ID))
	}
	r := Reply{Text: digestText(members)}
	if own != nil && len(members) == 1 && members[0].Key == own.member {
		r = own.reply
	}
	ts, err := s.postOnce(ctx, flushKey(th.ID, b), Target{Channel: th.Channel, ThreadTS: th.ParentTS}, r)
	if err != nil && isPermanent(err) {
		// Slack will never take it: the thread moves on (its failures stay on record).
		s.logger.Warn("a thread's reply could not be posted; skipped", "thread", th.ID, "batch", b, "members", len(members), "err", err)
		if ferr := s.cfg.Store.FinishBatch(ctx, th.ID, b, th.Channel, ""); ferr != nil {
			return fmt.Errorf("recording a reply: %w", ferr)
		}
		return err
	}
	if err != nil {
		return err
	}
	s.cfg.Metrics.Posted("thread_reply")
	// The parent is refreshed before the batch counts as posted, so that the next batch's
	// refresh (with a larger count) cannot be overtaken by this one.
	cur, err := s.cfg.Store.Thread(ctx, th.ID)
	if err != nil {
		return fmt.Errorf("reading a thread: %w", err)
	}
	if err := s.refreshParent(ctx, cur); err != nil {
		return err
	}
	if err := s.cfg.Store.FinishBatch(ctx, th.ID, b, th.Channel, ts); err != nil {
		return fmt.Errorf("recording a reply: %w", err)
	}
	return nil
}

// flush runs a TaskFlush job: it waits (snoozed) for the thread's window, then posts the
// failures pending by then.
func (s *Service) flush(ctx context.Context, ft flushTask) error {
	th, err := s.cfg.Store.Thread(ctx, ft.Thread)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading a thread: %w", err)
	}
	owner := flushKey(ft.Thread, ft.Batch)
	if th.Replies >= ft.Batch && (th.ReplyOwner != owner || th.RepliesPosted >= th.Replies) {
		return nil // another job took this batch, or this one posted it
	}
	if th.Replies < ft.Batch-1 {
		// An earlier batch is still to be taken: this one must name only what follows it.
		return retryAfter(s.flood.ReplyEvery, fmt.Errorf("thread %d's reply %d is not out yet", th.ID, ft.Batch-1))
	}
	done, th, err := s.tryBatch(ctx, th, owner, nil)
	if err != nil || done || th.Replies >= ft.Batch {
		return err
	}
	now := s.cfg.Now()
	switch {
	case th.Replies > th.RepliesPosted && now.Sub(th.ReplyAt) > batchLease:
		// The previous batch's owner is gone (its job given up): this job posts it, then
		// its own.
		took, err := s.cfg.Store.ReclaimBatch(ctx, th.ID, th.Replies, owner, now.Add(-batchLease), now)
		if err != nil {
			return fmt.Errorf("reclaiming a reply batch: %w", err)
		}
		if took {
			th.ReplyOwner = owner
			if _, _, err := s.tryBatch(ctx, th, owner, nil); err != nil {
				return err
			}
		}
		return retryAfter(s.flood.PostEvery, fmt.Errorf("thread %d's reply %d was late", th.ID, th.Replies))
	case th.Replies > th.RepliesPosted:
		// The previous batch is being posted by its owner.
		return retryAfter(s.flood.PostEvery, fmt.Errorf("thread %d's reply %d is being posted", th.ID, th.Replies))
	case now.Before(th.ReplyAt.Add(s.flood.ReplyEvery)):
		return retryAfter(th.ReplyAt.Add(s.flood.ReplyEvery).Sub(now), fmt.Errorf("thread %d replied %s ago", th.ID, now.Sub(th.ReplyAt).Round(time.Millisecond)))
	}
	return nil // nothing pending: the failures went out with an earlier batch
}

// runLabel is how a digest names a run: its number and link.
func runLabel(ev *Event) string {
	return diagnose.Redact(strconv.Itoa(ev.Run.Number) + " " + ev.Run.HTMLURL)
}

// Digest budget: the first spans link their run; the text stays within one Slack
// section (3,000 bytes) and its plain-text fallback.
const (
	digestLinked   = 10
	maxDigestBytes = 2800
)

// digestText is the reply for several failures: how many runs, and which, with
// consecutive run numbers folded into ranges ("<url|#1001>–1037, #1040").
func digestText(members []Member) string {
	type run struct {
		n   int
		url string
	}
	seen := map[int]bool{}
	var runs []run
	unnamed := 0
	for _, m := range members {
		num, url, _ := strings.Cut(m.Label, " ")
		n, err := strconv.Atoi(num)
		if err != nil {
			unnamed++
			continue
		}
		if !seen[n] {
			seen[n] = true
			runs = append(runs, run{n, url})
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].n < runs[j].n })
	total := len(runs) + unnamed
	if total == 0 {
		total = len(members)
	}
	noun := "runs"
	if total == 1 {
		noun = "run"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d more %s failed the same way*", total, noun)
	spans := 0
	for i := 0; i < len(runs); {
		j := i
		for j+1 < len(runs) && runs[j+1].n == runs[j].n+1 {
			j++
		}
		span := "#" + strconv.Itoa(runs[i].n)
		if spans < digestLinked && runs[i].url != "" {
			span = "<" + runs[i].url + "|" + span + ">"
		}
		if j > i {
			span += "–" + strconv.Itoa(runs[j].n)
		}
		if b.Len()+len(span) > maxDigestBytes {
			fmt.Fprintf(&b, ", and %d more", len(runs)-i)
			break
		}
		if spans == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(span)
		spans++
		i = j + 1
	}
	b.WriteString(".")
	return b.String()
}
