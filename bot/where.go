package bot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// runFiles are a run's workflow and the reusable workflows it calls, parsed.
type runFiles struct {
	top     *workflow.Workflow
	callees map[string]*workflow.Workflow // by repository path, as Run.Callees
	paths   []string                      // callee paths, sorted: a stable search order
}

// parseRunFiles parses what the run fetched; a file that does not parse is left out.
func parseRunFiles(run *Run, logger *slog.Logger) *runFiles {
	rf := &runFiles{callees: map[string]*workflow.Workflow{}}
	if len(run.Workflow) > 0 {
		wf, err := workflow.Parse(run.WorkflowPath, run.Workflow)
		if err != nil {
			logger.Warn("workflow file does not parse", "path", run.WorkflowPath, "err", err)
		} else {
			rf.top = wf
		}
	}
	for p, src := range run.Callees {
		if cw, err := workflow.Parse(p, src); err == nil {
			rf.callees[p] = cw
			rf.paths = append(rf.paths, p)
		}
	}
	slices.Sort(rf.paths)
	return rf
}

// reMatrix is the suffix GitHub adds to a matrix job's name: "build (18, ubuntu-latest)".
var reMatrix = lazyre.New(`\s+\([^()]*\)$`)

// named finds the job GitHub shows as name: its name:, else its id.
func named(wf *workflow.Workflow, name string) *workflow.Job {
	if wf == nil {
		return nil
	}
	name = reMatrix.Get().ReplaceAllString(strings.TrimSpace(name), "")
	for _, j := range wf.Jobs {
		if j.Name == name || j.ID == name {
			return j
		}
	}
	return nil
}

// callee is the same-repository workflow a caller job's uses: names.
func (rf *runFiles) callee(caller *workflow.Job) *workflow.Workflow {
	if caller == nil || !strings.HasPrefix(caller.Uses, "./") {
		return nil
	}
	return rf.callees[strings.TrimPrefix(caller.Uses, "./")]
}

// job finds the definition of a failed job: by the name GitHub gave it ("caller / callee"
// for a job of a called workflow), else the publish job of the run's workflow or of a
// workflow it calls. caller is the job whose uses: called wf, nil when wf is the run's own.
func (rf *runFiles) job(name string) (wf *workflow.Workflow, job, caller *workflow.Job) {
	if rf.top == nil {
		return nil, nil, nil
	}
	if outer, inner, ok := strings.Cut(name, " / "); ok {
		if c := named(rf.top, outer); c != nil {
			if cw := rf.callee(c); cw != nil {
				if j := named(cw, inner); j != nil {
					return cw, j, c
				}
			}
		}
	} else if j := named(rf.top, name); j != nil && j.Uses == "" {
		return rf.top, j, nil
	}
	if j := rf.top.PublishJob(); j != nil {
		return rf.top, j, nil
	}
	for _, p := range rf.paths {
		cw := rf.callees[p]
		if j := cw.PublishJob(); j != nil {
			var c *workflow.Job
			for _, tj := range rf.top.Jobs {
				if rf.callee(tj) == cw {
					c = tj
					break
				}
			}
			return cw, j, c
		}
	}
	return rf.top, nil, nil
}

// facts are what the workflow says about the failed job, each with its file and line (the
// quoted source line is its evidence text): the job's permissions, runner, environment and,
// relative to its publish step, setup-node, npm upgrade, token and publish flags; for a job
// of a called workflow also the caller's uses: line.
func (rf *runFiles) facts(jobName string) []diagnose.OutsideFact {
	wf, job, caller := rf.job(jobName)
	if wf == nil {
		return nil
	}
	var out []diagnose.OutsideFact
	tokenEnv, publishes := false, false
	for _, f := range wf.Facts(job) {
		name, value := f.Name, f.Value
		switch name {
		case "node_version":
			value = resolveNode(value)
			if value == "" {
				continue
			}
		case "token_env":
			tokenEnv = true
		case "publish_tool":
			publishes = true
		case "triggers", "corepack", "workflow_file":
			continue // shown by the run, or not a diagnosis fact
		}
		out = append(out, diagnose.OutsideFact{Name: name, Value: value, Source: "workflow", File: path.Base(f.File), Line: f.Line, Text: quote(f)})
	}
	if caller != nil {
		for _, f := range rf.top.Facts(caller) {
			if f.Name == "reusable_call" {
				out = append(out, diagnose.OutsideFact{Name: f.Name, Value: f.Value, Source: "workflow", File: path.Base(f.File), Line: f.Line, Text: quote(f)})
			}
		}
	}
	if wf != rf.top {
		out = append(out, diagnose.OutsideFact{Name: "workflow_call", Value: "true", Source: "workflow", File: path.Base(wf.Path), Text: "the publish job is in a called (reusable) workflow"})
	}
	if publishes && !tokenEnv {
		out = append(out, diagnose.OutsideFact{Name: "oidc_intended", Value: "true", Source: "workflow", File: path.Base(wf.Path), Text: "the publish step gets no NODE_AUTH_TOKEN/NPM_TOKEN: a trusted (tokenless) publish"})
	}
	return out
}

// quote is a workflow fact's evidence text: its source line, and for a permission the
// line does not spell out (a block without the scope, or no block at all), what it means.
func quote(f workflow.Fact) string {
	text := f.Text
	if text == "" {
		text = f.Name + ": " + f.Value
	}
	switch {
	case f.Name == "id_token_permission" && f.Value == "missing":
		return text + "  # id-token: write is not granted"
	case f.Name == "id_token_permission" && f.Value == "default":
		return text + "  # no permissions: block, so no id-token: write"
	case f.Name == "packages_permission" && f.Value != "write" && !strings.Contains(text, "packages"):
		return text + "  # packages: " + f.Value + ", not write"
	}
	return text
}

// packageSites locates, in the repository's root package.json, the fields a fix may change:
// repository (its url, when it is an object) and version.
func packageSites(src []byte) []diagnose.OutsideFact {
	if len(src) == 0 {
		return nil
	}
	at := jsonKeyOffsets(src)
	lines := bytes.Split(src, []byte("\n"))
	site := func(name, key string) *diagnose.OutsideFact {
		off, ok := at[key]
		if !ok {
			return nil
		}
		n := bytes.Count(src[:off], []byte("\n"))
		return &diagnose.OutsideFact{Name: name, Source: "workflow", File: "package.json", Line: n + 1, Text: strings.TrimSpace(string(lines[n]))}
	}
	var out []diagnose.OutsideFact
	repo := site(diagnose.SitePackageRepository, "repository.url")
	if repo == nil {
		repo = site(diagnose.SitePackageRepository, "repository")
	}
	for _, s := range []*diagnose.OutsideFact{repo, site(diagnose.SitePackageVersion, "version")} {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

// jsonKeyOffsets maps the keys of a JSON document's top-level object, and of the objects
// directly in it ("repository.url"), to the byte offset where each key starts. A document
// that does not decode yields what was read before the error.
func jsonKeyOffsets(src []byte) map[string]int {
	k := &keyScanner{src: src, out: map[string]int{}}
	dec := json.NewDecoder(bytes.NewReader(src))
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil { // io.EOF, or where the document stops decoding
			return k.out
		}
		if !k.key(tok, before) {
			k.nest(tok)
		}
	}
}

// keyScanner follows a JSON document's tokens for jsonKeyOffsets.
type keyScanner struct {
	src   []byte
	out   map[string]int
	stack []keyFrame
	// pending is the key whose value comes next.
	pending string
}

// keyFrame is one open object or array.
type keyFrame struct {
	object bool
	key    string // the key of this container in its parent object
	expect bool   // an object expecting a key next
}

// key takes tok as a key when an object expects one, recording where it starts when the
// object is the document's or directly in it; it reports whether tok was a key.
func (k *keyScanner) key(tok json.Token, before int64) bool {
	top := len(k.stack) - 1
	if top < 0 || !k.stack[top].object || !k.stack[top].expect {
		return false
	}
	name, ok := tok.(string)
	if !ok {
		return false
	}
	k.stack[top].expect = false
	k.pending = name
	if top > 1 {
		return true
	}
	if top == 1 {
		name = k.stack[1].key + "." + name
	}
	// InputOffset is after the previous token; the key starts at its quote.
	off := int(before)
	if i := bytes.IndexByte(k.src[off:], '"'); i >= 0 {
		off += i
	}
	if _, seen := k.out[name]; !seen {
		k.out[name] = off
	}
	return true
}

// nest follows a value token: an opening delimiter starts a container (named by the
// pending key), a closing one ends it, and after a value its object expects a key again.
func (k *keyScanner) nest(tok json.Token) {
	switch tok {
	case json.Delim('{'), json.Delim('['):
		k.stack = append(k.stack, keyFrame{object: tok == json.Delim('{'), key: k.pending, expect: tok == json.Delim('{')})
		k.pending = ""
		return
	case json.Delim('}'), json.Delim(']'):
		k.stack = k.stack[:len(k.stack)-1]
	}
	if n := len(k.stack) - 1; n >= 0 && k.stack[n].object {
		k.stack[n].expect = true
	}
	k.pending = ""
}
