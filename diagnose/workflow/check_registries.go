package workflow

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// Check ids for the other registries (registries.md). check-missing-id-token and
// check-missing-packages-write are shared with npm: Finding.Rule names the registry's rule.
const (
	CheckContainerNonLinux = "check-container-action-non-linux"
	CheckReusablePublisher = "check-reusable-workflow-publisher"
	CheckForkPROIDC        = "check-fork-pr-oidc"
	CheckAttestationTwice  = "check-attestation-already-exists"
	CheckCargoNoToken      = "check-cargo-no-token"
	CheckNuGetEvent        = "check-nuget-event-not-allowed"
	CheckNuGetNoAPIKey     = "check-nuget-no-api-key"
	CheckReadOnlyToken     = "check-read-only-token-context"
)

// callSite is a job that calls a local reusable workflow (uses: ./.github/workflows/x.yml).
type callSite struct {
	file string
	job  string
	line int
}

func (cs callSite) String() string {
	return fmt.Sprintf("job %s of %s (%s:%d)", cs.job, cs.file, cs.file, cs.line)
}

// callers says, for messages, who calls a workflow: the first call sites ("; job publish of
// release.yml (release.yml:9) calls it") and the calling files ("release.yml or nightly.yml").
// Both are empty when no file checked together calls it.
type callers struct {
	by, files string
}

// maxNamed bounds the call sites and files a message lists.
const maxNamed = 3

func summarizeCallers(sites []callSite) callers {
	if len(sites) == 0 {
		return callers{}
	}
	var names, files []string
	seen := map[string]bool{}
	for i, cs := range sites {
		if i < maxNamed {
			names = append(names, cs.String())
		}
		if !seen[cs.file] {
			seen[cs.file] = true
			files = append(files, cs.file)
		}
	}
	by := strings.Join(names, " and ")
	if len(sites) > maxNamed {
		by = fmt.Sprintf("%s, and %d more jobs", strings.Join(names, ", "), len(sites)-maxNamed)
	}
	if len(files) > maxNamed {
		files = append(files[:maxNamed], "the other calling files")
	}
	return callers{by: "; " + by + " calls it", files: strings.Join(files, " or ")}
}

// checkRegistries predicts the failures of one job's uploads to registries other than npm.
// callers are the jobs, in the files checked together, that call this workflow.
func checkRegistries(w *Workflow, j *Job, v *view, calls callers) []Finding {
	if len(v.uploads) == 0 && len(v.pushes) == 0 {
		return nil
	}
	c := newCtx(w, j, v, nil)
	var out []Finding
	add := func(f *Finding) {
		if f != nil {
			out = append(out, *f)
		}
	}
	reported := map[*step]bool{} // a script of several cargo publish or nuget push lines: one finding
	once := func(u *upload, f *Finding) {
		if f != nil && !reported[u.step] {
			reported[u.step] = true
			add(f)
		}
	}
	// Uploads come in step order: what a check needs from the steps before one is carried
	// along, so a job of many uploads is checked in linear time.
	var b before
	dotnets := v.dotnets
	for _, u := range v.uploads {
		for len(dotnets) > 0 && dotnets[0].line < u.step.line {
			b.dotnet, dotnets = dotnets[0], dotnets[1:]
		}
		add(checkUploadIDToken(c, u))
		add(checkReusablePublisher(c, u, calls))
		switch u.tool {
		case toolPyPIAction:
			add(checkContainerNonLinux(c, u))
		case toolCratesAuth:
			b.auth = u
		case toolCargo:
			if !reported[u.step] {
				once(u, checkCargoToken(c, u, b.auth))
			}
		case toolNuGetLogin:
			add(checkNuGetEvent(c, u))
			b.login = u.step
		case toolNuGetPush:
			if !reported[u.step] {
				once(u, checkNuGetAPIKey(c, u, b))
			}
		}
		if u.reg == regPyPI {
			add(checkForkPR(c, u))
		}
	}
	add(checkAttestations(c))
	return append(out, checkGHCR(c)...)
}

// before is what the steps before an upload set up.
type before struct {
	auth   *upload // the last rust-lang/crates-io-auth-action
	login  *step   // the last NuGet/login
	dotnet *step   // the last actions/setup-dotnet with a source-url
}

// oidc says whether the upload authenticates with the job's OIDC token: "yes"; "maybe" for
// uv publish in its automatic mode, where a keyring or .netrc the file does not show may
// answer first; "" when it does not, or when the file does not say (an expression).
func (c *ctx) oidc(u *upload) string {
	switch u.tool {
	case toolPyPIAction:
		// Without a password the action does trusted publishing; to an index that is not
		// PyPI's the exchange fails on the audience first (another rule).
		if strings.TrimSpace(u.step.with["password"].s) != "" || !pypiIndex(input(u.step, "repository-url", "repository_url").s) {
			return ""
		}
		return "yes"
	case toolUV:
		return c.uvOIDC(u)
	case toolCratesAuth, toolNuGetLogin:
		return "yes"
	case toolReleaseGem:
		if in := u.step.with["setup-trusted-publisher"]; in.set && strings.ToLower(strings.TrimSpace(in.s)) != "true" {
			return "" // false, or an expression
		}
		return "yes"
	case toolRubyGemsCreds:
		if strings.TrimSpace(u.step.with["api-token"].s) != "" {
			return ""
		}
		return "yes"
	case toolJSR:
		if _, ok := flagValue(u.words, "--token"); ok {
			return ""
		}
		return "yes"
	}
	return ""
}

// uvOIDC: uv publish tries trusted publishing on GitHub Actions when it has no credentials
// (--trusted-publishing automatic, the default), and only then with always.
func (c *ctx) uvOIDC(u *upload) string {
	env := func(name string) (value, bool) { return lookupEnv(c.w, c.j, u.step, u.assign, u.line, name) }
	if envUnknown(c.w, c.j, u.step) {
		return ""
	}
	mode, ok := flagValue(u.words, "--trusted-publishing")
	if !ok {
		v, _ := env("UV_TRUSTED_PUBLISHING")
		mode = v.s
	}
	mode = strings.ToLower(strings.TrimSpace(mode))
	if mode != "" && mode != "automatic" && mode != "always" {
		return "" // never, or an expression
	}
	for _, f := range []string{"--token", "-t", "--password", "-p", "--keyring-provider", "--index"} {
		if _, ok := flagValue(u.words, f); ok {
			return ""
		}
	}
	for _, n := range []string{"UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD", "UV_KEYRING_PROVIDER", "UV_PUBLISH_INDEX"} {
		if v, ok := env(n); ok && strings.TrimSpace(v.s) != "" {
			return ""
		}
	}
	url, ok := flagValue(u.words, "--publish-url")
	if !ok {
		v, _ := env("UV_PUBLISH_URL")
		url = v.s
	}
	if !pypiIndex(url) {
		return ""
	}
	if mode == "always" {
		return "yes"
	}
	return "maybe"
}

// pypiIndex reports whether an upload URL as written is PyPI's or TestPyPI's (empty is
// PyPI); an expression is not known to be.
func pypiIndex(url string) bool {
	u := strings.ToLower(strings.TrimSpace(url))
	return u == "" || !strings.Contains(u, "${{") && strings.Contains(u, "pypi.org")
}

// input returns the first of an action's inputs that is set (new and old spellings).
func input(s *step, names ...string) value {
	for _, n := range names {
		if v, ok := s.with[n]; ok {
			return v
		}
	}
	return value{}
}

// oidcWhy says what needs the OIDC token and how the tool fails without it (registries.md
// §0.2).
func (c *ctx) oidcWhy(u *upload) string {
	at := c.at(u.line)
	switch u.tool {
	case toolPyPIAction:
		return fmt.Sprintf("%s (%s) uploads without a password, by trusted publishing, which needs the job's OIDC token; without it the action stops with 'Trusted publishing exchange failure: OpenID Connect token retrieval failed: GitHub: missing or insufficient OIDC token permissions'", code(u.text), at)
	case toolUV:
		return fmt.Sprintf("%s (%s) has no token or password, so on GitHub Actions uv tries trusted publishing, which needs the job's OIDC token; without it uv reports 'is the `id-token: write` permission missing?' and has nothing to upload with", code(u.text), at)
	case toolCratesAuth:
		return fmt.Sprintf("%s (%s) exchanges the job's OIDC token for a crates.io token; without it the action stops before any request with 'Please ensure the 'id-token' permission is set to 'write' in your workflow'", code(u.text), at)
	case toolReleaseGem, toolRubyGemsCreds:
		return fmt.Sprintf("%s (%s) gets its rubygems.org credentials by trusted publishing, from the job's OIDC token; without it configure-rubygems-credentials fails with 'Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'", code(u.text), at)
	case toolNuGetLogin:
		return fmt.Sprintf("%s (%s) exchanges the job's OIDC token for a temporary nuget.org API key; without it the action fails with 'GitHub OIDC is not available. Ensure your workflow has the required permissions'", code(u.text), at)
	case toolJSR:
		return fmt.Sprintf("%s (%s) has no --token, so it publishes tokenless, with the job's OIDC token; without it the publish stops with 'No means to authenticate. Pass a token to `--token`, or enable tokenless publishing from GitHub Actions using OIDC.'", code(u.text), at)
	}
	return ""
}

// checkUploadIDToken: an upload that needs the job's OIDC token in a job that has none.
func checkUploadIDToken(c *ctx, u *upload) *Finding {
	need := c.oidc(u)
	if need == "" || c.idTok.state == "granted" {
		return nil
	}
	return atStep(c.missingIDToken(u.reg+"-missing-id-token", c.oidcWhy(u), need == "yes"), u.step)
}

// checkContainerNonLinux: pypa/gh-action-pypi-publish is a Docker container action, and
// runners run those on Linux only. A matrix is read leg by leg: the step fails in every
// macOS or Windows leg it runs in.
func checkContainerNonLinux(c *ctx, u *upload) *Finding {
	os, label := stepOS(c.w, c.j, u.step)
	if os == "" {
		return nil
	}
	where := fmt.Sprintf("on %s (%s), a %s runner", label.s, c.at(label.line), os)
	if c.j.matrix != nil && !c.j.matrix.unknown && len(c.j.matrix.legs) > 1 {
		where = fmt.Sprintf("in its matrix leg on %s (%s), a %s runner", label.s, c.at(label.line), os)
	}
	f := c.finding(CheckContainerNonLinux, SeverityError, label.line, "pypi-container-action-non-linux",
		fmt.Sprintf("%s (%s) is a Docker container action, and job %s runs it %s; the runner refuses the step with 'Container action is only supported on Linux' before anything is uploaded.", code(u.text), c.at(u.line), c.j.ID, where),
		map[string]string{"upload": u.step.uses.s})
	return atStep(f, u.step)
}

// checkForkPR: trusted publishing on pull_request, where runs for forks get no OIDC token.
func checkForkPR(c *ctx, u *upload) *Finding {
	pr := c.w.triggerLine("pull_request")
	if pr == 0 || c.oidc(u) == "" || c.j.cond.set || u.step.cond.set {
		return nil
	}
	return c.finding(CheckForkPROIDC, SeverityWarning, c.j.Line, "pypi-oidc-fork-pr",
		fmt.Sprintf("%s (%s) publishes to PyPI by trusted publishing, and the workflow runs on pull_request (%s) with no if: on job %s or on the step; GitHub gives runs for pull requests from forks no OIDC token, even with id-token: write, so there the upload fails ('this action was called from a pull request on a fork').", code(u.text), c.at(u.line), c.at(pr), c.j.ID), nil)
}

// checkReusablePublisher: PyPI and RubyGems take the workflow a trusted publisher names from
// job_workflow_ref, the called file (registries.md §0.3), and RubyGems only within the
// repository; crates.io and npm take the caller's, so they have no such trap.
func checkReusablePublisher(c *ctx, u *upload, calls callers) *Finding {
	if !c.w.onlyCalled() || c.oidc(u) == "" || u.reg != regPyPI && u.reg != regRubyGems {
		return nil
	}
	callee, calledBy, caller := c.w.File, calls.by, calls.files
	if u.reg == regPyPI {
		name := fmt.Sprintf("The trusted publisher on PyPI must name %s (the called file), not the caller's file, and a call from another repository cannot be registered.", callee)
		if caller != "" {
			name = fmt.Sprintf("The trusted publisher on PyPI must name %s (the called file), not %s.", callee, caller)
		}
		f := c.finding(CheckReusablePublisher, SeverityWarning, u.line, "pypi-reusable-workflow",
			fmt.Sprintf("%s (%s) publishes by trusted publishing inside a reusable workflow (workflow_call, %s)%s. PyPI takes the workflow name from the token's job_workflow_ref, which names this called file, %s, not the workflow the event started: a trusted publisher that names the caller fails with invalid-publisher. %s", code(u.text), c.at(u.line), c.at(c.w.callLine), calledBy, callee, name), nil)
		return atStep(f, u.step)
	}
	msg := fmt.Sprintf("%s (%s) gets its credentials by trusted publishing inside a reusable workflow (workflow_call, %s)%s. RubyGems takes the workflow file from the token's job_workflow_ref, the called file %s, and only when it lives in the gem's own repository: ", code(u.text), c.at(u.line), c.at(c.w.callLine), calledBy, callee)
	if caller == "" {
		msg += "called from another repository no trusted publisher can match, and configure-rubygems-credentials fails with 'No trusted publisher configured for this workflow found on https://rubygems.org/'."
	} else {
		msg += fmt.Sprintf("called from this repository the trusted publisher must name %s (the called file), not %s, or configure-rubygems-credentials fails with 'No trusted publisher configured for this workflow found on https://rubygems.org/'; from another repository none can match.", callee, caller)
	}
	return atStep(c.finding(CheckReusablePublisher, SeverityWarning, u.line, "rubygems-no-trusted-publisher", msg, nil), u.step)
}

// pypiAttests says whether a pypa/gh-action-pypi-publish step makes PEP 740 attestations:
// only with trusted publishing; release/v1 and v1.11+ by default, v1.10 when asked. ok is
// false when the file does not say (an unknown ref, an expression).
func (c *ctx) pypiAttests(u *upload) (attests bool, why string, ok bool) {
	if c.oidc(u) != "yes" {
		return false, "", true
	}
	in := u.step.with["attestations"]
	val := strings.ToLower(strings.TrimSpace(in.s))
	switch {
	case strings.Contains(val, "${{"):
		return false, "", false
	case in.set && val == "false":
		return false, "", true
	}
	asked := in.set && val == "true"
	if asked {
		why = fmt.Sprintf("attestations: true, %s", c.at(in.line))
	}
	if u.step.ref() == "release/v1" {
		if !asked {
			why = "release/v1 attests by default"
		}
		return true, why, true
	}
	for _, r := range []string{u.step.ref(), u.step.usesComment} {
		v := parseVer(r)
		if !strings.HasPrefix(strings.TrimSpace(r), "v") || v.parts < 2 {
			continue
		}
		switch {
		case v.atLeast(1, 11, 0):
			if !asked {
				why = fmt.Sprintf("%s attests by default since v1.11", strings.TrimSpace(r))
			}
			return true, why, true
		case v.atLeast(1, 10, 0):
			return asked, why, true
		}
		return false, "", true
	}
	return false, "", false
}

// packagesDir is the directory a pypa/gh-action-pypi-publish step uploads, normalized; ""
// for an expression.
func packagesDir(s *step) string {
	d := strings.TrimSpace(input(s, "packages-dir", "packages_dir").s)
	if strings.Contains(d, "${{") {
		return ""
	}
	d = strings.TrimSuffix(strings.TrimPrefix(d, "./"), "/")
	if d == "" {
		d = "dist"
	}
	return d
}

// checkAttestations: two uploads in one job that both attest the same files; the first
// leaves X.publish.attestation beside each dist and the second refuses to overwrite them.
func checkAttestations(c *ctx) *Finding {
	type attesting struct {
		u   *upload
		why string
	}
	last := map[string]attesting{} // by packages dir: the latest upload that attests it
	for _, u := range c.v.uploads {
		if u.tool != toolPyPIAction || u.step.cond.set {
			continue
		}
		att, why, ok := c.pypiAttests(u)
		if !ok || !att {
			continue
		}
		dir := packagesDir(u.step)
		if dir == "" {
			continue
		}
		if prev, ok := last[dir]; ok && !c.cleansBetween(prev.u.seq, u.seq) {
			fixed := prev.u
			if strings.Contains(strings.ToLower(input(u.step, "repository-url", "repository_url").s), "test.pypi.org") {
				fixed = u // keep PyPI's attestations, drop TestPyPI's
			}
			whys := prev.why
			if why != prev.why {
				whys += "; " + why
			}
			f := c.finding(CheckAttestationTwice, SeverityError, u.line, "pypi-attestation-already-exists",
				fmt.Sprintf("%s (%s) and %s (%s) both upload %s/ in job %s by trusted publishing, and both make PEP 740 attestations (%s); the first leaves *.publish.attestation files beside the distributions, so the second stops with 'Attestation generation failure: … already has a publish attestation' before uploading. The upload at %s is the one to set attestations: false on.", code(prev.u.text), c.at(prev.u.line), code(u.text), c.at(u.line), dir, c.j.ID, whys, c.at(fixed.line)),
				nil)
			return atStep(f, fixed.step)
		}
		last[dir] = attesting{u, why}
	}
	return nil
}

// cleansBetween reports whether a command between two steps touches attestation files or
// removes a directory, which may clear what the first upload left.
func (c *ctx) cleansBetween(from, to int) bool {
	i, _ := slices.BinarySearch(c.v.cleans, from+1)
	return i < len(c.v.cleans) && c.v.cleans[i] < to
}

var cargoTokenKey = lazyre.New(`^\s*(?:-\s+)?CARGO_REGISTRY_TOKEN\s*:\s*(.*?)\s*$`)

// checkCargoToken: cargo publish reads its token from --token, CARGO_REGISTRY_TOKEN or
// cargo login's credentials file, and nothing else; rust-lang/crates-io-auth-action only
// sets an output.
func checkCargoToken(c *ctx, u *upload, auth *upload) *Finding {
	if cargoTokenGiven(c, u) {
		return nil
	}
	chain := c.envNames(u)
	for _, n := range chain {
		if strings.HasPrefix(n.name, "CARGO_REGISTRIES_") && strings.HasSuffix(n.name, "_TOKEN") {
			return nil
		}
	}

	var evidence []string
	hint, val := "", ""
	if auth != nil {
		authID := "auth"
		if auth.step.id.set {
			authID = auth.step.id.s
		}
		val = fmt.Sprintf("${{ steps.%s.outputs.token }}", authID)
		evidence = append(evidence, fmt.Sprintf("%s (%s) only sets its token output (steps.%s.outputs.token), which cargo does not read", code(auth.text), c.at(auth.line), authID))
		hint = fmt.Sprintf("pass steps.%s.outputs.token as the step's CARGO_REGISTRY_TOKEN", authID)
	}
	if line, v := c.misplacedCargoToken(); line > 0 {
		parent, pline := c.w.parentKey(line)
		evidence = append(evidence, fmt.Sprintf("CARGO_REGISTRY_TOKEN is written at %s, under %s (%s), which does not put it in the command's environment", c.at(line), code(parent), c.at(pline)))
		if hint == "" {
			hint = fmt.Sprintf("move CARGO_REGISTRY_TOKEN (%s) under the publishing step's env:", c.at(line))
			val = v
		}
	}
	for _, n := range chain {
		if cargoTokenTypo(n.name) {
			evidence = append(evidence, fmt.Sprintf("%s sets %s (%s), a variable cargo does not read", n.level, n.name, c.at(n.v.line)))
			if hint == "" {
				hint = fmt.Sprintf("rename %s (%s) to CARGO_REGISTRY_TOKEN", n.name, c.at(n.v.line))
				val = n.v.s
			}
			break
		}
	}
	sev := SeverityError
	switch {
	case c.runner.val == "github-hosted":
		if len(evidence) == 0 {
			sev = SeverityWarning
		}
	case len(evidence) == 0:
		return nil // a self-hosted or unplaced runner may keep a credentials file
	default:
		sev = SeverityWarning
	}
	msg := fmt.Sprintf("%s (%s) has no token: no --token, no cargo login before it, and CARGO_REGISTRY_TOKEN is in neither the step's, job %s's nor the workflow's env", code(u.text), c.at(u.line), c.j.ID)
	if len(evidence) > 0 {
		msg += "; " + strings.Join(evidence, "; ")
	}
	msg += "; cargo stops with 'no token found, please run `cargo login`' (exit code 101)."
	if hint != "" {
		msg += " Here: " + hint + "."
	}
	return atStep(c.finding(CheckCargoNoToken, sev, u.line, "crates-no-token", msg, map[string]string{"token": val}), u.step)
}

// cargoTokenGiven says whether the command gets a token cargo reads, or may: --token (or
// another registry), options in a variable, CARGO_REGISTRY_TOKEN in its environment (or an
// environment that cannot be known), or cargo login or a credentials file before it.
func cargoTokenGiven(c *ctx, u *upload) bool {
	if _, ok := flagValue(u.words, "--token", "--registry", "--index"); ok {
		return true
	}
	for _, w := range u.words {
		if strings.HasPrefix(w, "$") {
			return true // options in a variable
		}
	}
	if _, ok := lookupEnv(c.w, c.j, u.step, u.assign, u.line, "CARGO_REGISTRY_TOKEN"); ok || envUnknown(c.w, c.j, u.step) {
		return true
	}
	// cargo login, a credentials file, or the variable through $GITHUB_ENV.
	return c.v.cargoCreds > 0 && c.v.cargoCreds < u.seq
}

// envVar is a variable in an upload's environment, with the level that sets it.
type envVar struct {
	name  string
	v     value
	level string
}

// envNames lists the variables that reach an upload, the nearest level first.
func (c *ctx) envNames(u *upload) []envVar {
	var out []envVar
	for name, v := range u.assign {
		out = append(out, envVar{name, value{s: v, line: u.line, set: true}, "the command"})
	}
	levels := []struct {
		e     env
		level string
	}{{u.step.env, "the step's env"}, {c.j.env, fmt.Sprintf("job %s's env", c.j.ID)}, {c.w.env, "the workflow's env"}}
	for _, l := range levels {
		start := len(out)
		for name, v := range l.e.vars {
			out = append(out, envVar{name, v, l.level})
		}
		slices.SortFunc(out[start:], func(a, b envVar) int { return a.v.line - b.v.line })
	}
	return out
}

// cargoTokenTypo: a variable that was meant to be CARGO_REGISTRY_TOKEN.
func cargoTokenTypo(name string) bool {
	if name == "CARGO_REGISTRY_TOKEN" || strings.HasPrefix(name, "CARGO_REGISTRIES_") {
		return false
	}
	return levenshtein(name, "CARGO_REGISTRY_TOKEN") <= 3 ||
		strings.Contains(name, "TOKEN") && (strings.HasPrefix(name, "CARGO") || strings.Contains(name, "CRATES"))
}

// findCargoKeys lists the CARGO_REGISTRY_TOKEN: keys of a workflow, leaving out lines of
// run: scripts. One pass at parse time; checks then pick from the list.
func findCargoKeys(w *Workflow) []value {
	var out []value
	var scripts map[int]bool
	for i, l := range w.lines {
		if !strings.Contains(l, "CARGO_REGISTRY_TOKEN") {
			continue
		}
		m := cargoTokenKey.Get().FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if scripts == nil {
			scripts = map[int]bool{}
			for _, j := range w.Jobs {
				for _, s := range j.steps {
					for _, sl := range s.script {
						scripts[sl.line] = true
					}
				}
			}
		}
		if !scripts[i+1] {
			out = append(out, value{s: m[1], line: i + 1, set: true})
		}
	}
	return out
}

// misplacedCargoToken picks, of the CARGO_REGISTRY_TOKEN keys Parse found outside any
// env: (under with:, under another step's or job's env:, where no key belongs), one inside
// the job if there is one. It returns the line and the value as written.
func (c *ctx) misplacedCargoToken() (int, string) {
	start, end := c.j.Line, len(c.w.lines)+1
	if i := slices.Index(c.w.Jobs, c.j); i >= 0 && i+1 < len(c.w.Jobs) {
		end = c.w.Jobs[i+1].Line
	}
	var best value
	for _, k := range c.w.cargoKeys {
		if !best.set || k.line >= start && k.line < end && (best.line < start || best.line >= end) {
			best = k
		}
	}
	return best.line, best.s
}

// parentKey returns the YAML line a line is nested under (the nearest line above it that
// is indented less), trimmed, and its number.
func (w *Workflow) parentKey(line int) (string, int) {
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	in := indent(lineAt(w.lines, line))
	for n := line - 1; n >= 1; n-- {
		l := lineAt(w.lines, n)
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") || indent(l) >= in {
			continue
		}
		return t, n
	}
	return "the top level", line
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// checkNuGetEvent: nuget.org refuses OIDC tokens from pull_request_target runs.
func checkNuGetEvent(c *ctx, u *upload) *Finding {
	prt := c.w.triggerLine("pull_request_target")
	if prt == 0 || c.j.cond.set || u.step.cond.set {
		return nil
	}
	f := c.finding(CheckNuGetEvent, SeverityWarning, prt, "nuget-login-event-not-allowed",
		fmt.Sprintf("%s (%s) runs on pull_request_target (%s), with no if: on job %s or on the step; nuget.org's token service refuses OIDC tokens from that event ('The GitHub Actions event 'pull_request_target' is not allowed', behind NuGet/login's misleading 'username of the policy creator' hint), so the login fails with 401.", code(u.text), c.at(u.line), c.at(prt), c.j.ID), nil)
	return atStep(f, u.step)
}

// nugetFlag reads an option of dotnet nuget push (exact) or nuget.exe push (any case).
func nugetFlag(u *upload, names ...string) (string, bool) {
	if !u.nuget {
		return flagValue(u.words, names...)
	}
	lower := make([]string, len(u.words))
	for i, w := range u.words {
		if strings.HasPrefix(w, "-") {
			w = strings.ToLower(w)
		}
		lower[i] = w
	}
	return flagValue(lower, names...)
}

// checkNuGetAPIKey: a push to nuget.org without an API key. setup-dotnet's NUGET_AUTH_TOKEN
// writes feed credentials that nuget.org does not accept for a push (actions/setup-dotnet#526),
// and NuGet/login's key is an output that has to be passed on.
func checkNuGetAPIKey(c *ctx, u *upload, b before) *Finding {
	keyFlags, srcFlags, cfgFlags := []string{"-k", "--api-key"}, []string{"-s", "--source"}, []string{"--configfile"}
	if u.nuget {
		keyFlags, srcFlags, cfgFlags = []string{"-apikey"}, []string{"-source", "-src"}, []string{"-configfile"}
	}
	if _, ok := nugetFlag(u, keyFlags...); ok {
		return nil
	}
	if _, ok := nugetFlag(u, cfgFlags...); ok {
		return nil
	}
	src, ok := nugetFlag(u, srcFlags...)
	if !ok || !isNuGetOrg(src) {
		return nil
	}
	for _, w := range u.words {
		if strings.HasPrefix(w, "$") && !strings.Contains(w, "/") && !strings.Contains(strings.ToLower(w), "nupkg") {
			return nil // options in a variable
		}
	}
	if c.v.setAPIKey > 0 && c.v.setAPIKey < u.seq {
		return nil
	}
	setup, login := b.dotnet, b.login
	var authTok value
	if setup != nil {
		if v, ok := lookupEnv(c.w, c.j, setup, nil, 0, "NUGET_AUTH_TOKEN"); ok {
			authTok = v
		} else {
			setup = nil
		}
	}
	keyFlag := "--api-key"
	if u.nuget {
		keyFlag = "-ApiKey"
	}
	msg := fmt.Sprintf("%s (%s) pushes to nuget.org without %s", code(u.text), c.at(u.line), keyFlag)
	if setup != nil {
		msg += fmt.Sprintf("; setup-dotnet's source-url (%s) with NUGET_AUTH_TOKEN (%s) only writes feed credentials into a nuget.config, which nuget.org does not take for a push", c.at(setup.with["source-url"].line), c.at(authTok.line))
	}
	loginID := "login"
	if login != nil {
		if login.id.set {
			loginID = login.id.s
		}
		msg += fmt.Sprintf("; the key %s (%s) makes is an output, steps.%s.outputs.NUGET_API_KEY, that the push does not pass on", code(login.uses.s), c.at(login.uses.line), loginID)
	}
	msg += "; nuget.org reads the key from the X-NuGet-ApiKey header only, so the push fails with 401 'An API key must be provided in the 'X-NuGet-ApiKey' header to use this service'."
	return atStep(c.finding(CheckNuGetNoAPIKey, SeverityError, u.line, "nuget-401-no-api-key", msg,
		map[string]string{"login_id": loginID, "key_flag": keyFlag}), u.step)
}

// isNuGetOrg reports whether a push source as written is nuget.org (by URL or by the
// source name nuget.org that NuGet.Config defines by default).
func isNuGetOrg(src string) bool {
	s := strings.ToLower(strings.TrimSpace(src))
	if strings.Contains(s, "$") {
		return false
	}
	return s == "nuget.org" || strings.Contains(s, "api.nuget.org") || strings.Contains(s, "www.nuget.org")
}

// registryKindOf sorts a container registry or image reference as written: "ghcr", "other"
// or "" when an expression or a shell variable hides it.
func registryKindOf(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.Contains(l, "ghcr.io"):
		return "ghcr"
	case strings.Contains(l, "$") || strings.TrimSpace(l) == "":
		return ""
	}
	return "other"
}

var stepOutputRef = lazyre.New(`steps\.([A-Za-z0-9_-]+)\.outputs\.`)

// pushTarget is where an image push goes: "ghcr", "other" or "" (unknown). Tags from
// docker/metadata-action are read from its images: input.
func (c *ctx) pushTarget(p *imagePush) string {
	img := expandEnv(c.w, c.j, p.step, p.image)
	if k := registryKindOf(img); k != "" {
		return k
	}
	if m := stepOutputRef.Get().FindStringSubmatch(img); m != nil {
		if s := c.v.stepByID(m[1]); s != nil && s.action() == "docker/metadata-action" {
			return registryKindOf(expandEnv(c.w, c.j, s, s.with["images"].s))
		}
	}
	return ""
}

// checkGHCR: a push to ghcr.io with the job's GITHUB_TOKEN needs packages: write, and gets a
// read-only token on fork pull requests and Dependabot runs whatever the file grants.
func checkGHCR(c *ctx) []Finding {
	var login *dockerLogin
	allGHCR := len(c.v.logins) > 0
	for _, l := range c.v.logins {
		if registryKindOf(expandEnv(c.w, c.j, l.step, l.registry)) != "ghcr" {
			allGHCR = false
			continue
		}
		pw := l.password
		if !l.action {
			pw = c.w.text(l.line)
		}
		if login == nil && isGitHubToken(pw) {
			login = l
		}
	}
	if login == nil {
		return nil
	}
	var pushes []*imagePush
	for _, p := range c.v.pushes {
		if p.seq < login.seq {
			continue
		}
		if t := c.pushTarget(p); t == "ghcr" || t == "" && allGHCR {
			pushes = append(pushes, p)
		}
	}
	if len(pushes) == 0 {
		return nil
	}
	var out []Finding
	if f := c.ghcrPackagesWrite(login, pushes[0]); f != nil {
		out = append(out, *f)
	}
	runs, cond := c.readOnlyRuns()
	if len(runs) == 0 {
		return out
	}
	for _, p := range pushes {
		if f := c.ghcrReadOnlyContext(login, p, runs, cond); f != nil {
			out = append(out, *f)
			break
		}
	}
	return out
}

// readOnlyRuns says which of the workflow's triggers start runs whose GITHUB_TOKEN is
// read-only whatever permissions: says, and the if: that skips them.
func (c *ctx) readOnlyRuns() (runs []string, cond string) {
	cond = "github.event_name != 'pull_request'"
	if l := c.w.triggerLine("pull_request"); l > 0 {
		runs = append(runs, fmt.Sprintf("on pull_request (%s), where runs for pull requests from forks and from Dependabot get it read-only", c.at(l)))
	}
	if l := c.w.dependabotPushLine(); l > 0 {
		runs = append(runs, fmt.Sprintf("on push to any branch (%s), Dependabot's included, where the runs Dependabot starts get it read-only", c.at(l)))
		cond += " && github.actor != 'dependabot[bot]'"
	}
	return runs, cond
}

func (l *dockerLogin) quote() string {
	if l.action {
		return code(l.step.uses.s)
	}
	return code(l.text)
}

func (c *ctx) ghcrPackagesWrite(login *dockerLogin, p *imagePush) *Finding {
	if c.pkgs.state != "read" && c.pkgs.state != "none" {
		return nil
	}
	sev, when := SeverityError, ""
	if !p.always {
		sev, when = SeverityWarning, " whenever its push: expression is true"
	}
	where := fmt.Sprintf("the job's token has packages: %s (%s)", c.pkgs.state, c.at(c.pkgs.line))
	if _, named := c.permsBlock().scopes["packages"]; !named && c.pkgs.state == "none" {
		owner := "the workflow's"
		if c.pkgs.level == "job" {
			owner = fmt.Sprintf("job %s's", c.j.ID)
		}
		where = fmt.Sprintf("%s permissions block (%s) does not grant packages: write, and a permissions block sets every scope it does not name to none", owner, c.at(c.pkgs.line))
	}
	f := c.finding(CheckMissingPackagesWr, sev, c.pkgs.line, "ghcr-missing-packages-write",
		fmt.Sprintf("%s pushes to GHCR (%s) after %s logs in to ghcr.io with the job's GITHUB_TOKEN (%s), but %s; GHCR refuses the push%s with 'denied: installation not allowed to Write organization package'.", code(p.text), c.at(p.line), login.quote(), c.at(login.line), where, when), nil)
	return atStep(f, p.step)
}

// permsBlock is the permissions block in effect for the job (nil-safe).
func (c *ctx) permsBlock() *permissions {
	switch {
	case c.j != nil && c.j.perms != nil:
		return c.j.perms
	case c.w.perms != nil:
		return c.w.perms
	}
	return &permissions{}
}

func (c *ctx) ghcrReadOnlyContext(login *dockerLogin, p *imagePush, runs []string, cond string) *Finding {
	if !p.always || c.j.cond.set || p.step.cond.set || login.step.cond.set {
		return nil
	}
	msg := fmt.Sprintf("%s pushes to GHCR (%s) on every run with the job's GITHUB_TOKEN (%s, %s), and the workflow runs %s, whatever permissions: says; there GHCR refuses the push with 'denied: installation not allowed to Write organization package'.", code(p.text), c.at(p.line), login.quote(), c.at(login.line), strings.Join(runs, ", and "))
	reg := login.registry
	if reg == "" || !login.action {
		reg = "ghcr.io"
	}
	f := c.finding(CheckReadOnlyToken, SeverityWarning, p.line, "ghcr-read-only-token-context", msg,
		map[string]string{"condition": cond, "registry": reg})
	return atStep(f, p.step)
}

// dependabotPushLine returns the push trigger's line when it runs for pushes to any branch,
// Dependabot's (dependabot/…) included; 0 when its filters leave them out or cannot be read.
func (w *Workflow) dependabotPushLine() int {
	e := w.events["push"]
	if e == nil {
		return 0
	}
	const branch = "dependabot/github_actions/actions/checkout-5"
	switch {
	case e.branches.set:
		for _, p := range e.branches.patterns {
			m, ok := globMatch(p, branch)
			if !ok {
				return 0
			}
			if m {
				return e.line
			}
		}
		return 0
	case e.tags.set || e.tagsIgnore.set:
		return 0 // tags only: branch pushes do not run it
	case e.branchesIgnore.set:
		for _, p := range e.branchesIgnore.patterns {
			if m, ok := globMatch(p, branch); !ok || m {
				return 0
			}
		}
	}
	return e.line
}

// globMatch matches a branch filter made of literals, * and **; ok is false for the other
// pattern characters (? + [ ] !), which it does not read.
func globMatch(pattern, s string) (match, ok bool) {
	if strings.ContainsAny(pattern, "?+[]!\\") {
		return false, false
	}
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			re.WriteString(".*")
			i++
		case pattern[i] == '*':
			re.WriteString("[^/]*")
		default:
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	re.WriteString("$")
	r, err := regexp.Compile(re.String())
	if err != nil {
		return false, false
	}
	return r.MatchString(s), true
}
