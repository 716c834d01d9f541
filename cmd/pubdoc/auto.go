package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/gha"
	"github.com/pubdoc/pubdoc/bot/registry"
	"github.com/pubdoc/pubdoc/diagnose"
)

// isRunURL tells a GitHub Actions run or job URL from a file name.
func isRunURL(s string) bool {
	return (strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")) && strings.Contains(s, "/actions/runs/")
}

// diagnoseRun is auto mode: fetch the run (its failed jobs' logs, the workflow at the
// failing commit and the workflows it calls), ask the registry, and diagnose each failed job
// with all of it. Each result carries its job's name and URL.
func diagnoseRun(eng *diagnose.Engine, url string, logger *slog.Logger) ([]*diagnose.Result, error) {
	ref, err := gha.ParseRunURL(url)
	if err != nil {
		return nil, usagef("%v", err)
	}
	cfg, err := gha.ConfigFromEnv(os.Getenv, os.ReadFile)
	if err != nil {
		return nil, usagef("%v", err)
	}
	client, err := gha.New(cfg, logger)
	if err != nil {
		return nil, fmt.Errorf("GitHub client: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := client.FetchRun(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("fetching %s: %w", url, err)
	}
	if len(run.FailedJobs) == 0 {
		return nil, usagef("run %d of %s/%s has no failed job (conclusion %q)", ref.RunID, ref.Owner, ref.Repo, run.Conclusion)
	}
	reg := registry.New(os.Getenv("PUBDOC_NPM_REGISTRY_URL"), registry.Secret(os.Getenv("NPM_TOKEN")), nil, logger)
	results, err := bot.DiagnoseRun(ctx, eng, run, reg, logger)
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
