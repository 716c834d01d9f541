package workflow

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/pubdoc/pubdoc/knowledge"
)

// Severities.
const (
	SeverityError   = "error"   // the publish will fail as written
	SeverityWarning = "warning" // it will likely fail, or fail on a condition the file cannot show
	// SeverityNote is "cannot tell": what the publish depends on is a value the file does not
	// show (vars, secrets, outputs), so the finding says what to look at instead of guessing.
	SeverityNote = "note"
)

// Finding is one predicted publish failure, at the line to change.
//
// The json tags are the "findings" of `pubdoc check --format json`
// (docs/schema/check.v1.json). Cause, Fix and Snippet are the knowledge rule's (Rule), with
// the file's own values filled into the snippet's placeholders; Message is what this file
// says, citing its lines.
type Finding struct {
	ID       string `json:"id"`       // check-…
	Severity string `json:"severity"` // "error" | "warning" | "note"
	File     string `json:"file"`     // the workflow's base name
	Line     int    `json:"line"`
	Message  string `json:"message"`         // what will fail and why, citing the lines that say so
	Fix      string `json:"fix"`             // what to change: the rule's fix summary
	Snippet  string `json:"snippet"`         // YAML that works today, to paste: the rule's snippet
	Rule     string `json:"rule"`            // the knowledge-base id the failure would be diagnosed as from its log
	Cause    string `json:"cause,omitempty"` // the rule's cause
	// Job is the id of the job the finding is about, and StepLine the line of the step
	// (its first key) when it is about one step; both empty for a workflow-level finding.
	Job      string `json:"job,omitempty"`
	StepLine int    `json:"step_line,omitempty"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s [%s]", f.File, f.Line, f.Severity, f.Message, f.ID)
}

// Check ids. Each predicts a failure the knowledge base diagnoses from a log (Finding.Rule).
const (
	CheckNPMTooOld         = "check-npm-too-old"
	CheckMissingIDToken    = "check-missing-id-token"
	CheckSelfHostedRunner  = "check-self-hosted-runner"
	CheckNPMUpgradeEngine  = "check-npm-upgrade-ebadengine"
	CheckTokenMasksOIDC    = "check-token-masks-oidc"
	CheckScopedAccess      = "check-scoped-access"
	CheckPrereleaseTag     = "check-prerelease-requires-tag"
	CheckMissingPackagesWr = "check-missing-packages-write"
	CheckTokenNoRegistry   = "check-token-no-registry-url"
	CheckGPRScope          = "check-gpr-scope"
	CheckNodeUnresolved    = "check-node-version-unresolved"
)

// Check predicts the publish failures one workflow file shows on its own.
func Check(w *Workflow) []Finding {
	return CheckAll([]*Workflow{w}, nil)
}

// CheckAll checks several workflow files of one repository together, with the package.json
// being published when known (pkg may be nil). Together, a caller and the reusable workflow
// it calls (uses: ./.github/workflows/x.yml) are judged as one run: the callee only gets
// the id-token permission its caller grants. Findings are sorted by file, line and id.
func CheckAll(ws []*Workflow, pkg *Package) []Finding {
	var out []Finding
	callees := map[string]*Workflow{}
	callers := map[string][]callSite{} // by the called file's base name
	for _, w := range ws {
		if w == nil {
			continue
		}
		for _, j := range w.Jobs {
			if strings.HasPrefix(j.Uses, "./") {
				b := path.Base(j.Uses)
				callers[b] = append(callers[b], callSite{file: w.File, job: j.ID, line: j.usesLine})
			}
		}
	}
	linkCallerInputs(ws)
	for _, w := range ws {
		if w == nil {
			continue
		}
		out = append(out, checkOne(w, pkg, summarizeCallers(callers[w.File]))...)
		if w.IsCallee() {
			callees[w.File] = w
		}
	}
	out = checkCalls(ws, callees, out)
	out = append(out, checkNPMEntryPoints(callees, callers)...)
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID))
	})
	// One finding per line and check: two uploads that miss the same permission share a fix,
	// and the first found (npm's, then the other registries' in step order) says it.
	return slices.CompactFunc(out, func(a, b Finding) bool {
		return a.File == b.File && a.Line == b.Line && a.ID == b.ID
	})
}

// linkCallerInputs gives each local reusable workflow what its callers among ws pass for its
// inputs, so ${{ inputs.x }} reads the caller's value (or the default a call leaves).
func linkCallerInputs(ws []*Workflow) {
	byFile := map[string]*Workflow{}
	for _, w := range ws {
		if w != nil {
			w.callerInputs = nil
			byFile[w.File] = w
		}
	}
	for _, w := range ws {
		if w == nil {
			continue
		}
		for _, j := range w.Jobs {
			callee := byFile[path.Base(j.Uses)]
			if !strings.HasPrefix(j.Uses, "./") || callee == nil || !callee.IsCallee() {
				continue
			}
			if callee.callerInputs == nil {
				callee.callerInputs = map[string][]value{}
			}
			for name, decl := range callee.inputs {
				v, ok := j.callWith[name]
				if !ok {
					v = decl
				}
				callee.callerInputs[name] = append(callee.callerInputs[name], v)
			}
		}
	}
}

func checkOne(w *Workflow, pkg *Package, calls callers) []Finding {
	var out []Finding
	add := func(f *Finding) {
		if f != nil {
			out = append(out, *f)
		}
	}
	for _, j := range w.Jobs {
		v := analyzeWith(j, pkg)
		out = append(out, checkUpgrades(w, j, v)...)
		for _, p := range v.publishes {
			c := newCtx(w, j, v, p)
			c.pkg = pkg
			for _, chk := range []func(*ctx) *Finding{
				checkNPMTooOld, checkNodeUnresolved, checkIDToken, checkRunner, checkMasks,
				checkPackagesWrite, checkTokenNoRegistry, checkGPRScope, checkScopedAccess, checkPrerelease,
			} {
				add(chk(c))
			}
		}
		if len(v.publishes) == 0 {
			add(checkHiddenPublishRunner(w, j, v))
		}
		out = append(out, checkRegistries(w, j, v, calls)...)
	}
	return out
}

// rules is the knowledge base the findings take their cause, fix and snippet from.
var rules = sync.OnceValue(knowledge.MustLoad)

// finding makes a finding from the rule it names: the cause, fix summary and snippet are
// the rule's, with vars (and the job's id and setup-node) filled into its placeholders;
// msg is what this file says.
func (c *ctx) finding(id, sev string, line int, ruleID, msg string, vars map[string]string) *Finding {
	f := &Finding{ID: id, Severity: sev, File: c.w.File, Line: line, Message: msg, Rule: ruleID}
	all := map[string]string{"setup_node": c.setupNodeRef()}
	if c.j != nil {
		f.Job = c.j.ID
		all["job"] = c.j.ID
	}
	if c.p != nil && c.p.step != nil {
		f.StepLine = c.p.step.line
	}
	for k, v := range vars {
		all[k] = v
	}
	if r := rules().Rule(ruleID); r != nil {
		f.Cause = strings.TrimSpace(r.Cause)
		f.Fix, f.Snippet = r.Fix.Render(all)
		f.Fix = strings.TrimSpace(f.Fix)
	}
	return f
}

// atStep marks the step a finding is about (an upload of another registry, an npm
// upgrade), for the patches that edit it.
func atStep(f *Finding, s *step) *Finding {
	if f != nil && s != nil {
		f.StepLine = s.line
	}
	return f
}

func (c *ctx) at(line int) string { return fmt.Sprintf("%s:%d", c.w.File, line) }

// setupNodeRef is the setup-node a snippet shows: the job's own, else a current one.
func (c *ctx) setupNodeRef() string {
	if c.setup != nil && c.setup.step.uses.s != "" {
		return c.setup.step.uses.s
	}
	return "actions/setup-node@v6"
}

// npmClient says which npm client runs the upload for a tool that may hand it to npm: ""
// when the tool publishes itself (npm, the npm-publish action, release-it run npm itself;
// pnpm 11 and later exchange the OIDC token natively), "npm" when the runner's npm does it
// for sure (pnpm 10 and older run `npm publish`), "maybe" when the file does not say
// which pnpm or whether changesets and nx go through pnpm. skip is true for tools that
// bring their own npm or client (semantic-release, lerna, yarn: oidc-tool-no-oidc-support).
func (c *ctx) npmClient() (via string, pnpm pnpmVersion, skip bool) {
	switch c.p.tool {
	case toolNPM, toolNPMPublish, toolReleaseIt:
		return "", pnpmVersion{}, false
	case toolPNPM, toolChangesets:
		pv := c.pnpmVersion()
		switch {
		case c.p.tool == toolChangesets && !pv.used:
			return "maybe", pv, false
		case pv.major >= 11:
			return "", pv, true // pnpm's own OIDC exchange (pnpm/pnpm publishPackedPkg)
		case pv.major > 0:
			return "npm", pv, false
		}
		return "maybe", pv, false
	case toolNx:
		return "maybe", pnpmVersion{}, false
	}
	return "", pnpmVersion{}, true
}

// checkNPMTooOld: a tokenless publish whose npm has no OIDC exchange (npm < 11.5.1).
func checkNPMTooOld(c *ctx) *Finding {
	if !c.oidcIntended() {
		return nil
	}
	via, pv, skip := c.npmClient()
	if skip {
		return nil
	}
	sev := SeverityError
	lead := fmt.Sprintf("%s publishes without a token (trusted publishing)", code(c.p.text))
	switch via {
	case "npm":
		lead = fmt.Sprintf("%s publishes without a token (trusted publishing) through %s, which runs the runner's `npm publish` for the upload (pnpm 10 and older have no OIDC exchange of their own)", code(c.p.text), pv.where)
	case "maybe":
		sev = SeverityWarning
		lead = fmt.Sprintf("%s publishes without a token (trusted publishing), and %s hands the upload to the runner's npm unless it runs on pnpm 11 or later, which exchanges the token itself", code(c.p.text), c.p.tool)
	}
	spec, line, src := npmSpec{}, 0, ""
	switch {
	case c.p.npmAt != "":
		spec, line, src = parseNPMSpec(c.p.npmAt), c.p.line, "npx npm@"+c.p.npmAt
	case c.up != nil:
		spec, line, src = c.up.spec, c.up.line, c.up.text
	}
	if line > 0 {
		has, ok := spec.hasOIDC()
		if !ok || has {
			return nil
		}
		return c.finding(CheckNPMTooOld, sev, line, "oidc-npm-too-old",
			fmt.Sprintf("%s, but %s (%s) gives npm %s, older than 11.5.1, the first npm with the OIDC exchange; npm then fails with ENEEDAUTH or E404 on the PUT.", lead, code(src), c.at(line), spec.raw),
			c.nodeVars())
	}
	has, ok := npmBundledHasOIDC(c.node)
	if !ok || has {
		return nil
	}
	nv := c.setup.nodeVersion
	bundled := "npm 10"
	if c.node.major == 24 {
		bundled = "npm 11.3–11.4"
	}
	shown := fmt.Sprintf("%q", nv.s)
	if c.nodeIn.resolved != "" {
		shown = fmt.Sprintf("%q (%s)", c.nodeIn.resolved, nv.s)
	}
	msg := fmt.Sprintf("%s, but node-version %s (%s) bundles %s and no step upgrades npm; trusted publishing needs npm >= 11.5.1 (and Node >= 22.14), so npm skips the exchange and fails with ENEEDAUTH or E404 on the PUT.", lead, shown, c.at(nv.line), bundled)
	return c.finding(CheckNPMTooOld, sev, nv.line, "oidc-npm-too-old", msg, c.nodeVars())
}

// nodeVars are the placeholders of a Node fix: Node 24 where npm 11 alone will not do
// (trusted publishing needs Node >= 22.14, npm 11 needs ^20.17.0 || >=22.9.0).
func (c *ctx) nodeVars() map[string]string {
	return map[string]string{"node_version": "24"}
}

// checkNodeUnresolved: the node-version of a tokenless publish reads a variable. Undefined
// (a matrix key, env or input nothing sets: GitHub makes it ”) it leaves the Node to the
// runner's image or a version file, whose npm the file cannot pin; from vars, secrets or an
// output the file cannot tell which npm publishes (a note).
func checkNodeUnresolved(c *ctx) *Finding {
	if !c.oidcIntended() || c.setup == nil || !c.setup.nodeVersion.set || c.node.known() {
		return nil
	}
	if via, _, skip := c.npmClient(); skip || via == "maybe" {
		return nil
	}
	if c.p.npmAt != "" || c.up != nil && c.up.spec.known() {
		return nil // the npm is set by the upgrade or npx npm@X, whatever the Node
	}
	nv := c.setup.nodeVersion
	in := c.nodeIn
	if len(in.undefined) > 0 {
		fallback := "setup-node installs nothing and the job runs the runner image's own Node and npm, which the file does not pin"
		if f := c.setup.step.with["node-version-file"]; f.set {
			fallback = fmt.Sprintf("setup-node falls back to node-version-file %s (%s), which this file does not show", f.s, c.at(f.line))
		}
		return c.finding(CheckNodeUnresolved, SeverityWarning, nv.line, "oidc-npm-too-old",
			fmt.Sprintf("node-version %s (%s) reads %s, which nothing in the file defines, so it is ''; %s, and %s publishes without a token (trusted publishing), which needs npm >= 11.5.1: with an older npm it fails with ENEEDAUTH or E404.", nv.s, c.at(nv.line), strings.Join(in.undefined, ", "), fallback, code(c.p.text)),
			c.nodeVars())
	}
	if len(in.opaque) == 0 {
		return nil
	}
	return c.finding(CheckNodeUnresolved, SeverityNote, nv.line, "oidc-npm-too-old",
		fmt.Sprintf("Cannot tell which npm publishes: node-version %s (%s) comes from %s, which the file does not show, and %s publishes without a token (trusted publishing), which needs npm >= 11.5.1 (Node 24.5 or later bundles it; Node 22 and older bundle npm 10).", nv.s, c.at(nv.line), strings.Join(in.opaque, ", "), code(c.p.text)),
		c.nodeVars())
}

// checkIDToken: trusted publishing or provenance without the job's OIDC token.
func checkIDToken(c *ctx) *Finding {
	if !c.needsIDToken() || c.idTok.state == "granted" {
		return nil
	}
	rule, why := "oidc-missing-id-token-permission",
		fmt.Sprintf("%s publishes without a token (trusted publishing), which needs the job's OIDC token; without it npm skips the exchange and fails with ENEEDAUTH or E404", code(c.p.text))
	if c.prov.val == "true" {
		rule, why = "provenance-missing-id-token-permission",
			fmt.Sprintf("%s asks for provenance (%s, %s), which is signed with the job's OIDC token; npm stops with EUSAGE 'Provenance generation in GitHub Actions requires \"write\" access to the \"id-token\" permission'", code(c.p.text), c.prov.name, c.at(c.prov.line))
	}
	return c.missingIDToken(rule, why, true)
}

// missingIDToken is the finding for a job whose effective permissions lack id-token: write,
// saying where they come from. why says what needs the token; sure false makes it a warning.
func (c *ctx) missingIDToken(rule, why string, sure bool) *Finding {
	var where string
	switch c.idTok.level {
	case "job":
		where = fmt.Sprintf("job %s's permissions block (%s) does not grant id-token: write, and a permissions block sets every scope it does not name to none", c.j.ID, c.at(c.idTok.line))
	case "workflow":
		where = fmt.Sprintf("the workflow's permissions (%s) do not grant id-token: write and job %s has no permissions of its own", c.at(c.idTok.line), c.j.ID)
	default:
		where = "no permissions block grants id-token: write, and the default GITHUB_TOKEN never includes it"
		if c.w.IsCallee() {
			return c.finding(CheckMissingIDToken, SeverityWarning, c.idTok.line, rule,
				fmt.Sprintf("%s; this workflow is called (workflow_call, %s) and has no permissions block, so job %s gets id-token: write only if every caller's job grants it (a called workflow can keep or lower its caller's permissions, never raise them).", why, c.at(c.w.callLine), c.j.ID), nil)
		}
	}
	sev := SeverityError
	if !sure {
		sev = SeverityWarning
	}
	return c.finding(CheckMissingIDToken, sev, c.idTok.line, rule, why+"; "+where+".", nil)
}

// checkRunner: provenance (or trusted publishing) on a runner npm does not support.
func checkRunner(c *ctx) *Finding {
	kind := c.runner.val
	if kind != "self-hosted" && kind != "third-party" {
		return nil
	}
	if via, _, skip := c.npmClient(); skip && via == "" && c.p.tool != toolPNPM && c.p.tool != toolChangesets {
		if c.prov.val != "true" {
			return nil // semantic-release, lerna, yarn: only an explicit --provenance says
		}
	}
	runsOn := fmt.Sprintf("%s (%s) is a %s runner", c.runnerLabel(), c.at(c.runner.line), kind)
	switch {
	case c.prov.val == "true":
		return c.finding(CheckSelfHostedRunner, SeverityError, c.runner.line, "provenance-self-hosted-runner",
			fmt.Sprintf("%s asks for provenance (%s) but %s; the registry rejects the bundle with E422 'Unsupported GitHub Actions runner environment: \"self-hosted\". Only \"github-hosted\" runners are supported when publishing with provenance.'", code(c.p.text), c.at(c.prov.line), runsOn), nil)
	case c.oidcIntended() && c.prov.val != "false":
		return c.finding(CheckSelfHostedRunner, SeverityWarning, c.runner.line, "oidc-self-hosted-runner",
			fmt.Sprintf("%s publishes without a token (trusted publishing) but %s; npm supports trusted publishing on GitHub-hosted runners only, and on other runners the automatic provenance of a public package fails with E422.", code(c.p.text), runsOn), nil)
	}
	return nil
}

// runnerLabel quotes the runner label a finding is about.
func (c *ctx) runnerLabel() string {
	if c.runner.name != "" {
		return code(c.runner.name)
	}
	return c.w.text(c.runner.line)
}

// checkHiddenPublishRunner: a job on a self-hosted or third-party runner that has the OIDC
// token and runs a script named like a publish, which the file does not show. If that
// script publishes to npm with provenance or by trusted publishing, npm refuses the runner;
// the file cannot tell, so it is a note.
func checkHiddenPublishRunner(w *Workflow, j *Job, v *view) *Finding {
	if len(v.hidden) == 0 {
		return nil
	}
	c := newCtx(w, j, v, nil)
	kind := c.runner.val
	if kind != "self-hosted" && kind != "third-party" || c.idTok.state != "granted" {
		return nil
	}
	h := v.hidden[0]
	f := c.finding(CheckSelfHostedRunner, SeverityNote, c.runner.line, "provenance-self-hosted-runner",
		fmt.Sprintf("Cannot tell whether %s (%s) publishes to npm: it runs a script this file does not show, in job %s, which has the OIDC token (id-token: write, %s) on %s (%s), a %s runner. If it publishes with provenance or by trusted publishing, npm refuses the runner with E422 'Unsupported GitHub Actions runner environment: \"self-hosted\"'.", code(h.text), c.at(h.line), j.ID, c.at(c.idTok.line), c.runnerLabel(), c.at(c.runner.line), kind), nil)
	return atStep(f, h.step)
}

// checkMasks: setup-node's registry-url writes an .npmrc whose token is a placeholder.
func checkMasks(c *ctx) *Finding {
	s := c.setup
	if !c.oidcIntended() || c.idTok.state != "granted" || s == nil || !s.registryURL.set || c.reg.name != "registry-url" {
		return nil
	}
	msg := fmt.Sprintf("registry-url (%s) makes %s write an .npmrc with _authToken=${NODE_AUTH_TOKEN}", c.at(s.registryURL.line), s.step.uses.s)
	switch {
	case c.token.val == "empty":
		msg += fmt.Sprintf(", and %s is set empty (%s): if the OIDC exchange fails, npm sends the empty token and the log shows an authentication error instead of the exchange's.", c.token.name, c.at(c.token.line))
	case s.major() >= 7:
		return nil // setup-node v7 no longer exports the XXXXX placeholder
	default:
		msg += ", and with no NODE_AUTH_TOKEN set setup-node exports the placeholder XXXXX-XXXXX-XXXXX-XXXXX: if the OIDC exchange fails, npm sends it and fails with E404 'Access token expired or revoked' instead of naming the exchange's error."
	}
	// A note: npm 11.5.1 and later let a successful exchange override the token (workflows
	// with this setup publish), so the placeholder only hides the reason when it fails.
	f := c.finding(CheckTokenMasksOIDC, SeverityNote, s.registryURL.line, "oidc-token-fallback-masks-failure", msg, nil)
	return atStep(f, s.step)
}

// checkPackagesWrite: GitHub Packages with GITHUB_TOKEN but no packages: write.
func checkPackagesWrite(c *ctx) *Finding {
	if registryKind(c.reg.val) != "github" || c.token.val != "set" || !c.githubToken() {
		return nil
	}
	if c.pkgs.state != "read" && c.pkgs.state != "none" {
		return nil
	}
	return c.finding(CheckMissingPackagesWr, SeverityError, c.pkgs.line, "gpr-misconfiguration",
		fmt.Sprintf("%s uploads to GitHub Packages (%s) with GITHUB_TOKEN, but the job's token has packages: %s (%s); GitHub Packages refuses the PUT (403 or 401).", code(c.p.text), c.at(c.reg.line), c.pkgs.state, c.at(c.pkgs.line)),
		c.gprVars())
}

// githubToken reports whether the publish authenticates with the job's GITHUB_TOKEN.
func (c *ctx) githubToken() bool {
	tok, _ := c.envChain(c.token.name)
	if c.token.name == "token" {
		tok = c.p.step.with["token"]
	}
	if c.token.name == "_authToken" {
		return isGitHubToken(c.w.text(c.token.line))
	}
	return isGitHubToken(tok.s)
}

// gprVars fill the GitHub Packages snippet with the repository owner's scope.
func (c *ctx) gprVars() map[string]string {
	if owner := c.w.owner(); owner != "" {
		return map[string]string{"scope": "@" + owner}
	}
	return nil
}

// owner is the repository owner, lower-cased, when the caller said which repository.
func (w *Workflow) owner() string {
	o, _, ok := strings.Cut(w.Repo, "/")
	if !ok {
		return ""
	}
	return strings.ToLower(o)
}

// checkTokenNoRegistry: a token in NODE_AUTH_TOKEN that nothing hands to npm. npm reads no
// variable by itself: setup-node's registry-url writes the .npmrc line that maps it, and
// without one (and no .npmrc written in the job) npm has no credentials and stops with
// ENEEDAUTH. A committed .npmrc could map it, which the file does not show: a warning.
func checkTokenNoRegistry(c *ctx) *Finding {
	switch c.p.tool {
	case toolNPM, toolPNPM, toolYarn:
	default:
		return nil // changesets/action, semantic-release and the npm-publish action write their own
	}
	if c.token.val != "set" || c.token.name != "NODE_AUTH_TOKEN" || len(c.v.npmrcs) > 0 || len(c.v.authWrite) > 0 {
		return nil
	}
	if c.setup != nil && c.setup.registryURL.set || c.reg.ok() && c.reg.name != "registry-url" && registryKind(c.reg.val) != "npmjs" {
		return nil
	}
	for _, sn := range c.v.setups {
		if sn.registryURL.set {
			return nil // a registry-url earlier in the job wrote the .npmrc
		}
	}
	setup := "the job has no actions/setup-node"
	if c.setup != nil {
		setup = fmt.Sprintf("%s (%s) has no registry-url", c.setup.step.uses.s, c.at(c.setup.step.uses.line))
	}
	return c.finding(CheckTokenNoRegistry, SeverityWarning, c.token.line, "token-missing-eneedauth",
		fmt.Sprintf("%s sets NODE_AUTH_TOKEN (%s) for %s, but npm reads no such variable by itself: only the .npmrc that setup-node's registry-url writes maps it, and %s and no step writes an .npmrc, so unless the repository commits one that maps it npm has no credentials and stops with ENEEDAUTH 'This command requires you to be logged in'.", c.tokenWhere(), c.at(c.token.line), code(c.p.text), setup),
		map[string]string{"token": c.tokenValue()})
}

func (c *ctx) tokenWhere() string {
	if v, ok := c.p.step.env.vars["NODE_AUTH_TOKEN"]; ok && v.line == c.token.line {
		return "The step"
	}
	if v, ok := c.j.env.vars["NODE_AUTH_TOKEN"]; ok && v.line == c.token.line {
		return fmt.Sprintf("Job %s", c.j.ID)
	}
	return "The workflow"
}

func (c *ctx) tokenValue() string {
	if v, ok := c.envChain(c.token.name); ok && strings.TrimSpace(v.s) != "" {
		return v.s
	}
	return ""
}

// checkGPRScope: GitHub Packages takes only packages scoped to the repository's owner (the
// scope setup-node maps by default), and an unscoped package there goes to npmjs instead.
func checkGPRScope(c *ctx) *Finding {
	gpr := c.gprTarget()
	if !gpr.ok {
		return nil
	}
	owner := c.w.owner()
	name := ""
	if c.pkg.usable() && !slices.ContainsFunc(c.v.renames, func(seq int) bool { return seq < c.p.seq }) {
		name = c.pkg.Name // unless a command renames the package before the publish
	}
	sev := SeverityWarning
	if c.token.val == "set" && c.githubToken() {
		sev = SeverityError // GITHUB_TOKEN writes only to its own owner's namespace
	}
	switch {
	case gpr.scope != "" && owner != "" && !strings.EqualFold(strings.TrimPrefix(gpr.scope, "@"), owner):
		return c.finding(CheckGPRScope, sev, gpr.line, "gpr-misconfiguration",
			fmt.Sprintf("%s maps %s to GitHub Packages (%s), but the repository's owner is %s: GitHub Packages accepts only packages scoped @%s from this repository, and refuses %s/* with 403 'permission_denied' (with GITHUB_TOKEN: 'The requested installation does not exist').", gpr.what, gpr.scope, c.at(gpr.line), owner, owner, gpr.scope),
			c.gprVars())
	case name != "" && !strings.HasPrefix(name, "@"):
		return c.finding(CheckGPRScope, SeverityError, gpr.line, "gpr-misconfiguration",
			fmt.Sprintf("%s publishes %s, an unscoped package, to GitHub Packages (%s), which takes scoped packages only; npm sends it to the default registry instead (E404 or ENEEDAUTH at registry.npmjs.org) or GitHub Packages refuses it.", code(c.p.text), name, c.at(gpr.line)),
			c.gprVars())
	case name != "" && gpr.scope != "" && !strings.EqualFold(scopeOf(name), gpr.scope):
		return c.finding(CheckGPRScope, SeverityError, gpr.line, "gpr-misconfiguration",
			fmt.Sprintf("%s publishes %s, but only %s is mapped to GitHub Packages (%s); npm sends %s to the default registry, registry.npmjs.org, which answers E404 or ENEEDAUTH.", code(c.p.text), name, gpr.scope, c.at(gpr.line), scopeOf(name)),
			c.gprVars())
	case name != "" && owner != "" && !strings.EqualFold(strings.TrimPrefix(scopeOf(name), "@"), owner):
		return c.finding(CheckGPRScope, sev, gpr.line, "gpr-misconfiguration",
			fmt.Sprintf("%s publishes %s to GitHub Packages (%s), but the repository's owner is %s: GitHub Packages accepts only packages scoped @%s from it, and refuses the PUT with 403 'permission_denied'.", code(c.p.text), name, c.at(gpr.line), owner, owner),
			c.gprVars())
	}
	return nil
}

func scopeOf(name string) string {
	s, _, _ := strings.Cut(name, "/")
	return strings.ToLower(s)
}

// gprTarget is where the job points npm at GitHub Packages, and the scope it maps there.
type gprTarget struct {
	ok    bool
	scope string // @scope mapped to npm.pkg.github.com ("" when the default registry is)
	line  int
	what  string // what maps it, for the message
}

// gprTarget finds the GitHub Packages registry of the publish: setup-node's registry-url
// (whose scope defaults to the repository owner), an .npmrc line a step writes or npm config
// set, a --registry flag or NPM_CONFIG_REGISTRY.
func (c *ctx) gprTarget() gprTarget {
	for _, n := range c.v.npmrcs {
		if n.seq < c.p.seq && registryKind(n.registry) == "github" {
			return gprTarget{ok: true, scope: n.scope, line: n.line, what: code(n.text)}
		}
	}
	if registryKind(c.reg.val) != "github" {
		return gprTarget{}
	}
	t := gprTarget{ok: true, line: c.reg.line, what: fmt.Sprintf("%s (%s)", c.reg.name, c.at(c.reg.line))}
	if c.reg.name == "registry-url" && c.setup != nil {
		t.what = fmt.Sprintf("%s's registry-url", c.setup.step.uses.s)
		if sc := strings.TrimSpace(c.setup.scope.s); sc != "" && !strings.Contains(sc, "${{") {
			t.scope = "@" + strings.TrimPrefix(strings.ToLower(sc), "@")
			t.line = c.setup.scope.line
		} else if o := c.w.owner(); o != "" {
			t.scope = "@" + o // setup-node's default scope for GitHub Packages
		}
	}
	return t
}

// checkScopedAccess: the first publish of a scoped package defaults to restricted (E402).
func checkScopedAccess(c *ctx) *Finding {
	pkg := c.pkg
	switch c.p.tool {
	case toolNPM, toolPNPM, toolYarn, toolYarnBerry, toolNPMPublish:
	default:
		return nil // changesets, lerna, semantic-release… read access from their own config
	}
	if registryKind(c.reg.val) != "npmjs" || c.access.ok() || pkg.usable() && pkg.Access != "" || c.gprTarget().ok {
		return nil
	}
	scope := ""
	switch {
	case pkg.scoped():
		scope = fmt.Sprintf("%s names %s", path.Base(pkg.File), pkg.Name)
	case c.setup != nil && strings.HasPrefix(strings.TrimSpace(c.setup.scope.s), "@"):
		scope = fmt.Sprintf("setup-node's scope is %s (%s)", c.setup.scope.s, c.at(c.setup.scope.line))
	default:
		for _, w := range c.p.words {
			if strings.HasPrefix(w, "@") && strings.Contains(w, "/") {
				scope = fmt.Sprintf("the command names %s", w)
				break
			}
		}
	}
	if scope == "" {
		return nil
	}
	return c.finding(CheckScopedAccess, SeverityWarning, c.p.line, "scoped-package-default-restricted",
		fmt.Sprintf("%s publishes a scoped package (%s) without --access and no publishConfig.access is known; the first publish of a scoped package is restricted by default and fails with E402 'You must sign up for private packages'.", code(c.p.text), scope), nil)
}

// checkPrerelease: npm >= 11 refuses a prerelease without --tag. Needs the package.json.
func checkPrerelease(c *ctx) *Finding {
	pkg := c.pkg
	if c.p.tool != toolNPM || !pkg.prerelease() || c.tag.ok() || pkg.Tag != "" {
		return nil
	}
	for _, s := range c.v.versions {
		if s < c.p.seq {
			return nil // the version is set during the run; the committed one says nothing
		}
	}
	var npm11 string
	switch {
	case c.p.npmAt != "":
		if s := parseNPMSpec(c.p.npmAt); s.known() && s.major >= 11 {
			npm11 = code("npx npm@" + c.p.npmAt)
		}
	case c.up != nil:
		if c.up.spec.known() && c.up.spec.major >= 11 {
			npm11 = fmt.Sprintf("%s (%s)", code(c.up.text), c.at(c.up.line))
		}
	case c.node.known() && c.node.major >= 24:
		npm11 = fmt.Sprintf("node-version %q (%s), which bundles npm 11", c.setup.nodeVersion.s, c.at(c.setup.nodeVersion.line))
	}
	if npm11 == "" {
		return nil
	}
	return c.finding(CheckPrereleaseTag, SeverityError, c.p.line, "prerelease-requires-tag",
		fmt.Sprintf("%s publishes %s@%s, a prerelease, without --tag, with npm 11 or later from %s; npm 11 stops with 'You must specify a tag using --tag when publishing a prerelease version.'", code(c.p.text), pkg.Name, pkg.Version, npm11), nil)
}

// checkUpgrades: an "npm install -g npm@X" whose npm refuses the job's Node (EBADENGINE).
func checkUpgrades(w *Workflow, j *Job, v *view) []Finding {
	var out []Finding
	for _, u := range v.upgrades {
		if !u.spec.known() {
			continue
		}
		c := newCtx(w, j, v, nil)
		c.setup = v.setupBefore(u.seq)
		c.nodeIn = resolveNode(w, j, c.setup, u.step)
		c.node = c.nodeIn.spec
		refusal := engineRefusal(u.spec.major, c.node)
		if refusal == "no" {
			continue
		}
		engines := tables().Constraints["npm11_engines"].Text
		which := fmt.Sprintf("npm %d", u.spec.major)
		if u.spec.major >= 12 {
			engines = tables().Constraints["npm12_engines"].Text
			if u.spec.latest {
				which = fmt.Sprintf("npm %d (npm@latest since 2026-07-08)", u.spec.major)
			}
		}
		nv := c.setup.nodeVersion
		msg := fmt.Sprintf("%s installs %s, which requires Node %s, but node-version %q (%s) is below that; the step fails with EBADENGINE before anything is published.", code(u.text), which, engines, nv.s, c.at(nv.line))
		sev := SeverityError
		if refusal == "maybe" {
			sev = SeverityWarning
			msg = fmt.Sprintf("%s installs %s, which requires Node %s, but node-version %q (%s) is not pinned and setup-node may serve an older %d.x from the runner's tool cache (a cached 22.22.0 was seen); then the step fails with EBADENGINE.", code(u.text), which, engines, nv.s, c.at(nv.line), c.node.major)
		}
		if has, ok := npmBundledHasOIDC(c.node); ok && has {
			msg += fmt.Sprintf(" Node %s already bundles npm >= 11.5.1, which has trusted publishing.", nv.s)
		}
		f := c.finding(CheckNPMUpgradeEngine, sev, u.line, "npm-upgrade-ebadengine", msg, c.nodeVars())
		out = append(out, *atStep(f, u.step))
	}
	return out
}

// checkCalls judges callers and local reusable workflows together: the called workflow's
// publish job gets id-token: write only if the calling job grants it.
func checkCalls(ws []*Workflow, callees map[string]*Workflow, out []Finding) []Finding {
	resolved := map[string]bool{} // callee file whose default-permission warning a caller settles
	type need struct {
		job  *Job
		reg  string
		sure bool
	}
	needs := map[*Workflow]*need{} // each callee is analyzed once, however many jobs call it
	for _, w := range ws {
		if w == nil {
			continue
		}
		for _, j := range w.Jobs {
			if !strings.HasPrefix(j.Uses, "./") {
				continue
			}
			callee := callees[path.Base(j.Uses)]
			if callee == nil {
				continue
			}
			n := needs[callee]
			if n == nil {
				n = &need{}
				n.job, n.reg, n.sure = callee.oidcJob()
				needs[callee] = n
			}
			pj, reg, sure := n.job, n.reg, n.sure
			if pj == nil {
				continue // nothing needed, or the callee's own error already says it
			}
			resolved[callee.File] = true
			caller := newCtx(w, j, &view{}, nil)
			if caller.idTok.state == "granted" {
				continue
			}
			rule, to, sev := "oidc-missing-id-token-permission", "", SeverityError
			if reg != "npm" {
				rule, to = reg+"-missing-id-token", " to "+registryName[reg]
			}
			if !sure {
				sev = SeverityWarning
			}
			out = append(out, *caller.finding(CheckMissingIDToken, sev, caller.idTok.line, rule,
				fmt.Sprintf("job %s calls %s, whose job %s (%s:%d) needs the OIDC token to publish%s, but job %s does not grant id-token: write; a called workflow can keep or lower its caller's permissions, never raise them.", j.ID, j.Uses, pj.ID, callee.File, pj.Line, to, j.ID),
				nil))
		}
	}
	return slices.DeleteFunc(out, func(f Finding) bool {
		return resolved[f.File] && f.ID == CheckMissingIDToken && f.Severity == SeverityWarning
	})
}

// checkNPMEntryPoints: npm matches a trusted publisher against the workflow the run started
// from (the caller of a reusable workflow, npm's docs), and a package has one trusted
// publisher. A reusable workflow that publishes by trusted publishing and is started from
// several files (its callers, and itself when it has triggers of its own) fails from all
// but the one the trusted publisher names.
func checkNPMEntryPoints(callees map[string]*Workflow, callers map[string][]callSite) []Finding {
	var out []Finding
	names := make([]string, 0, len(callees))
	for n := range callees {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		w := callees[name]
		pj := w.PublishJob()
		if pj == nil {
			continue
		}
		c := w.jobCtx(pj)
		if c.p == nil || !c.oidcIntended() {
			continue
		}
		var entries []string
		for _, cs := range callers[name] {
			entries = appendNew(entries, cs.file)
		}
		for _, t := range w.Triggers {
			if t != "workflow_call" {
				entries = appendNew(entries, w.File+" itself ("+t+")")
				break
			}
		}
		if len(entries) < 2 {
			continue
		}
		first := strings.TrimSuffix(entries[0], " itself")
		f := c.finding(CheckReusablePublisher, SeverityWarning, c.p.line, "oidc-reusable-workflow-caller-mismatch",
			fmt.Sprintf("%s publishes by trusted publishing inside %s, a reusable workflow (workflow_call, %s) that runs are started from %d files: %s. npm matches the trusted publisher against the workflow a run started from, the caller, and a package has one trusted publisher, so the publish fails with ENEEDAUTH or E404 from every file but the one it names.", code(c.p.text), w.File, c.at(w.callLine), len(entries), strings.Join(entries, ", ")),
			map[string]string{"caller": first, "callee": w.File})
		out = append(out, *f)
	}
	return out
}

// oidcJob returns the called workflow's job that publishes with the OIDC token, the
// registry it publishes to ("npm" or a registries.go name) and whether it certainly needs
// the token (false for uv's automatic mode). It skips a job whose own permissions already
// lack id-token: write: its own finding says so. npm's job is PublishJob's.
func (w *Workflow) oidcJob() (*Job, string, bool) {
	if pj := w.PublishJob(); pj != nil {
		if cc := w.jobCtx(pj); cc.needsIDToken() && cc.idTok.state != "missing" {
			return pj, "npm", true
		}
	}
	for _, j := range w.Jobs {
		v := analyze(j)
		c := newCtx(w, j, v, nil)
		if c.idTok.state == "missing" {
			continue
		}
		for _, u := range v.uploads {
			if need := c.oidc(u); need != "" {
				return j, u.reg, need == "yes"
			}
		}
	}
	return nil, "", false
}

// code quotes a command for a message (Markdown and Slack render it as code).
func code(s string) string { return "`" + s + "`" }
