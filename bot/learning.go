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

// How much of what the store learned `/pubdoc stats` shows.
const (
	// statsUnknownGroups is how many of the largest unknown groups it lists.
	statsUnknownGroups = 5
	// statsPrecisionRules is how many rules' precision from feedback it lists.
	statsPrecisionRules = 10
	// statsWindow is the window of its unknown groups (its other figures' too).
	statsWindow = 30 * 24 * time.Hour
)

// recordAnswer hands a stored answer and the text it was diagnosed from to the store to
// learn from (issue 15: cases from feedback, unknown failures grouped). The store cuts
// and redacts the text before keeping it. A failure is logged: it never keeps the answer
// from being posted.
func (s *Service) recordAnswer(ctx context.Context, id int64, res *diagnose.Result, log string) {
	if _, err := s.cfg.Store.RecordAnswer(ctx, id, res, log, s.cfg.Now()); err != nil {
		s.logger.Warn("recording an answer to learn from", "diagnosis_id", id, "err", redactErr(err).Error())
	}
}

// saveCase makes feedback on an answer a case (the answer's kept log with the verdict and
// the label the feedback gives it). A failure is logged, never told: the feedback itself
// is saved. An answer with no kept log (older than the store keeps logs, or from before
// it kept them) makes no case.
func (s *Service) saveCase(ctx context.Context, f Feedback) {
	source := learn.SourceFixed
	if f.Kind == FeedbackWrong {
		source = learn.SourceWrong
	}
	saved, err := s.cfg.Store.SaveCase(ctx, f.DiagnosisID, source, f.RuleID, f.User, f.CreatedAt)
	switch {
	case err != nil:
		s.logger.Warn("saving a case from feedback", "diagnosis_id", f.DiagnosisID, "err", redactErr(err).Error())
	case !saved:
		s.logger.Debug("no log kept for the answer; feedback made no case", "diagnosis_id", f.DiagnosisID)
	}
}

// learnedStats is the part of `/pubdoc stats` from what the store learned: the largest
// groups of unknown failures in the last 30 days, and each rule's precision from all the
// feedback it got. A part the store cannot read is left out (and logged).
func (s *Service) learnedStats(ctx context.Context) string {
	var b strings.Builder
	groups, err := s.cfg.Store.UnknownGroups(ctx, s.cfg.Now().Add(-statsWindow), statsUnknownGroups+1)
	if err != nil {
		s.logger.Warn("reading unknown groups for stats", "err", redactErr(err).Error())
	}
	if text := learn.GroupsText(groups, statsUnknownGroups); text != "" {
		b.WriteString(text)
	}
	prec, err := s.cfg.Store.RulePrecision(ctx, time.Time{})
	if err != nil {
		s.logger.Warn("reading rule precision for stats", "err", redactErr(err).Error())
	}
	b.WriteString(precisionText(prec, statsPrecisionRules))
	return b.String()
}

// precisionText lists the rules' precision from feedback, the most answered first (then
// the least precise), at most limit; "" for none.
func precisionText(prec []learn.Precision, limit int) string {
	if len(prec) == 0 {
		return ""
	}
	prec = slices.Clone(prec)
	slices.SortFunc(prec, func(a, b learn.Precision) int {
		if c := cmp.Compare(b.Right+b.Wrong, a.Right+a.Wrong); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Ratio(), b.Ratio()); c != 0 {
			return c
		}
		return cmp.Compare(a.RuleID, b.RuleID)
	})
	var b strings.Builder
	b.WriteString("*Precision from feedback* (all time: \"Fixed it\" right, \"Wrong cause\" wrong)\n")
	for i, p := range prec {
		if i == limit {
			fmt.Fprintf(&b, "… and %d more\n", len(prec)-i)
			break
		}
		fmt.Fprintf(&b, "• `%s` %.0f%% right (%d of %d)\n", p.RuleID, 100*p.Ratio(), p.Right, p.Right+p.Wrong)
	}
	return b.String()
}
