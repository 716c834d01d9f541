package slackbot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/pubdoc/pubdoc/bot"
)

// ErrNoAppToken is RunSocketMode's error when Config.AppToken is empty.
var ErrNoAppToken = errors.New("no Slack app-level token for Socket Mode: set SLACK_APP_TOKEN or SLACK_APP_TOKEN_FILE")

// RunSocketMode receives events, slash commands and interactions over Socket Mode (a
// WebSocket the app opens with Config.AppToken, so no public URL is needed) and
// dispatches them exactly as Routes does, until ctx ends. An envelope is acknowledged
// once its request is persisted; one that could not be is left unacknowledged, so that
// Slack sends it again. It returns nil when ctx ends, and an error when Slack refuses the
// token or the connection cannot be re-established.
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
	defer cancel()

	var wg sync.WaitGroup
	wg.Go(func() { c.socketEvents(runCtx, sm, b, &wg) })
	err := sm.RunContext(runCtx)
	cancel()
	wg.Wait()
	// RunContext returns only with an error; once ctx has ended, that is the end asked for.
	if ctx.Err() != nil {
		return nil
	}
	err = classify("running Socket Mode", err)
	var ae *APIError
	if errors.As(err, &ae) && permanentCodes[ae.Code] {
		// apps.connections.open is the one call made with the app-level token.
		ae.Hint = "SLACK_APP_TOKEN is wrong or revoked, or Socket Mode is off in the app's settings"
	}
	return err
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
		case socketmode.EventTypeConnected:
			c.logger.Info("Socket Mode connected")
		case socketmode.EventTypeConnectionError:
			if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
				c.logger.Warn("Socket Mode connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.ErrorObj)
			}
		case socketmode.EventTypeInvalidAuth:
			c.logger.Error("Socket Mode: Slack refused SLACK_APP_TOKEN")
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
