package metrics

import (
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// other is the label value recorded in place of one that fails the cardinality guard.
const other = "other"

// maxLabelLen bounds every label value; longer ones are recorded as other.
const maxLabelLen = 80

// Label values that are known in advance are exposed at zero from the start, so that a
// rate() or an alert on them has a series before the first event.
var (
	sources      = []string{"github", "slack"}
	rejectReason = []string{"bad_signature", "too_large", "malformed"}
	apis         = []string{"slack", "github", "registry"}
	apiKinds     = []string{"rate_limited", "transient", "permanent"}
	// jobStates are River's job states.
	jobStates = []string{"available", "cancelled", "completed", "discarded", "pending", "retryable", "running", "scheduled"}
)

// diagnosisBuckets span a pasted log (milliseconds) to a 100 MB job log (seconds).
var diagnosisBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// Metrics are the counters and histograms of pubdoc serve, on their own registry (no
// global default registry).
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	eventsReceived     *prometheus.CounterVec
	eventsDeduplicated *prometheus.CounterVec
	eventsRejected     *prometheus.CounterVec
	diagnosisSeconds   *prometheus.HistogramVec
	ruleHits           *prometheus.CounterVec
	apiErrors          *prometheus.CounterVec
	jobsFinished       *prometheus.CounterVec
	jobs               *prometheus.GaugeVec
	slackPosts         *prometheus.CounterVec
	ruleFeedback       *prometheus.GaugeVec
	rulePrecision      *prometheus.GaugeVec

	mu sync.Mutex
	// states are the job states SetJobCounts has exposed, so that a state missing from
	// a later count is set back to zero rather than left at its last value.
	states map[string]struct{}
	// rules are the rule ids SetRuleFeedback has exposed, for the same reason.
	rules map[string]struct{}
}

// New returns Metrics registered on a new registry, together with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		eventsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_events_received_total",
			Help: "Events accepted (signature verified), by source (github, slack) and kind (workflow_run, app_mention, …).",
		}, []string{"source", "kind"}),
		eventsDeduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_events_deduplicated_total",
			Help: "Events dropped as redeliveries of one already accepted, by source.",
		}, []string{"source"}),
		eventsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_events_rejected_total",
			Help: "Events refused, by source and reason (bad_signature, too_large, malformed).",
		}, []string{"source", "reason"}),
		diagnosisSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pubdoc_diagnosis_seconds",
			Help:    "Time to diagnose one log, by verdict (diagnosed, inconclusive, no-known-cause).",
			Buckets: diagnosisBuckets,
		}, []string{"verdict"}),
		ruleHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_rule_hits_total",
			Help: "Diagnoses whose most likely cause was this rule, by rule id.",
		}, []string{"rule"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_api_errors_total",
			Help: "Failed calls to other services, by api (slack, github, registry) and kind (rate_limited, transient, permanent).",
		}, []string{"api", "kind"}),
		jobsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_jobs_finished_total",
			Help: "Durable job attempts that ended, by job kind and outcome (completed, retried, snoozed, given_up).",
		}, []string{"kind", "outcome"}),
		jobs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pubdoc_jobs",
			Help: "Durable jobs in the queue, by state, as last counted.",
		}, []string{"state"}),
		slackPosts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pubdoc_slack_posts_total",
			Help: "Messages sent to Slack, by kind (post, thread_reply, update, upload, ephemeral).",
		}, []string{"kind"}),
		ruleFeedback: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pubdoc_rule_feedback",
			Help: "Feedback on answers whose most likely cause was this rule, by rule id and verdict (right: Fixed it; wrong: Wrong cause), as last counted from the store.",
		}, []string{"rule", "verdict"}),
		rulePrecision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pubdoc_rule_precision",
			Help: "Share of the feedback on a rule's answers that says it was right, by rule id (rules with feedback only), as last counted from the store.",
		}, []string{"rule"}),
		states: make(map[string]struct{}, len(jobStates)),
		rules:  map[string]struct{}{},
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.eventsReceived, m.eventsDeduplicated, m.eventsRejected, m.diagnosisSeconds, m.ruleHits,
		m.apiErrors, m.jobsFinished, m.jobs, m.slackPosts, m.ruleFeedback, m.rulePrecision,
	)
	for _, s := range sources {
		for _, r := range rejectReason {
			m.eventsRejected.WithLabelValues(s, r)
		}
	}
	for _, a := range apis {
		for _, k := range apiKinds {
			m.apiErrors.WithLabelValues(a, k)
		}
	}
	for _, s := range jobStates {
		m.jobs.WithLabelValues(s).Set(0)
		m.states[s] = struct{}{}
	}
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
	return m
}

// Handler serves the registry's metrics in the Prometheus exposition format (promhttp).
// A nil *Metrics serves 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

// EventReceived counts an accepted event: pubdoc_events_received_total{source,kind}.
func (m *Metrics) EventReceived(source, kind string) {
	if m == nil {
		return
	}
	m.eventsReceived.WithLabelValues(label(source), label(kind)).Inc()
}

// EventDeduplicated counts a redelivery dropped as a duplicate:
// pubdoc_events_deduplicated_total{source}.
func (m *Metrics) EventDeduplicated(source string) {
	if m == nil {
		return
	}
	m.eventsDeduplicated.WithLabelValues(label(source)).Inc()
}

// EventRejected counts a refused event: pubdoc_events_rejected_total{source,reason}, with
// reason bad_signature, too_large or malformed.
func (m *Metrics) EventRejected(source, reason string) {
	if m == nil {
		return
	}
	m.eventsRejected.WithLabelValues(label(source), label(reason)).Inc()
}

// DiagnosisDone observes how long a diagnosis took, in pubdoc_diagnosis_seconds{verdict},
// and counts its most likely rule in pubdoc_rule_hits_total{rule}; an empty ruleID (no
// known cause) counts no rule.
func (m *Metrics) DiagnosisDone(verdict, ruleID string, seconds float64) {
	if m == nil {
		return
	}
	m.diagnosisSeconds.WithLabelValues(label(verdict)).Observe(seconds)
	if ruleID != "" {
		m.ruleHits.WithLabelValues(ruleLabel(ruleID)).Inc()
	}
}

// APIError counts a failed call to another service: pubdoc_api_errors_total{api,kind},
// with api slack, github or registry and kind rate_limited, transient or permanent.
func (m *Metrics) APIError(api, kind string) {
	if m == nil {
		return
	}
	m.apiErrors.WithLabelValues(label(api), label(kind)).Inc()
}

// JobFinished counts a durable job attempt that ended:
// pubdoc_jobs_finished_total{kind,outcome}, with outcome completed, retried, snoozed or
// given_up.
func (m *Metrics) JobFinished(kind, outcome string) {
	if m == nil {
		return
	}
	m.jobsFinished.WithLabelValues(label(kind), label(outcome)).Inc()
}

// SetJobCounts sets the gauge pubdoc_jobs{state} to a fresh count of the queue. States
// exposed before but missing from counts are set to 0, so the gauge never shows a count
// that is no longer true.
func (m *Metrics) SetJobCounts(counts map[string]int) {
	if m == nil {
		return
	}
	fresh := make(map[string]float64, len(counts))
	for s, n := range counts {
		fresh[label(s)] += float64(n)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.states {
		if _, ok := fresh[s]; !ok {
			m.jobs.WithLabelValues(s).Set(0)
		}
	}
	for s, n := range fresh {
		m.jobs.WithLabelValues(s).Set(n)
		m.states[s] = struct{}{}
	}
}

// RuleFeedback is the feedback one rule's answers got: Right ("Fixed it") and Wrong
// ("Wrong cause").
type RuleFeedback struct {
	Rule         string
	Right, Wrong int
}

// SetRuleFeedback sets the gauges pubdoc_rule_feedback{rule,verdict} (verdict right or
// wrong) and pubdoc_rule_precision{rule} (right over right+wrong) to a fresh count of
// the feedback in the store. A rule exposed before but missing from fb is set to zero
// feedback and loses its precision; ids that fail the label guard add up under other.
func (m *Metrics) SetRuleFeedback(fb []RuleFeedback) {
	if m == nil {
		return
	}
	fresh := map[string]*RuleFeedback{}
	for _, f := range fb {
		id := ruleLabel(f.Rule)
		r := fresh[id]
		if r == nil {
			r = &RuleFeedback{Rule: id}
			fresh[id] = r
		}
		r.Right += f.Right
		r.Wrong += f.Wrong
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.rules {
		if _, ok := fresh[id]; !ok {
			m.ruleFeedback.WithLabelValues(id, "right").Set(0)
			m.ruleFeedback.WithLabelValues(id, "wrong").Set(0)
			m.rulePrecision.DeleteLabelValues(id)
		}
	}
	for id, r := range fresh {
		m.ruleFeedback.WithLabelValues(id, "right").Set(float64(r.Right))
		m.ruleFeedback.WithLabelValues(id, "wrong").Set(float64(r.Wrong))
		if n := r.Right + r.Wrong; n > 0 {
			m.rulePrecision.WithLabelValues(id).Set(float64(r.Right) / float64(n))
		} else {
			m.rulePrecision.DeleteLabelValues(id)
		}
		m.rules[id] = struct{}{}
	}
}

// Posted counts a message sent to Slack: pubdoc_slack_posts_total{kind}, with kind post,
// thread_reply, update, upload or ephemeral.
func (m *Metrics) Posted(kind string) {
	if m == nil {
		return
	}
	m.slackPosts.WithLabelValues(label(kind)).Inc()
}

// ruleLabel keeps a rule id that looks like one (lower-case letters, digits and hyphens,
// at most 80 characters) and records anything else as other.
func ruleLabel(id string) string {
	if !boundedLabel(id, false) {
		return other
	}
	return id
}

// label keeps a value made of lower-case letters, digits, hyphens and underscores, at most
// 80 characters, and records anything else (empty included) as other.
func label(v string) string {
	if !boundedLabel(v, true) {
		return other
	}
	return v
}

func boundedLabel(v string, underscore bool) bool {
	if v == "" || len(v) > maxLabelLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case c == '_' && underscore:
		default:
			return false
		}
	}
	return true
}
