package bot

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/pubdoc/pubdoc/bot/gha"
	"github.com/pubdoc/pubdoc/diagnose"
)

// Body caps of the HTTP endpoints. GitHub caps webhook payloads at 25 MB; a workflow_run
// delivery is a few dozen KB.
const (
	MaxWebhookBytes = 25 << 20
	MaxAPIBytes     = 64 << 20
)

// WebhookHandler serves POST /github/webhook: verify the signature, keep the deliveries
// that matter (completed workflow runs, failed jobs), persist them as jobs, answer 202.
// It answers only after the job is persisted, so an acknowledged delivery is never lost.
func (s *Service) WebhookHandler(secret gha.Secret) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST a GitHub webhook delivery here", http.StatusMethodNotAllowed)
			return
		}
		ev, err := gha.ReadWebhook(w, r, secret, MaxWebhookBytes)
		switch {
		case errors.Is(err, gha.ErrBadSignature), errors.Is(err, gha.ErrNoWebhookSecret):
			s.cfg.Metrics.EventRejected("github", "bad_signature")
			http.Error(w, "signature missing or wrong", http.StatusUnauthorized)
			return
		case errors.Is(err, gha.ErrTooLarge):
			s.cfg.Metrics.EventRejected("github", "too_large")
			http.Error(w, "delivery too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			s.cfg.Metrics.EventRejected("github", "malformed")
			http.Error(w, "unreadable delivery: "+err.Error(), http.StatusBadRequest)
			return
		}
		if !wanted(ev) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ev.Delivery == "" {
			s.cfg.Metrics.EventRejected("github", "malformed")
			http.Error(w, "X-GitHub-Delivery is missing", http.StatusBadRequest)
			return
		}
		ok, err := s.AcceptWebhook(r.Context(), ev)
		if err != nil {
			s.logger.Error("could not persist a delivery", "delivery", ev.Delivery, "err", err)
			http.Error(w, "could not persist the delivery; GitHub may redeliver it", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusAccepted)
		if ok {
			fmt.Fprintln(w, "accepted")
		} else {
			fmt.Fprintln(w, "already accepted")
		}
	})
}

// wanted keeps completed workflow runs (failures to diagnose, successes that fix) and
// completed failed jobs.
func wanted(ev *gha.WebhookEvent) bool {
	switch {
	case ev.Event == "workflow_run" && ev.Run != nil:
		return ev.Action == "completed" && (failed[ev.Run.Conclusion] || ev.Run.Conclusion == "success")
	case ev.Event == "workflow_job" && ev.Job != nil:
		return ev.Action == "completed" && failed[ev.Job.Conclusion]
	}
	return false
}

// APIHandler serves POST /api/diagnose: a log as the body, the JSON answer back
// (docs/schema/diagnosis.v1.json). Every failure is JSON too (docs/schema/error.v1.json)
// with its HTTP status: 405 for another method, 400 for an empty, binary or unreadable
// body, 413 over MaxAPIBytes (or a gzip body that expands past its cap), 500 when the
// engine fails.
func (s *Service) APIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			apiError(w, http.StatusMethodNotAllowed, diagnose.ErrCodeMethod, "POST a log as the request body")
			return
		}
		defer func() {
			if p := recover(); p != nil {
				s.logger.Error("diagnosing an API request panicked", "panic", p)
				apiError(w, http.StatusInternalServerError, diagnose.ErrCodeInternal, "could not diagnose this log (an internal error, logged)")
			}
		}()
		start := time.Now()
		body := http.MaxBytesReader(w, r.Body, MaxAPIBytes)
		text, _, err := diagnose.TextReader(body)
		var res *diagnose.Result
		if err == nil {
			res, err = s.cfg.Engine.Diagnose(text)
		}
		if err != nil {
			status, code, msg := apiFailure(err)
			if status == http.StatusInternalServerError {
				s.logger.Error("diagnosing an API request", "err", err)
			}
			apiError(w, status, code, msg)
			return
		}
		s.cfg.Metrics.DiagnosisDone(res.Verdict, topRule(res), time.Since(start).Seconds())
		w.Header().Set("Content-Type", "application/json")
		_ = diagnose.WriteJSON(w, diagnose.NewAnswer(res)) // the client hung up: nothing to tell it
	})
}

// apiFailure sorts a failed diagnosis of a request body into its HTTP status, error code
// and message: the body's faults are 4xx, the rest 500.
func apiFailure(err error) (int, string, string) {
	var tooBig *http.MaxBytesError
	var corrupt flate.CorruptInputError
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, diagnose.ErrCodeTooLarge, fmt.Sprintf("log too large: the limit is %d MB", MaxAPIBytes>>20)
	case errors.Is(err, diagnose.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, diagnose.ErrCodeTooLarge, "log too large: " + err.Error()
	case errors.Is(err, diagnose.ErrEmpty):
		return http.StatusBadRequest, diagnose.ErrCodeEmpty, err.Error()
	case errors.Is(err, diagnose.ErrBinary):
		return http.StatusBadRequest, diagnose.ErrCodeBinary, err.Error()
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &corrupt):
		return http.StatusBadRequest, diagnose.ErrCodeUnreadable, "unreadable body: " + err.Error()
	}
	return http.StatusInternalServerError, diagnose.ErrCodeInternal, "could not diagnose: " + err.Error()
}

// apiError answers a failed API request with the JSON error envelope.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = diagnose.WriteJSON(w, diagnose.NewErrorAnswer(code, msg)) // the client hung up: nothing to tell it
}
