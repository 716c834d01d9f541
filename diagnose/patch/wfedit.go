package patch

import (
	"encoding/json"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// wfEdit makes the candidate edits for one finding in one workflow file. A finding names
// its file and line only, so the job and step are found again here, in the YAML tree: the
// job whose lines hold the finding's line, the step within it.
type wfEdit struct {
	y    *yamlFile
	path string
	s    *state
}

// job is one entry of jobs:.
type job struct {
	key, val    *yaml.Node
	first, last int
}

func (w *wfEdit) jobs() []job {
	_, jobs := get(w.y.root, "jobs")
	if jobs == nil || jobs.Kind != yaml.MappingNode {
		return nil
	}
	var out []job
	for i := 0; i+1 < len(jobs.Content); i += 2 {
		k, v := jobs.Content[i], jobs.Content[i+1]
		if v.Kind != yaml.MappingNode {
			continue
		}
		out = append(out, job{key: k, val: v, first: k.Line, last: w.y.extent(k.Line, w.y.col(k), v)})
	}
	return out
}

// jobAt is the job holding line, or nil (a line outside every job: the workflow's own
// permissions or env).
func (w *wfEdit) jobAt(line int) *job {
	for _, j := range w.jobs() {
		if j.first <= line && line <= j.last {
			return &j
		}
	}
	return nil
}

// jobOf is the job a finding is about: the one it names, else the one holding its line.
func (w *wfEdit) jobOf(f workflow.Finding) *job {
	if f.Job != "" {
		for _, j := range w.jobs() {
			if j.key.Value == f.Job {
				return &j
			}
		}
	}
	return w.jobAt(f.Line)
}

// steps are a job's step mappings.
func steps(j *job) []*yaml.Node {
	_, seq := get(j.val, "steps")
	if seq == nil || seq.Kind != yaml.SequenceNode {
		return nil
	}
	var out []*yaml.Node
	for _, s := range seq.Content {
		if s.Kind == yaml.MappingNode {
			out = append(out, s)
		}
	}
	return out
}

// stepAt is the step of j whose lines hold line, or nil.
func (w *wfEdit) stepAt(j *job, line int) *yaml.Node {
	for _, s := range steps(j) {
		dash, err := w.y.dashCol(s)
		if err != nil {
			continue
		}
		if s.Line <= line && line <= w.y.extent(s.Line, dash, s) {
			return s
		}
	}
	return nil
}

func action(step *yaml.Node) string {
	_, u := get(step, "uses")
	if u == nil {
		return ""
	}
	a, _, _ := strings.Cut(u.Value, "@")
	return strings.ToLower(a)
}

// setupNode is the setup-node step of j holding line, else j's last setup-node step.
func (w *wfEdit) setupNode(j *job, line int) *yaml.Node {
	if s := w.stepAt(j, line); s != nil && action(s) == "actions/setup-node" {
		return s
	}
	var last *yaml.Node
	for _, s := range steps(j) {
		if action(s) == "actions/setup-node" {
			last = s
		}
	}
	return last
}

// pinnedNPM is the npm a fix installs: npm 11 from 11.5.1, the first with the OIDC exchange
// (not npm@latest: npm 12 refuses Node below 22.22.2 and 24.15).
const pinnedNPM = "^11.5.1"

// reNPMSpec is npm@SPEC in a command (not pnpm@…).
var reNPMSpec = lazyre.New(`(^|[^\w@/-])npm@([^\s'";&|()]+)`)

// reBareNPM is an install of npm without a version ("npm install -g npm": the latest).
var reBareNPM = lazyre.New(`\b(?:install|i|add|update|up|upgrade)\s(?:[^;&|]*\s)?(npm)(?:\s|$|[;&|])`)

// pinLine rewrites the npm spec on line l to pinnedNPM.
func (w *wfEdit) pinLine(l int) (Edit, bool) {
	text := w.y.text(l)
	at := w.y.lineStart(l)
	if m := reNPMSpec.Get().FindStringSubmatchIndex(text); m != nil {
		if text[m[4]:m[5]] == pinnedNPM {
			return Edit{}, false
		}
		return Edit{Start: at + m[4], End: at + m[5], Text: pinnedNPM}, true
	}
	if m := reBareNPM.Get().FindStringSubmatchIndex(text); m != nil {
		return Edit{Start: at + m[3], End: at + m[3], Text: "@" + pinnedNPM}, true
	}
	return Edit{}, false
}

// nodeVersion reads a literal node-version: its major and minor (-1 when not written),
// ok false for an alias, an expression or a file.
func nodeVersion(v string) (major, minor int, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	parts := strings.Split(v, ".")
	major, err := strconv.Atoi(parts[0])
	if err != nil {
		return 0, 0, false
	}
	minor = -1
	if len(parts) > 1 {
		if n, err := strconv.Atoi(parts[1]); err == nil {
			minor = n
		}
	}
	return major, minor, true
}

// node24 makes a setup-node step install Node 24, whose npm (from 24.5) has trusted
// publishing: its node-version set, or added when it has none.
func (w *wfEdit) node24(setup *yaml.Node) []Edit {
	if setup == nil {
		return nil
	}
	_, with := get(setup, "with")
	if _, f := get(with, "node-version-file"); f != nil {
		return nil // the version lives in another file
	}
	if _, nv := get(with, "node-version"); nv != nil {
		if strings.Contains(nv.Value, "${{") || nv.Value == "24" {
			return nil
		}
		e, err := w.y.setScalar(nv, "24")
		if err != nil {
			return nil
		}
		return []Edit{e}
	}
	if with != nil {
		e, err := w.y.insertEntry(with, nil, []string{"node-version: '24'"})
		if err != nil {
			return nil
		}
		return []Edit{e}
	}
	uk, _ := get(setup, "uses")
	e, err := w.y.insertEntry(setup, uk, []string{"with:", strings.Repeat(" ", w.y.unit()) + "node-version: '24'"})
	if err != nil {
		return nil
	}
	return []Edit{e}
}

// pinStep adds "run: npm install -g npm@^11.5.1" after the setup-node step.
func (w *wfEdit) pinStep(setup *yaml.Node) []Edit {
	if setup == nil {
		return nil
	}
	e, err := w.y.insertItemAfter(setup, []string{"run: npm install -g npm@" + pinnedNPM})
	if err != nil {
		return nil
	}
	return []Edit{e}
}

func (w *wfEdit) one(edits ...[]Edit) candidate {
	var all []Edit
	for _, e := range edits {
		if e == nil {
			return nil // a part of the fix cannot be made
		}
		all = append(all, e...)
	}
	if len(all) == 0 {
		return nil
	}
	return candidate{w.path: all}
}

// npmTooOld: a trusted publish whose npm lacks the OIDC exchange. An npm@X the job
// installs is pinned to npm 11; otherwise the knowledge rule's fix: Node 24, or npm 11
// pinned after setup-node where Node 22.14+ already runs it (the smaller change there).
func (w *wfEdit) npmTooOld(f workflow.Finding) []candidate {
	j := w.jobOf(f)
	if j == nil {
		return nil
	}
	setup := w.setupNode(j, f.Line)
	if e, ok := w.pinLine(f.Line); ok && (setup == nil || w.stepAt(j, f.Line) != setup) {
		return []candidate{w.one([]Edit{e}), w.one([]Edit{e}, w.node24(setup))}
	}
	bump, pin := w.one(w.node24(setup)), w.one(w.pinStep(setup))
	_, nv := get(at(setup, "with"), "node-version")
	if nv != nil {
		if major, minor, ok := nodeVersion(nv.Value); ok && (major > 22 || major == 22 && (minor < 0 || minor >= 14)) {
			return []candidate{pin, bump}
		}
	}
	return []candidate{bump, pin}
}

// upgradeEngine: an npm upgrade whose npm refuses the job's Node. Pin npm 11; or move to
// Node 24 (with npm 11 pinned, or with the upgrade step dropped when it is only that).
func (w *wfEdit) upgradeEngine(f workflow.Finding) []candidate {
	j := w.jobOf(f)
	if j == nil {
		return nil
	}
	setup := w.setupNode(j, 0)
	e, ok := w.pinLine(f.Line)
	if !ok {
		return nil
	}
	out := []candidate{w.one([]Edit{e}), w.one([]Edit{e}, w.node24(setup))}
	if st := w.stepAt(j, f.Line); st != nil {
		if _, run := get(st, "run"); run != nil && len(commandsOf(run.Value)) == 1 {
			if d, err := w.y.deleteItem(st); err == nil {
				out = append(out, w.one([]Edit{d}, w.node24(setup)))
			}
		}
	}
	return out
}

// commandsOf splits a run: script into its non-empty, non-comment lines.
func commandsOf(script string) []string {
	var out []string
	for l := range strings.SplitSeq(script, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	return out
}

// grant gives scope: write to the job the finding is in, or, for a finding on the
// workflow's permissions, to each job in turn (the check keeps the one that needed it).
func (w *wfEdit) grant(f workflow.Finding, scope string) []candidate {
	js := w.jobs()
	if j := w.jobOf(f); j != nil {
		js = []job{*j}
	}
	var out []candidate
	for i := range js {
		out = append(out, w.one(w.grantJob(&js[i], scope)))
	}
	return out
}

// grantJob adds scope: write to a job's permissions: into its own block when it has one;
// else as a new block that keeps what the job had (the workflow's block, or the default's
// contents: read, write when the job pushes or releases), because a job's block replaces
// the workflow's.
func (w *wfEdit) grantJob(j *job, scope string) []Edit {
	y := w.y
	if _, pv := get(j.val, "permissions"); pv != nil {
		if pv.Kind != yaml.MappingNode {
			return nil // read-all, write-all or an expression: not a block to add to
		}
		if k, v := get(pv, scope); k != nil {
			if v.Kind != yaml.ScalarNode {
				return nil
			}
			e, err := y.setScalar(v, "write")
			if err != nil {
				return nil
			}
			return []Edit{e}
		}
		e, err := y.insertEntry(pv, nil, []string{scope + ": write"})
		if err != nil {
			return nil
		}
		return []Edit{e}
	}
	pad := strings.Repeat(" ", y.unit())
	lines := []string{"permissions:"}
	switch _, wp := get(y.root, "permissions"); {
	case wp == nil:
		lines = append(lines, pad+"contents: "+w.contents(j))
	case wp.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(wp.Content); i += 2 {
			k, v := wp.Content[i], wp.Content[i+1]
			if k.Value != scope && v.Kind == yaml.ScalarNode {
				lines = append(lines, pad+k.Value+": "+v.Value)
			}
		}
	default:
		return nil // read-all: the job's block would have to list every scope
	}
	lines = append(lines, pad+scope+": write")
	var after *yaml.Node
	for _, key := range []string{"runs-on", "uses", "name"} {
		if k, _ := get(j.val, key); k != nil {
			after = k
			break
		}
	}
	e, err := y.insertEntry(j.val, after, lines)
	if err != nil {
		return nil
	}
	return []Edit{e}
}

// pushes are commands and actions that write to the repository (tags, releases, commits):
// a job running one keeps contents: write when it gets its own permissions block.
var pushes = []string{"git push", "git tag", "gh release", "semantic-release", "changesets/action", "release-it", "action-gh-release", "release-please"}

func (w *wfEdit) contents(j *job) string {
	for l := j.first; l <= j.last; l++ {
		t := w.y.text(l)
		for _, p := range pushes {
			if strings.Contains(t, p) {
				return "write"
			}
		}
	}
	return "read"
}

// deleteEntries deletes keys from block mapping m, and m's own entry (parentKey in
// parent) when nothing would be left in it.
func (w *wfEdit) deleteEntries(parent *yaml.Node, parentKey string, m *yaml.Node, keys ...string) []Edit {
	left := 0
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !contains(keys, m.Content[i].Value) {
			left++
		}
	}
	if left == 0 {
		e, err := w.y.deleteEntry(parent, parentKey)
		if err != nil {
			return nil
		}
		return []Edit{e}
	}
	var out []Edit
	for _, k := range keys {
		e, err := w.y.deleteEntry(m, k)
		if err != nil {
			return nil
		}
		out = append(out, e)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// npmjs reports whether a registry-url is the public npm registry's.
func npmjs(u string) bool {
	u = strings.TrimSuffix(strings.TrimSpace(strings.ToLower(u)), "/")
	return u == "https://registry.npmjs.org" || u == "http://registry.npmjs.org"
}

// placeholder reports whether a NODE_AUTH_TOKEN value is empty or a stand-in, not a secret.
func placeholder(v string) bool {
	t := strings.TrimSpace(v)
	t = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(t, "${{"), "}}"))
	return t == "" || t == "''" || t == `""` || strings.HasPrefix(strings.ToUpper(t), "XXXXX")
}

// masks: setup-node's registry-url on a trusted publish writes an .npmrc whose token line
// (setup-node's placeholder, or an empty NODE_AUTH_TOKEN) wins over OIDC. Drop registry-url
// (only the public registry's: another would change where the package goes) and every
// empty or placeholder NODE_AUTH_TOKEN of the job.
func (w *wfEdit) masks(f workflow.Finding) []candidate {
	j := w.jobOf(f)
	if j == nil {
		return nil
	}
	setup := w.stepAt(j, f.Line)
	_, with := get(setup, "with")
	_, reg := get(with, "registry-url")
	if reg == nil || !npmjs(reg.Value) {
		return nil
	}
	edits := w.deleteEntries(setup, "with", with, "registry-url")
	if edits == nil {
		return nil
	}
	envs := []struct{ parent, env *yaml.Node }{{w.y.root, at(w.y.root, "env")}, {j.val, at(j.val, "env")}}
	for _, st := range steps(j) {
		envs = append(envs, struct{ parent, env *yaml.Node }{st, at(st, "env")})
	}
	for _, e := range envs {
		if e.env == nil || e.env.Kind != yaml.MappingNode || !block(e.env) {
			continue
		}
		if _, v := get(e.env, "NODE_AUTH_TOKEN"); v != nil && v.Kind == yaml.ScalarNode && placeholder(v.Value) {
			d := w.deleteEntries(e.parent, "env", e.env, "NODE_AUTH_TOKEN")
			if d == nil {
				return nil
			}
			edits = append(edits, d...)
		}
	}
	return []candidate{w.one(edits)}
}

// tokenNoRegistry: NODE_AUTH_TOKEN is set but nothing maps it into an .npmrc. Give the
// job's setup-node the public registry's registry-url, which writes that line, or add a
// setup-node step with it before the publish.
func (w *wfEdit) tokenNoRegistry(f workflow.Finding) []candidate {
	j := w.jobOf(f)
	if j == nil {
		return nil
	}
	setup := w.setupNode(j, 0)
	line := "registry-url: https://registry.npmjs.org"
	if setup == nil {
		// No setup-node: one before the publish step writes the .npmrc, keeping the
		// runner's Node (no node-version).
		at := f.StepLine
		if at == 0 {
			at = f.Line
		}
		publish := w.stepAt(j, at)
		if publish == nil {
			return nil
		}
		pad := strings.Repeat(" ", w.y.unit())
		e, err := w.y.insertItemBefore(publish, []string{"uses: actions/setup-node@v6", "with:", pad + line})
		if err != nil {
			return nil
		}
		return []candidate{w.one([]Edit{e})}
	}
	if _, with := get(setup, "with"); with != nil {
		e, err := w.y.insertEntry(with, nil, []string{line})
		if err != nil {
			return nil
		}
		return []candidate{w.one([]Edit{e})}
	}
	uk, _ := get(setup, "uses")
	e, err := w.y.insertEntry(setup, uk, []string{"with:", strings.Repeat(" ", w.y.unit()) + line})
	if err != nil {
		return nil
	}
	return []candidate{w.one([]Edit{e})}
}

// reProvenance is a --provenance flag that turns provenance on.
var reProvenance = lazyre.New(`\s--provenance(=true)?(\s|$)`)

// runner: provenance (or trusted publishing) on a runner npm does not support. For
// provenance: drop --provenance, or turn it off where trusted publishing would add it
// anyway; for either, a GitHub-hosted runner.
func (w *wfEdit) runner(f workflow.Finding) []candidate {
	j := w.jobOf(f)
	if j == nil {
		return nil
	}
	var out []candidate
	if f.Rule == "provenance-self-hosted-runner" {
		var drop, off []Edit
		for l := j.first; l <= j.last; l++ {
			text := w.y.text(l)
			m := reProvenance.Get().FindStringSubmatchIndex(text)
			if m == nil {
				continue
			}
			at := w.y.lineStart(l)
			end := m[1] - (m[5] - m[4]) // keep the space or end after the flag
			drop = append(drop, Edit{Start: at + m[0], End: at + end})
			off = append(off, Edit{Start: at + m[0], End: at + end, Text: " --provenance=false"})
		}
		for _, env := range []*yaml.Node{at(w.y.root, "env"), at(j.val, "env")} {
			if _, v := get(env, "NPM_CONFIG_PROVENANCE"); v != nil && strings.EqualFold(v.Value, "true") {
				if e, err := w.y.setScalar(v, "false"); err == nil {
					off = append(off, e)
				}
			}
		}
		out = append(out, w.one(drop), w.one(off))
	}
	if k, v := get(j.val, "runs-on"); k != nil {
		if e, err := w.y.replaceValue(k, v, "ubuntu-latest"); err == nil {
			out = append(out, w.one([]Edit{e}))
		}
	}
	return out
}

// rePublish is a publish command, to add a flag after.
var rePublish = lazyre.New(`\b(?:npm|pnpm|yarn npm)\s+publish\b`)

// flagAfterPublish adds " flag" after the publish command on line l.
func (w *wfEdit) flagAfterPublish(l int, flag string) []Edit {
	text := w.y.text(l)
	m := rePublish.Get().FindStringIndex(text)
	if m == nil {
		return nil
	}
	at := w.y.lineStart(l) + m[1]
	return []Edit{{Start: at, End: at, Text: " " + flag}}
}

// scopedAccess: the first publish of a scoped package is restricted by default. Set
// publishConfig.access in package.json when it is known, else --access public on the
// command.
func (w *wfEdit) scopedAccess(f workflow.Finding) []candidate {
	var out []candidate
	if w.s.pkg != "" {
		if jf, err := parseJSON(w.s.files[w.s.pkg]); err == nil {
			if e, err := jf.set([]string{"publishConfig", "access"}, `"public"`); err == nil {
				out = append(out, candidate{w.s.pkg: {e}})
			}
		}
	}
	return append(out, w.one(w.flagAfterPublish(f.Line, "--access public")))
}

// reTagName is a prerelease identifier that can name a dist-tag (not a number).
var reTagName = lazyre.New(`^[A-Za-z][\w-]*$`)

// prerelease: npm 11 refuses a prerelease without --tag. Publish it under the
// prerelease's own name (1.2.0-beta.1 → beta), else next.
func (w *wfEdit) prerelease(f workflow.Finding) []candidate {
	tag := "next"
	if w.s.pkg != "" {
		if p, err := workflow.ParsePackage(w.s.pkg, w.s.files[w.s.pkg]); err == nil {
			core, _, _ := strings.Cut(p.Version, "+")
			if _, pre, ok := strings.Cut(core, "-"); ok {
				id, _, _ := strings.Cut(pre, ".")
				if reTagName.Get().MatchString(id) {
					tag = strings.ToLower(id)
				}
			}
		}
	}
	return []candidate{w.one(w.flagAfterPublish(f.Line, "--tag "+tag))}
}

// repositoryURL sets package.json's repository to the GitHub repository repo
// (OWNER/REPO), as npm pkg fix writes it; nil when it already names it.
func repositoryURL(src []byte, repo string) ([]byte, error) {
	jf, err := parseJSON(src)
	if err != nil {
		return nil, err
	}
	want := "git+https://github.com/" + repo + ".git"
	keys := []string{"repository", "url"}
	var cur *jsonValue
	switch r := jf.root.member("repository"); {
	case r != nil && r.kind == '"':
		cur, keys = r, keys[:1]
	case r != nil:
		cur = r.member("url")
	}
	if cur != nil && cur.kind == '"' {
		var s string
		if json.Unmarshal(src[cur.start:cur.end], &s) == nil && sameRepo(s, repo) {
			return nil, nil
		}
	}
	e, err := jf.set(keys, quoteJSON(want))
	if err != nil {
		return nil, err
	}
	return Apply(src, []Edit{e})
}

// sameRepo reports whether a repository URL names github.com/OWNER/REPO.
func sameRepo(u, repo string) bool {
	u = strings.ToLower(strings.TrimSpace(u))
	for _, p := range []string{"git+", "https://", "http://", "ssh://", "git://", "git@", "github:", "www."} {
		u = strings.TrimPrefix(u, p)
	}
	u = strings.TrimPrefix(strings.TrimPrefix(u, "github.com/"), "github.com:")
	u = strings.TrimSuffix(strings.TrimSuffix(u, "/"), ".git")
	return u == strings.ToLower(repo)
}
