package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

const fixSHA = "3d1f0c9b8a7e6d5c4b3a29180716f5e4d3c2b1a0"

// failedRunWithPatch delivers a failed run of old npm (its workflow's fix is an npm upgrade
// step) and returns the thread's parent post.
func failedRunWithPatch(t *testing.T, h *harness, id int64) fakePost {
	t.Helper()
	run := publishRun(t, id, example(t, "old-npm.log"))
	run.HeadSHA = fixSHA
	h.runs.runs[id] = run
	if err := h.deliver(t, runEvent(id, int(id-90), "failure")); err != nil {
		t.Fatal(err)
	}
	posts, _, _ := h.msg.snapshot()
	parent := posts[0]
	top := parent.Reply.Result.Diagnoses[0]
	if top.ID != "oidc-npm-too-old" || top.Fix.Patch == "" {
		t.Fatalf("parent shows %s with patch %q, want oidc-npm-too-old with a patch", top.ID, top.Fix.Patch)
	}
	return parent
}

// click accepts a click and returns its task, as the store would hand it to a worker.
func (h *harness) click(t *testing.T, delivery string, diagnosisID int64) Task {
	t.Helper()
	msg, err := h.svc.RequestFixPR(context.Background(), FixPRRequest{DeliveryID: delivery, DiagnosisID: diagnosisID, User: "U0ONCALL", Channel: "C0PUBDOC"})
	if err != nil || !strings.Contains(msg, "pull request") {
		t.Fatalf("RequestFixPR = %q, %v", msg, err)
	}
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	task := h.store.tasks[len(h.store.tasks)-1]
	task.Attempt, task.MaxAttempts = 1, 10
	return task
}

func TestFixPROpensOnePullRequestAndReplies(t *testing.T) {
	h := newHarness(t)
	parent := failedRunWithPatch(t, h, 101)
	id := parent.Reply.DiagnosisID

	// Three clicks, one of them delivered twice, and each job run twice (retries).
	var tasks []Task
	for _, d := range []string{"trig1", "trig2", "trig3", "trig2"} {
		tasks = append(tasks, h.click(t, d, id))
	}
	h.store.mu.Lock()
	jobs := 0
	for _, task := range h.store.tasks {
		if task.Kind == TaskFixPR {
			jobs++
		}
	}
	h.store.mu.Unlock()
	if jobs != 3 {
		t.Errorf("%d jobs accepted for 4 deliveries of 3 clicks, want 3", jobs)
	}
	for _, task := range tasks[:3] {
		for range 2 {
			if task.Kind != TaskFixPR {
				t.Fatalf("task kind %q", task.Kind)
			}
			if err := h.svc.Handle(context.Background(), task); err != nil {
				t.Fatal(err)
			}
			task.Attempt++
		}
	}
	h.runs.mu.Lock()
	prs, asked := len(h.runs.prs), append([]FixPR(nil), h.runs.asked...)
	h.runs.mu.Unlock()
	if prs != 1 || len(asked) != 1 {
		t.Fatalf("%d pull requests from %d asks, want 1 and 1 (later clicks reuse the recorded one)", prs, len(asked))
	}
	pr := asked[0]
	if pr.Owner != "acme" || pr.Repo != "widgets" || pr.BaseSHA != fixSHA || pr.Base != "main" || pr.Branch != "pubdoc/fix-oidc-npm-too-old-3d1f0c9" {
		t.Errorf("pull request %+v", pr)
	}
	if len(pr.Files) != 1 || pr.Files[0].Path != ".github/workflows/release.yml" || string(pr.Files[0].Content) == publishingWorkflow {
		t.Fatalf("files %+v, want the patched workflow", pr.Files)
	}
	if !strings.Contains(string(pr.Files[0].Content), "npm") || !strings.Contains(string(pr.Files[0].Content), "node-version: 22") {
		t.Errorf("patched workflow lost its content:\n%s", pr.Files[0].Content)
	}
	for _, want := range []string{"https://github.com/acme/widgets/actions/runs/101", "oidc-npm-too-old", "**Evidence**", "**Fix.**", "3d1f0c9"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, pr.Body)
		}
	}
	if !strings.HasPrefix(pr.Title, "Fix the publish: ") || !strings.Contains(pr.Message, "oidc-npm-too-old") {
		t.Errorf("title %q message %q", pr.Title, pr.Message)
	}

	posts, _, eph := h.msg.snapshot()
	var replies []fakePost
	for _, p := range posts {
		if strings.Contains(p.Reply.Text, "pull/7") {
			replies = append(replies, p)
		}
	}
	if len(replies) != 1 || replies[0].Target.ThreadTS != parent.TS || replies[0].Target.Channel != "C0PUBDOC" {
		t.Fatalf("replies with the link: %+v, want one in the parent's thread", replies)
	}
	if r := replies[0].Reply.Text; !strings.Contains(r, "<https://github.com/acme/widgets/pull/7|pull request #7>") || !strings.Contains(r, "<@U0ONCALL>") {
		t.Errorf("reply %q", r)
	}
	if len(eph) != 0 {
		t.Errorf("ephemerals %+v", eph)
	}

	// Another failure of the same commit (a re-run): its own diagnosis, the same branch,
	// and GitHub's pull request again; the thread gets no second link.
	run := publishRun(t, 102, example(t, "old-npm.log"))
	run.HeadSHA = fixSHA
	h.runs.runs[102] = run
	if err := h.deliver(t, runEvent(102, 12, "failure")); err != nil {
		t.Fatal(err)
	}
	h.store.mu.Lock()
	second := h.store.diagnoses[len(h.store.diagnoses)-1].ID
	h.store.mu.Unlock()
	if second == id {
		t.Fatal("the re-run saved no diagnosis of its own")
	}
	if err := h.svc.Handle(context.Background(), h.click(t, "trig4", second)); err != nil {
		t.Fatal(err)
	}
	h.runs.mu.Lock()
	prs = len(h.runs.prs)
	h.runs.mu.Unlock()
	if prs != 1 {
		t.Errorf("%d pull requests after a click on the re-run's diagnosis, want 1", prs)
	}
	posts, _, _ = h.msg.snapshot()
	n := 0
	for _, p := range posts {
		if strings.Contains(p.Reply.Text, "pull/7") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d replies with the link, want 1", n)
	}
}

func TestFixPRWithoutPermissionShowsThePatch(t *testing.T) {
	h := newHarness(t)
	h.runs.missing = []string{"contents: write", "pull_requests: write"}
	parent := failedRunWithPatch(t, h, 101)
	for _, d := range []string{"a", "b"} {
		if err := h.svc.Handle(context.Background(), h.click(t, d, parent.Reply.DiagnosisID)); err != nil {
			t.Fatal(err)
		}
	}
	posts, _, _ := h.msg.snapshot()
	var said []fakePost
	for _, p := range posts {
		if strings.Contains(p.Reply.Text, "cannot open a pull request") {
			said = append(said, p)
		}
	}
	if len(said) != 1 || said[0].Target.ThreadTS != parent.TS {
		t.Fatalf("%d answers %+v, want one in the thread", len(said), said)
	}
	text := said[0].Reply.Text
	for _, want := range []string{"`contents: write`, `pull_requests: write`", "Contents: Read and write", "Pull requests: Read and write", "```\n--- a/.github/workflows/release.yml", "\n+"} {
		if !strings.Contains(text, want) {
			t.Errorf("answer lacks %q:\n%s", want, text)
		}
	}
	if len(h.runs.prs) != 0 {
		t.Errorf("pull requests %v", h.runs.prs)
	}
}

func TestFixPRNeedsARun(t *testing.T) {
	h := newHarness(t)
	req := Request{Kind: "mention", DeliveryID: "Ev1", Channel: "C1", User: "U1", ThreadTS: "1700000000.000100", Text: example(t, "old-npm.log")}
	if err := h.ask(t, req); err != nil {
		t.Fatal(err)
	}
	posts, _, _ := h.msg.snapshot()
	if err := h.svc.Handle(context.Background(), h.click(t, "x", posts[0].Reply.DiagnosisID)); err != nil {
		t.Fatal(err)
	}
	_, _, eph := h.msg.snapshot()
	if len(eph) != 1 || !strings.Contains(eph[0].Reply.Text, "not of a GitHub run") || eph[0].Target.User != "U0ONCALL" {
		t.Errorf("ephemerals %+v", eph)
	}
	if err := h.svc.Handle(context.Background(), h.click(t, "y", 999)); err != nil {
		t.Fatal(err)
	}
	if _, _, eph = h.msg.snapshot(); len(eph) != 2 || !strings.Contains(eph[1].Reply.Text, "no longer on record") {
		t.Errorf("ephemerals %+v", eph)
	}
}

func TestFixPRBranchNames(t *testing.T) {
	for rule, want := range map[string]string{
		"oidc-npm-too-old": "pubdoc/fix-oidc-npm-too-old-3d1f0c9",
		"weird/rule id":    "pubdoc/fix-weird-rule-id-3d1f0c9",
	} {
		if got := fixBranch(rule, fixSHA); got != want {
			t.Errorf("fixBranch(%q) = %q, want %q", rule, got, want)
		}
	}
	raw, _ := json.Marshal(FixPRRequest{DeliveryID: "t", DiagnosisID: 3})
	if got := fmt.Sprint(string(raw)); !strings.Contains(got, `"diagnosis_id":3`) {
		t.Errorf("payload %s", got)
	}
}

// The merge of a fix pull request is said in its thread, once; other pull requests are
// not Pubdoc's business.
func TestFixPRMergeIsSaidInTheThread(t *testing.T) {
	h := newHarness(t)
	parent := failedRunWithPatch(t, h, 101)
	if err := h.svc.Handle(context.Background(), h.click(t, "c1", parent.Reply.DiagnosisID)); err != nil {
		t.Fatal(err)
	}
	merged := func(branch string) *Event {
		return &Event{Delivery: "pr-" + branch, Event: "pull_request", Action: "closed", Repo: "acme/widgets",
			Pull: &EventPull{Number: 7, HTMLURL: "https://github.com/acme/widgets/pull/7", HeadRef: branch, BaseRef: "main", State: "closed", Merged: true, MergedBy: "octocat"}}
	}
	before, _, _ := h.msg.snapshot()
	for i := range 2 { // a redelivery
		ev := merged("pubdoc/fix-oidc-npm-too-old-3d1f0c9")
		ev.Delivery += fmt.Sprint(i)
		if err := h.deliver(t, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, ev := range []*Event{merged("feature/x"), merged("pubdoc/fix-other-0000000")} {
		if err := h.deliver(t, ev); err != nil {
			t.Fatal(err)
		}
	}
	posts, _, _ := h.msg.snapshot()
	if len(posts) != len(before)+1 {
		t.Fatalf("%d new posts, want 1", len(posts)-len(before))
	}
	last := posts[len(posts)-1]
	if last.Target.ThreadTS != parent.TS || !strings.Contains(last.Reply.Text, "was merged into `main` by octocat") {
		t.Errorf("posted %+v", last)
	}
}

// An answer to a run link in chat records its run, so its fix can be opened too; the link
// goes to the asker's thread.
func TestFixPRFromARunLinkAnswer(t *testing.T) {
	h := newHarness(t)
	run := publishRun(t, 301, example(t, "old-npm.log"))
	run.HeadSHA = fixSHA
	h.runs.runs[301] = run
	req := Request{Kind: "mention", DeliveryID: "Ev301", Channel: "C0ONCALL", User: "U1", ThreadTS: "1700000000.000300",
		Text: "https://github.com/acme/widgets/actions/runs/301"}
	if err := h.ask(t, req); err != nil {
		t.Fatal(err)
	}
	posts, _, eph := h.msg.snapshot()
	if len(posts) != 1 || posts[0].Reply.DiagnosisID == 0 || len(eph) != 0 {
		t.Fatalf("posts %+v ephemerals %+v", posts, eph)
	}
	id := posts[0].Reply.DiagnosisID
	d, err := h.store.Diagnosis(context.Background(), id)
	if err != nil || d.Repo != "acme/widgets" || d.RunID != 301 {
		t.Fatalf("stored %+v, %v: want the run recorded", d, err)
	}
	msg, err := h.svc.RequestFixPR(context.Background(), FixPRRequest{DeliveryID: "c301", DiagnosisID: id, User: "U1", Channel: "C0ONCALL", ThreadTS: req.ThreadTS})
	if err != nil || msg == "" {
		t.Fatal(err)
	}
	h.store.mu.Lock()
	task := h.store.tasks[len(h.store.tasks)-1]
	h.store.mu.Unlock()
	task.Attempt, task.MaxAttempts = 1, 10
	if err := h.svc.Handle(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	posts, _, _ = h.msg.snapshot()
	last := posts[len(posts)-1]
	if len(h.runs.prs) != 1 || last.Target.Channel != "C0ONCALL" || last.Target.ThreadTS != req.ThreadTS || !strings.Contains(last.Reply.Text, "/pull/7|pull request #7>") {
		t.Errorf("prs %v, last post %+v", h.runs.prs, last)
	}
}

// The webhook keeps only the merges of fix branches among pull_request deliveries: the
// rest are acknowledged, never stored.
func TestWebhookKeepsOnlyFixBranchMerges(t *testing.T) {
	pr := func(action, branch string, merged bool) *Event {
		return &Event{Event: "pull_request", Action: action, Repo: "acme/widgets",
			Pull: &EventPull{Number: 7, HeadRef: branch, BaseRef: "main", Merged: merged}}
	}
	for _, c := range []struct {
		ev   *Event
		want bool
	}{
		{pr("closed", fixBranch("oidc-npm-too-old", "3d1f0c9abc"), true), true},
		{pr("closed", "pubdoc/fix-x-1234567", false), false}, // closed unmerged
		{pr("opened", "pubdoc/fix-x-1234567", false), false},
		{pr("closed", "feature/x", true), false},
		{pr("closed", "main-pubdoc/fix-x", true), false},
		{&Event{Event: "pull_request", Action: "closed", Repo: "acme/widgets"}, false}, // no pull request
	} {
		if got := wanted(c.ev); got != c.want {
			t.Errorf("%s %+v: wanted %v, want %v", c.ev.Action, c.ev.Pull, got, c.want)
		}
	}
}
