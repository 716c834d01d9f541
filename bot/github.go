package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// GitHub is what the bot needs of GitHub, in the bot's own types; the GitHub adapter
// (bot/gha's *Client) implements it, and tests use the in-memory fake beside the consumer.
type GitHub interface {
	// ParseRunURL reads a run or job link as the browser shows it, on whatever host, and
	// returns that host too (lower case). Its error says, in words fit for the person
	// who sent the link, why it is not one.
	ParseRunURL(u string) (ref RunRef, host string, err error)
	// WebHost is the host whose run links it reads: github.com, or a GitHub Enterprise
	// Server host.
	WebHost() string
	// FetchRun reads a run: its metadata, its failed jobs with their logs, and the
	// workflow files it ran. Its errors wrap ErrRunNotFound, ErrLogsExpired,
	// ErrGitHubUnauthorized or ErrGitHubForbidden when one applies, or are a RateLimited;
	// any other is taken as passing.
	FetchRun(ctx context.Context, ref RunRef) (*Run, error)
}

// FixPROpener is what opening a fix pull request needs of GitHub: the GitHub adapter
// (bot/gha's *Client) implements it beside GitHub, as the GitHub App and never with a
// person's token. It is its own interface so that a GitHub that only reads runs (a test
// double, a token deployment) need not have it; the bot finds it on Config.GitHub.
type FixPROpener interface {
	// OpenFixPR pushes pr's files as one commit on a new branch pr.Branch that starts at
	// pr.BaseSHA, and opens a pull request of it into pr.Base. It is idempotent: when the
	// branch or a pull request of it exists already, it returns that pull request
	// (Existing) and creates nothing. Its error wraps ErrNoWritePermission (with a
	// *PermissionError saying what is missing) when the App may not do it.
	OpenFixPR(ctx context.Context, pr FixPR) (*PullRequest, error)
}

// FixPR is a pull request to open: a patch of a run's files as one commit.
type FixPR struct {
	Owner, Repo string
	// BaseSHA is the failing run's commit: the branch starts there.
	BaseSHA string
	// Base is the branch the pull request asks to merge into (the run's head branch);
	// empty for the repository's default branch.
	Base string
	// Branch is the branch to push: pubdoc/fix-<rule>-<sha7>.
	Branch string
	// Title and Body are the pull request's, Message the commit's.
	Title, Body, Message string
	// Files are the changed files' new contents, by repository path.
	Files []FileChange
}

// FileChange is one file of a fix: its repository path and its new content.
type FileChange struct {
	Path    string
	Content []byte
}

// PullRequest is a pull request OpenFixPR opened or found.
type PullRequest struct {
	Number int
	// URL is the pull request's page.
	URL    string
	Branch string
	Base   string
	// State is "open" or "closed"; Merged is set for a closed one that was merged.
	State  string
	Merged bool
	// Existing is true when the branch or the pull request was there before this call (a
	// retry, a second click): nothing was created.
	Existing bool
}

// ErrNoWritePermission is wrapped by OpenFixPR's error when the GitHub App may not push a
// branch and open a pull request on the repository (or no App is configured).
var ErrNoWritePermission = errors.New("the GitHub App may not open pull requests on this repository")

// PermissionError says what OpenFixPR lacks; it wraps ErrNoWritePermission.
type PermissionError struct {
	Repo string
	// Missing are the App permissions it needs and lacks, as GitHub names them
	// ("contents: write", "pull_requests: write", "workflows: write"); empty when the
	// reason is no App at all (Reason says so).
	Missing []string
	Reason  string
}

func (e *PermissionError) Error() string {
	msg := "the GitHub App may not open pull requests on " + e.Repo
	if len(e.Missing) > 0 {
		msg += ": it needs " + strings.Join(e.Missing, ", ")
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

func (e *PermissionError) Unwrap() error { return ErrNoWritePermission }

// Why a run could not be read; the GitHub adapter's errors wrap these.
var (
	ErrRunNotFound        = errors.New("not found on GitHub")
	ErrLogsExpired        = errors.New("the logs are no longer available")
	ErrGitHubUnauthorized = errors.New("GitHub rejected the credentials")
	ErrGitHubForbidden    = errors.New("GitHub refused the request")
)

// RateLimited is implemented by the GitHub adapter's error for a rate limit: when the
// limit resets (zero when GitHub did not say).
type RateLimited interface {
	error
	RateLimitReset() time.Time
}

// RunRef names a workflow run, and optionally one job of it or one attempt.
type RunRef struct {
	Owner, Repo string
	// RunID is the run's id. Zero when only a job was named (a /OWNER/REPO/runs/JOB_ID
	// URL): FetchRun then learns the run from the job.
	RunID int64
	// JobID, when set, narrows FetchRun to that one job, whatever its conclusion.
	JobID int64
	// Attempt, when set, is the run attempt to read; zero means the latest.
	Attempt int
}

func (r RunRef) String() string {
	s := fmt.Sprintf("%s/%s run %d", r.Owner, r.Repo, r.RunID)
	if r.RunID == 0 {
		s = fmt.Sprintf("%s/%s", r.Owner, r.Repo)
	}
	if r.Attempt > 0 {
		s += fmt.Sprintf(" attempt %d", r.Attempt)
	}
	if r.JobID != 0 {
		s += fmt.Sprintf(" job %d", r.JobID)
	}
	return s
}

// Run is what FetchRun learned about a workflow run: its metadata, its failed jobs with
// their logs, and the workflow files it ran, read at the commit it ran on.
type Run struct {
	// Ref is the run asked for, with RunID filled in when only a job was named.
	Ref RunRef
	// WorkflowPath is the file that defined the run (workflow_run.path), such as
	// .github/workflows/publish.yml; a trusted publisher names this file.
	WorkflowPath string
	WorkflowName string
	Event        string
	HeadSHA      string
	HeadBranch   string
	Conclusion   string
	HTMLURL      string
	Attempt      int
	// FailedJobs are the jobs that failed or timed out, in GitHub's order; when Ref.JobID
	// is set, just that job, whatever its conclusion.
	FailedJobs []Job
	// Workflow is the workflow file at HeadSHA; nil when GitHub has none there (a
	// dynamic workflow, or one deleted since).
	Workflow []byte
	// Callees are the reusable workflows the run calls from its own repository
	// ("uses: ./.github/workflows/x.yml", also from callees in turn), by path, read at
	// HeadSHA. Files GitHub does not have there are left out.
	Callees map[string][]byte
	// PackageJSON is the repository's root package.json at HeadSHA, read when the
	// workflow was; nil when there is none (or it could not be read: it only locates
	// fixes, so its absence never fails the fetch).
	PackageJSON []byte
}

// Job is one job of a run.
type Job struct {
	ID         int64
	Name       string
	Conclusion string
	HTMLURL    string
	// FailedSteps are the names of the steps that failed, such as "Run npm publish".
	FailedSteps []string
	// Log is the job's log as GitHub serves it (timestamps, ##[group] markers), at most
	// the adapter's size cap of it from the start.
	Log []byte
	// LogTruncated is true when Log stops short of the job's log: it was longer than the
	// cap, or the run's failed jobs together exceeded their shared budget.
	LogTruncated bool
}

// WebhookReader is what POST /github/webhook needs of the GitHub adapter (bot/gha's
// Webhook): which events are read at all, and reading one verified delivery.
type WebhookReader interface {
	// Handles reports whether deliveries of event (X-GitHub-Event) are read; the others
	// are answered unread.
	Handles(event string) bool
	// Read verifies a delivery's signature and decodes it, reading at most max bytes of
	// body. Its errors wrap ErrBadSignature (no or a wrong signature, or no secret to
	// check it with) or ErrTooLarge; any other error means the delivery is malformed.
	Read(w http.ResponseWriter, r *http.Request, max int64) (*Event, error)
}

// ErrBadSignature is wrapped by WebhookReader.Read's error for a delivery whose signature
// is missing or wrong.
var ErrBadSignature = errors.New("webhook signature missing or wrong")

// Event is a verified GitHub delivery the bot cares about, as plain data (it is
// persisted as a job payload).
type Event struct {
	// Delivery is X-GitHub-Delivery, the delivery's GUID; a redelivery gets a new one.
	Delivery string `json:"delivery"`
	// Event is X-GitHub-Event: "workflow_run", "workflow_job", "ping", or another event
	// the caller acknowledges and ignores.
	Event  string `json:"event"`
	Action string `json:"action"`
	// Repo is the repository as owner/name; empty for a ping of an App or organization
	// hook, which names none.
	Repo string `json:"repo"`
	// Installation is the GitHub App installation that sent the delivery; zero for a
	// repository or organization webhook.
	Installation int64 `json:"installation,omitempty"`
	// Run is set for workflow_run events, Job for workflow_job events, Pull for
	// pull_request events.
	Run  *EventRun  `json:"run,omitempty"`
	Job  *EventJob  `json:"job,omitempty"`
	Pull *EventPull `json:"pull,omitempty"`
}

// EventPull is the pull request of a pull_request event: what tells a fix pull request
// (its head branch) and its merge.
type EventPull struct {
	Number  int    `json:"number"`
	HTMLURL string `json:"html_url"`
	// HeadRef is the branch it merges from, BaseRef the one it merges into.
	HeadRef string `json:"head_ref"`
	BaseRef string `json:"base_ref"`
	State   string `json:"state"`
	Merged  bool   `json:"merged,omitempty"`
	// MergedBy is the login of who merged it.
	MergedBy string `json:"merged_by,omitempty"`
}

// EventRun is the workflow_run of a workflow_run event.
type EventRun struct {
	ID      int64 `json:"id"`
	Attempt int   `json:"attempt"`
	Number  int   `json:"number"`
	// Name is the workflow's name; Path the file that defined it
	// (.github/workflows/publish.yml), which is what a trusted publisher names.
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	Event      string    `json:"event"`
	Status     string    `json:"status"`
	Conclusion string    `json:"conclusion"`
	HeadBranch string    `json:"head_branch"`
	HeadSHA    string    `json:"head_sha"`
	HTMLURL    string    `json:"html_url"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// EventJob is the workflow_job of a workflow_job event.
type EventJob struct {
	ID           int64  `json:"id"`
	RunID        int64  `json:"run_id"`
	RunAttempt   int    `json:"run_attempt"`
	Name         string `json:"name"`
	Status       string `json:"status"`
	Conclusion   string `json:"conclusion"`
	HTMLURL      string `json:"html_url"`
	WorkflowName string `json:"workflow_name"`
	HeadBranch   string `json:"head_branch"`
	HeadSHA      string `json:"head_sha"`
	// FailedSteps are the names of the steps whose conclusion is failure, in order.
	FailedSteps []string `json:"failed_steps,omitempty"`
}

// Ref returns the RunRef of the event's run (or job's run). For a workflow_job event it
// also names the job, so that FetchRun reads just that job; set JobID to zero to read
// every failed job of the run. An event with neither run nor job gives only the
// repository.
func (e *Event) Ref() RunRef {
	if e == nil {
		return RunRef{}
	}
	owner, repo, _ := strings.Cut(e.Repo, "/")
	ref := RunRef{Owner: owner, Repo: repo}
	switch {
	case e.Run != nil:
		ref.RunID = e.Run.ID
		ref.Attempt = e.Run.Attempt
	case e.Job != nil:
		ref.RunID = e.Job.RunID
		ref.JobID = e.Job.ID
		ref.Attempt = e.Job.RunAttempt
	}
	return ref
}

// Registry is what auto mode asks of the npm registry, in the bot's own types; the
// registry adapter (bot/registry's Client.ForBot) implements it, and tests use the
// in-memory fake beside the consumer.
type Registry interface {
	// BaseURL is the address the public npm registry is reached at
	// (PUBDOC_NPM_REGISTRY_URL: the registry, a mirror or a test double).
	BaseURL() string
	// Package says whether name exists and, when version is not empty, whether that
	// version is published.
	Package(ctx context.Context, name, version string) (PackageFacts, error)
	// CheckPublishers sets run against name's trusted publishers. Its error wraps
	// ErrNoRegistryToken when no npm token is configured to read them with.
	CheckPublishers(ctx context.Context, name string, run RunIdentity) (PublisherCheck, error)
}

// ErrNoRegistryToken is wrapped by Registry.CheckPublishers's error without an npm token.
var ErrNoRegistryToken = errors.New("no npm token is configured (NPM_TOKEN)")

// PackageFacts is what the registry says of a package.
type PackageFacts struct {
	// Exists is false when the registry does not know the package.
	Exists bool
	// Published is true when the version asked about is published.
	Published bool
}

// RunIdentity is who a run says it is to the registry: the claims a trusted publisher is
// matched against.
type RunIdentity struct {
	// Repository is owner/repo.
	Repository string
	// WorkflowFile is the bare name of the file that started the run ("publish.yml").
	WorkflowFile string
	// Environment is the publishing job's environment; empty for none.
	Environment string
}

// PublisherCheck is how a run stands against a package's trusted publishers.
type PublisherCheck struct {
	// Configured is false when the package lists no trusted publisher.
	Configured bool
	// Match is true when an entry accepts the run, compared as the registry compares.
	Match bool
	// Mismatches say, one field a sentence, how the closest entry differs from the run.
	Mismatches []string
	// Closest is the identity the closest entry names; nil when there is none.
	Closest *RunIdentity
}
