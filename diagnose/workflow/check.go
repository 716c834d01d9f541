package workflow

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Severities.
const (
	SeverityError   = "error"   // the publish will fail as written
	SeverityWarning = "warning" // it will likely fail, or fail on a condition the file cannot show
)

// Finding is one predicted publish failure, at the line to change.
//
// The json tags are the "findings" of `pubdoc check --format json`
// (docs/schema/check.v1.json).
type Finding struct {
	ID       string `json:"id"`       // check-…
	Severity string `json:"severity"` // "error" | "warning"
	File     string `json:"file"`     // the workflow's base name
	Line     int    `json:"line"`
	Message  string `json:"message"` // what will fail and why, citing the lines that say so
	Fix      string `json:"fix"`     // what to change
	Snippet  string `json:"snippet"` // YAML that works today, to paste
	Rule     string `json:"rule"`    // the knowledge-base id the failure would be diagnosed as from its log
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
	slices.SortStableFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID))
	})
	// One finding per line and check: two uploads that miss the same permission share a fix,
	// and the first found (npm's, then the other registries' in step order) says it.
	return slices.CompactFunc(out, func(a, b Finding) bool {
		return a.File == b.File && a.Line == b.Line && a.ID == b.ID
	})
}

func checkOne(w *Workflow, pkg *Package, calls callers) []Finding {
	var out []Finding
	for _, j := range w.Jobs {
		v := analyze(j)
		out = append(out, checkUpgrades(w, j, v)...)
		for _, p := range v.publishes {
			c := newCtx(w, j, v, p)
			for _, chk := range []func(*ctx) *Finding{
				checkNPMTooOld, checkIDToken, checkRunner, checkMasks, checkPackagesWrite,
			} {
				if f := chk(c); f != nil {
					out = append(out, *f)
				}
			}
			if f := checkScopedAccess(c, pkg); f != nil {
				out = append(out, *f)
			}
			if f := checkPrerelease(c, pkg); f != nil {
				out = append(out, *f)
			}
		}
		out = append(out, checkRegistries(w, j, v, calls)...)
	}
	return out
}

func (c *ctx) finding(id, sev string, line int, rule, msg, fix, snippet string) *Finding {
	return &Finding{ID: id, Severity: sev, File: c.w.File, Line: line, Message: msg, Fix: fix, Snippet: snippet, Rule: rule}
}

func (c *ctx) at(line int) string { return fmt.Sprintf("%s:%d", c.w.File, line) }

// setupNodeRef is the setup-node to show in a snippet: the job's own, else a current one.
func (c *ctx) setupNodeRef() string {
	if c.setup != nil && c.setup.step.uses.s != "" {
		return c.setup.step.uses.s
	}
	return "actions/setup-node@v6"
}

// node24Snippet is a setup-node step that gives Node 24, whose npm has trusted publishing.
func (c *ctx) node24Snippet() string {
	return fmt.Sprintf("- uses: %s\n  with:\n    node-version: '24'   # 24.5+ bundles npm >= 11.5.1\n    check-latest: true", c.setupNodeRef())
}

// needsNewerNode: npm 11 alone will not do. Trusted publishing needs Node >= 22.14 as well
// (npm docs), and npm 11 itself needs ^20.17.0 || >=22.9.0. On 22.14+ pinning npm is the
// smallest change; anywhere below, Node 24 is.
func needsNewerNode(n nodeSpec) bool {
	return n.known() && (n.highest().Compare(tables().Thresholds["node_oidc_min"]) < 0 || engineRefusal(11, n) != "no")
}

const pinNPM11 = "- run: npm install -g npm@^11.5.1   # not npm@latest: npm 12 needs Node ^22.22.2 || ^24.15.0 || >=26\n- run: npm --version"

// checkNPMTooOld: a tokenless publish whose npm has no OIDC exchange (npm < 11.5.1).
func checkNPMTooOld(c *ctx) *Finding {
	if !c.oidcIntended() {
		return nil
	}
	sev := SeverityError
	lead := fmt.Sprintf("%s publishes without a token (trusted publishing)", code(c.p.text))
	switch c.p.tool {
	case toolNPM, toolNPMPublish, toolReleaseIt:
	case toolPNPM, toolChangesets, toolNx:
		sev = SeverityWarning
		lead = fmt.Sprintf("%s publishes without a token (trusted publishing), and %s hands the upload to the runner's npm unless it publishes natively", code(c.p.text), c.p.tool)
	default:
		return nil // semantic-release, lerna, yarn: their own npm or client, see oidc-tool-no-oidc-support
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
		fix, snippet := "Install an npm 11 at least 11.5.1.", pinNPM11
		if needsNewerNode(c.node) {
			fix, snippet = "Use Node 24, whose bundled npm has trusted publishing, and drop the npm upgrade.", c.node24Snippet()
		}
		return c.finding(CheckNPMTooOld, sev, line, "oidc-npm-too-old",
			fmt.Sprintf("%s, but %s (%s) gives npm %s, older than 11.5.1, the first npm with the OIDC exchange; npm then fails with ENEEDAUTH or E404 on the PUT.", lead, code(src), c.at(line), spec.raw),
			fix, snippet)
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
	msg := fmt.Sprintf("%s, but node-version %q (%s) bundles %s and no step upgrades npm; trusted publishing needs npm >= 11.5.1, so npm skips the exchange and fails with ENEEDAUTH or E404 on the PUT.", lead, nv.s, c.at(nv.line), bundled)
	if !needsNewerNode(c.node) {
		return c.finding(CheckNPMTooOld, sev, nv.line, "oidc-npm-too-old", msg,
			"Upgrade npm to 11 before publishing (not npm@latest: that is npm 12, which refuses Node below 22.22.2 and 24.15), or use Node 24.5 or later.", pinNPM11)
	}
	return c.finding(CheckNPMTooOld, sev, nv.line, "oidc-npm-too-old", msg,
		"Use Node 24: it bundles npm >= 11.5.1, and trusted publishing needs Node >= 22.14 as well.", c.node24Snippet())
}

const idTokenSnippet = "permissions:\n  contents: read\n  id-token: write"

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
	return c.missingIDToken(rule, why, idTokenSnippet, true)
}

// missingIDToken is the finding for a job whose effective permissions lack id-token: write,
// saying where they come from. why says what needs the token; sure false makes it a warning.
func (c *ctx) missingIDToken(rule, why, snippet string, sure bool) *Finding {
	fix := fmt.Sprintf("Grant id-token: write to job %s.", c.j.ID)
	var where string
	switch c.idTok.level {
	case "job":
		where = fmt.Sprintf("job %s's permissions block (%s) does not grant id-token: write, and a permissions block sets every scope it does not name to none", c.j.ID, c.at(c.idTok.line))
		fix = fmt.Sprintf("Add id-token: write to job %s's permissions (%s).", c.j.ID, c.at(c.idTok.line))
	case "workflow":
		where = fmt.Sprintf("the workflow's permissions (%s) do not grant id-token: write and job %s has no permissions of its own", c.at(c.idTok.line), c.j.ID)
	default:
		where = "no permissions block grants id-token: write, and the default GITHUB_TOKEN never includes it"
		if c.w.IsCallee() {
			return c.finding(CheckMissingIDToken, SeverityWarning, c.idTok.line, rule,
				fmt.Sprintf("%s; this workflow is called (workflow_call, %s) and has no permissions block, so job %s gets id-token: write only if every caller's job grants it.", why, c.at(c.w.callLine), c.j.ID),
				"Grant id-token: write in each caller's job (a called workflow can keep or lower the caller's permissions, never raise them), and here too to make it explicit.",
				snippet)
		}
	}
	sev := SeverityError
	if !sure {
		sev = SeverityWarning
	}
	return c.finding(CheckMissingIDToken, sev, c.idTok.line, rule, why+"; "+where+".", fix, snippet)
}

// checkRunner: provenance (or trusted publishing) on a runner npm does not support.
func checkRunner(c *ctx) *Finding {
	kind := c.runner.val
	if kind != "self-hosted" && kind != "third-party" {
		return nil
	}
	runsOn := fmt.Sprintf("%s (%s) is a %s runner", c.w.text(c.runner.line), c.at(c.runner.line), kind)
	const fix = "Publish from a GitHub-hosted runner, or turn provenance off for this job."
	const snippet = "runs-on: ubuntu-latest\n# or keep the runner and: npm publish --provenance=false"
	switch {
	case c.prov.val == "true":
		return c.finding(CheckSelfHostedRunner, SeverityError, c.runner.line, "provenance-self-hosted-runner",
			fmt.Sprintf("%s asks for provenance (%s) but %s; the registry rejects the bundle with E422 'Unsupported GitHub Actions runner environment: \"self-hosted\". Only \"github-hosted\" runners are supported when publishing with provenance.'", code(c.p.text), c.at(c.prov.line), runsOn),
			fix, snippet)
	case c.oidcIntended() && c.prov.val != "false":
		return c.finding(CheckSelfHostedRunner, SeverityWarning, c.runner.line, "oidc-self-hosted-runner",
			fmt.Sprintf("%s publishes without a token (trusted publishing) but %s; npm supports trusted publishing on GitHub-hosted runners only, and on third-party runners the automatic provenance of a public package fails with E422.", code(c.p.text), runsOn),
			fix, snippet)
	}
	return nil
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
		msg += fmt.Sprintf(", and %s is set empty (%s); projects report an empty or placeholder token there stops trusted publishing, and it hides which part of the exchange failed.", c.token.name, c.at(c.token.line))
	case s.major() >= 7:
		return nil // setup-node v7 no longer exports the XXXXX placeholder
	default:
		msg += ", and with no NODE_AUTH_TOKEN set setup-node exports the placeholder XXXXX-XXXXX-XXXXX-XXXXX; if the OIDC exchange fails npm sends it and fails with E404 'Access token expired or revoked' instead of ENEEDAUTH, and several projects report the placeholder stops trusted publishing outright."
	}
	return c.finding(CheckTokenMasksOIDC, SeverityWarning, s.registryURL.line, "oidc-token-fallback-masks-failure", msg,
		"Drop registry-url (and NODE_AUTH_TOKEN) from the trusted-publishing job.",
		nodeStepSnippet(s))
}

func nodeStepSnippet(s *setupNode) string {
	nv := "'24'"
	if s.nodeVersion.set {
		nv = "'" + s.nodeVersion.s + "'"
	}
	return fmt.Sprintf("- uses: %s\n  with:\n    node-version: %s   # no registry-url: nothing writes a token into .npmrc", s.step.uses.s, nv)
}

// checkPackagesWrite: GitHub Packages with GITHUB_TOKEN but no packages: write.
func checkPackagesWrite(c *ctx) *Finding {
	if registryKind(c.reg.val) != "github" || c.token.val != "set" {
		return nil
	}
	tok, _ := c.envChain(c.token.name)
	if c.token.name == "token" {
		tok = c.p.step.with["token"]
	}
	if !strings.Contains(tok.s, "GITHUB_TOKEN") && !strings.Contains(tok.s, "github.token") {
		return nil
	}
	if c.pkgs.state != "read" && c.pkgs.state != "none" {
		return nil
	}
	return c.finding(CheckMissingPackagesWr, SeverityError, c.pkgs.line, "gpr-misconfiguration",
		fmt.Sprintf("%s uploads to GitHub Packages (%s) with GITHUB_TOKEN, but the job's token has packages: %s (%s); GitHub Packages refuses the PUT (403 or 401).", code(c.p.text), c.at(c.reg.line), c.pkgs.state, c.at(c.pkgs.line)),
		fmt.Sprintf("Grant packages: write to job %s.", c.j.ID),
		"permissions:\n  contents: read\n  packages: write")
}

// checkScopedAccess: the first publish of a scoped package defaults to restricted (E402).
func checkScopedAccess(c *ctx, pkg *Package) *Finding {
	switch c.p.tool {
	case toolNPM, toolPNPM, toolYarn, toolYarnBerry, toolNPMPublish:
	default:
		return nil // changesets, lerna, semantic-release… read access from their own config
	}
	if registryKind(c.reg.val) != "npmjs" || c.access.ok() || pkg.usable() && pkg.Access != "" {
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
		fmt.Sprintf("%s publishes a scoped package (%s) without --access and no publishConfig.access is known; the first publish of a scoped package is restricted by default and fails with E402 'You must sign up for private packages'.", code(c.p.text), scope),
		"Publish with --access public, or set publishConfig.access in package.json.",
		"- run: npm publish --access public\n# or in package.json: \"publishConfig\": { \"access\": \"public\" }")
}

// checkPrerelease: npm >= 11 refuses a prerelease without --tag. Needs the package.json.
func checkPrerelease(c *ctx, pkg *Package) *Finding {
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
		fmt.Sprintf("%s publishes %s@%s, a prerelease, without --tag, with npm 11 or later from %s; npm 11 stops with 'You must specify a tag using --tag when publishing a prerelease version.'", code(c.p.text), pkg.Name, pkg.Version, npm11),
		"Publish prereleases under their own dist-tag.",
		"- run: npm publish --tag next")
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
		c.node = c.setup.node()
		refusal := engineRefusal(u.spec.major, c.node)
		if refusal == "no" {
			continue
		}
		engines := "^20.17.0 || >=22.9.0"
		which := fmt.Sprintf("npm %d", u.spec.major)
		if u.spec.major >= 12 {
			engines = "^22.22.2 || ^24.15.0 || >=26.0.0"
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
		fix, snippet := "Pin npm 11 instead of latest: it has trusted publishing and runs on Node ^20.17.0 || >=22.9.0.", pinNPM11
		if has, ok := npmBundledHasOIDC(c.node); ok && has {
			fix = fmt.Sprintf("Drop the upgrade: Node %s already bundles npm >= 11.5.1, which has trusted publishing. If a newer npm is needed, pin npm 11.", nv.s)
		}
		if engineRefusal(11, c.node) != "no" {
			fix, snippet = "Use Node 24, whose bundled npm already has trusted publishing, and drop the npm upgrade.", c.node24Snippet()
		}
		out = append(out, *c.finding(CheckNPMUpgradeEngine, sev, u.line, "npm-upgrade-ebadengine", msg, fix, snippet))
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
			rule, to, sev, snippet := "oidc-missing-id-token-permission", "", SeverityError, idTokenSnippet
			if reg != "npm" {
				rule, to = reg+"-missing-id-token", " to "+registryName[reg]
			}
			if reg == regRubyGems {
				snippet = releaseGemPerms
			}
			if !sure {
				sev = SeverityWarning
			}
			out = append(out, *caller.finding(CheckMissingIDToken, sev, caller.idTok.line, rule,
				fmt.Sprintf("job %s calls %s, whose job %s (%s:%d) needs the OIDC token to publish%s, but job %s does not grant id-token: write; a called workflow can keep or lower its caller's permissions, never raise them.", j.ID, j.Uses, pj.ID, callee.File, pj.Line, to, j.ID),
				fmt.Sprintf("Grant id-token: write to job %s.", j.ID), snippet))
		}
	}
	return slices.DeleteFunc(out, func(f Finding) bool {
		return resolved[f.File] && f.ID == CheckMissingIDToken && f.Severity == SeverityWarning
	})
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
