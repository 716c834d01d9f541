package slackbot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
)

// Client is Pubdoc's Slack adapter: it implements bot.Messenger over the Web API and
// serves Slack's HTTP requests (Routes) or Socket Mode (RunSocketMode) for a bot.Backend.
type Client struct {
	cfg    Config
	api    *slack.Client
	http   *http.Client
	logger *slog.Logger
	// apiURL is cfg.APIURL parsed: Download sends the token only there or to Slack's
	// file host.
	apiURL *url.URL
	// now is the clock of the signature check; tests set it.
	now func() time.Time
	// refused counts a request refused before it reached the Backend, by reason; set
	// by Routes.
	refused func(reason string)

	// socket is Socket Mode's health; socketConnects counts its connections;
	// socketRetryMin is the first wait before reconnecting (tests shorten it).
	socket         socketState
	socketConnects atomic.Int64
	socketRetryMin time.Duration

	mu sync.Mutex
	// botUsers are the app's bot user ids, learned from events' authorizations: the
	// mention to strip from a request's text, and messages to ignore.
	botUsers map[string]bool
}

var _ bot.Messenger = (*Client)(nil)

// New returns a Client for cfg. It needs cfg.BotToken; it makes no request.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if cfg.BotToken == "" {
		return nil, errors.New("no Slack bot token: set SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_FILE")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("the Slack API URL: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		cfg:            cfg,
		http:           cfg.HTTPClient,
		logger:         logger.With("component", "slack"),
		apiURL:         u,
		now:            time.Now,
		socketRetryMin: socketRetryMin,
		botUsers:       map[string]bool{},
	}
	c.api = c.newAPI()
	return c, nil
}

// newAPI builds slack-go's client; opts add to the shared ones (the app token, for Socket
// Mode).
func (c *Client) newAPI(opts ...slack.Option) *slack.Client {
	base := []slack.Option{
		slack.OptionAPIURL(c.cfg.APIURL),
		slack.OptionHTTPClient(c.http),
		// slack-go logs only in debug mode, which stays off: its dumps carry message text.
		slack.OptionLog(log.New(io.Discard, "", 0)),
	}
	return slack.New(string(c.cfg.BotToken), append(base, opts...)...)
}

// Post sends r to t.Channel (in t.ThreadTS's thread when set) and returns its ts. What does
// not fit in a Slack message goes up as a Markdown file in the same thread. When the bot
// may not post in the channel and t.ResponseURL is set, the reply goes through the
// response URL instead and the ts is "".
func (c *Client) Post(ctx context.Context, t bot.Target, r bot.Reply) (string, error) {
	m := render(r, noteAttached)
	opts := c.msgOptions(m)
	if t.ThreadTS != "" {
		opts = append(opts, slack.MsgOptionTS(t.ThreadTS))
	}
	if r.Key != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    metadataType,
			EventPayload: map[string]any{metadataKeyKey: r.Key},
		}))
	}
	_, ts, err := c.api.PostMessageContext(ctx, t.Channel, opts...)
	if err != nil {
		err = classify("posting a reply", err)
		if code := slackCode(err); (code == "not_in_channel" || code == "channel_not_found") && t.ResponseURL != "" {
			c.logger.Info("not allowed to post in the channel; answering through the response URL", "channel", t.Channel, "slack_error", code)
			if rerr := c.respond(ctx, t.ResponseURL, slack.ResponseTypeInChannel, m); rerr != nil {
				return "", fmt.Errorf("%w; and through the response URL: %w", err, rerr)
			}
			return "", nil
		}
		return "", err
	}
	if m.Shortened && r.Result != nil {
		thread := t.ThreadTS
		if thread == "" {
			thread = ts
		}
		// The reply is up; a failed upload must not make the job post it again.
		if uerr := c.uploadReport(ctx, t.Channel, thread, r.Result); uerr != nil {
			c.logger.Warn("could not attach the full report", "channel", t.Channel, "thread_ts", thread, "err", uerr)
		}
	}
	return ts, nil
}

// Update replaces the message at ts with r.
func (c *Client) Update(ctx context.Context, channel, ts string, r bot.Reply) error {
	m := render(r, noteShortened)
	if _, _, _, err := c.api.UpdateMessageContext(ctx, channel, ts, c.msgOptions(m)...); err != nil {
		return classify("updating a message", err)
	}
	return nil
}

// Ephemeral shows r to t.User alone, in t.ThreadTS's thread when set. When Slack refuses
// (the bot is not in the channel) and t.ResponseURL is set, it answers through that.
func (c *Client) Ephemeral(ctx context.Context, t bot.Target, r bot.Reply) error {
	m := render(r, noteShortened)
	var err error
	if t.Channel != "" && t.User != "" {
		opts := c.msgOptions(m)
		if t.ThreadTS != "" {
			opts = append(opts, slack.MsgOptionTS(t.ThreadTS))
		}
		_, err = c.api.PostEphemeralContext(ctx, t.Channel, t.User, opts...)
		if err == nil {
			return nil
		}
		err = classify("showing a message", err)
	} else {
		err = &permanentError{errors.New("showing a message: no channel and user to show it to")}
	}
	if t.ResponseURL == "" {
		return err
	}
	if rerr := c.respond(ctx, t.ResponseURL, slack.ResponseTypeEphemeral, m); rerr != nil {
		return fmt.Errorf("%w; and through the response URL: %w", err, rerr)
	}
	return nil
}

func (c *Client) msgOptions(m message) []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

// respond posts m to a response_url (of a slash command, a shortcut or a button), which
// needs no token and works where the bot is not a member.
func (c *Client) respond(ctx context.Context, responseURL, responseType string, m message) error {
	u, err := url.Parse(responseURL)
	if err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return &permanentError{errors.New("answering through the response URL: it is not an http(s) URL")}
	}
	_, _, err = c.api.PostMessageContext(ctx, "",
		slack.MsgOptionResponseURL(responseURL, responseType),
		slack.MsgOptionText(m.Text, false),
		slack.MsgOptionBlocks(m.Blocks...),
	)
	if err != nil {
		return classify("answering through the response URL", err)
	}
	return nil
}

// uploadReport attaches the full Markdown report to the thread: files.getUploadURLExternal,
// the bytes to the URL it gives, then files.completeUploadExternal to share it.
func (c *Client) uploadReport(ctx context.Context, channel, threadTS string, res *diagnose.Result) error {
	var buf bytes.Buffer
	if err := diagnose.RenderMarkdown(&buf, res); err != nil {
		return fmt.Errorf("rendering the report: %w", err)
	}
	name := "pubdoc-report.md"
	if len(res.Diagnoses) > 0 {
		name = "pubdoc-" + fileSafe(res.Diagnoses[0].ID) + ".md"
	}
	up, err := c.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{
		FileName: name, FileSize: buf.Len(), SnippetType: "markdown",
	})
	if err != nil {
		return classify("asking where to upload the report", err)
	}
	if err := c.api.UploadToURL(ctx, slack.UploadToURLParameters{
		UploadURL: up.UploadURL, Reader: bytes.NewReader(buf.Bytes()), Filename: name,
	}); err != nil {
		return classify("uploading the report", err)
	}
	if _, err := c.api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files:           []slack.FileSummary{{ID: up.FileID, Title: "Pubdoc: full report"}},
		Channel:         channel,
		ThreadTimestamp: threadTS,
	}); err != nil {
		return classify("sharing the report", err)
	}
	return nil
}

// fileSafe keeps a rule id usable as a file name.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
	return clipBytesRaw(s, 80)
}

// historyPages bounds FindPosted's paging: a job looks back minutes, not months.
const historyPages = 10

// FindPosted looks for a message Post sent with Reply.Key == key: in the thread at
// threadTS (conversations.replies) or in the channel (conversations.history) since the
// given time. It reads the message metadata Post attached.
func (c *Client) FindPosted(ctx context.Context, channel, threadTS, key string, since time.Time) (string, bool, error) {
	oldest := ""
	if !since.IsZero() {
		oldest = fmt.Sprintf("%d.%06d", since.Unix(), since.Nanosecond()/1000)
	}
	cursor := ""
	for range historyPages {
		var (
			msgs    []slack.Message
			next    string
			hasMore bool
			err     error
		)
		if threadTS != "" {
			msgs, hasMore, next, err = c.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
				ChannelID: channel, Timestamp: threadTS, Oldest: oldest, Cursor: cursor, Limit: 200, Inclusive: true, IncludeAllMetadata: true,
			})
			if err != nil {
				return "", false, classify("reading the thread", err)
			}
		} else {
			resp, err := c.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: channel, Oldest: oldest, Cursor: cursor, Limit: 200, Inclusive: true, IncludeAllMetadata: true,
			})
			if err != nil {
				return "", false, classify("reading the channel", err)
			}
			msgs, hasMore, next = resp.Messages, resp.HasMore, resp.ResponseMetaData.NextCursor
		}
		for _, m := range msgs {
			if m.Metadata.EventType != metadataType {
				continue
			}
			if k, _ := m.Metadata.EventPayload[metadataKeyKey].(string); k == key {
				return m.Timestamp, true, nil
			}
		}
		if !hasMore || next == "" {
			return "", false, nil
		}
		cursor = next
	}
	return "", false, nil
}

// slackFileHost serves url_private_download.
const slackFileHost = "files.slack.com"

// Download fetches a shared file with the bot token, at most max bytes (an error wrapping
// ErrTooLarge beyond). The token goes only to https://files.slack.com or to the API URL's
// host; any other URL is refused before a request is made.
func (c *Client) Download(ctx context.Context, f bot.File, max int64) ([]byte, error) {
	name := f.Name
	if name == "" {
		name = "the file"
	}
	if max <= 0 {
		max = c.cfg.MaxFileBytes
	}
	if f.Size > max {
		return nil, &tooLargeError{name: name, size: f.Size, limit: max}
	}
	u, err := url.Parse(f.URL)
	if err != nil || !c.mayReceiveToken(u) {
		return nil, &permanentError{fmt.Errorf("downloading %s: refusing to send the bot token to %s: only https://%s and the Slack API host may receive it", name, hostOf(f.URL), slackFileHost)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", name, err)
	}
	req.Header.Set("Authorization", "Bearer "+string(c.cfg.BotToken))
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", name, stripURL(err))
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, classify("downloading "+name, &slack.RateLimitedError{RetryAfter: retryAfter(resp.Header)})
	case resp.StatusCode != http.StatusOK:
		return nil, classify("downloading "+name, slack.StatusCodeError{Code: resp.StatusCode, Status: resp.Status})
	}
	// Without access, files.slack.com redirects to the sign-in page, which is HTML and
	// not the file.
	if final := resp.Request.URL; final.Host != u.Host || final.Query().Get("redir") != "" {
		return nil, &permanentError{fmt.Errorf("downloading %s: Slack sent the sign-in page instead: the app cannot read this file (is it in the channel, with the files:read scope?)", name)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", name, err)
	}
	if int64(len(data)) > max {
		return nil, &tooLargeError{name: name, size: f.Size, limit: max}
	}
	return data, nil
}

// mayReceiveToken reports whether u is Slack's file host over https, or on the API URL's
// scheme and host (a proxy, or a fake Slack in tests).
func (c *Client) mayReceiveToken(u *url.URL) bool {
	if u.User != nil {
		return false
	}
	if u.Scheme == "https" && strings.EqualFold(u.Hostname(), slackFileHost) && (u.Port() == "" || u.Port() == "443") {
		return true
	}
	return u.Scheme == c.apiURL.Scheme && strings.EqualFold(u.Host, c.apiURL.Host)
}

// hostOf names a URL's host for a message, never its path or query.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "a URL that is not one"
	}
	return u.Scheme + "://" + u.Host
}

// stripURL drops the URL from a *url.Error: a file URL is not secret, but it is the
// user's and logs need not carry it.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func retryAfter(h http.Header) time.Duration {
	var secs int
	if _, err := fmt.Sscanf(h.Get("Retry-After"), "%d", &secs); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	return defaultRetryAfter
}

// CheckToken asks Slack whose SLACK_BOT_TOKEN this is (auth.test), so that a wrong,
// revoked or mistyped token stops the start rather than the first reply. It remembers
// the bot's user id (its mention is stripped from requests' text). Its error names
// SLACK_BOT_TOKEN; it is a bot.PermanentError when Slack refused the token, and a
// transient one when Slack could not be asked.
func (c *Client) CheckToken(ctx context.Context) (team, user string, err error) {
	res, err := c.api.AuthTestContext(ctx)
	if err != nil {
		err = classify("checking SLACK_BOT_TOKEN with auth.test", err)
		var ae *APIError
		if errors.As(err, &ae) && permanentCodes[ae.Code] {
			ae.Hint = "SLACK_BOT_TOKEN is wrong or revoked: copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"
		}
		return "", "", err
	}
	if res.UserID != "" {
		c.mu.Lock()
		c.botUsers[res.UserID] = true
		c.mu.Unlock()
	}
	return res.Team, res.UserID, nil
}
