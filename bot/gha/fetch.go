package gha

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-github/v89/github"
	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

const (
	// maxJobPages bounds the jobs listing: 10 pages of 100 jobs is past any real run.
	maxJobPages = 10
	// maxCallees bounds how many reusable workflow files one run fetches.
	maxCallees = 20
	// maxWorkflowBytes bounds one workflow file; GitHub's contents API serves files up to
	// 1 MiB inline, and a workflow near that size is not a workflow people write.
	maxWorkflowBytes = 1 << 20
	// logBudgetFactor: all of a run's job logs together are capped at this many times
	// MaxLogBytes, so a matrix of failed jobs cannot multiply the per-job cap.
	logBudgetFactor = 4
	// maxArchiveEntries bounds the files of a run's log archive: one per step per job.
	maxArchiveEntries = 20000
	// maxRedirects is how many 301s go-github follows on the way to a logs endpoint's 302.
	maxRedirects = 3
)

// Run is what FetchRun learned about a workflow run (the bot's type: its metadata, its
// failed jobs with their logs, the workflow files it ran at its commit).
type Run = bot.Run

// Job is one job of a run (the bot's type); Log is at most Config.MaxLogBytes.
type Job = bot.Job

// FetchRun reads a run: its metadata, its failed jobs (or the one job ref names), each
// failed job's log, and the workflow file and same-repository reusable workflows at the
// run's head commit.
//
// Errors say what was being fetched and wrap ErrNotFound, ErrLogsExpired,
// ErrUnauthorized, ErrForbidden, ErrTooLarge or a *RateLimitError when one of them
// applies. They never contain the token or the private key.
func (c *Client) FetchRun(ctx context.Context, ref RunRef) (*Run, error) {
	if err := validRef(ref); err != nil {
		return nil, fmt.Errorf("fetching a run: %w", err)
	}
	run, err := c.fetchRun(ctx, ref)
	if err != nil {
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotFound) {
			c.forget(ref.Owner, ref.Repo)
		}
		return nil, c.redact.err(err)
	}
	return run, nil
}

func (c *Client) fetchRun(ctx context.Context, ref RunRef) (*Run, error) {
	gh, err := c.api(ctx, ref.Owner, ref.Repo)
	if err != nil {
		return nil, err
	}
	repo := ref.Owner + "/" + ref.Repo

	var named *github.WorkflowJob
	if ref.JobID != 0 {
		named, _, err = gh.Actions.GetWorkflowJobByID(ctx, ref.Owner, ref.Repo, ref.JobID)
		if err != nil {
			return nil, fmt.Errorf("fetching job %d of %s: %w", ref.JobID, repo, classify(err, false))
		}
		switch {
		case ref.RunID == 0:
			ref.RunID = named.GetRunID()
			if ref.RunID == 0 {
				return nil, fmt.Errorf("fetching job %d of %s: GitHub did not say which run it belongs to", ref.JobID, repo)
			}
		case named.GetRunID() != ref.RunID:
			return nil, fmt.Errorf("job %d of %s belongs to run %d, not run %d", ref.JobID, repo, named.GetRunID(), ref.RunID)
		}
	}

	var wr *github.WorkflowRun
	if ref.Attempt > 0 {
		wr, _, err = gh.Actions.GetWorkflowRunAttempt(ctx, ref.Owner, ref.Repo, ref.RunID, ref.Attempt, nil)
	} else {
		wr, _, err = gh.Actions.GetWorkflowRunByID(ctx, ref.Owner, ref.Repo, ref.RunID)
	}
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, classify(err, false))
	}
	run := &Run{
		Ref:          ref,
		WorkflowPath: workflowPath(wr.GetPath()),
		WorkflowName: wr.GetName(),
		Event:        wr.GetEvent(),
		HeadSHA:      wr.GetHeadSHA(),
		HeadBranch:   wr.GetHeadBranch(),
		Conclusion:   wr.GetConclusion(),
		HTMLURL:      wr.GetHTMLURL(),
		Attempt:      wr.GetRunAttempt(),
	}

	jobs := []*github.WorkflowJob{named}
	if named == nil {
		if jobs, err = c.failedJobs(ctx, gh, ref); err != nil {
			return nil, err
		}
	}
	archives := map[int]*zip.Reader{}
	budget := logBudgetFactor * c.maxLogBytes
	for _, j := range jobs {
		job := Job{
			ID:          j.GetID(),
			Name:        j.GetName(),
			Conclusion:  j.GetConclusion(),
			HTMLURL:     j.GetHTMLURL(),
			FailedSteps: failedSteps(j),
		}
		limit := min(c.maxLogBytes, budget)
		if limit <= 0 {
			c.logger.Warn("log budget spent; job listed without its log", "run", ref.String(), "job_id", job.ID)
			job.LogTruncated = true
			run.FailedJobs = append(run.FailedJobs, job)
			continue
		}
		job.Log, job.LogTruncated, err = c.jobLog(ctx, gh, ref, j, limit, archives)
		if err != nil {
			return nil, err
		}
		budget -= int64(len(job.Log))
		run.FailedJobs = append(run.FailedJobs, job)
	}

	if err := c.workflows(ctx, gh, run); err != nil {
		return nil, err
	}
	c.logger.Debug("fetched run", "run", ref.String(), "workflow", run.WorkflowPath, "failed_jobs", len(run.FailedJobs), "callees", len(run.Callees))
	return run, nil
}

// workflowPath returns the repository path of a run's workflow file: the API has at
// times suffixed it with @ref. Dynamic workflows (Dependabot, default CodeQL setup) keep
// their path, which names no file; workflows() skips those.
func workflowPath(p string) string {
	if i := strings.IndexByte(p, '@'); i >= 0 {
		p = p[:i]
	}
	return p
}

// safeWorkflowPath accepts the files GitHub runs workflows from: .github/workflows/*.yml.
func safeWorkflowPath(p string) bool {
	return strings.HasPrefix(p, ".github/workflows/") &&
		(strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) &&
		path.Clean(p) == p && !strings.Contains(p, "..")
}

// failedJobs lists the jobs of the run (of its latest attempt, or of ref.Attempt) that
// failed or timed out.
func (c *Client) failedJobs(ctx context.Context, gh *github.Client, ref RunRef) ([]*github.WorkflowJob, error) {
	var failed []*github.WorkflowJob
	opts := github.ListOptions{PerPage: 100}
	for page := 0; page < maxJobPages; page++ {
		var (
			jobs *github.Jobs
			resp *github.Response
			err  error
		)
		if ref.Attempt > 0 {
			jobs, resp, err = gh.Actions.ListWorkflowJobsAttempt(ctx, ref.Owner, ref.Repo, ref.RunID, int64(ref.Attempt), &opts)
		} else {
			jobs, resp, err = gh.Actions.ListWorkflowJobs(ctx, ref.Owner, ref.Repo, ref.RunID, &github.ListWorkflowJobsOptions{Filter: "latest", ListOptions: opts})
		}
		if err != nil {
			return nil, fmt.Errorf("listing the jobs of %s: %w", ref, classify(err, false))
		}
		for _, j := range jobs.Jobs {
			switch j.GetConclusion() {
			case "failure", "timed_out":
				failed = append(failed, j)
			}
		}
		if resp.NextPage == 0 {
			return failed, nil
		}
		opts.Page = resp.NextPage
	}
	c.logger.Warn("run has more jobs than are listed", "run", ref.String(), "pages", maxJobPages)
	return failed, nil
}

func failedSteps(j *github.WorkflowJob) []string {
	var names []string
	for _, s := range j.Steps {
		if s.GetConclusion() == "failure" {
			names = append(names, s.GetName())
		}
	}
	return names
}

// jobLog reads one job's log from the per-job endpoint, falling back to the run's log
// archive when that fails for a reason another endpoint might not share.
func (c *Client) jobLog(ctx context.Context, gh *github.Client, ref RunRef, j *github.WorkflowJob, limit int64, archives map[int]*zip.Reader) ([]byte, bool, error) {
	what := fmt.Sprintf("the log of job %d (%q) of %s/%s", j.GetID(), j.GetName(), ref.Owner, ref.Repo)
	u, _, err := gh.Actions.GetWorkflowJobLogs(ctx, ref.Owner, ref.Repo, j.GetID(), maxRedirects)
	if err == nil {
		var b []byte
		var truncated bool
		b, truncated, err = c.get(ctx, u, limit)
		if err == nil {
			if truncated {
				c.logger.Info("job log truncated", "job_id", j.GetID(), "max_bytes", limit)
			}
			return b, truncated, nil
		}
	} else {
		err = classify(err, true)
	}
	if ctx.Err() != nil || !transient(err) {
		return nil, false, fmt.Errorf("fetching %s: %w", what, err)
	}
	c.logger.Warn("per-job log endpoint failed; trying the run's log archive", "job_id", j.GetID(), "error", c.redact.err(err).Error())

	b, truncated, zerr := c.archiveLog(ctx, gh, ref, j, limit, archives)
	switch {
	case zerr == nil:
		return b, truncated, nil
	case errors.Is(err, ErrLogsExpired) && errors.Is(zerr, ErrLogsExpired):
		return nil, false, fmt.Errorf("fetching %s (per job, then as the run's archive): %w", what, zerr)
	default:
		return nil, false, fmt.Errorf("fetching %s: %w; from the run's log archive: %w", what, err, zerr)
	}
}

// archiveLog finds a job's log in the run's log archive (a zip of every job's log),
// downloaded once per attempt and FetchRun call.
func (c *Client) archiveLog(ctx context.Context, gh *github.Client, ref RunRef, j *github.WorkflowJob, limit int64, archives map[int]*zip.Reader) ([]byte, bool, error) {
	attempt := int(j.GetRunAttempt())
	zr, ok := archives[attempt]
	if !ok {
		var (
			u   *url.URL
			err error
		)
		if attempt > 0 {
			u, _, err = gh.Actions.GetWorkflowRunAttemptLogs(ctx, ref.Owner, ref.Repo, ref.RunID, attempt, maxRedirects)
		} else {
			u, _, err = gh.Actions.GetWorkflowRunLogs(ctx, ref.Owner, ref.Repo, ref.RunID, maxRedirects)
		}
		if err != nil {
			return nil, false, classify(err, true)
		}
		// The archive is compressed; the cap on what is unpacked from it is limit.
		maxZip := logBudgetFactor * c.maxLogBytes
		b, truncated, err := c.get(ctx, u, maxZip)
		if err != nil {
			return nil, false, err
		}
		if truncated {
			return nil, false, fmt.Errorf("%w: the run's log archive is larger than %d bytes", ErrTooLarge, maxZip)
		}
		zr, err = zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, false, fmt.Errorf("reading the run's log archive: %w", err)
		}
		archives[attempt] = zr
	}
	return archiveJobLog(zr, j.GetName(), limit)
}

// archiveJobLog finds a job in a run's log archive. GitHub stores each job twice: whole
// at the root ("2_publish.txt"), and as a folder of step files ("publish/6_Run npm
// publish.txt"). The whole file is preferred: its line numbers are the ones GitHub shows.
func archiveJobLog(zr *zip.Reader, job string, limit int64) ([]byte, bool, error) {
	if len(zr.File) > maxArchiveEntries {
		return nil, false, fmt.Errorf("%w: the run's log archive has %d entries (limit %d)", ErrTooLarge, len(zr.File), maxArchiveEntries)
	}
	want := zipName(job)
	var steps []*zip.File
	for _, f := range zr.File {
		dir, base := path.Split(strings.TrimPrefix(f.Name, "/"))
		if !strings.HasSuffix(base, ".txt") || f.FileInfo().IsDir() {
			continue
		}
		name, _ := stepOrder(strings.TrimSuffix(base, ".txt"))
		switch {
		case dir == "" && zipName(name) == want:
			return readArchived([]*zip.File{f}, limit)
		case dir != "" && zipName(strings.TrimSuffix(dir, "/")) == want:
			steps = append(steps, f)
		}
	}
	if len(steps) == 0 {
		return nil, false, fmt.Errorf("the run's log archive has no log for job %q", job)
	}
	slices.SortStableFunc(steps, func(a, b *zip.File) int {
		_, na := stepOrder(strings.TrimSuffix(path.Base(a.Name), ".txt"))
		_, nb := stepOrder(strings.TrimSuffix(path.Base(b.Name), ".txt"))
		return na - nb
	})
	return readArchived(steps, limit)
}

// readArchived concatenates archive files, reading at most limit bytes in all: the
// declared sizes of a zip are not trusted.
func readArchived(files []*zip.File, limit int64) ([]byte, bool, error) {
	var buf bytes.Buffer
	for _, f := range files {
		rc, err := f.Open()
		if err != nil {
			return nil, false, fmt.Errorf("reading %q in the run's log archive: %w", f.Name, err)
		}
		left := limit - int64(buf.Len())
		n, err := io.Copy(&buf, io.LimitReader(rc, left+1))
		_ = rc.Close() // read-only
		if err != nil {
			return nil, false, fmt.Errorf("reading %q in the run's log archive: %w", f.Name, err)
		}
		if n > left {
			return buf.Bytes()[:limit], true, nil
		}
	}
	return buf.Bytes(), false, nil
}

// stepOrder splits GitHub's "6_Run npm publish" into the name and its order.
func stepOrder(s string) (string, int) {
	if i := strings.IndexByte(s, '_'); i > 0 {
		if n, err := strconv.Atoi(s[:i]); err == nil && n >= 0 {
			return s[i+1:], n
		}
	}
	return s, 1 << 30
}

// zipName compares job names as the run's log archive spells them: GitHub drops the
// characters file names cannot hold ("build / npm" is stored as "build  npm").
func zipName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) {
			return -1
		}
		return r
	}, name)
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// get downloads the URL a logs endpoint redirected to, reading at most limit bytes.
// The URL is signed, so neither it nor its query is ever logged or put in an error.
func (c *Client) get(ctx context.Context, u *url.URL, limit int64) ([]byte, bool, error) {
	if u == nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, false, errors.New("GitHub redirected the download to an unusable location")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, errors.New("GitHub redirected the download to an unusable location")
	}
	resp, err := c.download.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, false, fmt.Errorf("downloading from %s: %w", u.Host, err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only
	if resp.StatusCode != http.StatusOK {
		ae := &apiError{status: resp.StatusCode, message: http.StatusText(resp.StatusCode)}
		switch resp.StatusCode {
		case http.StatusNotFound, http.StatusGone, http.StatusForbidden:
			// An expired or deleted blob; a signed URL that no longer grants access.
			ae.kind = ErrLogsExpired
		}
		return nil, false, fmt.Errorf("downloading from %s: %w", u.Host, ae)
	}
	b, truncated, err := readCapped(resp.Body, limit)
	if err != nil {
		return nil, false, fmt.Errorf("downloading from %s: %w", u.Host, err)
	}
	return b, truncated, nil
}

// workflows reads the run's workflow file at its head commit, then the reusable
// workflows it calls from its own repository, breadth first.
func (c *Client) workflows(ctx context.Context, gh *github.Client, run *Run) error {
	if run.HeadSHA == "" || !safeWorkflowPath(run.WorkflowPath) {
		c.logger.Info("run has no workflow file to read", "run", run.Ref.String(), "path", run.WorkflowPath)
		return nil
	}
	wf, err := c.file(ctx, gh, run.Ref, run.WorkflowPath, run.HeadSHA)
	if errors.Is(err, ErrNotFound) {
		c.logger.Warn("workflow file not found at the run's commit", "run", run.Ref.String(), "path", run.WorkflowPath, "sha", run.HeadSHA)
		return nil
	}
	if err != nil {
		return err
	}
	run.Workflow = wf
	seen := map[string]bool{run.WorkflowPath: true}
	queue := localCallees(wf)
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		if len(run.Callees) >= maxCallees {
			c.logger.Warn("too many reusable workflows; reading no more", "run", run.Ref.String(), "max", maxCallees)
			break
		}
		b, err := c.file(ctx, gh, run.Ref, p, run.HeadSHA)
		if errors.Is(err, ErrNotFound) {
			c.logger.Warn("called workflow not found at the run's commit", "run", run.Ref.String(), "path", p)
			continue
		}
		if err != nil {
			return err
		}
		if run.Callees == nil {
			run.Callees = map[string][]byte{}
		}
		run.Callees[p] = b
		queue = append(queue, localCallees(b)...)
	}
	pkg, err := c.file(ctx, gh, run.Ref, "package.json", run.HeadSHA)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		c.logger.Warn("package.json could not be read", "run", run.Ref.String(), "err", err)
	default:
		run.PackageJSON = pkg
	}
	return nil
}

// file reads one file of the run's repository at sha through the contents API.
func (c *Client) file(ctx context.Context, gh *github.Client, ref RunRef, p, sha string) ([]byte, error) {
	what := fmt.Sprintf("%s at %s in %s/%s", p, shortSHA(sha), ref.Owner, ref.Repo)
	fc, _, _, err := gh.Repositories.GetContents(ctx, ref.Owner, ref.Repo, p, &github.RepositoryContentGetOptions{Ref: sha})
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", what, classify(err, false))
	}
	if fc == nil || fc.GetType() != "file" {
		return nil, fmt.Errorf("fetching %s: it is not a file", what)
	}
	if fc.GetEncoding() == "none" || fc.GetSize() > maxWorkflowBytes {
		return nil, fmt.Errorf("fetching %s: %w: %d bytes (limit %d)", what, ErrTooLarge, fc.GetSize(), maxWorkflowBytes)
	}
	s, err := fc.GetContent()
	if err != nil {
		return nil, fmt.Errorf("fetching %s: decoding the contents: %w", what, err)
	}
	if len(s) > maxWorkflowBytes {
		return nil, fmt.Errorf("fetching %s: %w: %d bytes (limit %d)", what, ErrTooLarge, len(s), maxWorkflowBytes)
	}
	return []byte(s), nil
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// usesLocalRE matches a job-level call of a reusable workflow in the same repository:
// `uses: ./.github/workflows/x.yml`, quoted or not, with an optional trailing comment.
// Step-level local actions (./.github/actions/x) are not workflows and do not match.
var usesLocalRE = lazyre.New(`^\s*(?:-\s+)?uses:\s*(["']?)\./(\.github/workflows/[^\s"'#@]+\.ya?ml)(["']?)\s*(?:#.*)?$`)

// localCallees lists the same-repository reusable workflows a workflow file calls, in
// file order, without duplicates. A line scan is enough here: the workflow-facts package
// parses the YAML properly, and a call GitHub would reject costs only a 404.
func localCallees(wf []byte) []string {
	var out []string
	for line := range strings.SplitSeq(string(wf), "\n") {
		m := usesLocalRE.Get().FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil || m[1] != m[3] {
			continue
		}
		p := m[2]
		if safeWorkflowPath(p) && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
