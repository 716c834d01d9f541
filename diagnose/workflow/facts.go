package workflow

import (
	"cmp"
	"slices"
	"strings"
)

// PublishJob returns the job that uploads the package: the first job whose steps run a
// publish command or action (npm, pnpm, yarn, lerna, changesets, semantic-release,
// release-it, nx, JS-DevTools/npm-publish), preferring one that uploads to the public npm
// registry over one that uploads to GitHub Packages or a private registry. It returns nil
// when no job publishes, which is also the answer for a workflow that only calls a reusable
// one (see Job.Uses).
func (w *Workflow) PublishJob() *Job {
	var fallback *Job
	for _, j := range w.Jobs {
		v := analyze(j)
		for _, p := range v.publishes {
			if registryKind(newCtx(w, j, v, p).reg.val) == "npmjs" {
				return j
			}
			if fallback == nil {
				fallback = j
			}
		}
	}
	return fallback
}

// factOrder breaks ties between facts on one line, so the order is stable and readable.
var factOrder = []string{
	"workflow_file", "triggers", "workflow_call", "id_token_permission", "packages_permission",
	"environment", "runner", "reusable_call", "setup_node_version", "node_version",
	"registry_url", "npm_upgrade", "corepack", "publish_tool", "publish_command", "token_env",
	"provenance_flag", "access", "dist_tag",
}

// Facts returns what the workflow says about job, each with its file and line, sorted by
// line. With job nil it returns the workflow-level facts only (file, triggers, top-level
// permissions and env). For a job it adds the job's effective permissions (a job-level
// permissions block overrides the workflow's; none anywhere is "default"), runner,
// environment, the reusable workflow it calls, and — relative to its first publish
// command, or to the end of the job when it has none — the setup-node, npm upgrade,
// corepack, token, provenance, access and dist-tag settings in effect.
func (w *Workflow) Facts(job *Job) []Fact {
	var out []Fact
	add := func(name, val string, line int) {
		out = append(out, Fact{Name: name, Value: val, File: w.File, Line: line, Text: w.text(line)})
	}
	add("workflow_file", w.File, 1)
	if len(w.Triggers) > 0 {
		add("triggers", strings.Join(w.Triggers, ","), w.onLine)
	}
	if w.IsCallee() {
		add("workflow_call", "true", w.callLine)
	}

	c := w.jobCtx(job)
	add("id_token_permission", c.idTok.state, c.idTok.line)
	add("packages_permission", c.pkgs.state, c.pkgs.line)
	if job != nil {
		jobFacts(job, c, add)
	}
	if c.token.ok() {
		add("token_env", c.token.val, c.token.line)
	}
	if c.prov.ok() {
		add("provenance_flag", c.prov.val, c.prov.line)
	}
	if c.access.ok() {
		add("access", c.access.val, c.access.line)
	}
	if c.tag.ok() {
		add("dist_tag", c.tag.val, c.tag.line)
	}
	slices.SortStableFunc(out, func(a, b Fact) int {
		if a.Line != b.Line {
			return cmp.Compare(a.Line, b.Line)
		}
		return cmp.Compare(slices.Index(factOrder, a.Name), slices.Index(factOrder, b.Name))
	})
	return out
}

// jobFacts adds the facts of one job: its environment, runner, the reusable workflow it
// calls, and the setup-node, npm upgrade, corepack and publish command in effect.
func jobFacts(job *Job, c *ctx, add func(name, val string, line int)) {
	if job.environment.set {
		add("environment", job.environment.s, job.environment.line)
	}
	if c.runner.ok() {
		add("runner", c.runner.val, c.runner.line)
	}
	if job.Uses != "" {
		add("reusable_call", job.Uses, job.usesLine)
	}
	if s := c.setup; s != nil {
		add("setup_node_version", s.step.ref(), s.step.uses.line)
		if s.nodeVersion.set {
			add("node_version", s.nodeVersion.s, s.nodeVersion.line)
		}
		if s.registryURL.set {
			add("registry_url", s.registryURL.s, s.registryURL.line)
		}
	}
	if c.up != nil {
		add("npm_upgrade", c.up.spec.raw, c.up.line)
	}
	for _, cp := range c.v.corepack {
		if c.p == nil || cp.line <= c.p.line {
			add("corepack", "true", cp.line)
			break
		}
	}
	if c.p != nil {
		add("publish_tool", c.p.tool, c.p.line)
		add("publish_command", c.p.text, c.p.line)
	}
}

// jobCtx is the context of a job's first publish, or of the job as a whole, or (job nil) of
// the workflow's top level.
func (w *Workflow) jobCtx(job *Job) *ctx {
	if job == nil {
		return newCtx(w, nil, &view{}, nil)
	}
	v := analyze(job)
	var p *publish
	if len(v.publishes) > 0 {
		p = v.publishes[0]
	}
	return newCtx(w, job, v, p)
}
