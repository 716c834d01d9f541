package gha

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-github/v89/github"
	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// Fix pull requests: the bot's FixPR, opened as the GitHub App.
type (
	// FixPR is a pull request to open (bot.FixPR).
	FixPR = bot.FixPR
	// PullRequest is one OpenFixPR opened or found (bot.PullRequest).
	PullRequest = bot.PullRequest
)

var _ bot.FixPROpener = (*Client)(nil)

// workflowsDir holds the files whose change needs the App's workflows permission as well:
// GitHub refuses a push that changes them without it.
const workflowsDir = ".github/workflows/"

// reFixBranch is the branch names OpenFixPR pushes: its own namespace, so it never moves a
// branch a person made.
var reFixBranch = lazyre.New(`^pubdoc/[A-Za-z0-9._-]+$`)

// reSHA is a full commit id.
var reSHA = lazyre.New(`^[0-9a-f]{40}$`)

// maxFixFiles bounds the files of one fix commit.
const maxFixFiles = 20

// branchLocks serializes OpenFixPR per repository and branch in this process, so that
// double clicks handled at once create one branch; across processes the branch's creation
// is the arbiter (the second ref is refused, and the loser finds the winner's).
var branchLocks sync.Map // "owner/repo\x00branch" → *sync.Mutex

// OpenFixPR pushes pr.Files as one commit on a new branch pr.Branch, started at
// pr.BaseSHA, and opens a pull request of it into pr.Base (the repository's default
// branch when empty). It works only as a GitHub App whose installation may write contents
// and pull requests (and workflows, when a file under .github/workflows/ changes): with a
// token, or without those permissions, its error wraps bot.ErrNoWritePermission with a
// *bot.PermissionError naming what is missing, and nothing is written.
//
// It is idempotent: a pull request of the branch (open, or closed or merged since) is
// returned as it is; a branch without one gets its pull request; only when neither exists
// are the blobs, tree, commit and branch created:
//
//	GET  /repos/{o}/{r}/installation                       (the App's JWT) → permissions
//	GET  /repos/{o}/{r}/pulls?head={o}:{branch}&state=all  → an existing pull request
//	GET  /repos/{o}/{r}/git/ref/heads/{branch}             → an existing branch
//	GET  /repos/{o}/{r}/git/commits/{sha}                  → the base tree
//	POST /repos/{o}/{r}/git/blobs                          (one per file)
//	POST /repos/{o}/{r}/git/trees                          (base_tree: the base tree)
//	POST /repos/{o}/{r}/git/commits                        (parent: pr.BaseSHA)
//	POST /repos/{o}/{r}/git/refs                           refs/heads/{branch}
//	GET  /repos/{o}/{r}                                    (only when pr.Base is empty)
//	POST /repos/{o}/{r}/pulls
func (c *Client) OpenFixPR(ctx context.Context, pr FixPR) (*PullRequest, error) {
	if err := checkFixPR(pr); err != nil {
		return nil, err
	}
	repo := pr.Owner + "/" + pr.Repo
	if err := c.mayWrite(ctx, pr); err != nil {
		return nil, err
	}
	gh, err := c.api(ctx, pr.Owner, pr.Repo)
	if err != nil {
		return nil, err
	}
	mu, _ := branchLocks.LoadOrStore(strings.ToLower(repo)+"\x00"+pr.Branch, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	if found, err := c.findPull(ctx, gh, pr); err != nil || found != nil {
		return found, err
	}
	branchExisted, err := c.pushBranch(ctx, gh, pr)
	if err != nil {
		return nil, err
	}
	out, err := c.createPull(ctx, gh, pr)
	if err != nil {
		return nil, err
	}
	out.Existing = branchExisted
	c.logger.Info("opened a fix pull request", "repo", repo, "branch", pr.Branch, "number", out.Number,
		"existing_branch", branchExisted)
	return out, nil
}

// checkFixPR refuses a request OpenFixPR must not act on.
func checkFixPR(pr FixPR) error {
	switch {
	case !ownerRE.Get().MatchString(pr.Owner) || !repoRE.Get().MatchString(pr.Repo):
		return fmt.Errorf("opening a fix pull request: %q/%q is not a repository", pr.Owner, pr.Repo)
	case !reFixBranch.Get().MatchString(pr.Branch) || strings.Contains(pr.Branch, ".."):
		return fmt.Errorf("opening a fix pull request: branch %q is not a pubdoc/ branch", pr.Branch)
	case !reSHA.Get().MatchString(pr.BaseSHA):
		return fmt.Errorf("opening a fix pull request: %q is not a commit id", pr.BaseSHA)
	case len(pr.Files) == 0:
		return errors.New("opening a fix pull request: the fix changes no file")
	case len(pr.Files) > maxFixFiles:
		return fmt.Errorf("opening a fix pull request: the fix changes %d files, more than %d", len(pr.Files), maxFixFiles)
	case strings.TrimSpace(pr.Title) == "":
		return errors.New("opening a fix pull request: it has no title")
	}
	for _, f := range pr.Files {
		if f.Path == "" || strings.HasPrefix(f.Path, "/") || slices.Contains(strings.Split(f.Path, "/"), "..") {
			return fmt.Errorf("opening a fix pull request: %q is not a repository path", f.Path)
		}
	}
	return nil
}

// mayWrite checks that the App's installation on the repository may push the branch and
// open the pull request: contents and pull_requests write, and workflows write when a
// workflow file changes. A token never opens one: the pull request is the App's doing.
func (c *Client) mayWrite(ctx context.Context, pr FixPR) error {
	repo := pr.Owner + "/" + pr.Repo
	if c.app == nil {
		return fmt.Errorf("opening a fix pull request: %w", &bot.PermissionError{Repo: repo,
			Reason: "Pubdoc reads GitHub with a token, and opens pull requests only as a GitHub App (GITHUB_APP_ID)"})
	}
	inst, _, err := c.app.jwt.Apps.GetRepositoryInstallation(ctx, pr.Owner, pr.Repo)
	if err != nil {
		err = classify(err, false)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("opening a fix pull request: %w", &bot.PermissionError{Repo: repo, Reason: "the App is not installed on it"})
		}
		return fmt.Errorf("opening a fix pull request: reading the App's installation on %s: %w", repo, err)
	}
	p := inst.GetPermissions()
	var missing []string
	if p.GetContents() != "write" {
		missing = append(missing, "contents: write")
	}
	if p.GetPullRequests() != "write" {
		missing = append(missing, "pull_requests: write")
	}
	touchesWorkflows := slices.ContainsFunc(pr.Files, func(f bot.FileChange) bool { return strings.HasPrefix(f.Path, workflowsDir) })
	if touchesWorkflows && p.GetWorkflows() != "write" {
		missing = append(missing, "workflows: write")
	}
	if len(missing) > 0 {
		return fmt.Errorf("opening a fix pull request: %w", &bot.PermissionError{Repo: repo, Missing: missing})
	}
	return nil
}

// findPull returns the newest pull request whose head is pr.Branch, in any state; nil
// when there is none.
func (c *Client) findPull(ctx context.Context, gh *github.Client, pr FixPR) (*PullRequest, error) {
	list, _, err := gh.PullRequests.List(ctx, pr.Owner, pr.Repo, &github.PullRequestListOptions{
		State: "all", Head: pr.Owner + ":" + pr.Branch, Sort: "created", Direction: "desc",
		ListOptions: github.ListOptions{PerPage: 10},
	})
	if err != nil {
		return nil, fmt.Errorf("opening a fix pull request: listing the pull requests of %s: %w", pr.Branch, c.writeErr(pr, err))
	}
	for _, p := range list {
		if p.GetHead().GetRef() != pr.Branch {
			continue // GitHub ignores a head filter it cannot read; do not trust it blindly
		}
		out := pullOf(p)
		out.Existing = true
		return out, nil
	}
	return nil, nil
}

// pushBranch creates pr.Branch with one commit of pr.Files on pr.BaseSHA, unless the
// branch exists (existed is then true and nothing is written).
func (c *Client) pushBranch(ctx context.Context, gh *github.Client, pr FixPR) (existed bool, err error) {
	ref := "heads/" + pr.Branch
	if _, _, err := gh.Git.GetRef(ctx, pr.Owner, pr.Repo, ref); err == nil {
		return true, nil
	} else if cerr := classify(err, false); !errors.Is(cerr, ErrNotFound) {
		return false, fmt.Errorf("opening a fix pull request: reading branch %s: %w", pr.Branch, c.writeErr(pr, err))
	}
	base, _, err := gh.Git.GetCommit(ctx, pr.Owner, pr.Repo, pr.BaseSHA)
	if err != nil {
		return false, fmt.Errorf("opening a fix pull request: reading commit %.7s: %w", pr.BaseSHA, c.writeErr(pr, err))
	}
	entries := make([]*github.TreeEntry, 0, len(pr.Files))
	for _, f := range pr.Files {
		blob, _, err := gh.Git.CreateBlob(ctx, pr.Owner, pr.Repo, github.Blob{
			Content: github.Ptr(base64.StdEncoding.EncodeToString(f.Content)), Encoding: github.Ptr("base64"),
		})
		if err != nil {
			return false, fmt.Errorf("opening a fix pull request: storing %s: %w", f.Path, c.writeErr(pr, err))
		}
		entries = append(entries, &github.TreeEntry{Path: github.Ptr(f.Path), Mode: github.Ptr("100644"), Type: github.Ptr("blob"), SHA: blob.SHA})
	}
	tree, _, err := gh.Git.CreateTree(ctx, pr.Owner, pr.Repo, base.GetTree().GetSHA(), entries)
	if err != nil {
		return false, fmt.Errorf("opening a fix pull request: making the tree: %w", c.writeErr(pr, err))
	}
	commit, _, err := gh.Git.CreateCommit(ctx, pr.Owner, pr.Repo, github.Commit{
		Message: github.Ptr(pr.Message), Tree: &github.Tree{SHA: tree.SHA},
		Parents: []*github.Commit{{SHA: github.Ptr(pr.BaseSHA)}},
	}, nil)
	if err != nil {
		return false, fmt.Errorf("opening a fix pull request: making the commit: %w", c.writeErr(pr, err))
	}
	_, _, err = gh.Git.CreateRef(ctx, pr.Owner, pr.Repo, github.CreateRef{Ref: "refs/" + ref, SHA: commit.GetSHA()})
	if unprocessable(err, "already exists") {
		// Another process pushed the branch between our look and our push: its commit
		// stands, ours stays unreferenced.
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("opening a fix pull request: pushing branch %s: %w", pr.Branch, c.writeErr(pr, err))
	}
	return false, nil
}

// createPull opens the pull request of pr.Branch; when GitHub says one exists (another
// process opened it a moment ago), that one is returned.
func (c *Client) createPull(ctx context.Context, gh *github.Client, pr FixPR) (*PullRequest, error) {
	base := pr.Base
	if base == "" {
		r, _, err := gh.Repositories.Get(ctx, pr.Owner, pr.Repo)
		if err != nil {
			return nil, fmt.Errorf("opening a fix pull request: reading the default branch: %w", c.writeErr(pr, err))
		}
		base = r.GetDefaultBranch()
	}
	p, _, err := gh.PullRequests.Create(ctx, pr.Owner, pr.Repo, &github.NewPullRequest{
		Title: github.Ptr(pr.Title), Head: github.Ptr(pr.Branch), Base: github.Ptr(base), Body: github.Ptr(pr.Body),
	})
	if pr.Base != "" && invalidField(err, "base") {
		// The run's "branch" is no branch (a tag's run): into the default branch, then.
		pr.Base = ""
		return c.createPull(ctx, gh, pr)
	}
	if unprocessable(err, "already exists") {
		found, ferr := c.findPull(ctx, gh, pr)
		if ferr == nil && found != nil {
			return found, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening a fix pull request of %s into %s: %w", pr.Branch, base, c.writeErr(pr, err))
	}
	return pullOf(p), nil
}

// writeErr classifies a write's error; a refusal (403 "Resource not accessible by
// integration") is a missing permission, whatever the installation said it had.
func (c *Client) writeErr(pr FixPR, err error) error {
	err = c.redact.err(classify(err, false))
	if errors.Is(err, ErrForbidden) {
		return fmt.Errorf("%w: %w", &bot.PermissionError{Repo: pr.Owner + "/" + pr.Repo,
			Reason: "GitHub refused the write (a missing permission, or a rule protecting the branch)"}, err)
	}
	if errors.Is(err, ErrUnauthorized) {
		c.forget(pr.Owner, pr.Repo)
	}
	return err
}

// unprocessable reports whether err is GitHub's 422 whose message or errors contain what.
func unprocessable(err error, what string) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	if strings.Contains(strings.ToLower(er.Message), what) {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(strings.ToLower(e.Message), what) {
			return true
		}
	}
	return false
}

// invalidField reports whether err is GitHub's 422 saying field is invalid.
func invalidField(err error, field string) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	return slices.ContainsFunc(er.Errors, func(e github.Error) bool { return e.Field == field && e.Code == "invalid" })
}

func pullOf(p *github.PullRequest) *PullRequest {
	return &PullRequest{
		Number: p.GetNumber(), URL: p.GetHTMLURL(), Branch: p.GetHead().GetRef(), Base: p.GetBase().GetRef(),
		State: p.GetState(), Merged: p.GetMerged() || p.MergedAt != nil,
	}
}

// EventPullRequest is the pull_request event. ReadWebhook decodes it into Pull, so that
// the merge of a fix pull request can be said in its triage thread; the App receives it
// only when it subscribes to "Pull request" events.
const EventPullRequest = "pull_request"

// WebhookPull is the pull request of a pull_request event.
type WebhookPull = bot.EventPull

// decodePull reads a pull_request delivery's pull request into ev.Pull.
func decodePull(ev *WebhookEvent, payload []byte) (*WebhookEvent, error) {
	if ev.Repo == "" {
		return nil, fmt.Errorf("%w: the pull_request event names no repository", ErrMalformedWebhook)
	}
	parsed, err := github.ParseWebHook(EventPullRequest, payload)
	if err != nil {
		return nil, fmt.Errorf("%w: the pull_request payload: %w", ErrMalformedWebhook, err)
	}
	p, ok := parsed.(*github.PullRequestEvent)
	if !ok || p.GetPullRequest() == nil || p.GetPullRequest().GetNumber() <= 0 {
		return nil, fmt.Errorf("%w: the pull_request event has no valid pull_request", ErrMalformedWebhook)
	}
	pr := p.GetPullRequest()
	ev.Pull = &WebhookPull{
		Number: pr.GetNumber(), HTMLURL: pr.GetHTMLURL(), HeadRef: pr.GetHead().GetRef(), BaseRef: pr.GetBase().GetRef(),
		State: pr.GetState(), Merged: pr.GetMerged(), MergedBy: pr.GetMergedBy().GetLogin(),
	}
	return ev, nil
}
