package bot

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// slackAttempts is how often a chat request is tried before the person is told it
// failed: they are waiting, so it is fewer than a webhook's.
const slackAttempts = 4

// userError is a failure to tell the person who asked, in words they can act on.
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

func tell(format string, args ...any) error { return &userError{fmt.Sprintf(format, args...)} }

var reRunURL = lazyre.New(`https?://[^\s<>|]+/(?:actions/runs/\d+|runs/\d+)[^\s<>|]*`)

// DefaultChatTimeout is Config.ChatTimeout's default: under the store's job timeout
// (store.DefaultJobTimeout, 2 minutes), with time left to post the answer.
const DefaultChatTimeout = 90 * time.Second

// errChatTimeout is the cause of a chat request's context when its time is up.
var errChatTimeout = errors.New("the chat request's time is up")

// handleRequest answers one chat request: gather the log (text, files or a run), diagnose,
// store, reply in the thread. Failures the person can act on are told to them ephemerally;
// transient ones are retried, and told on the last attempt. Gathering gets ChatTimeout:
// past it the person is answered with what was read by then, and the job ends.
func (s *Service) handleRequest(ctx context.Context, req Request, attempt, maxAttempts int) error {
	start := time.Now()
	gctx, cancel := context.WithTimeoutCause(ctx, s.cfg.ChatTimeout, errChatTimeout)
	answers, runURL, jobURL, note, err := s.gather(gctx, req)
	timedOut := err != nil && ctx.Err() == nil && errors.Is(context.Cause(gctx), errChatTimeout)
	cancel()
	if timedOut {
		return s.answerTimeout(ctx, req, answers, runURL, jobURL, note, time.Since(start))
	}
	if err == nil {
		err = s.replyResults(ctx, req, answers, runURL, jobURL, note, time.Since(start).Seconds())
	}
	if err == nil {
		return nil
	}
	var ue *userError
	last := attempt >= min(slackAttempts, max(maxAttempts, 1))
	switch {
	case errors.As(err, &ue):
		// told below, not retried
	case isRetryAfter(err) && !last:
		return err
	case !isPermanent(err) && !last:
		return err
	}
	msg := err.Error()
	if ue == nil {
		// Not logged here: the store logs the job's outcome (given up) once, with err.
		msg = "Sorry — I could not finish this: " + diagnose.Redact(msg) + ". Try again in a few minutes."
	}
	if req.Kind == "file" && !req.Direct && ue != nil {
		return nil // a file shared in a channel was not a question: stay quiet
	}
	if terr := s.tellOnce(ctx, req, msg); terr != nil {
		return terr
	}
	if ue != nil {
		return nil
	}
	return permanent(err)
}

// answerTimeout answers a request whose time ran out: the results gathered by then, with
// a word on what was left, or that word alone (to the person who asked; not for a file
// shared in a channel, which was not a question). The job then ends, given up, so that
// its one log line says why: a retry would take as long again.
func (s *Service) answerTimeout(ctx context.Context, req Request, results []answer, runURL, jobURL, note string, took time.Duration) error {
	limit := s.cfg.ChatTimeout.String()
	if s.cfg.ChatTimeout >= time.Second {
		limit = fmt.Sprintf("%d s", int(s.cfg.ChatTimeout.Round(time.Second)/time.Second))
	}
	if len(results) > 0 {
		msg := fmt.Sprintf("This took longer than %s, so I stopped: here is what I had. Share the rest in smaller files, or the failing job's log alone.", limit)
		if note != "" {
			msg = note + "\n" + msg
		}
		if err := s.replyResults(ctx, req, results, runURL, jobURL, msg, took.Seconds()); err != nil {
			return err
		}
	} else if req.Kind != "file" || req.Direct {
		msg := fmt.Sprintf("This took longer than %s, so I stopped before I had an answer. Try a smaller file, or share the failing job's log alone.", limit)
		if err := s.tellOnce(ctx, req, msg); err != nil {
			return err
		}
	}
	return permanent(fmt.Errorf("the request took longer than %s; answered with what was read (%d results)", s.cfg.ChatTimeout, len(results)))
}

func isRetryAfter(err error) bool {
	var ra RetryAfterError
	return errors.As(err, &ra)
}

// tellOnce shows msg to the person who asked, once per request.
func (s *Service) tellOnce(ctx context.Context, req Request, msg string) error {
	key := "tell:" + req.DeliveryID
	p, err := s.cfg.Store.ClaimPost(ctx, key, s.cfg.Now())
	if err != nil {
		return fmt.Errorf("recording a message: %w", err)
	}
	if p.Done {
		return nil
	}
	t := Target{Channel: req.Channel, ThreadTS: req.ThreadTS, User: req.User, ResponseURL: req.ResponseURL}
	if err := s.cfg.Messenger.Ephemeral(ctx, t, Reply{Text: msg}); err != nil {
		return fmt.Errorf("telling %s: %w", req.User, err)
	}
	s.cfg.Metrics.Posted("ephemeral")
	return s.cfg.Store.FinishPost(ctx, key, req.Channel, "")
}

// Budgets of one chat message, over all its files: the text read once decompressed, and
// the job results (one reply each) its run-log zips yield. What they leave out is said in
// the answer.
const (
	MaxMessageTextBytes = 64 << 20
	MaxMessageJobs      = 8
)

// answer is one result of a chat request with the text it was diagnosed from (the paste,
// a file's decoded text, a job's log), which the store learns from (RecordAnswer).
type answer struct {
	res *diagnose.Result
	log string
}

// gather turns a request into results: a run URL is read from GitHub (when this channel
// may ask about the repository), files are fetched, text is diagnosed as it is. note says
// what the message's budget (MaxMessageTextBytes, MaxMessageJobs) left out, if anything.
func (s *Service) gather(ctx context.Context, req Request) (results []answer, runURL, jobURL, note string, err error) {
	text := strings.TrimSpace(req.Text)
	if u := reRunURL.Get().FindString(text); u != "" && len(text) < len(u)+200 && len(req.Files) == 0 {
		results, jobURL, err = s.askRun(ctx, req, u)
		return results, u, jobURL, "", err
	}
	results, note, err = s.gatherFiles(ctx, req)
	if err != nil {
		return results, "", "", note, err // with what was read, when the time ran out
	}
	if len(results) > 0 {
		return results, "", "", note, nil
	}
	if len(text) < 20 || !strings.Contains(text, "\n") && !strings.Contains(strings.ToLower(text), "err") {
		return nil, "", "", "", tell("I found no log in that message. Paste the failing step's log after mentioning me (or after `/pubdoc`), share the .log file, or give me the run URL.")
	}
	res, err := s.cfg.Engine.DiagnoseContext(ctx, strings.NewReader(text), nil)
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", "", "", fmt.Errorf("diagnosing the text: %w", err)
		}
		return nil, "", "", "", tell("I could not read that as a log: %v.", err)
	}
	return []answer{{res: res, log: text}}, "", "", "", nil
}

// gatherFiles diagnoses the files of a request within the message's budget; note says
// what the budget left out.
func (s *Service) gatherFiles(ctx context.Context, req Request) (results []answer, note string, err error) {
	budget := &diagnose.Budget{MaxBytes: MaxMessageTextBytes, MaxJobs: MaxMessageJobs}
	var notes, skipped []string
	for _, f := range req.Files {
		if strings.Contains(f.URL, "[REDACTED") {
			// Accept redacted a secret out of the file's name, and so out of its URL.
			return nil, "", tell("The name of %s looks like it holds a secret, which I did not keep; rename the file and share it again.", f.Name)
		}
		if budget.Spent() || budget.JobsLeft() == 0 {
			skipped = append(skipped, slackText(f.Name))
			continue // not even downloaded
		}
		data, err := s.cfg.Messenger.Download(ctx, f, s.cfg.MaxFileBytes)
		switch {
		case ctx.Err() != nil:
			// Out of time: what was read so far goes back with the error.
			return results, strings.Join(notes, "\n"), fmt.Errorf("downloading %s: %w", f.Name, context.Cause(ctx))
		case errors.Is(err, ErrTooLarge):
			return nil, "", tell("%s is too large for me (the limit is %d MB): share the failing job's log alone, or give me the run URL.", f.Name, s.cfg.MaxFileBytes>>20)
		case err != nil:
			return nil, "", fmt.Errorf("downloading %s: %w", f.Name, err)
		}
		rs, fnote, err := s.diagnoseBytes(ctx, f.Name, data, budget)
		if err != nil {
			if ctx.Err() != nil {
				return results, strings.Join(notes, "\n"), fmt.Errorf("diagnosing %s: %w", f.Name, err)
			}
			return nil, "", tell("I could not read %s: %v.", f.Name, err)
		}
		if fnote != "" {
			notes = append(notes, fnote)
		}
		for _, r := range rs {
			if r.res.Job == "" && len(req.Files) > 1 {
				r.res.Job = f.Name
			}
		}
		results = append(results, rs...)
	}
	if len(skipped) > 0 {
		notes = append(notes, fmt.Sprintf("I did not read %s: one message gets at most %d MB of text and %d job diagnoses, and the files before used them up: share the rest in another message.",
			strings.Join(skipped, ", "), MaxMessageTextBytes>>20, MaxMessageJobs))
	}
	return results, strings.Join(notes, "\n"), nil
}

// slackText is a name a person chose, made safe to show in a message: Slack's control
// characters (&, <, >) escaped, so that it cannot mention a channel or forge a link.
func slackText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// askRun is auto mode for a run URL named in chat.
func (s *Service) askRun(ctx context.Context, req Request, u string) ([]answer, string, error) {
	if s.cfg.GitHub == nil {
		return nil, "", tell("I have no GitHub access configured (GITHUB_TOKEN, or a GitHub App), so I cannot read runs. Paste the failing job's log instead.")
	}
	ref, host, err := s.cfg.GitHub.ParseRunURL(u)
	if err != nil {
		return nil, "", tell("That does not look like a GitHub Actions run or job link: %v", err)
	}
	if want := s.githubHost(); host != want {
		return nil, "", tell("That run is on %s, but I read runs only from %s (GITHUB_API_URL): give me a link to a run there, or paste the failing job's log.", host, want)
	}
	repo := ref.Owner + "/" + ref.Repo
	if !s.cfg.Routes.Allowed(req.Channel, repo) {
		return nil, "", tell("This channel may not ask about %s. An admin can allow it in the routes file (PUBDOC_ROUTES: a route naming %s with this channel in allow_channels).", repo, repo)
	}
	run, err := s.cfg.GitHub.FetchRun(ctx, ref)
	if err != nil {
		return nil, "", s.githubError(err, repo)
	}
	if len(run.FailedJobs) == 0 {
		return nil, "", tell("Run %d of %s has no failed job (it concluded %q).", ref.RunID, repo, run.Conclusion)
	}
	results, err := DiagnoseRun(ctx, s.cfg.Engine, run, s.cfg.Registry, s.logger)
	if err != nil {
		return nil, "", s.diagnoseRunError(ctx, err)
	}
	answers := make([]answer, len(results))
	for i, res := range results {
		// DiagnoseRun gives one result per failed job, in order.
		answers[i] = answer{res: res, log: string(run.FailedJobs[i].Log)}
	}
	return answers, run.FailedJobs[0].HTMLURL, nil
}

// diagnoseRunError sorts a failed DiagnoseRun: cut short by the context, it is passed on
// as it is (a stopped job runs again; a chat request past its time is answered);
// otherwise retrying cannot help.
func (s *Service) diagnoseRunError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return err
	}
	return permanent(err)
}

// githubHost is the host whose run URLs may be read: the GitHub adapter's (github.com,
// or the Enterprise Server host of GITHUB_API_URL), github.com when it does not say.
func (s *Service) githubHost() string {
	if h := s.cfg.GitHub.WebHost(); h != "" {
		return h
	}
	return "github.com"
}

// githubError sorts a GitHub failure: rate limits wait, what retrying cannot mend is told,
// the rest is retried.
func (s *Service) githubError(err error, repo string) error {
	var rl RateLimited
	switch {
	case errors.As(err, &rl):
		s.cfg.Metrics.APIError("github", "rate_limited")
		wait := timeUntil(rl.RateLimitReset(), s.cfg.Now())
		return retryAfter(wait, err)
	case errors.Is(err, ErrLogsExpired):
		s.cfg.Metrics.APIError("github", "permanent")
		return tell("GitHub no longer has the logs of that run (it keeps them 90 days by default). Paste the log if you still have it.")
	case errors.Is(err, ErrRunNotFound), errors.Is(err, ErrGitHubForbidden), errors.Is(err, ErrGitHubUnauthorized):
		s.cfg.Metrics.APIError("github", "permanent")
		return tell("GitHub would not show me that run of %s: %v", repo, err)
	}
	s.cfg.Metrics.APIError("github", "transient")
	return fmt.Errorf("GitHub is not answering (%w)", err)
}

// diagnoseBytes reads a shared file within the message's budget: a run-log zip (one
// result per failed job), gzip, UTF-16 or plain text. note says what the budget left out
// of it ("read the first 64 MB of x.gz").
func (s *Service) diagnoseBytes(ctx context.Context, name string, data []byte, budget *diagnose.Budget) (results []answer, note string, err error) {
	name = slackText(name)
	if diagnose.Sniff(data[:min(len(data), 4)]) == diagnose.KindZip {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return nil, "", fmt.Errorf("not a readable zip: %w", err)
		}
		logs := map[string]*strings.Builder{} // each job's text as diagnosed, for the store to learn from
		keep := func(job string) io.Writer {
			logs[job] = &strings.Builder{}
			return logs[job]
		}
		rs, rep, err := s.cfg.Engine.DiagnoseZipKeep(ctx, zr, budget, keep)
		if err != nil {
			return nil, "", err
		}
		for _, res := range rs {
			a := answer{res: res}
			if l := logs[res.Job]; l != nil {
				a.log = l.String()
			}
			results = append(results, a)
		}
		switch {
		case rep.JobCapped:
			note = fmt.Sprintf("I diagnosed %d of the %d job logs in %s, the first that failed (at most %d per message); the others were not read.", rep.Returned, rep.Jobs, name, MaxMessageJobs)
		case rep.Cut:
			note = fmt.Sprintf("I read only part of %s: %d of its %d job logs, up to the limit of %d MB of text per message; the rest was not read.", name, rep.Read, rep.Jobs, MaxMessageTextBytes>>20)
		}
		return results, note, nil
	}
	text, kind, err := diagnose.TextReader(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return nil, "", err
	}
	before := budget.Read()
	br := budget.Reader(text)
	var read strings.Builder // the text diagnosed, for the store to learn from
	res, err := s.cfg.Engine.DiagnoseContext(ctx, io.TeeReader(br, &read), nil)
	if err != nil {
		return nil, "", err
	}
	if br.Cut() {
		what := "of"
		if kind == diagnose.KindGzip {
			what = "of the text in"
		}
		note = fmt.Sprintf("I read the first %s %s %s (at most %d MB of text per message); the diagnosis is of that part.",
			mb(budget.Read()-before), what, name, MaxMessageTextBytes>>20)
	}
	return []answer{{res: res, log: read.String()}}, note, nil
}

// mb writes a byte count in MB, one decimal below 10.
func mb(n int64) string {
	if n < 10<<20 {
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d MB", n>>20)
}

// replyResults stores each result and posts it in the asker's thread.
func (s *Service) replyResults(ctx context.Context, req Request, results []answer, runURL, jobURL, note string, secs float64) error {
	quiet := req.Kind == "file" && !req.Direct
	for i, a := range results {
		res := a.res
		if quiet && res.Verdict == diagnose.NoKnownCause {
			continue // a file shared in a channel, with nothing Pubdoc knows: not a question
		}
		s.cfg.Metrics.DiagnosisDone(res.Verdict, topRule(res), secs)
		key := fmt.Sprintf("slack:%s:%d", req.DeliveryID, i)
		id, err := s.saveResult(ctx, key, "slack", res, s.runMeta(runURL))
		if err != nil {
			return err
		}
		s.recordAnswer(ctx, id, res, a.log)
		t := Target{Channel: req.Channel, ThreadTS: req.ThreadTS, User: req.User, ResponseURL: req.ResponseURL}
		ts, err := s.postOnce(ctx, key, t, Reply{Result: res, DiagnosisID: id, RunURL: runURL, JobURL: jobURL, Text: note})
		note = "" // said once, on the first reply
		if err != nil {
			return err
		}
		if err := s.cfg.Store.SetDiagnosisMessage(ctx, id, req.Channel, ts, 0); err != nil {
			return fmt.Errorf("recording the reply: %w", err)
		}
	}
	return nil
}
