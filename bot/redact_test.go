package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// plantedSecrets are internal/secret's samples of the twelve kinds the redactor knows,
// built at run time so no scanner mistakes them for real ones. The value is what must
// never be stored; the line is how it appears in a log.
func plantedSecrets() map[string]struct{ line, value string } {
	out := map[string]struct{ line, value string }{}
	for kind, s := range secret.Samples() {
		out[kind] = struct{ line, value string }{s.Line, s.Value}
	}
	return out
}

// secretLog is a failing publish log with every planted secret on lines of its own, and
// a canary: text that is no secret, so it must be stored, which proves the search sees
// what the store wrote.
func secretLog(t *testing.T, canary string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(example(t, "old-npm.log"))
	fmt.Fprintf(&b, "\nnpm notice %s\n", canary)
	for _, s := range plantedSecrets() {
		b.WriteString(s.line + "\n")
	}
	return b.String()
}

// grepDir reports which of the planted secrets and canaries occur in the files of dir
// (pubdoc.db, its -wal and -shm).
func grepDir(t *testing.T, dir string, canaries []string) (leaked []string, missing []string) {
	t.Helper()
	var all []byte
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	for name, s := range plantedSecrets() {
		if bytes.Contains(all, []byte(s.value)) {
			leaked = append(leaked, name)
		}
	}
	for _, c := range canaries {
		if !bytes.Contains(all, []byte(c)) {
			missing = append(missing, c)
		}
	}
	return leaked, missing
}

// DurableStore is the store as CheckNoSecretReachesTheDataDirectory drives it: the
// bot's Store, with its workers and its data directory's life cycle.
type DurableStore interface {
	Store
	Start(ctx context.Context, h func(context.Context, Task) error) error
	JobCounts(ctx context.Context) (map[string]int, error)
	Stop(ctx context.Context) error
	Close() error
}

// CheckNoSecretReachesTheDataDirectory checks that secrets planted through every way of
// asking — a mention, a DM, /pubdoc, a shared file (its text, its content, its name), a
// webhook (branch, job name and job log), the API and a feedback note — are in none of
// the data directory's files after a graceful stop: not in the jobs' arguments, the
// diagnoses, the posts, the feedback or the WAL. open opens the real store in dir (the
// store package imports this one, so the test that calls this lives in bot_test), and
// hooks reads the webhook deliveries, signed with "s3cret".
func CheckNoSecretReachesTheDataDirectory(t *testing.T, open func(t *testing.T, dir string) DurableStore, hooks WebhookReader) {
	dir := t.TempDir()
	st := open(t, dir)
	defer func() { _ = st.Close() }()
	routes, err := ParseRoutes([]byte(testRoutes))
	if err != nil {
		t.Fatal(err)
	}
	msg := &fakeMessenger{files: map[string][]byte{}}
	runs := &fakeRuns{runs: map[int64]*Run{}}
	svc, err := New(Config{Engine: testEngine(t), Store: st, Messenger: msg, GitHub: runs, Routes: routes}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Start(context.Background(), svc.Handle); err != nil {
		t.Fatal(err)
	}
	secrets := plantedSecrets()
	npm := secrets["npm"].value
	var canaries []string
	canary := func(way string) string {
		c := "canary-" + way + "-3f9a"
		canaries = append(canaries, c)
		return c
	}

	ctx := context.Background()
	accepted := 0
	accept := func(req Request) {
		t.Helper()
		ok, err := svc.Accept(ctx, req)
		if err != nil || !ok {
			t.Fatalf("%s: Accept = %v, %v", req.Kind, ok, err)
		}
		accepted++
	}
	accept(Request{Kind: "mention", DeliveryID: "EvMention", Channel: "C1", User: "U1", ThreadTS: "1700000000.000100", Text: secretLog(t, canary("mention"))})
	accept(Request{Kind: "dm", DeliveryID: "EvDM", Channel: "D1", Direct: true, User: "U1", ThreadTS: "1700000000.000200", Text: secretLog(t, canary("dm"))})
	accept(Request{Kind: "command", DeliveryID: "cmd-1", Channel: "C1", User: "U1", ResponseURL: "https://hooks.slack.com/commands/T1/1/x", Text: secretLog(t, canary("command"))})
	fileURL := "https://files.slack.com/files-pri/T1-F1/download/build.log"
	msg.files[fileURL] = []byte(secretLog(t, "file-content"))
	accept(Request{Kind: "file", DeliveryID: "EvFile", Channel: "D1", Direct: true, User: "U1", ThreadTS: "1700000000.000300",
		Text:  "this failed " + canary("file-text") + " " + secrets["ghp"].value,
		Files: []File{{ID: "F1", Name: "build.log", Size: 100, URL: fileURL}}})
	namedURL := "https://files.slack.com/files-pri/T1-F2/download/" + npm + ".log"
	msg.files[namedURL] = []byte(secretLog(t, "unread"))
	accept(Request{Kind: "file", DeliveryID: "EvFileName", Channel: "D1", Direct: true, User: "U1", ThreadTS: "1700000000.000400",
		Files: []File{{ID: "F2", Name: npm + ".log", Size: 100, URL: namedURL}}})

	// A webhook: the run's branch and job name carry secrets, and so does its log.
	run := publishRun(t, 101, secretLog(t, "webhook-log"))
	run.FailedJobs[0].Name = "publish " + secrets["slack"].value
	runs.runs[101] = run
	body, _ := json.Marshal(map[string]any{
		"action": "completed",
		"workflow_run": map[string]any{"id": 101, "run_number": 11, "run_attempt": 1, "name": "Release", "path": ".github/workflows/release.yml",
			"event": "push", "status": "completed", "conclusion": "failure", "head_branch": canary("webhook-branch") + "-" + secrets["pat"].value,
			"head_sha": "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4", "html_url": "https://github.com/acme/widgets/actions/runs/101"},
		"repository": map[string]any{"full_name": "acme/widgets", "name": "widgets", "owner": map[string]any{"login": "acme"}},
	})
	hook := httptest.NewServer(svc.WebhookHandler(hooks))
	defer hook.Close()
	req, _ := http.NewRequest(http.MethodPost, hook.URL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "workflow_run")
	req.Header.Set("X-GitHub-Delivery", "delivery-secret-1")
	req.Header.Set("X-Hub-Signature-256", sign("s3cret", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	accepted++

	// The API stores nothing, and answers without the secrets.
	api := httptest.NewServer(svc.APIHandler(APIConfig{Token: testAPIToken}))
	defer api.Close()
	code, _, answer := apiCall(t, api.URL, "Bearer "+string(testAPIToken), strings.NewReader(secretLog(t, "api-canary")))
	if code != http.StatusOK {
		t.Fatalf("API: %d %s", code, answer)
	}
	for name, s := range secrets {
		if strings.Contains(string(answer), s.value) {
			t.Errorf("the API's answer shows the %s secret", name)
		}
	}

	// Every job ran to its end.
	deadline := time.Now().Add(20 * time.Second)
	for {
		counts, err := st.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts["completed"] == accepted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs did not complete: %v (want %d completed)", counts, accepted)
		}
		time.Sleep(20 * time.Millisecond)
	}
	posts, _, ephemerals := msg.snapshot()
	if len(posts) < 4 {
		t.Fatalf("%d posts, want a reply to the mention, the DM, the command, the file and the webhook", len(posts))
	}
	told := false
	for _, e := range ephemerals {
		if strings.Contains(e.Reply.Text, "holds a secret") {
			told = true
		}
	}
	if !told {
		t.Errorf("the file named with a secret was not refused with a word to its sender: %+v", ephemerals)
	}
	// A feedback note.
	if _, err := svc.Feedback(ctx, Feedback{DiagnosisID: 1, User: "U1", Kind: FeedbackWrong, RuleID: "other", Note: "it was " + secrets["aws"].value + " " + canary("feedback")}); err != nil {
		t.Fatal(err)
	}

	if err := st.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	leaked, missing := grepDir(t, dir, canaries)
	if len(leaked) > 0 {
		t.Errorf("after a graceful stop, the data directory holds these planted secrets: %v", leaked)
	}
	if len(missing) > 0 {
		t.Errorf("the canaries %v are not in the data directory: the search does not see what was stored", missing)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if leaked, _ := grepDir(t, dir, nil); len(leaked) > 0 {
		t.Errorf("after Close, the data directory holds these planted secrets: %v", leaked)
	}
}

// Redacting a job's arguments keeps everything else as it was: numbers exactly, the
// shape, and strings without secrets.
func TestRedactPayload(t *testing.T) {
	in := []byte(`{"id":9007199254740993,"f":1.5,"ok":true,"n":null,"list":["a","npm_` + strings.Repeat("a1B2", 9) + `"],"o":{"text":"line\nnpm error"}}`)
	out, err := redactPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"f":1.5,"id":9007199254740993,"list":["a","[REDACTED npm token]"],"n":null,"o":{"text":"line\nnpm error"},"ok":true}`
	if string(out) != want {
		t.Errorf("redactPayload =\n%s\nwant\n%s", out, want)
	}
	if _, err := redactPayload([]byte(`{`)); err == nil {
		t.Error("redactPayload accepted invalid JSON")
	}
}
