package gha

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// RunRef names a workflow run, and optionally one job of it or one attempt (the bot's
// type).
type RunRef = bot.RunRef

// GitHub's own limits on owner and repository names, loosened only enough to accept what
// it has accepted in the past (dots and underscores in owners of old accounts).
var (
	ownerRE = lazyre.New(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38})$`)
	repoRE  = lazyre.New(`^[A-Za-z0-9._-]{1,100}$`)
)

const runURLForm = "https://HOST/OWNER/REPO/actions/runs/RUN_ID[/job/JOB_ID][/attempts/N]"

// ParseRunURL reads a run or job URL as the browser shows it:
//
//	https://github.com/OWNER/REPO/actions/runs/RUN_ID
//	https://github.com/OWNER/REPO/actions/runs/RUN_ID/job/JOB_ID
//	https://github.com/OWNER/REPO/actions/runs/RUN_ID/attempts/N
//	https://github.com/OWNER/REPO/runs/JOB_ID        (older job links)
//
// on github.com or a GitHub Enterprise Server host; a query (?pr=12) or fragment
// (#step:5:12) is ignored. Anything else is an error wrapping ErrInvalidRunURL that shows
// the expected form.
func ParseRunURL(u string) (RunRef, error) {
	shown := u
	bad := func(why string) (RunRef, error) {
		return RunRef{}, fmt.Errorf("%w: %q %s; want %s", ErrInvalidRunURL, clip(shown, 200), why, runURLForm)
	}
	s := strings.TrimSpace(u)
	if s == "" {
		return bad("is empty")
	}
	if !strings.Contains(s, "://") && strings.HasPrefix(s, "github.com/") {
		s = "https://" + s // as pasted without the scheme
	}
	p, err := url.Parse(s)
	if err != nil {
		return bad("is not a URL")
	}
	if p.Scheme != "https" && p.Scheme != "http" {
		return bad("is not an http(s) URL")
	}
	if p.Host == "" {
		return bad("has no host")
	}
	if p.User != nil {
		p.User = nil // not echoed: it may be a token
		shown = p.String()
		return bad("carries credentials")
	}
	seg := strings.Split(strings.Trim(p.Path, "/"), "/")
	if len(seg) < 4 {
		return bad("is not a run's page")
	}
	ref := RunRef{Owner: seg[0], Repo: seg[1]}
	if !ownerRE.Get().MatchString(ref.Owner) || !repoRE.Get().MatchString(ref.Repo) || ref.Repo == "." || ref.Repo == ".." {
		return bad("does not name a repository")
	}
	rest := seg[2:]
	if rest[0] == "runs" {
		// The older job link: /OWNER/REPO/runs/JOB_ID (a job's check-run id).
		if len(rest) != 2 {
			return bad("is not a run's page")
		}
		id, ok := positiveID(rest[1])
		if !ok {
			return bad("has no numeric job id")
		}
		ref.JobID = id
		return ref, nil
	}
	if rest[0] != "actions" || len(rest) < 3 || rest[1] != "runs" {
		return bad("is not a run's page")
	}
	id, ok := positiveID(rest[2])
	if !ok {
		return bad("has no numeric run id")
	}
	ref.RunID = id
	rest = rest[3:]
	for len(rest) > 0 {
		if len(rest) < 2 {
			return bad("ends in an unexpected part")
		}
		n, ok := positiveID(rest[1])
		switch {
		case rest[0] == "job" && ok && ref.JobID == 0:
			ref.JobID = n
		case rest[0] == "attempts" && ok && ref.Attempt == 0 && n < 1<<20:
			ref.Attempt = int(n)
		default:
			return bad("has an unexpected part /" + rest[0] + "/" + rest[1])
		}
		rest = rest[2:]
	}
	return ref, nil
}

func positiveID(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0 && !strings.HasPrefix(s, "+")
}

// clip keeps an echoed input short enough for a one-line message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// validRef checks the parts FetchRun puts into API paths.
func validRef(ref RunRef) error {
	switch {
	case !ownerRE.Get().MatchString(ref.Owner) || !repoRE.Get().MatchString(ref.Repo) || ref.Repo == "." || ref.Repo == "..":
		return fmt.Errorf("invalid repository %q", ref.Owner+"/"+ref.Repo)
	case ref.RunID < 0 || ref.JobID < 0 || ref.Attempt < 0:
		return fmt.Errorf("invalid run reference %s", ref)
	case ref.RunID == 0 && ref.JobID == 0:
		return fmt.Errorf("run reference %s names neither a run nor a job", ref)
	}
	return nil
}

// WebHost is the host whose run pages the REST API at apiURL serves: github.com for
// api.github.com (DefaultAPIURL, or an empty apiURL), else the API's own host, port
// included (GitHub Enterprise Server serves the API at https://HOST/api/v3/). It is
// lower case; "" when apiURL is not a URL.
func WebHost(apiURL string) string {
	apiURL = strings.TrimSpace(apiURL)
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	p, err := url.Parse(apiURL)
	if err != nil || p.Host == "" {
		return ""
	}
	h := strings.ToLower(p.Host)
	if h == "api.github.com" {
		return "github.com"
	}
	return h
}

// RunURLHost is the host of a run URL as ParseRunURL reads it, lower case, with
// "www." dropped from www.github.com; "" when u is not a URL.
func RunURLHost(u string) string {
	s := strings.TrimSpace(u)
	if !strings.Contains(s, "://") && strings.HasPrefix(s, "github.com/") {
		s = "https://" + s
	}
	p, err := url.Parse(s)
	if err != nil {
		return ""
	}
	h := strings.ToLower(p.Host)
	if h == "www.github.com" {
		h = "github.com"
	}
	return h
}

// WebHost is the host of the run pages c reads (see the function WebHost): a run URL
// on another host names a run this Client cannot see, and must not be read as if it
// were one of its own.
func (c *Client) WebHost() string { return c.webHost }

// ParseRunURL is the function ParseRunURL with the link's host (RunURLHost): the bot's
// view of the two.
func (c *Client) ParseRunURL(u string) (RunRef, string, error) {
	ref, err := ParseRunURL(u)
	return ref, RunURLHost(u), err
}

// The Client is the bot's GitHub.
var _ bot.GitHub = (*Client)(nil)
