package slackbot

import (
	"context"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
)

// actionFixPR is the "Open a fix PR" button of a diagnosis with a patch; its value is the
// diagnosis id.
const actionFixPR = "pubdoc_fix_pr"

// fixPRButton is the "Open a fix PR" button of a reply: on a stored diagnosis whose top
// cause has a patch of the run's files, while its thread (if any) is open; nil otherwise.
func fixPRButton(r bot.Reply) slack.BlockElement {
	if r.DiagnosisID == 0 || r.Result == nil || len(r.Result.Diagnoses) == 0 {
		return nil
	}
	if strings.TrimSpace(r.Result.Diagnoses[0].Fix.Patch) == "" {
		return nil
	}
	if t := r.Thread; t != nil && t.ResolvedRun != 0 {
		return nil
	}
	return slack.NewButtonBlockElement(actionFixPR, strconv.FormatInt(r.DiagnosisID, 10), plain("Open a fix PR"))
}

// fixPRClicked hands an "Open a fix PR" click to the bot as a durable job (opening the
// pull request takes longer than Slack waits for its answer) and tells the person who
// clicked that it is on its way. Slack's trigger_id names the click: a click Slack
// delivers twice is one job.
func (c *Client) fixPRClicked(ctx context.Context, b bot.Backend, ic slack.InteractionCallback, a *slack.BlockAction) {
	id, err := strconv.ParseInt(a.Value, 10, 64)
	if err != nil || id <= 0 {
		return
	}
	fb, ok := b.(bot.FixPRBackend)
	if !ok {
		c.tell(ctx, ic, "This Pubdoc cannot open pull requests; apply the patch shown above.")
		return
	}
	delivery := ic.TriggerID
	if delivery == "" {
		delivery = strings.Join([]string{a.Value, ic.User.ID, a.ActionTs}, ":")
	}
	req := bot.FixPRRequest{
		DeliveryID:  delivery,
		DiagnosisID: id,
		User:        ic.User.ID,
		Channel:     firstNonEmpty(ic.Channel.ID, ic.Container.ChannelID),
		ThreadTS:    firstNonEmpty(ic.Container.ThreadTs, ic.Message.ThreadTimestamp, ic.Container.MessageTs, ic.Message.Timestamp),
		ResponseURL: ic.ResponseURL,
	}
	msg, err := fb.RequestFixPR(ctx, req)
	if err != nil {
		c.logger.Error("could not accept a fix PR click", "diagnosis", id, "err", err)
		msg = "Sorry, I could not take that just now. Try the button again in a minute."
	} else {
		c.logger.Info("accepted a fix PR click", "diagnosis", id, "delivery_id", delivery, "channel", req.Channel)
	}
	c.tell(ctx, ic, msg)
}
