package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// DiagnoseRun is auto mode over a fetched run: each failed job's log is diagnosed with
// the workflow at the failing commit (the job's own definition, or the reusable workflow
// holding the publish job) and, when reg is not nil and the log's publish went to the
// registry reg reaches, what the registry says of the package and its trusted publishers.
// Every diagnosis whose fix is a change to a file cites the file and line to change.
// One result per failed job. The scan stops when ctx ends: the error then wraps ctx's.
func DiagnoseRun(ctx context.Context, eng *diagnose.Engine, run *Run, reg Registry, logger *slog.Logger) ([]*diagnose.Result, error) {
	files := parseRunFiles(run, logger)
	sites := packageSites(run.PackageJSON)
	var results []*diagnose.Result
	for _, job := range run.FailedJobs {
		out := &diagnose.Outside{Sites: sites}
		out.Add(diagnose.OutsideFact{Name: "workflow_file", Value: path.Base(run.WorkflowPath), Source: "run", Text: "workflow_run.path: " + run.WorkflowPath})
		out.Add(diagnose.OutsideFact{Name: "event", Value: run.Event, Source: "run", Text: "event: " + run.Event})
		for _, f := range files.facts(job.Name) {
			out.Add(f)
		}
		first, err := eng.DiagnoseContext(ctx, bytes.NewReader(job.Log), out)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", job.Name, err)
		}
		res, note := first, ""
		if name := first.Facts["package_name"]; reg != nil && name != "" && askable(first.Facts["registry"], reg.BaseURL()) {
			note = registryFacts(ctx, reg, name, run.Ref, run, first, out, logger)
			if res, err = eng.DiagnoseContext(ctx, bytes.NewReader(job.Log), out); err != nil {
				return nil, fmt.Errorf("job %s: %w", job.Name, err)
			}
		}
		if note != "" {
			res.Summary += " " + note
		}
		res.Job = job.Name
		attachPatches(res, run, logger)
		if job.LogTruncated {
			res.Summary += " (the job log was longer than the size cap; its start was read)"
		}
		results = append(results, res)
	}
	return results, nil
}

// Publishes reports whether the run's workflow (or a reusable workflow it calls from its
// own repository) has a publish job: the runs Pubdoc watches by default.
func Publishes(run *Run) bool {
	files := map[string][]byte{run.WorkflowPath: run.Workflow}
	for p, src := range run.Callees {
		files[p] = src
	}
	for p, src := range files {
		if len(src) == 0 {
			continue
		}
		if wf, err := workflow.Parse(p, src); err == nil && wf.PublishJob() != nil {
			return true
		}
	}
	return false
}

var reMajor = lazyre.New(`^v?(\d+)(?:\.x)?$`)

// resolveNode turns a node-version input into a comparable version: setup-node resolves a
// bare major ("22", "22.x") to the newest release of that line.
func resolveNode(v string) string {
	v = strings.Trim(strings.TrimSpace(v), `'"`)
	if m := reMajor.Get().FindStringSubmatch(v); m != nil {
		return m[1] + ".99.0"
	}
	if strings.Count(v, ".") == 2 {
		return strings.TrimPrefix(v, "v")
	}
	return "" // lts/*, node, expressions: unknown
}

// registryFacts asks the registry whether the package exists and, with NPM_TOKEN, whether its
// trusted publishers match this run. When it cannot be asked, the diagnosis stands on the log
// and the workflow, and the returned note says so.
func registryFacts(ctx context.Context, reg Registry, name string, ref RunRef, run *Run, first *diagnose.Result, out *diagnose.Outside, logger *slog.Logger) string {
	version := first.Facts["package_version"]
	info, err := reg.Package(ctx, name, version)
	if err != nil {
		logger.Warn("the registry could not be asked; diagnosing from the log", "package", name, "err", err)
		return "(The registry could not be asked about " + name + "; this rests on the log and the workflow.)"
	}
	out.Add(diagnose.OutsideFact{Name: "package_exists", Value: fmt.Sprint(info.Exists), Source: "registry", Text: fmt.Sprintf("registry: %s exists: %v", name, info.Exists)})
	if version != "" && info.Published {
		out.Add(diagnose.OutsideFact{Name: "published", Value: "true", Source: "registry", Text: fmt.Sprintf("registry: %s@%s is published", name, version)})
	}
	if !info.Exists {
		return ""
	}
	identity := RunIdentity{Repository: ref.Owner + "/" + ref.Repo, WorkflowFile: path.Base(run.WorkflowPath), Environment: first.Facts["environment"]}
	cmp, err := reg.CheckPublishers(ctx, name, identity)
	if errors.Is(err, ErrNoRegistryToken) {
		return "(Set NPM_TOKEN to compare the package's trusted publishers with this run.)"
	}
	if err != nil {
		logger.Warn("trusted publishers could not be read", "package", name, "err", err)
		return "(The package's trusted publishers could not be read: " + err.Error() + ")"
	}
	publisherFacts(name, cmp, identity, out)
	return ""
}

// publisherFacts adds what the trusted-publisher check found to out.
func publisherFacts(name string, cmp PublisherCheck, identity RunIdentity, out *diagnose.Outside) {
	switch {
	case !cmp.Configured:
		out.Add(diagnose.OutsideFact{Name: "trusted_publisher", Value: "none", Source: "registry", Text: "registry: no trusted publisher is configured for " + name})
		return
	case cmp.Match:
		out.Add(diagnose.OutsideFact{Name: "trusted_publisher", Value: "match", Source: "registry", Text: "registry: a trusted publisher matches this run"})
		return
	}
	out.Add(diagnose.OutsideFact{Name: "trusted_publisher", Value: "mismatch", Source: "registry", Text: "registry: " + strings.Join(cmp.Mismatches, "; ")})
	if cmp.Closest == nil {
		return
	}
	var fields []string
	if cmp.Closest.Repository != identity.Repository {
		fields = append(fields, "repository")
	}
	if cmp.Closest.WorkflowFile != identity.WorkflowFile {
		fields = append(fields, "workflow")
	}
	if cmp.Closest.Environment != "" && cmp.Closest.Environment != identity.Environment {
		fields = append(fields, "environment")
	}
	if len(fields) > 0 {
		out.Add(diagnose.OutsideFact{Name: "tp_mismatch", Value: strings.Join(fields, ","), Source: "registry", Text: "registry: " + strings.Join(cmp.Mismatches, "; ")})
	}
}

// publicRegistries are the hosts of the public npm registry (yarn's is an alias of it).
var publicRegistries = []string{"registry.npmjs.org", "registry.yarnpkg.com"}

// askable reports whether the registry the log published to can be asked at configured,
// the address at which Pubdoc reaches the public npm registry (PUBDOC_NPM_REGISTRY_URL: the
// registry itself, a mirror, a proxy or a test double). A publish to the public registry,
// or to an unnamed one (npm's default), is asked there; a publish to any other registry
// only when that registry is the one configured.
func askable(logged, configured string) bool {
	if logged == "" || slices.Contains(publicRegistries, registryHost(logged)) {
		return true
	}
	return trimURL(logged) == trimURL(configured)
}

// registryHost is the lower-cased host of a registry URL.
func registryHost(u string) string {
	h, _, _ := strings.Cut(trimURL(u), "/")
	return h
}

// trimURL is a registry URL without its scheme, credentials and trailing slash.
func trimURL(raw string) string {
	raw = strings.ToLower(strings.TrimSpace(raw))
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		raw = u.Host + u.Path
	}
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(raw, "https://"), "http://"), "/")
}
