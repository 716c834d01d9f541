package slackbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
)

func TestPost(t *testing.T) {
	h := newHarness(t)
	r := bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 77, Key: "diag:acme/cli:123:1"}
	ts, err := h.c.Post(context.Background(), bot.Target{Channel: "C0CHAN", ThreadTS: "1764061000.000001"}, r)
	if err != nil {
		t.Fatal(err)
	}
	if ts == "" {
		t.Fatal("no ts")
	}
	if got := h.slack.methods(); !reflect.DeepEqual(got, []string{"chat.postMessage"}) {
		t.Fatalf("calls %v", got)
	}
	p := h.slack.one("chat.postMessage").Params
	if p.Get("channel") != "C0CHAN" || p.Get("thread_ts") != "1764061000.000001" {
		t.Fatalf("channel %q thread_ts %q", p.Get("channel"), p.Get("thread_ts"))
	}
	var md struct {
		EventType    string         `json:"event_type"`
		EventPayload map[string]any `json:"event_payload"`
	}
	if err := json.Unmarshal([]byte(p.Get("metadata")), &md); err != nil || md.EventType != "pubdoc_post" || md.EventPayload["key"] != "diag:acme/cli:123:1" {
		t.Fatalf("metadata %q", p.Get("metadata"))
	}
	if want := "DIAGNOSED npm is too old for trusted publishing [oidc-npm-too-old] 0.98"; p.Get("text") != want {
		t.Fatalf("text %q, want %q", p.Get("text"), want)
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(p.Get("blocks")), &blocks); err != nil || len(blocks) == 0 {
		t.Fatalf("blocks %q", p.Get("blocks"))
	}
	if !strings.Contains(p.Get("blocks"), `"action_id":"pubdoc_fixed"`) {
		t.Fatalf("no feedback buttons: %s", p.Get("blocks"))
	}
}

func TestPostWithoutKeyHasNoMetadata(t *testing.T) {
	h := newHarness(t)
	if _, err := h.c.Post(context.Background(), bot.Target{Channel: "C0CHAN"}, bot.Reply{Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	p := h.slack.one("chat.postMessage").Params
	if p.Has("metadata") || p.Has("thread_ts") {
		t.Fatalf("params %v", p)
	}
}

func TestPostTooLargeUploadsTheReport(t *testing.T) {
	for _, thread := range []string{"1764061000.000001", ""} {
		t.Run("thread="+thread, func(t *testing.T) {
			h := newHarness(t)
			res := hugeResult()
			ts, err := h.c.Post(context.Background(), bot.Target{Channel: "C0CHAN", ThreadTS: thread}, bot.Reply{Result: res, DiagnosisID: 9})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"chat.postMessage", "files.getUploadURLExternal", "upload", "files.completeUploadExternal"}
			if got := h.slack.methods(); !reflect.DeepEqual(got, want) {
				t.Fatalf("calls %v, want %v", got, want)
			}
			post := h.slack.one("chat.postMessage").Params
			checkLimits(t, post.Get("blocks"))
			if !strings.Contains(post.Get("blocks"), "the full report is attached in the thread") {
				t.Fatalf("no note about the attachment")
			}
			var md bytes.Buffer
			if err := diagnose.RenderMarkdown(&md, res); err != nil {
				t.Fatal(err)
			}
			get := h.slack.one("files.getUploadURLExternal").Params
			if get.Get("filename") != "pubdoc-oidc-npm-too-old.md" || get.Get("length") != fmt.Sprint(md.Len()) {
				t.Fatalf("getUploadURLExternal %v", get)
			}
			up := h.slack.one("upload")
			if up.Params.Get("file") != md.String() {
				t.Fatalf("uploaded %d bytes, want the %d of the Markdown report", len(up.Params.Get("file")), md.Len())
			}
			done := h.slack.one("files.completeUploadExternal").Params
			wantThread := thread
			if thread == "" {
				wantThread = ts
			}
			if done.Get("channel_id") != "C0CHAN" || done.Get("thread_ts") != wantThread || !strings.Contains(done.Get("files"), `"id":"F0REPORT"`) {
				t.Fatalf("completeUploadExternal %v", done)
			}
		})
	}
}

func TestPostUploadFailureKeepsThePost(t *testing.T) {
	h := newHarness(t)
	h.slack.program("files.completeUploadExternal", answer{body: `{"ok":false,"error":"internal_error"}`})
	ts, err := h.c.Post(context.Background(), bot.Target{Channel: "C0CHAN", ThreadTS: "1.1"}, bot.Reply{Result: hugeResult()})
	if err != nil || ts == "" {
		t.Fatalf("ts %q err %v: the reply went up, the job must not post it again", ts, err)
	}
	if !strings.Contains(h.logs.String(), "could not attach the full report") {
		t.Fatalf("upload failure not logged: %s", h.logs)
	}
}

func TestPostFallsBackToTheResponseURL(t *testing.T) {
	for _, code := range []string{"not_in_channel", "channel_not_found"} {
		t.Run(code, func(t *testing.T) {
			h := newHarness(t)
			h.slack.program("chat.postMessage", answer{body: `{"ok":false,"error":"` + code + `"}`})
			ts, err := h.c.Post(context.Background(), bot.Target{Channel: "C0PRIVATE", ResponseURL: h.slack.srv.URL + "/response/abc"}, bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 3})
			if err != nil || ts != "" {
				t.Fatalf("ts %q err %v", ts, err)
			}
			resp := h.slack.one("response_url")
			if resp.Params.Get("response_type") != "in_channel" || resp.Params.Get("replace_original") != "false" {
				t.Fatalf("response_url params %v", resp.Params)
			}
			if !strings.Contains(resp.Params.Get("blocks"), "DIAGNOSED") || resp.Header.Get("Authorization") != "" {
				t.Fatalf("response_url body %s", resp.Body)
			}
		})
	}
	t.Run("without a response URL", func(t *testing.T) {
		h := newHarness(t)
		h.slack.program("chat.postMessage", answer{body: `{"ok":false,"error":"not_in_channel"}`})
		_, err := h.c.Post(context.Background(), bot.Target{Channel: "C0PRIVATE"}, bot.Reply{Text: "hi"})
		pe, ok := errorAs[bot.PermanentError](err)
		if !ok || !pe.Permanent() {
			t.Fatalf("err %v (%T), want permanent", err, err)
		}
		if !strings.Contains(err.Error(), "not_in_channel") || !strings.Contains(err.Error(), "/invite") {
			t.Fatalf("err %q", err)
		}
	})
}

func TestPostErrors(t *testing.T) {
	tests := []struct {
		name       string
		answer     answer
		retryAfter time.Duration
		permanent  bool
	}{
		{name: "rate limited", answer: answer{status: 429, retryAfter: "7", body: `{"ok":false,"error":"ratelimited"}`}, retryAfter: 7 * time.Second},
		{name: "rate limited without Retry-After", answer: answer{status: 429, body: `{"ok":false}`}, retryAfter: 30 * time.Second},
		{name: "channel_not_found", answer: answer{body: `{"ok":false,"error":"channel_not_found"}`}, permanent: true},
		{name: "is_archived", answer: answer{body: `{"ok":false,"error":"is_archived"}`}, permanent: true},
		{name: "invalid_auth", answer: answer{body: `{"ok":false,"error":"invalid_auth"}`}, permanent: true},
		{name: "missing_scope", answer: answer{body: `{"ok":false,"error":"missing_scope","needed":"chat:write"}`}, permanent: true},
		{name: "invalid_blocks", answer: answer{body: `{"ok":false,"error":"invalid_blocks"}`}, permanent: true},
		{name: "msg_too_long", answer: answer{body: `{"ok":false,"error":"msg_too_long"}`}, permanent: true},
		{name: "internal_error", answer: answer{body: `{"ok":false,"error":"internal_error"}`}},
		{name: "503", answer: answer{status: 503, body: `<html>down</html>`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.slack.program("chat.postMessage", tt.answer)
			_, err := h.c.Post(context.Background(), bot.Target{Channel: "C0CHAN"}, bot.Reply{Text: "hi"})
			if err == nil {
				t.Fatal("no error")
			}
			ra, isRA := errorAs[bot.RetryAfterError](err)
			if tt.retryAfter != 0 {
				if !isRA || ra.RetryAfter() != tt.retryAfter {
					t.Fatalf("err %v: want RetryAfter %s", err, tt.retryAfter)
				}
			} else if isRA {
				t.Fatalf("err %v is a RetryAfterError", err)
			}
			pe, isPE := errorAs[bot.PermanentError](err)
			if got := isPE && pe.Permanent(); got != tt.permanent {
				t.Fatalf("err %v: permanent %v, want %v", err, got, tt.permanent)
			}
		})
	}
	t.Run("network", func(t *testing.T) {
		h := newHarness(t)
		h.slack.srv.Close()
		_, err := h.c.Post(context.Background(), bot.Target{Channel: "C0CHAN"}, bot.Reply{Text: "hi"})
		if err == nil {
			t.Fatal("no error")
		}
		if _, ok := errorAs[bot.RetryAfterError](err); ok {
			t.Fatalf("network error is a RetryAfterError")
		}
		if pe, ok := errorAs[bot.PermanentError](err); ok && pe.Permanent() {
			t.Fatalf("network error is permanent")
		}
	})
}

func TestUpdate(t *testing.T) {
	h := newHarness(t)
	r := bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 77, Title: "acme/cli · release.yml failed on main",
		Thread: &bot.ThreadStatus{ThreadID: 12, Count: 3, Since: testNow.Add(-2 * time.Hour), AckedBy: "U0ALICE"}}
	if err := h.c.Update(context.Background(), "C0CHAN", "1764061000.000001", r); err != nil {
		t.Fatal(err)
	}
	p := h.slack.one("chat.update").Params
	if p.Get("channel") != "C0CHAN" || p.Get("ts") != "1764061000.000001" {
		t.Fatalf("params %v", p)
	}
	if !strings.Contains(p.Get("blocks"), "on it: \\u003c@U0ALICE\\u003e") && !strings.Contains(p.Get("blocks"), "on it: <@U0ALICE>") {
		t.Fatalf("blocks %s", p.Get("blocks"))
	}
	if strings.Contains(p.Get("blocks"), "pubdoc_ack") {
		t.Fatalf("an acknowledged thread still offers I'm on it")
	}
	h.slack.program("chat.update", answer{body: `{"ok":false,"error":"message_not_found"}`})
	err := h.c.Update(context.Background(), "C0CHAN", "1.1", r)
	if pe, ok := errorAs[bot.PermanentError](err); !ok || !pe.Permanent() {
		t.Fatalf("err %v, want permanent", err)
	}
}

func TestEphemeral(t *testing.T) {
	h := newHarness(t)
	err := h.c.Ephemeral(context.Background(), bot.Target{Channel: "C0CHAN", ThreadTS: "1.1", User: "U0ALICE"}, bot.Reply{Text: "I found no log in that message."})
	if err != nil {
		t.Fatal(err)
	}
	p := h.slack.one("chat.postEphemeral").Params
	if p.Get("channel") != "C0CHAN" || p.Get("user") != "U0ALICE" || p.Get("thread_ts") != "1.1" || p.Get("text") != "I found no log in that message." {
		t.Fatalf("params %v", p)
	}
}

func TestEphemeralFallsBackToTheResponseURL(t *testing.T) {
	h := newHarness(t)
	h.slack.program("chat.postEphemeral", answer{body: `{"ok":false,"error":"channel_not_found"}`})
	err := h.c.Ephemeral(context.Background(), bot.Target{Channel: "D0DM", User: "U0ALICE", ResponseURL: h.slack.srv.URL + "/response/xyz"}, bot.Reply{Text: "Diagnosis failed."})
	if err != nil {
		t.Fatal(err)
	}
	resp := h.slack.one("response_url")
	if resp.Path != "/response/xyz" || resp.Params.Get("response_type") != "ephemeral" || resp.Params.Get("text") != "Diagnosis failed." {
		t.Fatalf("response_url %v", resp.Params)
	}
	if got := h.slack.methods(); !reflect.DeepEqual(got, []string{"chat.postEphemeral", "response_url"}) {
		t.Fatalf("calls %v", got)
	}
	// Without a response URL the error comes back.
	h.slack.program("chat.postEphemeral", answer{body: `{"ok":false,"error":"user_not_in_channel"}`})
	if err := h.c.Ephemeral(context.Background(), bot.Target{Channel: "C0CHAN", User: "U0ALICE"}, bot.Reply{Text: "x"}); err == nil {
		t.Fatal("no error")
	}
}

func pubdocMessage(ts, key string) map[string]any {
	return map[string]any{"type": "message", "ts": ts, "bot_id": "B0PUBDOC", "text": "DIAGNOSED",
		"metadata": map[string]any{"event_type": "pubdoc_post", "event_payload": map[string]any{"key": key}}}
}

func TestFindPosted(t *testing.T) {
	since := time.Date(2026, 11, 25, 9, 0, 0, 500000000, time.UTC)
	t.Run("in a thread", func(t *testing.T) {
		h := newHarness(t)
		h.slack.messages = []map[string]any{
			{"type": "message", "ts": "1764061000.000001", "user": "U0ALICE", "text": "log"},
			pubdocMessage("1764061001.000001", "other-key"),
			pubdocMessage("1764061002.000001", "diag:1"),
		}
		ts, found, err := h.c.FindPosted(context.Background(), "C0CHAN", "1764061000.000001", "diag:1", since)
		if err != nil || !found || ts != "1764061002.000001" {
			t.Fatalf("ts %q found %v err %v", ts, found, err)
		}
		p := h.slack.one("conversations.replies").Params
		if p.Get("channel") != "C0CHAN" || p.Get("ts") != "1764061000.000001" || p.Get("include_all_metadata") != "1" || p.Get("oldest") != "1795597200.500000" {
			t.Fatalf("params %v", p)
		}
	})
	t.Run("in the channel", func(t *testing.T) {
		h := newHarness(t)
		h.slack.messages = []map[string]any{pubdocMessage("1764061005.000001", "thread:acme")}
		ts, found, err := h.c.FindPosted(context.Background(), "C0CHAN", "", "thread:acme", since)
		if err != nil || !found || ts != "1764061005.000001" {
			t.Fatalf("ts %q found %v err %v", ts, found, err)
		}
		p := h.slack.one("conversations.history").Params
		if p.Get("channel") != "C0CHAN" || p.Get("include_all_metadata") != "1" || p.Get("oldest") != "1795597200.500000" {
			t.Fatalf("params %v", p)
		}
	})
	t.Run("not there", func(t *testing.T) {
		h := newHarness(t)
		h.slack.messages = []map[string]any{pubdocMessage("1.1", "other"), {"type": "message", "ts": "1.2", "text": "diag:1"}}
		if ts, found, err := h.c.FindPosted(context.Background(), "C0CHAN", "", "diag:1", since); err != nil || found || ts != "" {
			t.Fatalf("ts %q found %v err %v", ts, found, err)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		h := newHarness(t)
		h.slack.program("conversations.history", answer{status: 429, retryAfter: "3"})
		_, _, err := h.c.FindPosted(context.Background(), "C0CHAN", "", "diag:1", since)
		if ra, ok := errorAs[bot.RetryAfterError](err); !ok || ra.RetryAfter() != 3*time.Second {
			t.Fatalf("err %v", err)
		}
	})
}

func TestDownload(t *testing.T) {
	h := newHarness(t)
	content := []byte("npm error code E404\n")
	h.slack.files["/files/F0LOG/publish.log"] = content
	f := bot.File{ID: "F0LOG", Name: "publish.log", Size: int64(len(content)), URL: h.slack.srv.URL + "/files/F0LOG/publish.log"}
	got, err := h.c.Download(context.Background(), f, 1<<20)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("got %q err %v", got, err)
	}
	if auth := h.slack.one("download").Header.Get("Authorization"); auth != "Bearer "+testBotToken {
		t.Fatalf("download without the bot token")
	}
}

func TestDownloadCaps(t *testing.T) {
	h := newHarness(t)
	big := bytes.Repeat([]byte("x"), 3<<20)
	h.slack.files["/files/F0BIG/big.log"] = big
	url := h.slack.srv.URL + "/files/F0BIG/big.log"

	// The size Slack announced is over the cap: no request at all.
	_, err := h.c.Download(context.Background(), bot.File{Name: "big.log", Size: 40 << 20, URL: url}, 32<<20)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "file too large (40 MB; the limit is 32 MB)") {
		t.Fatalf("err %v", err)
	}
	if n := len(h.slack.only("download")); n != 0 {
		t.Fatalf("%d downloads of a file known to be too large", n)
	}

	// The size was not announced (or was wrong): the body is cut at the cap.
	_, err = h.c.Download(context.Background(), bot.File{Name: "big.log", URL: url}, 1<<20)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "file too large (more than 1 MB; the limit is 1 MB)") {
		t.Fatalf("err %v", err)
	}
	if pe, ok := errorAs[bot.PermanentError](err); !ok || !pe.Permanent() {
		t.Fatalf("too large is not permanent")
	}
}

func TestDownloadRefusesForeignHosts(t *testing.T) {
	h := newHarness(t)
	foreign := newFakeSlack(t) // another loopback host: not the API URL's
	foreign.files["/files/F0/x.log"] = []byte("x")
	for _, u := range []string{
		foreign.srv.URL + "/files/F0/x.log",
		"https://evil.example.com/files-pri/T0/F0/x.log",
		"http://files.slack.com/files-pri/T0/F0/x.log",    // not https
		"https://files.slack.com.evil.example/x.log",      // look-alike
		"https://user:pw@files.slack.com/files-pri/x.log", // credentials in the URL
		"ftp://files.slack.com/x.log",
		"::not a url",
	} {
		_, err := h.c.Download(context.Background(), bot.File{Name: "x.log", URL: u}, 1<<20)
		if err == nil || !strings.Contains(err.Error(), "refusing to send the bot token") {
			t.Errorf("%s: err %v", u, err)
		}
	}
	if n := len(foreign.Calls()); n != 0 {
		t.Fatalf("the foreign host got %d requests", n)
	}
	if n := len(h.slack.Calls()); n != 0 {
		t.Fatalf("Slack got %d requests", n)
	}
}

func TestDownloadAllowsSlackFileHost(t *testing.T) {
	h := newHarness(t)
	for _, u := range []string{"https://files.slack.com/files-pri/T0-F0/download/x.log", "https://FILES.slack.com:443/x"} {
		if !h.c.mayReceiveToken(mustParse(t, u)) {
			t.Errorf("%s refused", u)
		}
	}
}

func TestDownloadErrors(t *testing.T) {
	h := newHarness(t)
	_, err := h.c.Download(context.Background(), bot.File{Name: "gone.log", URL: h.slack.srv.URL + "/files/none"}, 1<<20)
	if pe, ok := errorAs[bot.PermanentError](err); err == nil || !ok || !pe.Permanent() {
		t.Fatalf("404: err %v, want permanent", err)
	}
	signin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("redir") == "" {
			http.Redirect(w, r, "/?redir="+r.URL.Path, http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("<html>sign in</html>"))
	}))
	defer signin.Close()
	h2 := newHarness(t)
	h2.c.apiURL = mustParse(t, signin.URL+"/api/")
	_, err = h2.c.Download(context.Background(), bot.File{Name: "private.log", URL: signin.URL + "/files-pri/x.log"}, 1<<20)
	if err == nil || !strings.Contains(err.Error(), "sign-in page") {
		t.Fatalf("err %v", err)
	}
}
