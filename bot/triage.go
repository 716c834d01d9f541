package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
)

// parentWait is how long a thread's parent may stay unposted before another job takes
// over posting it (its first poster died).
const parentWait = 10 * time.Second

// failed are the conclusions that count as a failed run.
var failed = map[string]bool{"failure": true, "timed_out": true}

// handleWebhook runs a GitHub delivery: a failed run is diagnosed and posted into its
// triage thread; a green run marks the threads of its workflow and branch fixed.
func (s *Service) handleWebhook(ctx context.Context, ev *Event, attempt, maxAttempts int) error {
	if ev.Event == "pull_request" {
		return s.fixPRMerged(ctx, ev) // a fix pull request's merge is said in its thread
	}
	if ev.Event != "workflow_run" || ev.Run == nil || ev.Action != "completed" {
		return nil // workflow_job deliveries are acknowledged; the run's delivery carries the work
	}
	switch {
	case ev.Run.Conclusion == "success":
		return s.markFixed(ctx, ev)
	case failed[ev.Run.Conclusion]:
		// A failure is logged once, by the store, as the job's outcome.
		return s.runFailed(ctx, ev)
	}
	return nil
}

// runFailed fetches, diagnoses and posts one failed run.
func (s *Service) runFailed(ctx context.Context, ev *Event) error {
	channel := s.cfg.Routes.ChannelFor(ev.Repo)
	if channel == "" {
		s.logger.Info("no channel for this repository; not posted", "repo", ev.Repo, "run", ev.Run.ID)
		return nil
	}
	if s.cfg.GitHub == nil {
		return permanent(errors.New("a workflow_run arrived but no GitHub credentials are configured (GITHUB_TOKEN or a GitHub App)"))
	}
	run, err := s.cfg.GitHub.FetchRun(ctx, ev.Ref())
	if err != nil {
		err = s.githubError(err, ev.Repo)
		var ue *userError
		if errors.As(err, &ue) {
			// Visible: the channel learns that a failure could not be read, once.
			key := fmt.Sprintf("gh-error:%s:%d:%d", ev.Repo, ev.Run.ID, ev.Run.Attempt)
			msg := fmt.Sprintf("%s · %s failed (<%s|run #%d>), and I could not read it: %s", ev.Repo, workflowName(ev), ev.Run.HTMLURL, ev.Run.Number, ue.msg)
			if _, perr := s.postOnce(ctx, key, Target{Channel: channel}, Reply{Text: msg}); perr != nil {
				return perr
			}
			return nil
		}
		return err
	}
	if !Publishes(run) && !s.cfg.Routes.Watches(ev.Repo, ev.Run.Path) && len(run.Workflow) > 0 {
		s.logger.Info("the failed workflow does not publish; not posted", "repo", ev.Repo, "workflow", ev.Run.Path)
		return nil
	}
	start := time.Now()
	results, err := DiagnoseRun(ctx, s.cfg.Engine, run, s.cfg.Registry, s.logger)
	if err != nil {
		return s.diagnoseRunError(ctx, err) // a job stopped mid-scan runs again
	}
	secs := time.Since(start).Seconds()
	for i, res := range results {
		if len(run.Workflow) == 0 && res.Verdict == diagnose.NoKnownCause && !s.cfg.Routes.Watches(ev.Repo, ev.Run.Path) {
			continue // no workflow to say it publishes, no publish failure in the log
		}
		s.cfg.Metrics.DiagnosisDone(res.Verdict, topRule(res), secs)
		if err := s.triage(ctx, ev, run, run.FailedJobs[i], res, channel); err != nil {
			return err
		}
	}
	return nil
}

func workflowName(ev *Event) string {
	if ev.Run.Name != "" {
		return ev.Run.Name
	}
	return path.Base(ev.Run.Path)
}

func topRule(res *diagnose.Result) string {
	if len(res.Diagnoses) == 0 || res.Verdict == diagnose.NoKnownCause {
		return diagnose.NoKnownCause
	}
	return res.Diagnoses[0].ID
}

// diagnosisMeta is what a stored diagnosis knows of its run.
type diagnosisMeta struct {
	repo, workflow, branch, job string
	run                         int64
	attempt                     int
}

// saveResult stores a diagnosis (redacted) under key; a retried job gets the same id. The
// stored result is the JSON answer of the API (diagnose.Answer, one job's result), so a
// reader of the store meets the same schema as a reader of the CLI.
func (s *Service) saveResult(ctx context.Context, key, source string, res *diagnose.Result, m diagnosisMeta) (int64, error) {
	raw, err := json.Marshal(diagnose.NewAnswer(res))
	if err != nil {
		return 0, fmt.Errorf("encoding a diagnosis: %w", err)
	}
	if len(raw) > 256<<10 {
		slim := *res
		slim.Diagnoses = slim.Diagnoses[:min(3, len(slim.Diagnoses))]
		for i := range slim.Diagnoses {
			slim.Diagnoses[i].Evidence = slim.Diagnoses[i].Evidence[:min(10, len(slim.Diagnoses[i].Evidence))]
		}
		if raw, err = json.Marshal(diagnose.NewAnswer(&slim)); err != nil {
			return 0, fmt.Errorf("encoding a diagnosis: %w", err)
		}
	}
	d := &Diagnosis{
		Key: key, Source: source, Repo: diagnose.Redact(m.repo), RunID: m.run, Attempt: m.attempt,
		Workflow: diagnose.Redact(m.workflow), Branch: diagnose.Redact(m.branch), Job: diagnose.Redact(m.job),
		RuleID: topRule(res), Verdict: res.Verdict,
		Evidence: diagnose.Redact(excerpt(res)), Result: []byte(diagnose.Redact(string(raw))), CreatedAt: s.cfg.Now(),
	}
	if len(res.Diagnoses) > 0 {
		d.Confidence = res.Diagnoses[0].Confidence
	}
	id, err := s.cfg.Store.SaveDiagnosis(ctx, d)
	if err != nil {
		return 0, fmt.Errorf("storing a diagnosis: %w", err)
	}
	return id, nil
}

// excerpt is the top cause's evidence, a few lines.
func excerpt(res *diagnose.Result) string {
	if len(res.Diagnoses) == 0 {
		return res.Summary
	}
	var b strings.Builder
	for i, e := range res.Diagnoses[0].Evidence {
		if i == 5 {
			break
		}
		fmt.Fprintf(&b, "%d: %s\n", e.Line, e.Text)
	}
	return b.String()
}

// triage posts one failed job: the first failure of a fingerprint in the window opens a
// thread (its parent is the diagnosis); repeats reply in that thread and refresh the
// parent's count. Every step is idempotent, so a retried or rescued job posts nothing twice.
func (s *Service) triage(ctx context.Context, ev *Event, run *Run, job Job, res *diagnose.Result, channel string) error {
	now := s.cfg.Now()
	rule := topRule(res)
	member := fmt.Sprintf("gh:%s:%d:%d:%d", ev.Repo, ev.Run.ID, ev.Run.Attempt, job.ID)
	id, err := s.saveResult(ctx, member, "github", res, diagnosisMeta{repo: ev.Repo, workflow: ev.Run.Path, branch: ev.Run.HeadBranch, job: job.Name, run: ev.Run.ID, attempt: ev.Run.Attempt})
	if err != nil {
		return err
	}
	s.recordAnswer(ctx, id, res, string(job.Log))
	fp := strings.Join([]string{ev.Repo, ev.Run.Path, rule}, "|")
	th, created, err := s.cfg.Store.OpenThread(ctx, fp, ev.Repo, ev.Run.Path, ev.Run.HeadBranch, rule, channel, now.Add(-s.cfg.ThreadWindow), now)
	if err != nil {
		return fmt.Errorf("opening a triage thread: %w", err)
	}
	post, done, err := s.takeParent(ctx, &th, created, id, channel, now)
	if err != nil || done {
		return err
	}
	reply := Reply{Result: res, DiagnosisID: id, RunURL: ev.Run.HTMLURL, JobURL: job.HTMLURL, Title: title(ev, job)}
	if post {
		return s.postParent(ctx, th, member, id, channel, reply, now)
	}
	th, _, err = s.cfg.Store.AddMember(ctx, th.ID, Member{Key: member, Label: runLabel(ev)}, now)
	if err != nil {
		return fmt.Errorf("adding to a thread: %w", err)
	}
	return s.reply(ctx, th, member, reply)
}

// takeParent decides whether this job posts th's parent (diagnosis id): it does when it
// opened the thread, when it is the parent's poster run again before the post was
// recorded, or when it takes over from a poster that seems gone. done says nothing is
// left to do (the parent's poster run again after it posted). A parent an earlier
// poster posted without recording it in the thread is recorded in th.
func (s *Service) takeParent(ctx context.Context, th *Thread, created bool, id int64, channel string, now time.Time) (post, done bool, err error) {
	switch {
	case created:
		return true, false, nil
	case th.ParentDiagnosisID == id && th.ParentTS != "":
		// This job is the parent's poster, run again after a crash or a stop.
		return false, true, s.cfg.Store.SetDiagnosisMessage(ctx, id, channel, th.ParentTS, th.ID)
	case th.ParentDiagnosisID == id:
		return true, false, nil
	case th.ParentTS != "":
		return false, false, nil
	}
	// The parent's poster may have died between Slack's answer and recording it in the
	// thread: its post record then has the ts, and the thread can be completed now.
	if p, err := s.cfg.Store.LookupPost(ctx, fmt.Sprintf("parent:%d", th.ID)); err == nil && p.Done && p.TS != "" {
		if err := s.cfg.Store.SetThreadParent(ctx, th.ID, p.TS, th.ParentDiagnosisID); err != nil {
			return false, false, fmt.Errorf("recording a thread's parent: %w", err)
		}
		th.ParentTS = p.TS
		return false, false, nil
	}
	took, err := s.cfg.Store.ReclaimThread(ctx, th.ID, now.Add(-parentWait), now)
	if err != nil {
		return false, false, fmt.Errorf("reclaiming a triage thread: %w", err)
	}
	if !took {
		// Another job is posting this thread's parent: come back when it has.
		return false, false, retryAfter(time.Second, fmt.Errorf("thread %d's parent is being posted", th.ID))
	}
	return true, false, nil
}

// postParent posts the thread's parent (diagnosis id, the thread's first member) once
// and records it.
func (s *Service) postParent(ctx context.Context, th Thread, member string, id int64, channel string, reply Reply, now time.Time) error {
	th, _, err := s.cfg.Store.AddToThread(ctx, th.ID, member, now)
	if err != nil {
		return fmt.Errorf("adding to a thread: %w", err)
	}
	// The parent's diagnosis is recorded before the post, so that a job finding the
	// post done but the thread unfinished can complete it.
	if err := s.cfg.Store.SetThreadParent(ctx, th.ID, "", id); err != nil {
		return fmt.Errorf("recording a thread's parent: %w", err)
	}
	reply.Thread = &ThreadStatus{ThreadID: th.ID, Count: max(th.Count, 1), Since: th.FirstAt}
	ts, err := s.postOnce(ctx, fmt.Sprintf("parent:%d", th.ID), Target{Channel: channel}, reply)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.SetThreadParent(ctx, th.ID, ts, id); err != nil {
		return fmt.Errorf("recording a thread's parent: %w", err)
	}
	return s.cfg.Store.SetDiagnosisMessage(ctx, id, channel, ts, th.ID)
}

func title(ev *Event, job Job) string {
	t := fmt.Sprintf("%s · %s failed on %s (run #%d)", ev.Repo, workflowName(ev), ev.Run.HeadBranch, ev.Run.Number)
	if job.Name != "" {
		t += " · job " + job.Name
	}
	return t
}

// markFixed closes the open threads of a workflow and branch when a later run passes.
func (s *Service) markFixed(ctx context.Context, ev *Event) error {
	threads, err := s.cfg.Store.OpenThreadsFor(ctx, ev.Repo, ev.Run.Path, ev.Run.HeadBranch)
	if err != nil {
		return fmt.Errorf("finding open threads: %w", err)
	}
	now := s.cfg.Now()
	for _, th := range threads {
		if th.ParentTS == "" || !ev.Run.UpdatedAt.IsZero() && ev.Run.UpdatedAt.Before(th.FirstAt) {
			continue // not posted yet, or a green run older than the failure
		}
		if _, err := s.cfg.Store.ResolveThread(ctx, th.ID, int64(ev.Run.Number), now); err != nil {
			return fmt.Errorf("resolving thread %d: %w", th.ID, err)
		}
		if err := s.announceFixed(ctx, th.ID, ev); err != nil {
			return err
		}
	}
	return nil
}

// announceFixed says "fixed in run #N" in the thread and refreshes its parent; both are
// idempotent, so a retry after a crash completes what the first attempt began.
func (s *Service) announceFixed(ctx context.Context, id int64, ev *Event) error {
	th, err := s.cfg.Store.Thread(ctx, id)
	if err != nil {
		return fmt.Errorf("reading thread %d: %w", id, err)
	}
	if th.ResolvedRun != int64(ev.Run.Number) {
		return nil // another green run closed it first
	}
	msg := fmt.Sprintf("✅ Fixed in <%s|run #%d> — %s after the first failure.", ev.Run.HTMLURL, ev.Run.Number, humanDuration(th.ResolvedAt.Sub(th.FirstAt)))
	if _, err := s.postOnce(ctx, fmt.Sprintf("fixed:%d", th.ID), Target{Channel: th.Channel, ThreadTS: th.ParentTS}, Reply{Text: msg}); err != nil {
		return err
	}
	return s.refreshParent(ctx, th)
}

// refreshParent re-renders a thread's parent with its current count, owner and state.
func (s *Service) refreshParent(ctx context.Context, th Thread) error {
	if th.ParentTS == "" || th.ParentDiagnosisID == 0 {
		return nil
	}
	d, err := s.cfg.Store.Diagnosis(ctx, th.ParentDiagnosisID)
	if err != nil {
		return fmt.Errorf("reading a thread's diagnosis: %w", err)
	}
	var res diagnose.Result
	if err := json.Unmarshal(d.Result, &res); err != nil {
		return permanent(fmt.Errorf("decoding a stored diagnosis: %w", err))
	}
	st := &ThreadStatus{ThreadID: th.ID, Count: max(th.Count, 1), Since: th.FirstAt, AckedBy: th.AckedBy, ResolvedRun: th.ResolvedRun, ResolvedAt: th.ResolvedAt}
	reply := Reply{Result: &res, DiagnosisID: d.ID, Thread: st, Title: parentTitle(d)}
	done, err := s.pacer.wait(ctx, th.Channel)
	if err != nil {
		return err
	}
	err = s.cfg.Messenger.Update(ctx, th.Channel, th.ParentTS, reply)
	done(true, err)
	if err != nil {
		return s.slackError("updating a thread's parent", err)
	}
	s.cfg.Metrics.Posted("update")
	return nil
}

func parentTitle(d *Diagnosis) string {
	t := fmt.Sprintf("%s · %s failed", d.Repo, path.Base(d.Workflow))
	if d.Branch != "" {
		t += " on " + d.Branch
	}
	return t
}

// postOnce posts r under key at most once across retries, crashes and replicas: the
// claim is recorded before the post and the ts after it; a claim without a ts means an
// earlier attempt died mid-post, and Slack is asked whether that post went through.
func (s *Service) postOnce(ctx context.Context, key string, t Target, r Reply) (string, error) {
	// The channel's turn comes before the claim: a job snoozed for its turn has not
	// claimed, and need not ask Slack what it posted when it comes back.
	done, err := s.pacer.wait(ctx, t.Channel)
	if err != nil {
		return "", err
	}
	sent, postErr := false, error(nil)
	defer func() { done(sent, postErr) }()
	now := s.cfg.Now()
	p, err := s.cfg.Store.ClaimPost(ctx, key, now)
	if err != nil {
		return "", fmt.Errorf("claiming a post: %w", err)
	}
	if p.Done {
		return p.TS, nil
	}
	if p.Claims > 1 {
		since := p.ClaimedAt.Add(-10 * time.Minute)
		ts, found, err := s.cfg.Messenger.FindPosted(ctx, t.Channel, t.ThreadTS, key, since)
		switch {
		case err != nil:
			s.logger.Warn("could not tell whether an earlier attempt posted; posting", "key", key, "err", err)
		case found:
			return ts, s.cfg.Store.FinishPost(ctx, key, t.Channel, ts)
		}
	}
	r.Key = key
	ts, err := s.cfg.Messenger.Post(ctx, t, r)
	sent, postErr = true, err
	if err != nil {
		return "", s.slackError("posting", err)
	}
	s.cfg.Metrics.Posted("post")
	if err := s.cfg.Store.FinishPost(ctx, key, t.Channel, ts); err != nil {
		return "", fmt.Errorf("recording a post: %w", err)
	}
	return ts, nil
}

// slackError counts a Slack failure and passes it on with its retry semantics.
func (s *Service) slackError(doing string, err error) error {
	switch {
	case isRetryAfter(err):
		s.cfg.Metrics.APIError("slack", "rate_limited")
	case isPermanent(err):
		s.cfg.Metrics.APIError("slack", "permanent")
	default:
		s.cfg.Metrics.APIError("slack", "transient")
	}
	return fmt.Errorf("%s to Slack: %w", doing, err)
}

// timeUntil is how long until t, at least a second and at most an hour; a minute when t
// is unknown.
func timeUntil(t, now time.Time) time.Duration {
	if t.IsZero() {
		return time.Minute
	}
	return min(max(t.Sub(now), time.Second), time.Hour)
}
