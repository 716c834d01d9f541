package bot

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/secret"
)

// Body caps of the HTTP endpoints. A workflow_run or workflow_job delivery is a few
// dozen KB (GitHub allows 25 MB, for pushes of many commits, which Pubdoc does not read).
const (
	MaxWebhookBytes = 1 << 20
	MaxAPIBytes     = 64 << 20
)

// WebhookHandler serves POST /github/webhook: verify the signature, keep the deliveries
// that matter (completed workflow runs, failed jobs), persist them as jobs, answer 202.
// It answers only after the job is persisted, so an acknowledged delivery is never lost.
//
// The body is read last: a delivery of an event Pubdoc does not handle (WebhookReader.Handles)
// is answered 204 unread; one announcing more than MaxWebhookBytes gets 413 unread; one
// that would take the bodies in flight over their budget (AdmitBody) gets 503 with
// Retry-After. Refusals answer with the JSON error envelope (docs/schema/error.v1.json).
func (s *Service) WebhookHandler(hooks WebhookReader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			apiError(w, http.StatusMethodNotAllowed, diagnose.ErrCodeMethod, "POST a GitHub webhook delivery here")
			return
		}
		switch event := r.Header.Get("X-GitHub-Event"); {
		case event == "":
			s.refuseWebhook(r, "malformed", errors.New("X-GitHub-Event is missing"))
			apiError(w, http.StatusBadRequest, diagnose.ErrCodeUnreadable, "X-GitHub-Event is missing")
			return
		case !hooks.Handles(event):
			// Acknowledged, so that GitHub does not list it as failed; never read.
			s.logger.Debug("ignored a GitHub delivery of an unhandled event", "event", headerValue(r, "X-GitHub-Event"),
				"delivery", headerValue(r, "X-GitHub-Delivery"))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if r.ContentLength > MaxWebhookBytes {
			s.webhookTooLarge(w, r, fmt.Errorf("Content-Length %d is over the limit of %d bytes", r.ContentLength, MaxWebhookBytes))
			return
		}
		release, ok := s.AdmitBody(r, MaxWebhookBytes)
		if !ok {
			s.refuseWebhook(r, "busy", errors.New("the request bodies in flight are over their budget"))
			w.Header().Set("Retry-After", "5")
			apiError(w, http.StatusServiceUnavailable, ErrCodeBusy, "too many deliveries in flight: try again in a few seconds")
			return
		}
		ev, err := hooks.Read(w, r, MaxWebhookBytes)
		release()
		switch {
		case errors.Is(err, ErrBadSignature):
			s.refuseWebhook(r, "bad_signature", err)
			apiError(w, http.StatusUnauthorized, diagnose.ErrCodeUnauthorized, "signature missing or wrong")
			return
		case errors.Is(err, ErrTooLarge):
			s.webhookTooLarge(w, r, err)
			return
		case err != nil:
			s.refuseWebhook(r, "malformed", err)
			apiError(w, http.StatusBadRequest, diagnose.ErrCodeUnreadable, "unreadable delivery: "+err.Error())
			return
		}
		if !wanted(ev) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if ev.Delivery == "" {
			s.refuseWebhook(r, "malformed", errors.New("X-GitHub-Delivery is missing"))
			apiError(w, http.StatusBadRequest, diagnose.ErrCodeUnreadable, "X-GitHub-Delivery is missing")
			return
		}
		ok, err = s.AcceptWebhook(r.Context(), ev)
		if err != nil {
			s.logger.Error("could not persist a delivery", "delivery", ev.Delivery, "err", err)
			apiError(w, http.StatusServiceUnavailable, diagnose.ErrCodeInternal, "could not persist the delivery; GitHub may redeliver it")
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

// webhookTooLarge refuses a delivery over MaxWebhookBytes with 413.
func (s *Service) webhookTooLarge(w http.ResponseWriter, r *http.Request, err error) {
	s.refuseWebhook(r, "too_large", err)
	w.Header().Set("Connection", "close")
	apiError(w, http.StatusRequestEntityTooLarge, diagnose.ErrCodeTooLarge,
		fmt.Sprintf("delivery too large: the limit is %d MB", MaxWebhookBytes>>20))
}

// refuseWebhook logs a refused delivery once, with its reason, and counts it in
// pubdoc_events_rejected_total{source="github",reason=code}.
func (s *Service) refuseWebhook(r *http.Request, code string, err error) {
	s.logger.Warn("refused a GitHub delivery", "path", r.URL.Path, "code", code, "reason", err.Error(),
		"delivery", headerValue(r, "X-GitHub-Delivery"), "event", headerValue(r, "X-GitHub-Event"), "remote_addr", r.RemoteAddr)
	s.cfg.Metrics.EventRejected("github", code)
}

// headerValue is a request header as a log may show it: an unverified sender chose it,
// so it is cut at 64 bytes.
func headerValue(r *http.Request, name string) string {
	v := r.Header.Get(name)
	if len(v) > 64 {
		v = strings.ToValidUTF8(v[:64], "") + "…"
	}
	return v
}

// wanted keeps completed workflow runs (failures to diagnose, successes that fix),
// completed failed jobs and the merges of fix pull requests' branches.
func wanted(ev *Event) bool {
	switch {
	case ev.Event == "workflow_run" && ev.Run != nil:
		return ev.Action == "completed" && (failed[ev.Run.Conclusion] || ev.Run.Conclusion == "success")
	case ev.Event == "workflow_job" && ev.Job != nil:
		return ev.Action == "completed" && failed[ev.Job.Conclusion]
	case ev.Event == "pull_request":
		return fixBranchMerged(ev)
	}
	return false
}

// APIConfig guards POST /api/diagnose.
type APIConfig struct {
	// Token is the bearer token every request must present (Authorization: Bearer …).
	// Empty turns the endpoint off: it answers 404 saying so.
	Token secret.Secret
	// MaxInFlight is how many requests are diagnosed at once; one more is refused with
	// 429 and Retry-After. Default DefaultAPIInFlight.
	MaxInFlight int
}

// DefaultAPIInFlight is APIConfig.MaxInFlight's default.
const DefaultAPIInFlight = 4

// API error codes beyond those the CLI shares (docs/schema/error.v1.json).
const (
	ErrCodeDisabled = "disabled" // 404: the endpoint is off (no PUBDOC_API_TOKEN)
	ErrCodeBusy     = "busy"     // 429: too many requests in flight
	ErrCodeTimeout  = "timeout"  // 408: the body did not arrive in time
)

// APIHandler serves POST /api/diagnose: a log as the body, the JSON answer back
// (docs/schema/diagnosis.v1.json). Every failure is JSON too (docs/schema/error.v1.json)
// with its HTTP status: 404 when the endpoint is off (no token configured), 405 for
// another method, 401 without the right bearer token, 429 beyond cfg.MaxInFlight
// requests at once, 400 for an empty, binary or unreadable body, 408 when the body
// does not arrive within the server's read timeout, 413 over MaxAPIBytes (read or
// decompressed), 500 when the engine fails. Refusals are the client's doing: they are
// logged at INFO, once each; only a 500 is an ERROR.
func (s *Service) APIHandler(cfg APIConfig) http.Handler {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultAPIInFlight
	}
	slots := make(chan struct{}, cfg.MaxInFlight)
	want := sha256.Sum256([]byte("Bearer " + string(cfg.Token)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.Token == "" {
			s.apiRefuse(w, r, http.StatusNotFound, ErrCodeDisabled, "the diagnose API is off: set PUBDOC_API_TOKEN to turn it on")
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			s.apiRefuse(w, r, http.StatusMethodNotAllowed, diagnose.ErrCodeMethod, "POST a log as the request body")
			return
		}
		got := sha256.Sum256([]byte(bearer(r.Header.Get("Authorization"))))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			s.cfg.Metrics.EventRejected("api", "unauthorized")
			w.Header().Set("WWW-Authenticate", `Bearer realm="pubdoc"`)
			s.apiRefuse(w, r, http.StatusUnauthorized, diagnose.ErrCodeUnauthorized, "send the API token as Authorization: Bearer <PUBDOC_API_TOKEN>")
			return
		}
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			s.cfg.Metrics.EventRejected("api", "busy")
			w.Header().Set("Retry-After", "1")
			s.apiRefuse(w, r, http.StatusTooManyRequests, ErrCodeBusy, fmt.Sprintf("%d logs are being diagnosed already: try again in a second", cfg.MaxInFlight))
			return
		}
		s.serveDiagnose(w, r)
	})
}

// bearer normalizes an Authorization header for comparison: the scheme's case does not
// matter (RFC 9110), the token's does.
func bearer(h string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return "Bearer " + strings.TrimSpace(token)
}

// serveDiagnose answers one admitted API request.
func (s *Service) serveDiagnose(w http.ResponseWriter, r *http.Request) {
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
		// A gzip body may expand far beyond what was sent: the text is capped too.
		// The request's context: a client that hangs up stops the scan.
		res, err = s.cfg.Engine.DiagnoseContext(r.Context(), &capReader{r: text, left: MaxAPIBytes}, nil)
	}
	if err != nil {
		status, code, msg := apiFailure(err)
		if status == http.StatusInternalServerError {
			s.logger.Error("diagnosing an API request", "err", redactErr(err))
			apiError(w, status, code, msg)
			return
		}
		s.apiRefuse(w, r, status, code, msg)
		return
	}
	s.cfg.Metrics.DiagnosisDone(res.Verdict, topRule(res), time.Since(start).Seconds())
	w.Header().Set("Content-Type", "application/json")
	_ = diagnose.WriteJSON(w, diagnose.NewAnswer(res)) // the client hung up: nothing to tell it
}

// apiRefuse answers a request refused for the client's own reason, and logs it once at
// INFO: a refusal is not the server's failure.
func (s *Service) apiRefuse(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	s.logger.Info("API request refused", "status", status, "code", code, "method", r.Method,
		"path", r.URL.Path, "remote", r.RemoteAddr, "reason", diagnose.Redact(msg))
	apiError(w, status, code, msg)
}

// capReader fails with diagnose.ErrTooLarge once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, fmt.Errorf("more than %d MB of text: %w", MaxAPIBytes>>20, diagnose.ErrTooLarge)
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, fmt.Errorf("more than %d MB of text: %w", MaxAPIBytes>>20, diagnose.ErrTooLarge)
	}
	return n, err
}

// apiFailure sorts a failed diagnosis of a request body into its HTTP status, error code
// and message: the body's faults are 4xx, the rest 500.
func apiFailure(err error) (int, string, string) {
	var tooBig *http.MaxBytesError
	var corrupt flate.CorruptInputError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, diagnose.ErrCodeTooLarge, fmt.Sprintf("log too large: the limit is %d MB", MaxAPIBytes>>20)
	case errors.Is(err, diagnose.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, diagnose.ErrCodeTooLarge, "log too large: " + err.Error()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout(),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusRequestTimeout, ErrCodeTimeout, "the request body did not arrive in time"
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
