package main

import (
	"context"
	"time"

	"github.com/pubdoc/pubdoc/diagnose/learn"
	"github.com/pubdoc/pubdoc/internal/metrics"
)

// feedbackEvery is how often serve recounts the feedback for /metrics: it changes when
// a person clicks, so a minute is fresh enough.
const feedbackEvery = time.Minute

// precisionSource is what reportFeedback reads; *store.Store has it.
type precisionSource interface {
	RulePrecision(ctx context.Context, since time.Time) ([]learn.Precision, error)
}

// reportFeedback keeps the per-rule feedback gauges (pubdoc_rule_feedback,
// pubdoc_rule_precision) current from the store, which every replica shares: each one
// exposes the same all-time counts.
func reportFeedback(ctx context.Context, st precisionSource, m *metrics.Metrics) {
	t := time.NewTicker(feedbackEvery)
	defer t.Stop()
	for {
		countFeedback(ctx, st, m)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// countFeedback sets the gauges once; a failed count leaves them as they were.
func countFeedback(ctx context.Context, st precisionSource, m *metrics.Metrics) {
	prec, err := st.RulePrecision(ctx, time.Time{})
	if err != nil {
		return
	}
	fb := make([]metrics.RuleFeedback, 0, len(prec))
	for _, p := range prec {
		fb = append(fb, metrics.RuleFeedback{Rule: p.RuleID, Right: p.Right, Wrong: p.Wrong})
	}
	m.SetRuleFeedback(fb)
}
