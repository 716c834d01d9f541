package slackbot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
)

// MaxRequestBytes caps the body of a request Slack sends: events and interaction payloads
// are a few KB; a message with a pasted log is at most Slack's 40,000 characters.
const MaxRequestBytes = 2 << 20

// signatureWindow is how far a request's timestamp may be from now: Slack's own advice,
// so that a captured request cannot be replayed later.
const signatureWindow = 5 * time.Minute

// ackTimeout bounds the work done before answering: Slack gives up after 3 seconds and
// sends the event again.
const ackTimeout = 2500 * time.Millisecond

// Routes registers Slack's HTTP endpoints on mux: POST /slack/events (Events API),
// /slack/commands (the /pubdoc slash command) and /slack/interactivity (shortcuts,
// buttons, menus and modals). Every request must carry a valid signature made with
// Config.SigningSecret; anything else gets 401 and reaches nothing.
func (c *Client) Routes(mux *http.ServeMux, b bot.Backend) {
	if c.cfg.SigningSecret == "" {
		c.logger.Error("SLACK_SIGNING_SECRET is not set: the Slack HTTP endpoints will refuse every request")
	}
	refused := func(string) {}
	if r, ok := b.(refusalCounter); ok {
		refused = func(reason string) { r.Rejected("slack", reason) }
	}
	c.refused = refused
	admit := func(*http.Request, int64) (func(), bool) { return func() {}, true }
	if a, ok := b.(bodyAdmitter); ok {
		admit = a.AdmitBody
	}
	mux.Handle("POST /slack/events", c.verified(admit, func(w http.ResponseWriter, r *http.Request, body []byte) {
		c.serveEvents(w, r, body, b)
	}))
	mux.Handle("POST /slack/commands", c.verified(admit, func(w http.ResponseWriter, r *http.Request, body []byte) {
		c.serveCommand(w, r, body, b)
	}))
	mux.Handle("POST /slack/interactivity", c.verified(admit, func(w http.ResponseWriter, r *http.Request, body []byte) {
		c.serveInteraction(w, r, body, b)
	}))
}

// verified reads a request's body (at most MaxRequestBytes) and passes it on only when
// its signature is Slack's. A body announcing more than MaxRequestBytes is refused
// unread, and so is one that admit (the bodies in flight's budget) refuses: 503 with
// Retry-After, which Slack retries.
func (c *Client) verified(admit func(*http.Request, int64) (func(), bool), next func(http.ResponseWriter, *http.Request, []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > MaxRequestBytes {
			c.refuse(r, "too_large", fmt.Sprintf("Content-Length %d over %d bytes", r.ContentLength, MaxRequestBytes))
			w.Header().Set("Connection", "close")
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		release, ok := admit(r, MaxRequestBytes)
		if !ok {
			c.refuse(r, "busy", "the request bodies in flight are over their budget")
			w.Header().Set("Retry-After", "5")
			http.Error(w, "too many requests in flight; try again in a few seconds", http.StatusServiceUnavailable)
			return
		}
		defer release()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.refuse(r, "too_large", fmt.Sprintf("body over %d bytes", MaxRequestBytes))
				http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
				return
			}
			c.refuse(r, "malformed", "body unreadable: "+err.Error())
			http.Error(w, "unreadable request", http.StatusBadRequest)
			return
		}
		if err := c.checkSignature(r.Header, body); err != nil {
			c.refuse(r, "bad_signature", err.Error())
			http.Error(w, "signature missing or wrong", http.StatusUnauthorized)
			return
		}
		next(w, r, body)
	})
}

// refusalCounter is what a bot.Backend may add to count the requests an adapter refuses
// before they reach it; *bot.Service has it (pubdoc_events_rejected_total).
type refusalCounter interface {
	Rejected(source, reason string)
}

var _ refusalCounter = (*bot.Service)(nil)

// bodyAdmitter is what a bot.Backend may add to bound the bytes held by all requests in
// flight; *bot.Service has it.
type bodyAdmitter interface {
	AdmitBody(r *http.Request, limit int64) (release func(), ok bool)
}

var _ bodyAdmitter = (*bot.Service)(nil)

// refuse logs a refused request once, with its reason, and counts it under code
// (bad_signature, too_large, malformed, busy). A refusal is the client's doing: INFO would
// hide a forged-signature storm among routine lines, so it is a WARN, as before.
func (c *Client) refuse(r *http.Request, code, reason string) {
	c.logger.Warn("refused a Slack request", "path", r.URL.Path, "code", code, "reason", reason,
		"remote_addr", r.RemoteAddr)
	if c.refused != nil {
		c.refused(code)
	}
}

// checkSignature verifies Slack's v0 signature: the hex HMAC-SHA256, keyed with the
// signing secret, of "v0:{timestamp}:{body}", with the timestamp within five minutes of
// now. slack.SecretsVerifier does the same against the wall clock; this one takes the
// Client's clock, so tests can be exact about the window.
func (c *Client) checkSignature(h http.Header, body []byte) error {
	if c.cfg.SigningSecret == "" {
		return errors.New("no signing secret is configured")
	}
	sig, ts := h.Get("X-Slack-Signature"), h.Get("X-Slack-Request-Timestamp")
	if sig == "" || ts == "" {
		return errors.New("signature headers missing")
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("timestamp is not a number")
	}
	if d := c.now().Sub(time.Unix(secs, 0)); d > signatureWindow || d < -signatureWindow {
		return fmt.Errorf("timestamp is %s away from now", d.Round(time.Second))
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return errors.New("signature is not v0")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return errors.New("signature is malformed")
	}
	mac := hmac.New(sha256.New, []byte(c.cfg.SigningSecret))
	_, _ = fmt.Fprintf(mac, "v0:%s:", ts)
	_, _ = mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("signature does not match")
	}
	return nil
}

func (c *Client) serveEvents(w http.ResponseWriter, r *http.Request, body []byte, b bot.Backend) {
	retry := r.Header.Get("X-Slack-Retry-Num")
	ctx, cancel := contextWithTimeout(r, ackTimeout)
	defer cancel()
	challenge, err := c.handleEvent(ctx, b, body, retry)
	switch {
	case errors.Is(err, errMalformed):
		c.refuse(r, "malformed", err.Error())
		http.Error(w, "malformed event", http.StatusBadRequest)
	case err != nil:
		// Slack sends the event again; Accept deduplicates by event_id.
		http.Error(w, "could not accept the event; Slack will retry", http.StatusInternalServerError)
	case challenge != "":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, challenge)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

func (c *Client) serveCommand(w http.ResponseWriter, r *http.Request, body []byte, b bot.Backend) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		c.refuse(r, "malformed", "command form unreadable: "+err.Error())
		http.Error(w, "malformed command", http.StatusBadRequest)
		return
	}
	cmd := slack.SlashCommand{
		TeamID:      form.Get("team_id"),
		ChannelID:   form.Get("channel_id"),
		UserID:      form.Get("user_id"),
		Command:     form.Get("command"),
		Text:        form.Get("text"),
		ResponseURL: form.Get("response_url"),
		TriggerID:   form.Get("trigger_id"),
	}
	ctx, cancel := contextWithTimeout(r, ackTimeout)
	defer cancel()
	writeJSON(w, c.handleCommand(ctx, b, cmd, r.Header.Get("X-Slack-Request-Timestamp")))
}

func (c *Client) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte, b bot.Backend) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		c.refuse(r, "malformed", "interaction without a payload")
		http.Error(w, "malformed interaction: no payload", http.StatusBadRequest)
		return
	}
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		c.refuse(r, "malformed", "interaction payload unreadable: "+err.Error())
		http.Error(w, "malformed interaction payload", http.StatusBadRequest)
		return
	}
	ctx, cancel := contextWithTimeout(r, ackTimeout)
	defer cancel()
	if out := c.handleInteraction(ctx, b, ic); out != nil {
		writeJSON(w, out)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // Slack hung up: nothing to tell it
}

// contextWithTimeout bounds the work done before Slack gets its answer.
func contextWithTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}
