package slackbot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/pubdoc/pubdoc/bot"
)

// ErrNoAppToken is RunSocketMode's error when Config.AppToken is empty.
var ErrNoAppToken = errors.New("no Slack app-level token for Socket Mode: set SLACK_APP_TOKEN or SLACK_APP_TOKEN_FILE")

// Socket Mode's reconnection backoff: the wait after a failed run of the connection
// doubles from socketRetryMin up to socketRetryMax, and starts over once connected.
const (
	socketRetryMin = time.Second
	socketRetryMax = 2 * time.Minute
)

// eventSocketDown is the event RunSocketMode adds to the client's stream when a run of
// the connection ends, so that it is ordered after every event that run sent.
const eventSocketDown socketmode.EventType = "pubdoc_socket_down"

// socketDown is eventSocketDown's data: why the run ended, and a channel closed once
// the event is handled.
type socketDown struct {
	err     error
	handled chan struct{}
}

// socketState is Socket Mode's health, as SocketModeReady reports it.
type socketState struct {
	mu     sync.Mutex
	up     bool
	reason error // why it is down; nil before the first attempt
}

func (s *socketState) set(up bool, reason error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up, s.reason = up, reason
}

// SocketModeReady is nil while the Socket Mode connection is up, and otherwise an error
// saying why it is not (not yet connected, reconnecting after a dropped connection,
// or Slack refusing SLACK_APP_TOKEN): /readyz reports it. Without an app token Socket
// Mode is not used, and it is always nil.
func (c *Client) SocketModeReady() error {
	if c.cfg.AppToken == "" {
		return nil
	}
	c.socket.mu.Lock()
	defer c.socket.mu.Unlock()
	switch {
	case c.socket.up:
		return nil
	case c.socket.reason != nil:
		return fmt.Errorf("the Socket Mode connection is down: %w", c.socket.reason)
	}
	return errors.New("no Socket Mode connection yet")
}

// RunSocketMode receives events, slash commands and interactions over Socket Mode (a
// WebSocket the app opens with Config.AppToken, so no public URL is needed) and
// dispatches them exactly as Routes does, until ctx ends. An envelope is acknowledged
// once its request is persisted; one that could not be is left unacknowledged, so that
// Slack sends it again.
//
// A connection that drops, or that Slack refuses (invalid_auth: a wrong or revoked
// SLACK_APP_TOKEN, Socket Mode turned off), is tried again with a backoff (1 s doubling
// to 2 min), each failure logged once with its reason; SocketModeReady fails meanwhile.
// It returns nil when ctx ends, ErrNoAppToken without an app token.
func (c *Client) RunSocketMode(ctx context.Context, b bot.Backend) error {
	if c.cfg.AppToken == "" {
		return ErrNoAppToken
	}
	sm := socketmode.New(c.newAPI(slack.OptionAppLevelToken(string(c.cfg.AppToken))),
		// slack-go logs only in debug mode, which stays off: its payload dumps carry
		// message text.
		socketmode.OptionLog(log.New(io.Discard, "", 0)),
	)
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		c.socket.set(false, errors.New("stopped"))
	}()
	wg.Go(func() { c.socketEvents(runCtx, sm, b, &wg) })

	wait := c.socketRetryMin
	for {
		connects := c.socketConnects.Load()
		err := sm.RunContext(runCtx)
		if ctx.Err() != nil {
			return nil // RunContext returns only with an error; this is the end asked for
		}
		err = classify("running Socket Mode", err)
		var ae *APIError
		if errors.As(err, &ae) && permanentCodes[ae.Code] {
			// apps.connections.open is the one call made with the app-level token.
			ae.Hint = "SLACK_APP_TOKEN is wrong or revoked, or Socket Mode is off in the app's settings"
		}
		// Through the event stream, after the events of this run, and waited for: the
		// state and the connection count are then those of the run that just ended.
		down := socketDown{err: err, handled: make(chan struct{})}
		select {
		case sm.Events <- socketmode.Event{Type: eventSocketDown, Data: down}:
		case <-ctx.Done():
			return nil
		}
		select {
		case <-down.handled:
		case <-ctx.Done():
			return nil
		}
		if c.socketConnects.Load() != connects {
			wait = c.socketRetryMin // it was connected: a drop is retried promptly
		}
		c.logger.Error("Socket Mode is down; reconnecting", "err", err.Error(), "retry_in", wait.String())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, socketRetryMax)
	}
}

// socketEvents reads the client's events until ctx ends, handling each envelope in its
// own goroutine so that a slow Backend does not hold up the others.
func (c *Client) socketEvents(ctx context.Context, sm *socketmode.Client, b bot.Backend, wg *sync.WaitGroup) {
	for {
		var evt socketmode.Event
		select {
		case <-ctx.Done():
			return
		case evt = <-sm.Events:
		}
		switch evt.Type {
		case socketmode.EventTypeConnecting:
			c.logger.Debug("Socket Mode connecting")
			c.socket.mu.Lock()
			if c.socket.up {
				c.socket.up, c.socket.reason = false, errors.New("the connection dropped; reconnecting")
			}
			c.socket.mu.Unlock()
		case socketmode.EventTypeConnected:
			c.socketConnects.Add(1)
			c.socket.set(true, nil)
			c.logger.Info("Socket Mode connected")
		case socketmode.EventTypeConnectionError:
			if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
				c.socket.set(false, e.ErrorObj)
				c.logger.Warn("Socket Mode connection failed; retrying", "attempt", e.Attempt, "retry_in", e.Backoff.String(), "err", e.ErrorObj)
			}
		case socketmode.EventTypeInvalidAuth:
			c.socket.set(false, errors.New("SLACK_APP_TOKEN refused by Slack"))
		case eventSocketDown:
			if d, ok := evt.Data.(socketDown); ok {
				c.socket.set(false, d.err)
				close(d.handled)
			}
		case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
			c.logger.Warn("Socket Mode: a message could not be read or written", "type", string(evt.Type))
		case socketmode.EventTypeEventsAPI, socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
			if evt.Request == nil {
				continue
			}
			wg.Go(func() { c.socketEnvelope(ctx, sm, b, evt) })
		}
	}
}

// socketEnvelope dispatches one envelope and acknowledges it with the answer the HTTP
// endpoint would have given.
func (c *Client) socketEnvelope(ctx context.Context, sm *socketmode.Client, b bot.Backend, evt socketmode.Event) {
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	var payload any
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		retry := ""
		if evt.Request.RetryAttempt > 0 {
			retry = fmt.Sprint(evt.Request.RetryAttempt)
		}
		if _, err := c.handleEvent(ctx, b, evt.Request.Payload, retry); err != nil && !errors.Is(err, errMalformed) {
			return // not acknowledged: Slack sends it again
		}
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok {
			return
		}
		payload = c.handleCommand(ctx, b, cmd, evt.Request.EnvelopeID)
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			return
		}
		payload = c.handleInteraction(ctx, b, ic)
	}
	if err := sm.AckCtx(ctx, evt.Request.EnvelopeID, payload); err != nil {
		c.logger.Warn("Socket Mode: could not acknowledge an envelope", "envelope_id", evt.Request.EnvelopeID, "err", err)
	}
}
