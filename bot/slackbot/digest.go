package slackbot

import (
	"bytes"
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot/digest"
)

// digestChartName is the file name of a digest's chart in Slack.
const digestChartName = "pubdoc-digest.png"

// PostDigest posts a weekly digest to channel (bot/weekly's Poster): m's blocks as Block
// Kit, with chart, when there is one, uploaded first (files.getUploadURLExternal, the
// bytes, files.completeUploadExternal without a channel) and shown by the message's image
// block (slack_file). Should Slack refuse the image block, the message goes without it
// and the chart is shared in the message's thread. key goes in the message's metadata,
// for FindPosted.
func (c *Client) PostDigest(ctx context.Context, channel string, m digest.Message, chart []byte, key string) (string, error) {
	fileID := ""
	if len(chart) > 0 {
		id, err := c.uploadPNG(ctx, chart, "", "")
		if err != nil {
			return "", err
		}
		fileID = id
	}
	ts, err := c.postDigest(ctx, channel, m, fileID, key)
	if err == nil || fileID == "" || slackCode(err) != "invalid_blocks" {
		return ts, err
	}
	c.logger.Warn("Slack refused the digest's chart in the message; sharing it in the thread", "channel", channel)
	if ts, err = c.postDigest(ctx, channel, m, "", key); err != nil {
		return "", err
	}
	if _, err := c.uploadPNG(ctx, chart, channel, ts); err != nil {
		c.logger.Warn("sharing the digest's chart", "channel", channel, "err", err.Error())
	}
	return ts, nil
}

// postDigest posts m, its image block showing the file fileID (left out when empty).
func (c *Client) postDigest(ctx context.Context, channel string, m digest.Message, fileID, key string) (string, error) {
	text := m.Text
	if text == "" {
		text = m.Markdown()
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(clipBytes(text, 3000), false),
		slack.MsgOptionBlocks(digestBlocks(m, fileID)...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{metadataKeyKey: key}}),
	}
	_, ts, err := c.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return "", classify("posting the weekly digest", err)
	}
	return ts, nil
}

// digestBlocks converts the digest's neutral blocks to Block Kit. The image block shows
// fileID; without one it is left out.
func digestBlocks(m digest.Message, fileID string) []slack.Block {
	var out []slack.Block
	for _, b := range m.Blocks {
		switch b.Kind {
		case digest.BlockHeader:
			out = append(out, slack.NewHeaderBlock(plain(b.Text)))
		case digest.BlockSection:
			out = append(out, section(b.Text))
		case digest.BlockContext:
			out = append(out, slack.NewContextBlock("", mrkdwn(b.Text)))
		case digest.BlockImage:
			if fileID != "" {
				out = append(out, slack.NewImageBlockSlackFile(&slack.SlackFileObject{ID: fileID}, b.Text, "", plain(b.Text)))
			}
		}
	}
	return out
}

// uploadPNG uploads a chart and returns its file id: shared in channel's thread threadTS
// when channel is set, else kept private to the bot (for an image block to show).
func (c *Client) uploadPNG(ctx context.Context, png []byte, channel, threadTS string) (string, error) {
	up, err := c.api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{
		FileName: digestChartName, FileSize: len(png), AltTxt: digest.ChartAlt,
	})
	if err != nil {
		return "", classify("asking where to upload the digest's chart", err)
	}
	if err := c.api.UploadToURL(ctx, slack.UploadToURLParameters{
		UploadURL: up.UploadURL, Reader: bytes.NewReader(png), Filename: digestChartName,
	}); err != nil {
		return "", classify("uploading the digest's chart", err)
	}
	if _, err := c.api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{
		Files: []slack.FileSummary{{ID: up.FileID, Title: digest.ChartAlt}}, Channel: channel, ThreadTimestamp: threadTS,
	}); err != nil {
		return "", classify("completing the digest chart's upload", err)
	}
	if up.FileID == "" {
		return "", fmt.Errorf("uploading the digest's chart: Slack gave no file id")
	}
	return up.FileID, nil
}
