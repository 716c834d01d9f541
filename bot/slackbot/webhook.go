package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
)

// WebhookMessage is the JSON body that posts r through a Slack incoming webhook: the same
// Block Kit rendering and notification text the bot posts, without the feedback buttons
// (a webhook's message cannot reach the bot's interactivity endpoint).
func WebhookMessage(r bot.Reply) ([]byte, error) {
	r.DiagnosisID, r.Thread = 0, nil
	m := render(r, noteShortened)
	body, err := json.Marshal(slack.WebhookMessage{Text: m.Text, Blocks: &slack.Blocks{BlockSet: m.Blocks}})
	if err != nil {
		return nil, fmt.Errorf("encoding the Slack message: %w", err)
	}
	return body, nil
}

// PostWebhook posts r to a Slack incoming-webhook URL (https://hooks.slack.com/services/…)
// with client, or http.DefaultClient when nil. The URL is a credential: no error names it.
func PostWebhook(ctx context.Context, client *http.Client, webhookURL string, r bot.Reply) error {
	u, err := url.Parse(webhookURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("posting to Slack: the incoming-webhook URL is not an http(s) URL")
	}
	body, err := WebhookMessage(r)
	if err != nil {
		return err
	}
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(body))
	if err != nil {
		return errors.New("posting to Slack: cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL
		}
		return fmt.Errorf("posting to Slack's webhook at %s: %w", u.Host, err)
	}
	defer func() { _ = resp.Body.Close() }()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("posting to Slack's webhook at %s: HTTP %d %s", u.Host, resp.StatusCode, strings.TrimSpace(string(answer)))
	}
	return nil
}
