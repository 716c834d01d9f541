package gha

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/go-github/v89/github"
)

// ErrInvalidPullURL is what ParsePullURL says of something that is not a pull request's URL.
var ErrInvalidPullURL = errors.New("not a GitHub pull request URL")

// PullRef names a pull request.
type PullRef struct {
	Owner, Repo string
	Number      int
}

func (p PullRef) String() string { return fmt.Sprintf("%s/%s#%d", p.Owner, p.Repo, p.Number) }

const pullURLForm = "https://HOST/OWNER/REPO/pull/NUMBER"

// maxPullRuns bounds how many failed runs of a pull request's head commit are read.
const maxPullRuns = 10

// IsPullURL tells a pull request's URL (https://HOST/OWNER/REPO/pull/N, any tab of it)
// from a file name or a run URL.
func IsPullURL(s string) bool {
	_, err := ParsePullURL(s)
	return err == nil
}

// ParsePullURL reads a pull request's URL as the browser shows it, on github.com or a
// GitHub Enterprise Server host: https://HOST/OWNER/REPO/pull/N, also with a tab after it
// (/checks, /files, /commits); a query or fragment is ignored.
func ParsePullURL(u string) (PullRef, error) {
	bad := func(why string) (PullRef, error) {
		return PullRef{}, fmt.Errorf("%w: %q %s; want %s", ErrInvalidPullURL, clip(u, 200), why, pullURLForm)
	}
	s := strings.TrimSpace(u)
	if !strings.Contains(s, "://") && strings.HasPrefix(s, "github.com/") {
		s = "https://" + s
	}
	p, err := url.Parse(s)
	if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
		return bad("is not an http(s) URL")
	}
	if p.User != nil {
		return PullRef{}, fmt.Errorf("%w: the URL carries credentials; want %s", ErrInvalidPullURL, pullURLForm)
	}
	seg := strings.Split(strings.Trim(p.Path, "/"), "/")
	if len(seg) < 4 || seg[2] != "pull" {
		return bad("is not a pull request's page")
	}
	ref := PullRef{Owner: seg[0], Repo: seg[1]}
	if !ownerRE.Get().MatchString(ref.Owner) || !repoRE.Get().MatchString(ref.Repo) || ref.Repo == "." || ref.Repo == ".." {
		return bad("does not name a repository")
	}
	n, ok := positiveID(seg[3])
	if !ok || n >= 1<<31 {
		return bad("has no pull request number")
	}
	ref.Number = int(n)
	return ref, nil
}

// PullFailedRuns finds the failed workflow runs of a pull request's checks: the runs of
// its head commit whose conclusion is failure or timed_out, newest first, at most ten.
// It also returns the head commit. No failed run is not an error: the slice is empty.
func (c *Client) PullFailedRuns(ctx context.Context, pr PullRef) ([]RunRef, string, error) {
	if !ownerRE.Get().MatchString(pr.Owner) || !repoRE.Get().MatchString(pr.Repo) || pr.Number <= 0 {
		return nil, "", fmt.Errorf("invalid pull request %s", pr)
	}
	refs, sha, err := c.pullFailedRuns(ctx, pr)
	if err != nil {
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrNotFound) {
			c.forget(pr.Owner, pr.Repo)
		}
		return nil, "", c.redact.err(err)
	}
	return refs, sha, nil
}

func (c *Client) pullFailedRuns(ctx context.Context, pr PullRef) ([]RunRef, string, error) {
	gh, err := c.api(ctx, pr.Owner, pr.Repo)
	if err != nil {
		return nil, "", err
	}
	pull, _, err := gh.PullRequests.Get(ctx, pr.Owner, pr.Repo, pr.Number)
	if err != nil {
		return nil, "", fmt.Errorf("fetching pull request %s: %w", pr, classify(err, false))
	}
	sha := pull.GetHead().GetSHA()
	if sha == "" {
		return nil, "", fmt.Errorf("pull request %s: GitHub answered without a head commit", pr)
	}
	runs, _, err := gh.Actions.ListRepositoryWorkflowRuns(ctx, pr.Owner, pr.Repo, &github.ListWorkflowRunsOptions{
		HeadSHA: sha, ListOptions: github.ListOptions{PerPage: 100},
	})
	if err != nil {
		return nil, "", fmt.Errorf("listing the workflow runs of %s at %.12s: %w", pr, sha, classify(err, false))
	}
	var out []RunRef
	for _, r := range runs.WorkflowRuns {
		switch r.GetConclusion() {
		case "failure", "timed_out":
		default:
			continue
		}
		if r.GetID() <= 0 {
			continue
		}
		out = append(out, RunRef{Owner: pr.Owner, Repo: pr.Repo, RunID: r.GetID()})
		if len(out) == maxPullRuns {
			break
		}
	}
	return out, sha, nil
}
