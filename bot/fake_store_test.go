package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
)

// fakeStore is the in-memory Store: the store package's semantics (idempotent saves and
// posts, one open thread per fingerprint and channel, reply batches) without a database.
// Accepted tasks are kept in tasks, for a test to run with Handle.
type fakeStore struct {
	mu         sync.Mutex
	deliveries map[string]bool
	tasks      []Task
	diagnoses  []*Diagnosis // id = index+1
	feedback   map[[2]string]Feedback
	posts      map[string]*Post
	threads    []*Thread // id = index+1
	members    map[int64][]fakeMember
	learn      *fakeLearning // RecordAnswer, SaveCase (fake_learn_test.go)
}

type fakeMember struct {
	Member
	added time.Time
}

var _ Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{deliveries: map[string]bool{}, feedback: map[[2]string]Feedback{}, posts: map[string]*Post{}, members: map[int64][]fakeMember{}}
}

// jobCounts is the store's JobCounts for what the fake keeps: every accepted task is
// "available" (the fake runs nothing by itself).
func (s *fakeStore) jobCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]int{"available": len(s.tasks)}
}

func (s *fakeStore) Accept(_ context.Context, source, deliveryID string, t Task) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if source == "" || deliveryID == "" || t.Kind == "" {
		return false, errors.New("accepting a delivery: source, delivery id and kind are required")
	}
	key := source + "\x00" + deliveryID
	if s.deliveries[key] {
		return false, nil
	}
	s.deliveries[key] = true
	t.ID = int64(len(s.tasks) + 1)
	s.tasks = append(s.tasks, t)
	return true, nil
}

func (s *fakeStore) SaveDiagnosis(_ context.Context, d *Diagnosis) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d == nil || d.Key == "" {
		return 0, errors.New("saving a diagnosis: it needs a Key")
	}
	for _, old := range s.diagnoses {
		if old.Key == d.Key {
			d.ID = old.ID
			return old.ID, nil
		}
	}
	cp := *d
	cp.ID = int64(len(s.diagnoses) + 1)
	if cp.CreatedAt.IsZero() {
		cp.CreatedAt = time.Now()
	}
	s.diagnoses = append(s.diagnoses, &cp)
	d.ID = cp.ID
	return cp.ID, nil
}

func (s *fakeStore) diagnosis(id int64) (*Diagnosis, error) {
	if id < 1 || id > int64(len(s.diagnoses)) {
		return nil, fmt.Errorf("reading diagnosis %d: %w", id, ErrNotFound)
	}
	return s.diagnoses[id-1], nil
}

func (s *fakeStore) Diagnosis(_ context.Context, id int64) (*Diagnosis, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.diagnosis(id)
	if err != nil {
		return nil, err
	}
	cp := *d
	return &cp, nil
}

func (s *fakeStore) SetDiagnosisMessage(_ context.Context, id int64, channel, ts string, threadID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.diagnosis(id)
	if err != nil {
		return err
	}
	d.Channel, d.TS, d.ThreadID = channel, ts, threadID
	return nil
}

func (s *fakeStore) SaveFeedback(_ context.Context, f Feedback) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Kind != FeedbackFixed && f.Kind != FeedbackWrong || f.User == "" {
		return fmt.Errorf("saving feedback: kind %q, user %q", f.Kind, f.User)
	}
	if _, err := s.diagnosis(f.DiagnosisID); err != nil {
		return err
	}
	s.feedback[[2]string{fmt.Sprint(f.DiagnosisID), f.User}] = f
	return nil
}

func (s *fakeStore) ClaimPost(_ context.Context, key string, now time.Time) (Post, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[key]
	switch {
	case p == nil:
		p = &Post{Key: key, Claims: 1, ClaimedAt: now}
		s.posts[key] = p
	case !p.Done:
		p.Claims++
	}
	return *p, nil
}

func (s *fakeStore) FinishPost(_ context.Context, key, channel, ts string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[key]
	if p == nil {
		p = &Post{Key: key, ClaimedAt: time.Now()}
		s.posts[key] = p
	}
	p.Channel, p.TS, p.Done = channel, ts, true
	return nil
}

func (s *fakeStore) LookupPost(_ context.Context, key string) (Post, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.posts[key]
	if p == nil {
		return Post{}, fmt.Errorf("post %q: %w", key, ErrNotFound)
	}
	return *p, nil
}

func (s *fakeStore) thread(id int64) (*Thread, error) {
	if id < 1 || id > int64(len(s.threads)) {
		return nil, fmt.Errorf("thread %d: %w", id, ErrNotFound)
	}
	return s.threads[id-1], nil
}

func (s *fakeStore) OpenThread(_ context.Context, fingerprint, repo, workflow, branch, ruleID, channel string, since, now time.Time) (Thread, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.threads) - 1; i >= 0; i-- {
		t := s.threads[i]
		if t.Fingerprint == fingerprint && t.Channel == channel && t.ResolvedAt.IsZero() && !t.FirstAt.Before(since) {
			return *t, false, nil
		}
	}
	t := &Thread{ID: int64(len(s.threads) + 1), Fingerprint: fingerprint, Repo: repo, Workflow: workflow, Branch: branch,
		RuleID: ruleID, Channel: channel, FirstAt: now, LastAt: now, ClaimedAt: now}
	s.threads = append(s.threads, t)
	return *t, true, nil
}

func (s *fakeStore) ReclaimThread(_ context.Context, id int64, olderThan, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil || t.ParentTS != "" || !t.ClaimedAt.Before(olderThan) {
		return false, nil
	}
	t.ClaimedAt = now
	return true, nil
}

func (s *fakeStore) SetThreadParent(_ context.Context, id int64, ts string, diagnosisID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil {
		return err
	}
	if ts != "" {
		t.ParentTS = ts
	}
	t.ParentDiagnosisID = diagnosisID
	return nil
}

func (s *fakeStore) AddToThread(ctx context.Context, id int64, memberKey string, now time.Time) (Thread, bool, error) {
	return s.AddMember(ctx, id, Member{Key: memberKey, Batch: BatchNone}, now)
}

func (s *fakeStore) AddMember(_ context.Context, id int64, m Member, now time.Time) (Thread, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil {
		return Thread{}, false, err
	}
	if slices.ContainsFunc(s.members[id], func(x fakeMember) bool { return x.Key == m.Key }) {
		return *t, false, nil
	}
	s.members[id] = append(s.members[id], fakeMember{m, now})
	t.Count++
	t.LastAt = now
	return *t, true, nil
}

func (s *fakeStore) batchMembers(id, batch int64) []Member {
	ms := slices.Clone(s.members[id])
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].added.Equal(ms[j].added) {
			return ms[i].added.Before(ms[j].added)
		}
		return ms[i].Key < ms[j].Key
	})
	var out []Member
	for _, m := range ms {
		if m.Batch == batch {
			out = append(out, m.Member)
		}
	}
	return out
}

func (s *fakeStore) TakeBatch(_ context.Context, id, expect int64, owner string, now time.Time) (int64, []Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil || t.Replies != expect || t.RepliesPosted != t.Replies {
		return 0, nil, nil
	}
	pending := 0
	for i := range s.members[id] {
		if s.members[id][i].Batch == BatchPending {
			s.members[id][i].Batch = expect + 1
			pending++
		}
	}
	if pending == 0 {
		return 0, nil, nil
	}
	t.Replies, t.ReplyAt, t.ReplyOwner = expect+1, now, owner
	return expect + 1, s.batchMembers(id, expect+1), nil
}

func (s *fakeStore) BatchMembers(_ context.Context, id, batch int64) ([]Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batchMembers(id, batch), nil
}

func (s *fakeStore) FinishBatch(_ context.Context, id, batch int64, channel, ts string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil {
		return nil //nolint:nilerr // as the store: an unknown thread updates nothing
	}
	for _, m := range s.batchMembers(id, batch) {
		for _, d := range s.diagnoses {
			if d.Key == m.Key {
				d.Channel, d.TS, d.ThreadID = channel, ts, id
			}
		}
	}
	t.RepliesPosted = max(t.RepliesPosted, batch)
	return nil
}

func (s *fakeStore) ReclaimBatch(_ context.Context, id, batch int64, owner string, olderThan, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil || t.Replies != batch || t.RepliesPosted >= t.Replies || !t.ReplyAt.Before(olderThan) {
		return false, nil
	}
	t.ReplyOwner, t.ReplyAt = owner, now
	return true, nil
}

func (s *fakeStore) Thread(_ context.Context, id int64) (Thread, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil {
		return Thread{}, err
	}
	return *t, nil
}

func (s *fakeStore) OpenThreadsFor(_ context.Context, repo, workflow, branch string) ([]Thread, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Thread
	for _, t := range s.threads {
		if t.Repo == repo && t.Workflow == workflow && t.Branch == branch && t.ResolvedAt.IsZero() {
			out = append(out, *t)
		}
	}
	return out, nil
}

func (s *fakeStore) ResolveThread(_ context.Context, id, run int64, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil {
		return false, err
	}
	if !t.ResolvedAt.IsZero() {
		return false, nil
	}
	t.ResolvedRun, t.ResolvedAt = run, at
	return true, nil
}

func (s *fakeStore) AckThread(_ context.Context, id int64, user string, at time.Time) (Thread, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.thread(id)
	if err != nil {
		return Thread{}, err
	}
	t.AckedBy, t.AckedAt = user, at
	return *t, nil
}

// Stats counts as the store does: diagnoses and feedback by rule over 7 and 30 days,
// threads opened and resolved over 30 with the median time to fix.
func (s *fakeStore) Stats(_ context.Context, now time.Time) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d7, d30 := now.Add(-7*24*time.Hour), now.Add(-30*24*time.Hour)
	var st Stats
	byRule := map[string]*RuleStats{}
	rule := func(id string) *RuleStats {
		if byRule[id] == nil {
			byRule[id] = &RuleStats{RuleID: id}
		}
		return byRule[id]
	}
	for _, d := range s.diagnoses {
		if d.CreatedAt.Before(d30) {
			continue
		}
		st.Total30++
		in7 := !d.CreatedAt.Before(d7)
		if in7 {
			st.Total7++
		}
		if d.RuleID != "" {
			r := rule(d.RuleID)
			r.Count30++
			if in7 {
				r.Count7++
			}
		}
	}
	for _, f := range s.feedback {
		d := s.diagnoses[f.DiagnosisID-1]
		if d.RuleID == "" || f.CreatedAt.Before(d30) {
			continue
		}
		if f.Kind == FeedbackFixed {
			rule(d.RuleID).Fixed++
		} else {
			rule(d.RuleID).Wrong++
		}
	}
	var all []time.Duration
	perRule := map[string][]time.Duration{}
	for _, t := range s.threads {
		if !t.FirstAt.Before(d30) {
			st.Threads30++
		}
		if !t.ResolvedAt.IsZero() && !t.ResolvedAt.Before(d30) {
			d := max(t.ResolvedAt.Sub(t.FirstAt), 0)
			all = append(all, d)
			if t.RuleID != "" {
				perRule[t.RuleID] = append(perRule[t.RuleID], d)
			}
		}
	}
	st.Resolved30, st.MedianTimeToFix = len(all), fakeMedian(all)
	for id, ds := range perRule {
		r := rule(id)
		r.Resolved, r.MedianTimeToFix = len(ds), fakeMedian(ds)
	}
	for _, r := range byRule {
		st.Rules = append(st.Rules, *r)
	}
	sort.Slice(st.Rules, func(i, j int) bool {
		if st.Rules[i].Count30 != st.Rules[j].Count30 {
			return st.Rules[i].Count30 > st.Rules[j].Count30
		}
		return st.Rules[i].RuleID < st.Rules[j].RuleID
	})
	return st, nil
}

// fakeMedian is the median of ds (the mean of the middle two when even); 0 for none.
func fakeMedian(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	n := len(ds)
	if n%2 == 1 {
		return ds[n/2]
	}
	return (ds[n/2-1] + ds[n/2]) / 2
}
