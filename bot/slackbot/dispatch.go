package slackbot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// errMalformed marks a request Slack would not send: answered with 400, never retried.
var errMalformed = errors.New("malformed request")

// The dispatchers below are shared by the HTTP endpoints and Socket Mode: they turn what
// Slack sent into a bot.Request or a Backend call and say what to answer.

// handleEvent handles one Events API payload: the url_verification challenge to echo, or
// an event_callback that may become a Request. An error means the event was not
// persisted and Slack should send it again.
func (c *Client) handleEvent(ctx context.Context, b bot.Backend, payload []byte, retry string) (challenge string, err error) {
	var outer struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(payload, &outer); err != nil {
		return "", fmt.Errorf("%w: %w", errMalformed, err)
	}
	switch outer.Type {
	case slackevents.URLVerification:
		return outer.Challenge, nil
	case slackevents.CallbackEvent:
	default:
		return "", nil
	}
	ev, err := slackevents.ParseEvent(payload, slackevents.OptionNoVerifyToken())
	if err != nil {
		// An inner event type slack-go does not know: not one Pubdoc subscribes to.
		c.logger.Debug("ignoring an event slack-go cannot parse", "err", err)
		return "", nil
	}
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if !ok {
		return "", nil
	}
	c.learnBotUsers(cb.Authorizations)
	req, ok := c.requestFromEvent(cb, ev.InnerEvent)
	if !ok {
		return "", nil
	}
	fresh, err := b.Accept(ctx, req)
	if err != nil {
		c.logger.Error("could not accept a Slack event", "event_id", cb.EventID, "kind", req.Kind, "retry", retry, "err", err)
		return "", fmt.Errorf("accepting event %s: %w", cb.EventID, err)
	}
	c.logger.Info("accepted a Slack event", "event_id", cb.EventID, "kind", req.Kind, "channel", req.Channel,
		"files", len(req.Files), "text_bytes", len(req.Text), "repeat", !fresh, "retry", retry)
	return "", nil
}

// learnBotUsers remembers the app's bot user ids that Slack lists with each event.
func (c *Client) learnBotUsers(auths []slack.EventAuthorization) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range auths {
		if a.IsBot && a.UserID != "" {
			c.botUsers[a.UserID] = true
		}
	}
}

func (c *Client) isBotUser(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.botUsers[id]
}

// requestFromEvent keeps the events that are asks: a mention, a DM from a person, a log
// file shared in a channel. Bots (this one included), edits and deletions are not.
func (c *Client) requestFromEvent(cb *slackevents.EventsAPICallbackEvent, inner slackevents.EventsAPIInnerEvent) (bot.Request, bool) {
	req := bot.Request{DeliveryID: cb.EventID, TeamID: cb.TeamID}
	switch ev := inner.Data.(type) {
	case *slackevents.AppMentionEvent:
		if ev.BotID != "" || c.isBotUser(ev.User) || ev.User == "" {
			return req, false
		}
		req.Kind = "mention"
		req.Channel, req.User = ev.Channel, ev.User
		req.ThreadTS = firstNonEmpty(ev.ThreadTimeStamp, ev.TimeStamp)
		req.Text = c.stripBotMention(ev.Text, true)
		req.Files = files(ev.Files, false)
		return req, true
	case *slackevents.MessageEvent:
		return c.requestFromMessage(req, ev)
	}
	return req, false
}

func (c *Client) requestFromMessage(req bot.Request, ev *slackevents.MessageEvent) (bot.Request, bool) {
	if ev.BotID != "" || ev.User == "" || c.isBotUser(ev.User) {
		return req, false
	}
	if ev.SubType != "" && ev.SubType != slack.MsgSubTypeFileShare {
		return req, false // edits, deletions, joins, thread broadcasts…
	}
	var shared []slack.File
	if ev.Message != nil {
		shared = ev.Message.Files
	}
	req.Channel, req.User = ev.Channel, ev.User
	req.ThreadTS = firstNonEmpty(ev.ThreadTimeStamp, ev.TimeStamp)
	switch ev.ChannelType {
	case "im":
		req.Kind, req.Direct = "dm", true
		req.Files = files(shared, false)
		if len(req.Files) > 0 {
			req.Kind = "file"
		}
		req.Text = c.stripBotMention(ev.Text, false)
		return req, true
	case "channel", "group", "mpim":
		if ev.SubType != slack.MsgSubTypeFileShare {
			return req, false // a message without the bot's mention is not for it
		}
		if c.mentionsBot(ev.Text) {
			return req, false // the app_mention event of the same message asks
		}
		req.Files = files(shared, true)
		if len(req.Files) == 0 {
			return req, false
		}
		req.Kind = "file"
		req.Text = ev.Text
		return req, true
	}
	return req, false
}

// files converts Slack's files; logsOnly keeps the ones named like a log (*.log, *.txt,
// *.zip), for files shared in a channel without a question.
func files(in []slack.File, logsOnly bool) []bot.File {
	var out []bot.File
	for _, f := range in {
		if logsOnly && !logLike(f.Name) {
			continue
		}
		u := firstNonEmpty(f.URLPrivateDownload, f.URLPrivate)
		if u == "" {
			continue // a file the event only names (Slack Connect): nothing to fetch
		}
		out = append(out, bot.File{ID: f.ID, Name: f.Name, Mimetype: f.Mimetype, Size: int64(f.Size), URL: u})
	}
	return out
}

func logLike(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".log", ".txt", ".zip":
		return true
	}
	return false
}

// reMention is a user mention in message text: <@U123> or <@U123|name>.
var reMention = lazyre.New(`<@([A-Z0-9]+)(?:\|[^>]*)?>`)

// stripBotMention removes the bot's own mentions from text. For an app_mention whose
// bot user is not known yet (no authorizations), the leading mention is the bot's.
func (c *Client) stripBotMention(text string, mention bool) string {
	stripped := false
	out := reMention.Get().ReplaceAllStringFunc(text, func(m string) string {
		if c.isBotUser(reMention.Get().FindStringSubmatch(m)[1]) {
			stripped = true
			return ""
		}
		return m
	})
	if mention && !stripped {
		t := strings.TrimSpace(out)
		if loc := reMention.Get().FindStringIndex(t); loc != nil && loc[0] == 0 {
			out = t[loc[1]:]
		}
	}
	return strings.TrimSpace(out)
}

func (c *Client) mentionsBot(text string) bool {
	for _, m := range reMention.Get().FindAllStringSubmatch(text, -1) {
		if c.isBotUser(m[1]) {
			return true
		}
	}
	return false
}

// commandAnswer is the JSON answer to a slash command.
type commandAnswer struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

func ephemeral(text string) commandAnswer {
	return commandAnswer{ResponseType: slack.ResponseTypeEphemeral, Text: text}
}

// kbLimit is how many rules `/pubdoc kb` lists.
const kbLimit = 8

// handleCommand answers /pubdoc: help, kb WORDS and stats at once; anything else (a
// pasted log, a run URL) becomes a Request, diagnosed by a job. reqTimestamp keys the
// request when Slack sent no trigger_id.
func (c *Client) handleCommand(ctx context.Context, b bot.Backend, cmd slack.SlashCommand, reqTimestamp string) commandAnswer {
	text := strings.TrimSpace(cmd.Text)
	word, rest, _ := strings.Cut(text, " ")
	switch strings.ToLower(word) {
	case "", "help":
		return ephemeral(b.Help())
	case "kb":
		words := strings.TrimSpace(rest)
		if words == "" {
			return ephemeral("Say what to look for: `/pubdoc kb token expired`.")
		}
		rules := b.SearchRules(words, kbLimit)
		if len(rules) == 0 {
			return ephemeral(fmt.Sprintf("Nothing matches “%s”.", escape(clipBytes(words, 200))))
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "Rules matching “%s”:", escape(clipBytes(words, 200)))
		for _, r := range rules {
			fmt.Fprintf(&sb, "\n• `%s` — %s", escape(r.ID), escape(r.Title))
		}
		return ephemeral(sb.String())
	case "stats":
		s, err := b.Stats(ctx)
		if err != nil {
			c.logger.Error("stats for /pubdoc stats", "err", err)
			return ephemeral("Sorry, I could not read the stats just now. Try again in a minute.")
		}
		return ephemeral(s)
	}
	id := cmd.TriggerID
	if id == "" {
		sum := sha256.Sum256([]byte(strings.Join([]string{cmd.TeamID, cmd.ChannelID, cmd.UserID, reqTimestamp, cmd.Text}, "\x00")))
		id = hex.EncodeToString(sum[:12])
	}
	req := bot.Request{
		Kind: "command", DeliveryID: "command:" + id, TeamID: cmd.TeamID,
		Channel: cmd.ChannelID, User: cmd.UserID, Text: text, ResponseURL: cmd.ResponseURL,
	}
	if _, err := b.Accept(ctx, req); err != nil {
		c.logger.Error("could not accept /pubdoc", "delivery_id", req.DeliveryID, "err", err)
		return ephemeral("Sorry, I could not take that just now. Try again in a minute.")
	}
	c.logger.Info("accepted /pubdoc", "delivery_id", req.DeliveryID, "channel", req.Channel, "text_bytes", len(req.Text))
	return ephemeral("Diagnosing…")
}

// Picker limits: Slack shows at most 100 options, each at most 75 characters.
const (
	pickerLimit      = 20
	maxOptionText    = 75
	otherRule        = "other"
	otherRuleTitle   = "Something else"
	modalTitle       = "What was the cause?"
	feedbackFallback = "Thanks, noted."
)

// handleInteraction handles a shortcut, a button, the picker's query or the feedback
// modal's submission. It returns the JSON to answer with, or nil for an empty 200.
func (c *Client) handleInteraction(ctx context.Context, b bot.Backend, ic slack.InteractionCallback) any {
	switch ic.Type {
	case slack.InteractionTypeMessageAction:
		if ic.CallbackID == callbackDiag {
			c.shortcut(ctx, b, ic)
		}
	case slack.InteractionTypeBlockActions:
		for _, a := range ic.ActionCallback.BlockActions {
			c.blockAction(ctx, b, ic, a)
		}
	case slack.InteractionTypeBlockSuggestion:
		if ic.ActionID == actionRule {
			return ruleOptions(b.SearchRules(strings.TrimSpace(ic.Value), pickerLimit))
		}
	case slack.InteractionTypeViewSubmission:
		if ic.View.CallbackID == callbackModal {
			return c.feedbackSubmitted(ctx, b, ic)
		}
	}
	return nil
}

// shortcut turns "Diagnose this log" on a message into a Request.
func (c *Client) shortcut(ctx context.Context, b bot.Backend, ic slack.InteractionCallback) {
	msg := ic.Message
	req := bot.Request{
		Kind: "shortcut", DeliveryID: "shortcut:" + ic.TriggerID, TeamID: ic.Team.ID,
		Channel: ic.Channel.ID, User: ic.User.ID,
		ThreadTS:    firstNonEmpty(msg.ThreadTimestamp, msg.Timestamp),
		Text:        c.stripBotMention(msg.Text, false),
		Files:       files(msg.Files, false),
		ResponseURL: ic.ResponseURL,
	}
	if _, err := b.Accept(ctx, req); err != nil {
		c.logger.Error("could not accept a shortcut", "delivery_id", req.DeliveryID, "err", err)
		c.tell(ctx, ic, "Sorry, I could not take that just now. Try again in a minute.")
		return
	}
	c.logger.Info("accepted a shortcut", "delivery_id", req.DeliveryID, "channel", req.Channel,
		"files", len(req.Files), "text_bytes", len(req.Text))
}

// blockAction handles the buttons of a diagnosis and of a triage thread.
func (c *Client) blockAction(ctx context.Context, b bot.Backend, ic slack.InteractionCallback, a *slack.BlockAction) {
	switch a.ActionID {
	case actionFixed:
		id, err := strconv.ParseInt(a.Value, 10, 64)
		if err != nil {
			return
		}
		msg, err := b.Feedback(ctx, bot.Feedback{DiagnosisID: id, User: ic.User.ID, Kind: bot.FeedbackFixed})
		if err != nil {
			c.logger.Error("recording feedback", "diagnosis", id, "err", err)
			msg = "Sorry, I could not record that just now. Try again in a minute."
		}
		c.tell(ctx, ic, firstNonEmpty(msg, feedbackFallback))
	case actionWrong:
		if _, err := strconv.ParseInt(a.Value, 10, 64); err != nil {
			return
		}
		if _, err := c.api.OpenViewContext(ctx, ic.TriggerID, feedbackModal(a.Value)); err != nil {
			err = classify("opening the feedback form", err)
			c.logger.Error("could not open the feedback form", "diagnosis", a.Value, "err", err)
			c.tell(ctx, ic, "Sorry, I could not open the form just now. Try the button again.")
		}
	case actionFixPR:
		c.fixPRClicked(ctx, b, ic, a)
	case actionAck:
		id, err := strconv.ParseInt(a.Value, 10, 64)
		if err != nil {
			return
		}
		if err := b.Acknowledge(ctx, id, ic.User.ID); err != nil {
			c.logger.Error("acknowledging a thread", "thread", id, "err", err)
			c.tell(ctx, ic, "Sorry, I could not record that just now. Try again in a minute.")
		}
	}
}

// tell shows text to the person who clicked, where they clicked.
func (c *Client) tell(ctx context.Context, ic slack.InteractionCallback, text string) {
	t := bot.Target{
		Channel:     firstNonEmpty(ic.Channel.ID, ic.Container.ChannelID),
		ThreadTS:    firstNonEmpty(ic.Container.ThreadTs, ic.Message.ThreadTimestamp),
		User:        ic.User.ID,
		ResponseURL: ic.ResponseURL,
	}
	if err := c.Ephemeral(ctx, t, bot.Reply{Text: text}); err != nil {
		c.logger.Warn("could not answer an interaction", "channel", t.Channel, "err", err)
	}
}

// feedbackModal asks which cause it really was: a rule from the knowledge base (searched
// as the person types) or "something else", and a note.
func feedbackModal(diagnosisID string) slack.ModalViewRequest {
	zero := 0
	picker := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, plain("Search the rules"), actionRule)
	picker.MinQueryLength = &zero
	note := slack.NewPlainTextInputBlockElement(plain("What did you find? (optional)"), actionNote)
	note.Multiline = true
	noteBlock := slack.NewInputBlock(actionNote, plain("Note"), nil, note)
	noteBlock.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackModal,
		PrivateMetadata: diagnosisID,
		Title:           plain(modalTitle),
		Submit:          plain("Send"),
		Close:           plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn("Thanks for telling. Which cause was it really? Pick *Something else* when none fits."), nil, nil),
			slack.NewInputBlock(actionRule, plain("The real cause"), nil, picker),
			noteBlock,
		}},
	}
}

// ruleOptions answers the picker's query: the matching rules, then "Something else".
func ruleOptions(rules []bot.RuleOption) slack.OptionsResponse {
	opts := make([]*slack.OptionBlockObject, 0, len(rules)+1)
	for _, r := range rules {
		opts = append(opts, slack.NewOptionBlockObject(r.ID, plain(clipRunes(r.ID+" — "+r.Title, maxOptionText)), nil))
	}
	opts = append(opts, slack.NewOptionBlockObject(otherRule, plain(otherRuleTitle), nil))
	return slack.OptionsResponse{Options: opts}
}

// viewErrors is a view_submission answer that shows errors in the modal.
type viewErrors struct {
	ResponseAction string            `json:"response_action"`
	Errors         map[string]string `json:"errors"`
}

// feedbackSubmitted records the modal's answer. nil closes the modal.
func (c *Client) feedbackSubmitted(ctx context.Context, b bot.Backend, ic slack.InteractionCallback) any {
	id, err := strconv.ParseInt(ic.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil
	}
	f := bot.Feedback{DiagnosisID: id, User: ic.User.ID, Kind: bot.FeedbackWrong}
	if st := ic.View.State; st != nil {
		f.RuleID = st.Values[actionRule][actionRule].SelectedOption.Value
		f.Note = strings.TrimSpace(st.Values[actionNote][actionNote].Value)
	}
	if _, err := b.Feedback(ctx, f); err != nil {
		c.logger.Error("recording feedback", "diagnosis", id, "err", err)
		return viewErrors{ResponseAction: "errors", Errors: map[string]string{
			actionRule: "Sorry, I could not record that just now. Try again in a minute.",
		}}
	}
	c.logger.Info("recorded feedback", "diagnosis", id, "kind", f.Kind, "rule", f.RuleID)
	return nil
}

// clipRunes cuts s to n characters, with an ellipsis when it cut.
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
