package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/gha"
	"github.com/pubdoc/pubdoc/bot/registry"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/config"
)

// autoTimeout bounds one auto-mode diagnosis: every fetch, registry look-up and log scan
// of it (bot.DiagnoseRun hands the context to the engine).
const autoTimeout = 2 * time.Minute

// isRunURL tells a GitHub Actions run or job URL from a file name.
func isRunURL(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && strings.Contains(s, "/actions/runs/")
}

// isRunID tells a bare run id (digits) from a file name: a file of that name wins.
func isRunID(s string) bool {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	_, err := os.Stat(s)
	return err != nil
}

// diagnoseRun is auto mode: fetch the run (its failed jobs' logs, the workflow at the
// failing commit and the workflows it calls), ask the registry, and diagnose each failed job
// with all of it. Each result carries its job's name and URL.
func diagnoseRun(eng *diagnose.Engine, url string, logger *slog.Logger) ([]*diagnose.Result, error) {
	ref, err := gha.ParseRunURL(url)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return diagnoseRunRef(eng, ref, logger)
}

// diagnoseRunRef diagnoses one run with the configured clients, within autoTimeout.
func diagnoseRunRef(eng *diagnose.Engine, ref gha.RunRef, logger *slog.Logger) ([]*diagnose.Result, error) {
	client, reg, err := autoClients(logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), autoTimeout)
	defer cancel()
	return diagnoseRef(ctx, eng, client, reg, ref, logger)
}

// diagnoseRunID is auto mode for `diagnose --repo OWNER/REPO RUN_ID`; without --repo the
// repository is the current directory's git remote, as gh reads it.
func diagnoseRunID(eng *diagnose.Engine, repo, id string, logger *slog.Logger) ([]*diagnose.Result, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return nil, usagef("diagnose: --repo goes with a run id (digits, as in .../actions/runs/ID), not %q", id)
	}
	if repo == "" {
		if repo, err = gitRemoteRepo(); err != nil {
			return nil, err
		}
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return nil, usagef("diagnose: --repo must be OWNER/REPO, not %q", repo)
	}
	ref := gha.RunRef{Owner: owner, Repo: name, RunID: n}
	return diagnoseRunRef(eng, ref, logger)
}

// diagnosePull diagnoses a pull request's failed checks: every failed workflow run of its
// head commit, each failed job of them one result.
func diagnosePull(eng *diagnose.Engine, url string, logger *slog.Logger) ([]*diagnose.Result, error) {
	pr, err := gha.ParsePullURL(url)
	if err != nil {
		return nil, usagef("%v", err)
	}
	client, reg, err := autoClients(logger)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), autoTimeout)
	defer cancel()
	refs, sha, err := client.PullFailedRuns(ctx, pr)
	if err != nil {
		return nil, fmt.Errorf("reading the checks of %s: %w", url, err)
	}
	if len(refs) == 0 {
		return nil, usagef("pull request %s has no failed workflow run at its head commit %.12s", pr, sha)
	}
	var all []*diagnose.Result
	for _, ref := range refs {
		results, err := diagnoseRef(ctx, eng, client, reg, ref, logger)
		var ue usageError
		if errors.As(err, &ue) {
			logger.Info("skipping a run of the pull request", "run", ref.String(), "reason", err.Error())
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, results...)
	}
	if len(all) == 0 {
		return nil, usagef("pull request %s: its failed runs at %.12s have no failed job to read", pr, sha)
	}
	return all, nil
}

// autoClients are the GitHub and registry clients of auto mode, from the configuration
// (internal/config). An invalid setting, or missing or invalid GitHub credentials, is a
// usage error (exit 2): the command cannot run as called. Registry look-ups are on by
// default, against the public registry.
func autoClients(logger *slog.Logger) (*gha.Client, *registry.Client, error) {
	c, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	client, err := gha.New(githubConfig(c), logger)
	if errors.Is(err, gha.ErrNoCredentials) {
		return nil, nil, usagef("%v (a run, a pull request or a run id is read through GitHub's API)", err)
	}
	if err != nil {
		return nil, nil, usagef("GitHub client: %v", err)
	}
	return client, registry.New(c.NPMRegistryURL, c.NPMToken, nil, logger), nil
}

// loadConfig reads the configuration (internal/config) from the environment; an invalid
// value is a usage error naming its variable.
func loadConfig() (config.Config, error) {
	c, err := config.FromEnv(os.Getenv, os.ReadFile)
	if err != nil {
		return config.Config{}, usagef("%v", err)
	}
	return c, nil
}

// githubConfig is the GitHub client's share of the configuration.
func githubConfig(c config.Config) gha.Config {
	return gha.Config{APIURL: c.GitHubAPIURL, Token: c.GitHubToken, AppID: c.GitHubAppID, AppPrivateKey: c.GitHubAppPrivateKey}
}

// diagnoseRef fetches one run and diagnoses each of its failed jobs.
func diagnoseRef(ctx context.Context, eng *diagnose.Engine, client *gha.Client, reg *registry.Client, ref gha.RunRef, logger *slog.Logger) ([]*diagnose.Result, error) {
	run, err := client.FetchRun(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", ref, err)
	}
	if len(run.FailedJobs) == 0 {
		return nil, usagef("run %d of %s/%s has no failed job (conclusion %q)", ref.RunID, ref.Owner, ref.Repo, run.Conclusion)
	}
	results, err := bot.DiagnoseRun(ctx, eng, run, reg.ForBot(), logger)
	if err != nil {
		return nil, err
	}
	// One result per failed job, in the run's order: the JSON answer links each job.
	for i, res := range results {
		if i < len(run.FailedJobs) {
			res.JobURL = run.FailedJobs[i].HTMLURL
		}
	}
	return results, nil
}

// gitRemoteRepo is OWNER/REPO of the current directory's git remote, chosen as gh does:
// upstream, then github, then origin, then the first.
func gitRemoteRepo() (string, error) {
	out, err := exec.Command("git", "config", "--get-regexp", `^remote\..*\.url$`).Output()
	if err != nil || len(out) == 0 {
		return "", usagef("diagnose: give --repo OWNER/REPO with a run id (no git remote here to read it from)")
	}
	remotes := map[string]string{}
	var order []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		key, url, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(key, "remote."), ".url")
		if repo := repoFromRemote(url); repo != "" {
			if _, dup := remotes[name]; !dup {
				order = append(order, name)
			}
			remotes[name] = repo
		}
	}
	for _, name := range []string{"upstream", "github", "origin"} {
		if r, ok := remotes[name]; ok {
			return r, nil
		}
	}
	if len(order) > 0 {
		return remotes[order[0]], nil
	}
	return "", usagef("diagnose: give --repo OWNER/REPO with a run id (no git remote here names a GitHub repository)")
}

// repoFromRemote reads OWNER/REPO from a remote URL: https://HOST/OWNER/REPO(.git),
// ssh://git@HOST/OWNER/REPO.git or git@HOST:OWNER/REPO.git. "" when it names none.
func repoFromRemote(url string) string {
	url = strings.TrimSpace(url)
	var path string
	switch {
	case strings.Contains(url, "://"):
		_, rest, _ := strings.Cut(url, "://")
		_, path, _ = strings.Cut(rest, "/")
	case strings.Contains(url, ":"):
		_, path, _ = strings.Cut(url, ":")
	default:
		return ""
	}
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	parts := strings.Split(path, "/")
	if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return ""
	}
	return parts[0] + "/" + parts[1]
}
