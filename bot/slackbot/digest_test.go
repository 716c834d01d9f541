package slackbot

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/bot/digest"
)

func digestMessage() digest.Message {
	return digest.Message{Text: "Publish digest 30 Nov – 6 Dec 2026: 3 failed runs", Blocks: []digest.Block{
		{Kind: digest.BlockHeader, Text: "Weekly publish digest · acme/* · 30 Nov – 6 Dec 2026"},
		{Kind: digest.BlockSection, Text: "*3 failed publish runs* in 1 repository."},
		{Kind: digest.BlockImage, Text: digest.ChartAlt},
		{Kind: digest.BlockContext, Text: "Times in UTC"},
	}}
}

func TestPostDigestShowsTheChartInTheMessage(t *testing.T) {
	h := newHarness(t)
	png := []byte("\x89PNG\r\n\x1a\nchart")
	ts, err := h.c.PostDigest(context.Background(), "C0CHAN", digestMessage(), png, "digest:C0CHAN:2026-11-30")
	if err != nil || ts == "" {
		t.Fatalf("PostDigest = %q, %v", ts, err)
	}
	want := []string{"files.getUploadURLExternal", "upload", "files.completeUploadExternal", "chat.postMessage"}
	if got := h.slack.methods(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	if up := h.slack.one("upload"); up.Params.Get("file") != string(png) {
		t.Errorf("uploaded %q, want the chart", up.Params.Get("file"))
	}
	if done := h.slack.one("files.completeUploadExternal").Params; done.Get("channel_id") != "" {
		t.Errorf("the chart was shared to %q before the message: %v", done.Get("channel_id"), done)
	}
	post := h.slack.one("chat.postMessage").Params
	blocks := post.Get("blocks")
	checkLimits(t, blocks)
	for _, want := range []string{`"type":"header"`, `"type":"image"`, `"slack_file":{"id":"F0REPORT"}`, `"alt_text":"` + digest.ChartAlt, `"type":"context"`} {
		if !strings.Contains(blocks, want) {
			t.Errorf("blocks lack %s: %s", want, blocks)
		}
	}
	if !strings.Contains(post.Get("metadata"), "digest:C0CHAN:2026-11-30") || post.Get("text") == "" {
		t.Errorf("post %v: want the key in its metadata and a text", post)
	}
}

func TestPostDigestRefusedImageGoesToTheThread(t *testing.T) {
	h := newHarness(t)
	h.slack.program("chat.postMessage", answer{body: `{"ok":false,"error":"invalid_blocks"}`})
	ts, err := h.c.PostDigest(context.Background(), "C0CHAN", digestMessage(), []byte("png"), "k")
	if err != nil || ts == "" {
		t.Fatalf("PostDigest = %q, %v", ts, err)
	}
	want := []string{"files.getUploadURLExternal", "upload", "files.completeUploadExternal", "chat.postMessage", "chat.postMessage",
		"files.getUploadURLExternal", "upload", "files.completeUploadExternal"}
	if got := h.slack.methods(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
	calls := h.slack.calls
	if second := calls[4].Params.Get("blocks"); strings.Contains(second, `"type":"image"`) {
		t.Errorf("the second post still has the image: %s", second)
	}
	if done := calls[7].Params; done.Get("channel_id") != "C0CHAN" || done.Get("thread_ts") != ts {
		t.Errorf("the chart went to %v, want the digest's thread %s", done, ts)
	}
}

func TestPostDigestWithoutChart(t *testing.T) {
	h := newHarness(t)
	m := digestMessage()
	if _, err := h.c.PostDigest(context.Background(), "C0CHAN", m, nil, "k"); err != nil {
		t.Fatal(err)
	}
	if got := h.slack.methods(); !reflect.DeepEqual(got, []string{"chat.postMessage"}) {
		t.Fatalf("calls %v", got)
	}
	if blocks := h.slack.one("chat.postMessage").Params.Get("blocks"); strings.Contains(blocks, `"type":"image"`) {
		t.Errorf("an image block without a chart: %s", blocks)
	}
}
