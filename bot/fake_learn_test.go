package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
)

// fakeLearning is the fake store's learning tables: the kept answer logs, the cases and
// the unknown groups, with the store's semantics (once per diagnosis, one case per
// diagnosis, the latest feedback's).
type fakeLearning struct {
	logs   map[int64]fakeAnswer
	cases  map[int64]learn.Case
	groups map[string]*learn.Group
}

type fakeAnswer struct {
	log, fingerprint string
	at               time.Time
}

func (s *fakeStore) learning() *fakeLearning {
	if s.learn == nil {
		s.learn = &fakeLearning{logs: map[int64]fakeAnswer{}, cases: map[int64]learn.Case{}, groups: map[string]*learn.Group{}}
	}
	return s.learn
}

func (s *fakeStore) RecordAnswer(_ context.Context, diagnosisID int64, res *diagnose.Result, log string, at time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.diagnosis(diagnosisID); err != nil {
		return "", err
	}
	l := s.learning()
	p := learn.Fingerprint(res, log)
	if _, ok := l.logs[diagnosisID]; ok {
		return p.ID, nil
	}
	l.logs[diagnosisID] = fakeAnswer{log: diagnose.Redact(learn.Keep(log, res, learn.DefaultKeepBytes)), fingerprint: p.ID, at: at}
	if !learn.Unknown(res) {
		return p.ID, nil
	}
	g := l.groups[p.ID]
	if g == nil {
		g = &learn.Group{ID: p.ID, Lines: p.Lines, Example: strings.Split(diagnose.Redact(strings.Join(p.Raw, "\n")), "\n"), FirstSeen: at}
		l.groups[p.ID] = g
	}
	g.Total++
	g.LastSeen = at
	day := at.UTC().Truncate(24 * time.Hour)
	if n := len(g.Days); n > 0 && g.Days[n-1].Day.Equal(day) {
		g.Days[n-1].Count++
	} else {
		g.Days = append(g.Days, learn.DayCount{Day: day, Count: 1})
	}
	return p.ID, nil
}

func (s *fakeStore) SaveCase(_ context.Context, diagnosisID int64, source, picked, user string, at time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if source != learn.SourceFixed && source != learn.SourceWrong {
		return false, fmt.Errorf("saving a case: source %q", source)
	}
	d, err := s.diagnosis(diagnosisID)
	if err != nil {
		return false, err
	}
	l := s.learning()
	a, ok := l.logs[diagnosisID]
	if !ok {
		return false, nil
	}
	c := learn.Case{ID: int64(len(l.cases) + 1), DiagnosisID: diagnosisID, Log: a.log, Verdict: d.Verdict, TopRuleID: d.RuleID,
		Confidence: d.Confidence, Label: learn.CaseLabel(source, d.RuleID, picked), Source: source, User: user,
		ThreadID: d.ThreadID, Fingerprint: a.fingerprint, CreatedAt: at}
	if old, ok := l.cases[diagnosisID]; ok {
		c.ID = old.ID
	}
	l.cases[diagnosisID] = c
	return true, nil
}

// cases are the fake's cases by diagnosis id (tests read them).
func (s *fakeStore) cases() []learn.Case {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []learn.Case
	for _, c := range s.learning().cases {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b learn.Case) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (s *fakeStore) UnknownGroups(_ context.Context, since time.Time, limit int) ([]learn.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if limit <= 0 {
		limit = 10
	}
	from := since.UTC().Truncate(24 * time.Hour)
	var out []learn.Group
	for _, g := range s.learning().groups {
		cp := *g
		cp.Count, cp.Days = 0, nil
		for _, d := range g.Days {
			if !d.Day.Before(from) {
				cp.Count += d.Count
				cp.Days = append(cp.Days, d)
			}
		}
		if cp.Count > 0 {
			out = append(out, cp)
		}
	}
	slices.SortFunc(out, func(a, b learn.Group) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	return out[:min(limit, len(out))], nil
}

func (s *fakeStore) RulePrecision(_ context.Context, since time.Time) ([]learn.Precision, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byRule := map[string]*learn.Precision{}
	for _, f := range s.feedback {
		d := s.diagnoses[f.DiagnosisID-1]
		if d.RuleID == "" || d.RuleID == diagnose.NoKnownCause || f.CreatedAt.Before(since) {
			continue
		}
		p := byRule[d.RuleID]
		if p == nil {
			p = &learn.Precision{RuleID: d.RuleID}
			byRule[d.RuleID] = p
		}
		if f.Kind == FeedbackFixed {
			p.Right++
		} else {
			p.Wrong++
		}
	}
	var out []learn.Precision
	for _, p := range byRule {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b learn.Precision) int { return cmp.Compare(a.RuleID, b.RuleID) })
	return out, nil
}
