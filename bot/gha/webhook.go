package gha

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// DefaultWebhookMaxBytes is the body limit ReadWebhook applies when it is given none:
// GitHub's own cap on a delivery (25 MB).
const DefaultWebhookMaxBytes = 25 << 20

// Events ReadWebhook decodes into Run or Job; every other event is returned with only its
// envelope (delivery, event, action, repository, installation) for the caller to ignore.
const (
	EventWorkflowRun = "workflow_run"
	EventWorkflowJob = "workflow_job"
	EventPing        = "ping"
)

// HandledEvent reports whether an X-GitHub-Event names an event Pubdoc acts on
// (workflow_run, workflow_job, ping, pull_request). A caller checks it before reading the body: a
// delivery of any other event is answered without its body being read or held.
func HandledEvent(event string) bool {
	switch event {
	case EventWorkflowRun, EventWorkflowJob, EventPing, EventPullRequest:
		return true
	}
	return false
}

// Sentinel errors of ReadWebhook. A caller answers ErrBadSignature with 401, ErrTooLarge
// with 413, ErrMalformedWebhook with 400, and ErrNoWebhookSecret by refusing to serve the
// endpoint at all. The first two (and ErrNoWebhookSecret) are also bot.ErrBadSignature,
// ErrTooLarge bot.ErrTooLarge, for the bot's webhook endpoint.
var (
	// ErrBadSignature: the delivery has no X-Hub-Signature-256 header (an X-Hub-Signature
	// with HMAC-SHA1 alone is not enough), or it is not the HMAC-SHA256 of the body with
	// the webhook secret. The delivery did not come from GitHub, or the secrets differ.
	ErrBadSignature error = &kindError{"webhook signature missing or wrong: want X-Hub-Signature-256 with the HMAC-SHA256 of the body keyed with GITHUB_WEBHOOK_SECRET", bot.ErrBadSignature}
	// ErrNoWebhookSecret: ReadWebhook was given an empty secret. Deliveries are never
	// accepted unverified (go-github's ValidatePayload skips the check in that case).
	ErrNoWebhookSecret error = &kindError{"no GitHub webhook secret: set GITHUB_WEBHOOK_SECRET; deliveries cannot be verified without one", bot.ErrBadSignature}
	// ErrMalformedWebhook: a correctly signed delivery that cannot be read: an
	// unsupported Content-Type, missing X-GitHub-Event or X-GitHub-Delivery headers, a
	// body that is not a JSON object, or a workflow_run/workflow_job event without its run
	// or job.
	ErrMalformedWebhook = errors.New("malformed webhook delivery")
)

// WebhookEvent is a verified GitHub delivery the bot cares about, as plain data (the
// bot's type: it is persisted as a job payload).
type WebhookEvent = bot.Event

// WebhookRun is the workflow_run of a workflow_run event.
type WebhookRun = bot.EventRun

// WebhookJob is the workflow_job of a workflow_job event.
type WebhookJob = bot.EventJob

// Webhook is the bot's WebhookReader: the events HandledEvent names, read and verified
// by ReadWebhook with Secret.
type Webhook struct {
	Secret Secret
}

var _ bot.WebhookReader = Webhook{}

// Handles is HandledEvent.
func (Webhook) Handles(event string) bool { return HandledEvent(event) }

// Read is ReadWebhook with the webhook's secret.
func (h Webhook) Read(w http.ResponseWriter, r *http.Request, limit int64) (*WebhookEvent, error) {
	return ReadWebhook(w, r, h.Secret, limit)
}

// What GitHub puts in its delivery headers; anything else is refused before it reaches a
// log line or the job table.
var (
	eventNameRE  = lazyre.New(`^[a-z][a-z0-9_]{0,63}$`)
	deliveryIDRE = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$`)
)

const sha256SigPrefix = "sha256="

// ReadWebhook verifies and decodes one delivery.
//
// The body is read through http.MaxBytesReader(max) (max <= 0 means
// DefaultWebhookMaxBytes); a larger one, or a Content-Length over max (refused before
// reading), is an error wrapping ErrTooLarge. The
// X-Hub-Signature-256 header must be the HMAC-SHA256 of the exact body keyed with secret,
// compared in constant time; an X-Hub-Signature (HMAC-SHA1) alone is refused, and so is
// an empty secret (ErrNoWebhookSecret), unlike go-github's ValidatePayload, which skips
// validation then. Nothing of the body is decoded before the signature has been checked.
//
// Content-Type application/json (the body is the payload) and
// application/x-www-form-urlencoded (the payload is the payload= form field) are both
// accepted. workflow_run and workflow_job events are decoded into Run or Job; other
// events, ping included, are returned with Run and Job nil for the caller to acknowledge
// and ignore. A signed delivery that cannot be read is an error wrapping
// ErrMalformedWebhook.
//
// ReadWebhook writes nothing to w (MaxBytesReader uses it only to have the server close
// the connection after an oversized body); the caller answers. Errors never carry the
// secret, the signature sent or the one expected.
func ReadWebhook(w http.ResponseWriter, r *http.Request, secret Secret, max int64) (*WebhookEvent, error) {
	if secret == "" {
		return nil, ErrNoWebhookSecret
	}
	if max <= 0 {
		max = DefaultWebhookMaxBytes
	}
	want, err := signature(r.Header)
	if err != nil {
		return nil, err
	}

	if r.ContentLength > max {
		// Refused on its announced length, before a byte of it is read.
		return nil, &tooLargeError{limit: max, err: &http.MaxBytesError{Limit: max}}
	}
	var body []byte
	if r.Body != nil {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, max))
		if err != nil {
			if mbe, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, &tooLargeError{limit: mbe.Limit, err: err}
			}
			return nil, fmt.Errorf("reading the webhook body: %w", err)
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), want) {
		return nil, fmt.Errorf("%w: X-Hub-Signature-256 does not match the body", ErrBadSignature)
	}

	event := github.WebHookType(r)
	delivery := github.DeliveryID(r)
	switch {
	case event == "":
		return nil, fmt.Errorf("%w: no X-GitHub-Event header", ErrMalformedWebhook)
	case !eventNameRE.Get().MatchString(event):
		return nil, fmt.Errorf("%w: X-GitHub-Event %q is not an event name", ErrMalformedWebhook, clip(event, 64))
	case delivery == "":
		return nil, fmt.Errorf("%w: no X-GitHub-Delivery header", ErrMalformedWebhook)
	case !deliveryIDRE.Get().MatchString(delivery):
		return nil, fmt.Errorf("%w: X-GitHub-Delivery %q is not a delivery id", ErrMalformedWebhook, clip(delivery, 64))
	}
	payload, err := webhookPayload(r.Header.Get("Content-Type"), body)
	if err != nil {
		return nil, fmt.Errorf("reading %s delivery %s: %w", event, delivery, err)
	}
	ev, err := decodeWebhook(event, payload)
	if err != nil {
		return nil, fmt.Errorf("reading %s delivery %s: %w", event, delivery, err)
	}
	ev.Delivery = delivery
	return ev, nil
}

// signature returns the MAC that X-Hub-Signature-256 claims.
func signature(h http.Header) ([]byte, error) {
	sigs := h.Values(github.SHA256SignatureHeader)
	switch {
	case len(sigs) == 0 && h.Get(github.SHA1SignatureHeader) != "":
		return nil, fmt.Errorf("%w: only an X-Hub-Signature (HMAC-SHA1) header, which is not accepted", ErrBadSignature)
	case len(sigs) == 0:
		return nil, fmt.Errorf("%w: no X-Hub-Signature-256 header", ErrBadSignature)
	case len(sigs) > 1:
		return nil, fmt.Errorf("%w: more than one X-Hub-Signature-256 header", ErrBadSignature)
	}
	hexMAC, ok := strings.CutPrefix(sigs[0], sha256SigPrefix)
	if !ok || len(hexMAC) != hex.EncodedLen(sha256.Size) {
		return nil, fmt.Errorf("%w: X-Hub-Signature-256 is not %q followed by %d hex digits", ErrBadSignature, sha256SigPrefix, hex.EncodedLen(sha256.Size))
	}
	mac, err := hex.DecodeString(hexMAC)
	if err != nil {
		return nil, fmt.Errorf("%w: X-Hub-Signature-256 is not %q followed by %d hex digits", ErrBadSignature, sha256SigPrefix, hex.EncodedLen(sha256.Size))
	}
	return mac, nil
}

// webhookPayload returns the JSON payload of a verified body.
func webhookPayload(contentType string, body []byte) ([]byte, error) {
	if contentType == "" {
		return nil, fmt.Errorf("%w: no Content-Type header", ErrMalformedWebhook)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type %q: %w", ErrMalformedWebhook, clip(contentType, 100), err)
	}
	switch mt {
	case "application/json":
		return body, nil
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("%w: the form-encoded body: %w", ErrMalformedWebhook, err)
		}
		p := form.Get("payload")
		if p == "" {
			return nil, fmt.Errorf("%w: the form-encoded body has no payload field", ErrMalformedWebhook)
		}
		return []byte(p), nil
	default:
		return nil, fmt.Errorf("%w: unsupported Content-Type %q; want application/json or application/x-www-form-urlencoded", ErrMalformedWebhook, clip(mt, 100))
	}
}

// webhookEnvelope holds the fields every event this package reads has in common.
type webhookEnvelope struct {
	Action     string `json:"action"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

func decodeWebhook(event string, payload []byte) (*WebhookEvent, error) {
	if trimmed := bytes.TrimLeft(payload, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: the payload is not a JSON object", ErrMalformedWebhook)
	}
	var env webhookEnvelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, fmt.Errorf("%w: the payload is not valid JSON: %w", ErrMalformedWebhook, err)
	}
	ev := &WebhookEvent{Event: event, Action: env.Action}
	if env.Repository != nil {
		ev.Repo = env.Repository.FullName
	}
	if env.Installation != nil {
		ev.Installation = env.Installation.ID
	}
	if ev.Repo != "" {
		owner, repo, _ := strings.Cut(ev.Repo, "/")
		if !ownerRE.Get().MatchString(owner) || !repoRE.Get().MatchString(repo) || repo == "." || repo == ".." {
			return nil, fmt.Errorf("%w: repository.full_name %q is not owner/name", ErrMalformedWebhook, clip(ev.Repo, 100))
		}
	}
	if event == EventPullRequest {
		return decodePull(ev, payload)
	}
	if event != EventWorkflowRun && event != EventWorkflowJob {
		return ev, nil
	}
	if ev.Repo == "" {
		return nil, fmt.Errorf("%w: the %s event names no repository", ErrMalformedWebhook, event)
	}
	parsed, err := github.ParseWebHook(event, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: the %s payload: %w", ErrMalformedWebhook, event, err)
	}
	switch p := parsed.(type) {
	case *github.WorkflowRunEvent:
		wr := p.GetWorkflowRun()
		if wr == nil || wr.GetID() <= 0 || wr.GetRunAttempt() < 0 {
			return nil, fmt.Errorf("%w: the workflow_run event has no valid workflow_run", ErrMalformedWebhook)
		}
		ev.Run = &WebhookRun{
			ID:         wr.GetID(),
			Attempt:    wr.GetRunAttempt(),
			Number:     wr.GetRunNumber(),
			Name:       wr.GetName(),
			Path:       wr.GetPath(),
			Event:      wr.GetEvent(),
			Status:     wr.GetStatus(),
			Conclusion: wr.GetConclusion(),
			HeadBranch: wr.GetHeadBranch(),
			HeadSHA:    wr.GetHeadSHA(),
			HTMLURL:    wr.GetHTMLURL(),
		}
		if t := wr.GetUpdatedAt(); !t.IsZero() {
			ev.Run.UpdatedAt = t.UTC()
		}
	case *github.WorkflowJobEvent:
		j := p.GetWorkflowJob()
		if j == nil || j.GetID() <= 0 || j.GetRunID() <= 0 || j.GetRunAttempt() < 0 || j.GetRunAttempt() > 1<<20 {
			return nil, fmt.Errorf("%w: the workflow_job event has no valid workflow_job", ErrMalformedWebhook)
		}
		ev.Job = &WebhookJob{
			ID:           j.GetID(),
			RunID:        j.GetRunID(),
			RunAttempt:   int(j.GetRunAttempt()),
			Name:         j.GetName(),
			Status:       j.GetStatus(),
			Conclusion:   j.GetConclusion(),
			HTMLURL:      j.GetHTMLURL(),
			WorkflowName: j.GetWorkflowName(),
			HeadBranch:   j.GetHeadBranch(),
			HeadSHA:      j.GetHeadSHA(),
			FailedSteps:  failedSteps(j),
		}
	default:
		return nil, fmt.Errorf("%w: go-github decoded a %s event as %T", ErrMalformedWebhook, event, parsed)
	}
	return ev, nil
}

// tooLargeError is a body over ReadWebhook's limit.
type tooLargeError struct {
	limit int64
	err   error
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("the webhook body is larger than %d bytes", e.limit)
}

// Unwrap returns ErrTooLarge and the *http.MaxBytesError.
func (e *tooLargeError) Unwrap() []error { return []error{ErrTooLarge, e.err} }
