package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/patch"
)

// TaskFixPR is the job of an "Open a fix PR" click (its payload a FixPRRequest).
const TaskFixPR = "fix_pr"

// fixPRAttempts is how often a click's job is tried before the person is told it failed.
const fixPRAttempts = 4

// maxPRBody bounds a fix pull request's body (GitHub takes 65,536 characters).
const maxPRBody = 60000

// FixPRRequest is an "Open a fix PR" click on a diagnosis: which diagnosis, who clicked,
// and where (the thread the answer goes to, the clicker's response URL).
type FixPRRequest struct {
	// DeliveryID deduplicates the click itself (the adapter's trigger id): a click Slack
	// delivers twice is one job. Clicks of their own are jobs of their own, and meet the
	// same pull request.
	DeliveryID  string `json:"delivery_id"`
	DiagnosisID int64  `json:"diagnosis_id"`
	User        string `json:"user"`
	Channel     string `json:"channel,omitempty"`
	// ThreadTS is the thread the button was in (or the message holding it).
	ThreadTS    string `json:"thread_ts,omitempty"`
	ResponseURL string `json:"response_url,omitempty"`
}

// FixPRBackend is what a chat adapter calls for an "Open a fix PR" click; *Service has
// it. It is its own interface beside Backend, so that an adapter's test double of
// Backend need not have it.
type FixPRBackend interface {
	// RequestFixPR persists the click as a job (OpenFixPR runs it) and returns what to
	// tell the person who clicked, at once.
	RequestFixPR(ctx context.Context, r FixPRRequest) (string, error)
}

var _ FixPRBackend = (*Service)(nil)

// RequestFixPR persists an "Open a fix PR" click as a durable job: reading the run's files
// and pushing a branch take longer than a chat adapter may make its platform wait.
func (s *Service) RequestFixPR(ctx context.Context, r FixPRRequest) (string, error) {
	if r.DiagnosisID <= 0 || r.DeliveryID == "" {
		return "", fmt.Errorf("a fix PR request needs a diagnosis and a delivery id (got %d, %q)", r.DiagnosisID, r.DeliveryID)
	}
	s.cfg.Metrics.EventReceived("slack", "fix_pr")
	payload, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encoding a fix PR request: %w", err)
	}
	ok, err := s.cfg.Store.Accept(ctx, "slack", "fixpr:"+r.DeliveryID, Task{Kind: TaskFixPR, Payload: payload})
	if err != nil {
		return "", fmt.Errorf("persisting a fix PR request: %w", err)
	}
	if !ok {
		s.cfg.Metrics.EventDeduplicated("slack")
	}
	return "Opening a pull request with this fix… I will post its link in the thread.", nil
}

// handleFixPR runs a TaskFixPR job: OpenFixPR, with what a person can act on told to the
// person who clicked, and the last attempt's failure too.
func (s *Service) handleFixPR(ctx context.Context, r FixPRRequest, attempt, maxAttempts int) error {
	err := s.OpenFixPR(ctx, r)
	if err == nil {
		return nil
	}
	var ue *userError
	last := attempt >= min(fixPRAttempts, max(maxAttempts, 1))
	switch {
	case errors.As(err, &ue):
	case ctx.Err() != nil, !isPermanent(err) && !last:
		return err
	}
	msg := "Sorry — I could not open the pull request: " + diagnose.Redact(err.Error()) + ". Try the button again in a few minutes."
	if ue != nil {
		msg = ue.msg
	}
	t := Target{Channel: r.Channel, ThreadTS: r.ThreadTS, User: r.User, ResponseURL: r.ResponseURL}
	if terr := s.cfg.Messenger.Ephemeral(ctx, t, Reply{Text: msg}); terr != nil {
		s.logger.Warn("could not tell the person who asked for a fix PR", "diagnosis", r.DiagnosisID, "err", terr)
	}
	if ue != nil {
		return nil
	}
	return permanent(err)
}

// OpenFixPR opens the fix of a stored diagnosis as a pull request, as the GitHub App: it
// reads the diagnosis' run again (its workflow at the failing commit, the workflows it
// calls, package.json), makes the patch of the diagnosis' rule again (diagnose/patch), and
// has GitHub push it as one commit on pubdoc/fix-<rule>-<sha7> and open a pull request of
// it into the run's branch; then it replies in the diagnosis' thread with the link. The
// thread's "fixed" mark follows as before: the next green run of the workflow on that
// branch, which the merged pull request brings about, resolves it.
//
// Every step is idempotent: the branch is named by rule and commit, GitHub answers a
// second push of it with the first, the pull request is recorded per diagnosis and the
// reply posted once per pull request and thread. Without the App's permission (or
// without an App) it replies with the patch to apply by hand and the permissions the App
// needs. Errors a person can act on are *userError; others are retried.
func (s *Service) OpenFixPR(ctx context.Context, r FixPRRequest) error {
	d, err := s.cfg.Store.Diagnosis(ctx, r.DiagnosisID)
	if errors.Is(err, ErrNotFound) {
		return tell("That diagnosis is no longer on record, so I cannot open its fix.")
	}
	if err != nil {
		return fmt.Errorf("reading diagnosis %d: %w", r.DiagnosisID, err)
	}
	t, err := s.fixPRTarget(ctx, d, r)
	if err != nil {
		return err
	}
	owner, repo, ok := strings.Cut(d.Repo, "/")
	if !ok || d.RunID == 0 {
		return tell("This diagnosis is not of a GitHub run I can read again, so I cannot open a pull request; apply the patch shown with it.")
	}
	if d.RuleID == "" || d.RuleID == diagnose.NoKnownCause {
		return tell("This diagnosis names no cause with a fix to open.")
	}
	stored := storedDiagnosis(d)
	if p, err := s.cfg.Store.LookupPost(ctx, fixPRKey(d.ID)); err == nil && p.Done {
		n, _ := strconv.Atoi(p.TS)
		return s.replyFixPR(ctx, t, d, &PullRequest{URL: p.Channel, Number: n, Existing: true}, r.User)
	}
	opener, _ := s.cfg.GitHub.(FixPROpener)
	if s.cfg.GitHub == nil {
		return s.replyNoPermission(ctx, t, d, stored.Fix.Patch, &PermissionError{Repo: d.Repo, Reason: "no GitHub App is configured"})
	}
	run, err := s.cfg.GitHub.FetchRun(ctx, RunRef{Owner: owner, Repo: repo, RunID: d.RunID, Attempt: d.Attempt})
	if errors.Is(err, ErrLogsExpired) {
		return tell("GitHub no longer has that run of %s (it keeps runs' logs 90 days by default), so I cannot read its files again to open the pull request; apply the patch shown with the diagnosis.", d.Repo)
	}
	if err != nil {
		return s.githubError(err, d.Repo)
	}
	fix, err := patch.ForRule(runPatchInput(run), d.RuleID)
	if err != nil {
		return tell("I could not make the patch again from the workflow at %s: %v", shortSHA(run.HeadSHA), err)
	}
	if len(fix.Changes) == 0 {
		return tell("The files at commit %s need no change for `%s`; nothing to open.", shortSHA(run.HeadSHA), d.RuleID)
	}
	if opener == nil {
		return s.replyNoPermission(ctx, t, d, fix.Diff(), &PermissionError{Repo: d.Repo, Reason: "the GitHub client configured cannot open pull requests"})
	}
	pr, err := opener.OpenFixPR(ctx, s.fixPR(d, run, stored, fix))
	var pe *PermissionError
	switch {
	case errors.As(err, &pe):
		return s.replyNoPermission(ctx, t, d, fix.Diff(), pe)
	case err != nil:
		return s.githubError(err, d.Repo)
	}
	if err := s.cfg.Store.FinishPost(ctx, fixPRKey(d.ID), pr.URL, strconv.Itoa(pr.Number)); err != nil {
		return fmt.Errorf("recording the fix pull request: %w", err)
	}
	if err := s.cfg.Store.FinishPost(ctx, fixBranchKey(d.Repo, pr.Branch), t.Channel, t.ThreadTS); err != nil {
		return fmt.Errorf("recording the fix pull request's thread: %w", err)
	}
	s.logger.Info("fix pull request", "diagnosis", d.ID, "repo", d.Repo, "rule", d.RuleID, "number", pr.Number, "existing", pr.Existing)
	return s.replyFixPR(ctx, t, d, pr, r.User)
}

// fixPRKey records the pull request opened for a diagnosis (in the post records: its URL
// as the channel, its number as the ts), so that a later click reuses it without asking
// GitHub.
func fixPRKey(diagnosisID int64) string { return fmt.Sprintf("fixpr:d%d", diagnosisID) }

// fixBranchKey records the thread a fix branch's pull request was announced in (as the
// post's channel and ts), so that its merge is said there.
func fixBranchKey(repo, branch string) string { return "fixpr-branch:" + repo + ":" + branch }

// fixPRMerged says in its thread that a fix pull request Pubdoc opened was merged: a
// pull_request "closed" delivery whose pull request was merged and whose branch is one
// OpenFixPR recorded. The thread is resolved, as always, by the next green run, which the
// merge brings about.
func (s *Service) fixPRMerged(ctx context.Context, ev *Event) error {
	if !fixBranchMerged(ev) {
		return nil
	}
	p := ev.Pull
	rec, err := s.cfg.Store.LookupPost(ctx, fixBranchKey(ev.Repo, p.HeadRef))
	if errors.Is(err, ErrNotFound) || err == nil && (!rec.Done || rec.Channel == "") {
		return nil // not a pull request Pubdoc announced
	}
	if err != nil {
		return fmt.Errorf("finding the thread of %s: %w", p.HeadRef, err)
	}
	by := ""
	if p.MergedBy != "" {
		by = " by " + slackText(p.MergedBy)
	}
	msg := fmt.Sprintf(":twisted_rightwards_arrows: <%s|Pull request #%d> with the fix was merged into `%s`%s. The thread is marked fixed when the next run of the workflow passes.",
		p.HTMLURL, p.Number, slackText(p.BaseRef), by)
	_, err = s.postOnce(ctx, fmt.Sprintf("fixpr-merged:%s:%s:%s", p.HTMLURL, rec.Channel, rec.TS), Target{Channel: rec.Channel, ThreadTS: rec.TS}, Reply{Text: msg})
	return err
}

// fixBranchMerged reports whether ev is the merge of a pull request from a branch named as
// Pubdoc names its fix branches (fixBranch); the webhook stores no other pull_request
// delivery.
func fixBranchMerged(ev *Event) bool {
	p := ev.Pull
	return ev.Event == "pull_request" && p != nil && ev.Action == "closed" && p.Merged && strings.HasPrefix(p.HeadRef, fixBranchPrefix)
}

// fixPRTarget is where the answer goes: the triage thread of the diagnosis, else the
// thread the button was clicked in.
func (s *Service) fixPRTarget(ctx context.Context, d *Diagnosis, r FixPRRequest) (Target, error) {
	t := Target{Channel: r.Channel, ThreadTS: r.ThreadTS, User: r.User, ResponseURL: r.ResponseURL}
	if d.ThreadID != 0 {
		th, err := s.cfg.Store.Thread(ctx, d.ThreadID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Target{}, fmt.Errorf("reading thread %d: %w", d.ThreadID, err)
		}
		if err == nil && th.ParentTS != "" {
			t.Channel, t.ThreadTS = th.Channel, th.ParentTS
		}
	}
	if t.Channel == "" {
		t.Channel, t.ThreadTS = d.Channel, d.TS
	}
	if t.Channel == "" {
		return Target{}, permanent(fmt.Errorf("diagnosis %d: no channel to answer in", d.ID))
	}
	return t, nil
}

// storedDiagnosis is the top diagnosis of a stored answer (redacted); empty when it
// cannot be read.
func storedDiagnosis(d *Diagnosis) diagnose.Diagnosis {
	var res diagnose.Result
	if json.Unmarshal(d.Result, &res) != nil {
		return diagnose.Diagnosis{ID: d.RuleID}
	}
	for _, x := range res.Diagnoses {
		if x.ID == d.RuleID {
			return x
		}
	}
	return diagnose.Diagnosis{ID: d.RuleID}
}

// runPatchInput is a run's files as the patch package reads them: the workflow, the
// reusable workflows it calls (by path), and the root package.json.
func runPatchInput(run *Run) patch.Input {
	in := patch.Input{Repo: run.Ref.Owner + "/" + run.Ref.Repo}
	if len(run.Workflow) > 0 {
		in.Workflows = append(in.Workflows, patch.File{Path: run.WorkflowPath, Src: run.Workflow})
	}
	callees := make([]string, 0, len(run.Callees))
	for p := range run.Callees {
		callees = append(callees, p)
	}
	slices.Sort(callees)
	for _, p := range callees {
		in.Workflows = append(in.Workflows, patch.File{Path: p, Src: run.Callees[p]})
	}
	if len(run.PackageJSON) > 0 {
		in.Package = &patch.File{Path: "package.json", Src: run.PackageJSON}
	}
	return in
}

func shortSHA(sha string) string { return sha[:min(7, len(sha))] }

// fixBranchPrefix starts the name of every fix branch Pubdoc pushes.
const fixBranchPrefix = "pubdoc/fix-"

// fixBranch is the branch of a rule's fix of a commit: one per fingerprint.
func fixBranch(rule, sha string) string {
	clean := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, rule)
	return fixBranchPrefix + strings.Trim(clean, ".-") + "-" + shortSHA(sha)
}

// fixPR is the pull request of fix: its branch, base, commit message and body (the
// evidence, the run, the diagnosis).
func (s *Service) fixPR(d *Diagnosis, run *Run, top diagnose.Diagnosis, fix *patch.Result) FixPR {
	title := top.Title
	if title == "" {
		title = d.RuleID
	}
	files := make([]FileChange, 0, len(fix.Changes))
	paths := make([]string, 0, len(fix.Changes))
	for _, c := range fix.Changes {
		files = append(files, FileChange{Path: c.Path, Content: c.After})
		paths = append(paths, c.Path)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Pubdoc diagnosed the failed run [%s #%d](%s) (commit %s) as **%s** (`%s`, confidence %.0f%%).\n\n",
		path.Base(run.WorkflowPath), run.Ref.RunID, run.HTMLURL, shortSHA(run.HeadSHA), title, d.RuleID, 100*d.Confidence)
	if top.Cause != "" {
		fmt.Fprintf(&b, "**Cause.** %s\n\n", top.Cause)
	}
	if top.Fix.Summary != "" {
		fmt.Fprintf(&b, "**Fix.** %s\n\n", top.Fix.Summary)
	}
	if ev := evidenceLines(d, top); ev != "" {
		fmt.Fprintf(&b, "**Evidence** (from the log%s):\n\n```\n%s\n```\n\n", jobOf(d), strings.ReplaceAll(ev, "```", "'''"))
	}
	fmt.Fprintf(&b, "This pull request changes %s at commit %s, the commit that failed; it was opened by the Pubdoc GitHub App from Slack, and a run of the workflow that passes after it merges marks the triage thread fixed.\n",
		strings.Join(paths, ", "), shortSHA(run.HeadSHA))
	body := b.String()
	if len(body) > maxPRBody {
		body = body[:maxPRBody] + "\n…"
	}
	msg := fmt.Sprintf("Fix the publish: %s\n\n%s\n\nPubdoc rule %s; failed run %s", title, top.Fix.Summary, d.RuleID, run.HTMLURL)
	return FixPR{
		Owner: run.Ref.Owner, Repo: run.Ref.Repo, BaseSHA: run.HeadSHA, Base: run.HeadBranch,
		Branch: fixBranch(d.RuleID, run.HeadSHA), Title: "Fix the publish: " + title,
		Body: diagnose.Redact(body), Message: diagnose.Redact(msg), Files: files,
	}
}

func jobOf(d *Diagnosis) string {
	if d.Job == "" {
		return ""
	}
	return " of job `" + d.Job + "`"
}

// evidenceLines are the diagnosis' evidence as "line: text", at most ten lines.
func evidenceLines(d *Diagnosis, top diagnose.Diagnosis) string {
	if len(top.Evidence) == 0 {
		return strings.TrimRight(d.Evidence, "\n")
	}
	var lines []string
	for i, e := range top.Evidence {
		if i == 10 {
			break
		}
		lines = append(lines, fmt.Sprintf("%d: %s", e.Line, e.Text))
	}
	return strings.Join(lines, "\n")
}

// replyFixPR says in the thread which pull request holds the fix, once per pull request
// and thread.
func (s *Service) replyFixPR(ctx context.Context, t Target, d *Diagnosis, pr *PullRequest, user string) error {
	link := fmt.Sprintf("<%s|pull request #%d>", pr.URL, pr.Number)
	var msg string
	switch {
	case pr.Merged:
		msg = fmt.Sprintf(":twisted_rightwards_arrows: The fix for `%s` is %s, merged already. The thread is marked fixed when a run of %s passes.", d.RuleID, link, workflowLabel(d))
	case pr.State == "closed":
		msg = fmt.Sprintf(":wrench: The fix for `%s` is %s, which was closed without merging; reopen it, or apply the patch by hand.", d.RuleID, link)
	default:
		msg = fmt.Sprintf(":wrench: <@%s> asked for the fix of `%s`: %s. Review and merge it; the thread is marked fixed when a run of %s%s passes after it.",
			user, d.RuleID, link, workflowLabel(d), onBranch(pr.Base, d.Branch))
	}
	_, err := s.postOnce(ctx, fmt.Sprintf("fixpr-reply:%s:%s:%s", pr.URL, t.Channel, t.ThreadTS), Target{Channel: t.Channel, ThreadTS: t.ThreadTS}, Reply{Text: msg})
	return err
}

// workflowLabel names the diagnosis' workflow file, or "the workflow" when it was not
// recorded (a run named by its link in chat).
func workflowLabel(d *Diagnosis) string {
	if d.Workflow == "" {
		return "the workflow"
	}
	return "`" + path.Base(d.Workflow) + "`"
}

func onBranch(branches ...string) string {
	for _, b := range branches {
		if b != "" {
			return " on `" + b + "`"
		}
	}
	return ""
}

// replyNoPermission answers a click the App may not carry out: the patch to apply by hand
// and the permissions the App needs. Posted once per diagnosis and thread.
func (s *Service) replyNoPermission(ctx context.Context, t Target, d *Diagnosis, diff string, pe *PermissionError) error {
	var b strings.Builder
	fmt.Fprintf(&b, "I cannot open a pull request on %s: ", slackText(d.Repo))
	switch {
	case len(pe.Missing) > 0:
		fmt.Fprintf(&b, "the Pubdoc GitHub App lacks `%s` there. ", strings.Join(pe.Missing, "`, `"))
	case pe.Reason != "":
		b.WriteString(slackText(pe.Reason) + ". ")
	}
	b.WriteString("To let it, give the App the repository permissions *Contents: Read and write* and *Pull requests: Read and write* " +
		"(and *Workflows: Read and write* for a fix of a workflow file), and accept them on the installation.")
	if strings.TrimSpace(diff) != "" {
		b.WriteString(" Meanwhile, here is the patch to apply (`git apply`):\n```\n" + slackText(diagnose.Redact(strings.TrimRight(diff, "\n"))) + "\n```")
	} else {
		b.WriteString(" Meanwhile, apply the fix shown with the diagnosis.")
	}
	_, err := s.postOnce(ctx, fmt.Sprintf("fixpr-noperm:d%d:%s:%s", d.ID, t.Channel, t.ThreadTS), Target{Channel: t.Channel, ThreadTS: t.ThreadTS}, Reply{Text: b.String()})
	return err
}

// runMeta is what a diagnosis of a run named by its link in chat records of the run
// (repository, run id, attempt), so that its fix can be opened later; empty when u is not
// a run link this GitHub reads.
func (s *Service) runMeta(u string) diagnosisMeta {
	if u == "" || s.cfg.GitHub == nil {
		return diagnosisMeta{}
	}
	ref, _, err := s.cfg.GitHub.ParseRunURL(u)
	if err != nil || ref.RunID == 0 {
		return diagnosisMeta{}
	}
	return diagnosisMeta{repo: ref.Owner + "/" + ref.Repo, run: ref.RunID, attempt: ref.Attempt}
}
