package workflow

import (
	"fmt"
	"path"
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// ctx is everything known about one publish (or, with p nil, about a job that does not
// publish): the effective settings after step, job and workflow levels are merged.
type ctx struct {
	w      *Workflow
	j      *Job
	v      *view
	p      *publish
	pkg    *Package // the package.json being published, when known
	setup  *setupNode
	node   nodeSpec
	nodeIn nodeInput // how node-version resolved
	up     *upgrade
	token  setting // "set" | "empty"; name says which variable or input
	prov   setting // "true" | "false"
	access setting
	tag    setting
	reg    setting // the registry the upload goes to; empty: the public registry
	idTok  perm
	pkgs   perm
	runner setting // github-hosted | self-hosted | third-party | unknown
}

// setting is an effective value with the line that set it.
type setting struct {
	val  string
	line int
	name string // the variable, flag or input it came from
}

func (s setting) ok() bool { return s.line > 0 }

// perm is an effective GITHUB_TOKEN permission.
type perm struct {
	state string // id-token: granted | missing | default; packages: write | read | none | default
	line  int
	level string // "job" or "workflow"; "" for default
}

func newCtx(w *Workflow, j *Job, v *view, p *publish) *ctx {
	c := &ctx{w: w, j: j, v: v, p: p}
	at := -1
	if p != nil {
		at = p.seq
	}
	c.setup = v.setupBefore(at)
	c.pkg = v.pkg
	var st *step
	if p != nil {
		st = p.step
	}
	c.nodeIn = resolveNode(w, j, c.setup, st)
	c.node = c.nodeIn.spec
	c.up = v.upgradeBefore(at)
	c.idTok = effectivePerm(w, j, "id-token")
	c.pkgs = effectivePerm(w, j, "packages")
	c.runner = resolveRunner(w, j, st)
	c.token = c.resolveToken()
	c.prov = c.resolveFlag("provenance", "NPM_CONFIG_PROVENANCE", "provenance", true)
	c.access = c.resolveFlag("access", "NPM_CONFIG_ACCESS", "access", false)
	c.tag = c.resolveFlag("tag", "NPM_CONFIG_TAG", "tag", false)
	if c.p != nil && c.p.tool == toolLerna && !c.tag.ok() {
		if v, ok := flagValue(c.p.words, "--dist-tag"); ok {
			c.tag = setting{val: v, line: c.p.line, name: "--dist-tag"}
		}
	}
	c.reg = c.resolveFlag("registry", "NPM_CONFIG_REGISTRY", "registry", false)
	if !c.reg.ok() && c.setup != nil && c.setup.registryURL.set {
		c.reg = setting{val: c.setup.registryURL.s, line: c.setup.registryURL.line, name: "registry-url"}
	}
	return c
}

// envChain looks a variable up the way the runner does: the command's own assignment, then
// the step's env, the job's, the workflow's.
func (c *ctx) envChain(name string) (value, bool) {
	if c.p != nil {
		return lookupEnv(c.w, c.j, c.p.step, c.p.assign, c.p.line, name)
	}
	return lookupEnv(c.w, c.j, nil, nil, 0, name)
}

// resolveToken: NODE_AUTH_TOKEN or NPM_TOKEN in the env chain, a token: input of the
// publishing action, or a run line before the publish that writes an _authToken.
func (c *ctx) resolveToken() setting {
	var empty setting
	if c.p != nil && c.p.action {
		if in, ok := c.p.step.with["token"]; ok {
			if strings.TrimSpace(in.s) != "" {
				return setting{val: "set", line: in.line, name: "token"}
			}
			empty = setting{val: "empty", line: in.line, name: "token"}
		}
	}
	for _, name := range []string{"NODE_AUTH_TOKEN", "NPM_TOKEN"} {
		v, ok := c.envChain(name)
		if !ok {
			continue
		}
		if strings.TrimSpace(v.s) != "" {
			return setting{val: "set", line: v.line, name: name}
		}
		if !empty.ok() {
			empty = setting{val: "empty", line: v.line, name: name}
		}
	}
	for _, a := range c.v.authWrite {
		if c.p == nil || a.line <= c.p.line {
			return setting{val: "set", line: a.line, name: "_authToken"}
		}
	}
	return empty
}

// resolveFlag reads an npm setting: the command's --flag, the action's input, then
// NPM_CONFIG_* in the env chain (npm: command line beats environment).
func (c *ctx) resolveFlag(flag, envName, input string, boolean bool) setting {
	if c.p != nil {
		if c.p.action {
			if in, ok := c.p.step.with[input]; ok && in.s != "" {
				return setting{val: normBool(in.s, boolean), line: in.line, name: input}
			}
		} else if boolean {
			if b, ok := boolFlag(c.p.words, flag); ok {
				return setting{val: boolString(b), line: c.p.line, name: "--" + flag}
			}
		} else if v, ok := flagValue(c.p.words, "--"+flag); ok {
			return setting{val: v, line: c.p.line, name: "--" + flag}
		}
	}
	if v, ok := c.envChain(envName); ok {
		return setting{val: normBool(v.s, boolean), line: v.line, name: envName}
	}
	return setting{}
}

func normBool(s string, boolean bool) string {
	if !boolean {
		return s
	}
	return boolString(strings.TrimSpace(strings.ToLower(s)) != "false" && s != "")
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// effectivePerm resolves a GITHUB_TOKEN scope for a job: a job-level permissions block
// replaces the workflow's entirely, and any block drops the scopes it does not name to none.
func effectivePerm(w *Workflow, j *Job, scope string) perm {
	p, level := w.perms, "workflow"
	if j != nil && j.perms != nil {
		p, level = j.perms, "job"
	}
	if p == nil {
		return perm{state: "default", line: jobLine(j)}
	}
	out := perm{line: p.line, level: level}
	v, named := p.scopes[scope]
	all := strings.ToLower(strings.TrimSpace(p.all.s))
	if named {
		out.line = v.line
	}
	switch scope {
	case "id-token":
		out.state = "missing"
		if named && v.s == "write" || !named && all == "write-all" {
			out.state = "granted"
		}
	default:
		switch {
		case named && (v.s == "write" || v.s == "read" || v.s == "none"):
			out.state = v.s
		case named:
			out.state = "none"
		case all == "write-all":
			out.state = "write"
		case all == "read-all":
			out.state = "read"
		default:
			out.state = "none"
		}
	}
	return out
}

func jobLine(j *Job) int {
	if j == nil {
		return 1
	}
	return j.Line
}

var (
	thirdPartyRunner = lazyre.New(`^(blacksmith|depot|namespace-profile|nscloud|buildjet|warp|ubicloud|cirun|runs-on|runson)[-=/]`)
	githubRunner     = lazyre.New(`^(ubuntu|windows|macos)-[\w.-]+$`)
)

// registryKind sorts the upload's registry: "npmjs" (default or registry.npmjs.org),
// "github" (GitHub Packages) or "other".
func registryKind(url string) string {
	u := strings.ToLower(strings.TrimSpace(url))
	switch {
	case u == "" || strings.Contains(u, "registry.npmjs.org") || strings.Contains(u, "registry.yarnpkg.com"):
		return "npmjs"
	case strings.Contains(u, "npm.pkg.github.com"):
		return "github"
	}
	return "other"
}

// oidcIntended: a tokenless upload to the public registry is a trusted-publishing upload.
func (c *ctx) oidcIntended() bool {
	return c.p != nil && registryKind(c.reg.val) == "npmjs" && c.token.val != "set"
}

// needsIDToken: trusted publishing and provenance both need the job's OIDC token.
func (c *ctx) needsIDToken() bool {
	return c.oidcIntended() || c.p != nil && c.prov.val == "true"
}

// pnpmVersion is the pnpm a job runs: its major (0 when the file does not say), whether
// the job uses pnpm at all, and where the file says so.
type pnpmVersion struct {
	major int
	used  bool
	where string
}

// pnpmVersion reads the pnpm of the job: pnpm/action-setup's version input, else the
// packageManager field of package.json (which pnpm/action-setup and corepack install).
func (c *ctx) pnpmVersion() pnpmVersion {
	out := pnpmVersion{used: c.p != nil && (c.p.tool == toolPNPM || strings.HasPrefix(c.p.text, "pnpm "))}
	if s := c.v.pnpmSetup; s != nil {
		out.used = true
		if in := s.with["version"]; in.set && !strings.Contains(in.s, "${{") {
			if v := parseVer(in.s); v.known() {
				out.major = v.major
				out.where = fmt.Sprintf("pnpm %s (%s)", strings.TrimSpace(in.s), c.at(in.line))
				return out
			}
		}
	}
	if pm := c.pkg.packageManager(); strings.HasPrefix(pm, "pnpm@") {
		out.used = true
		if v := parseVer(strings.TrimPrefix(pm, "pnpm@")); v.known() {
			out.major = v.major
			out.where = fmt.Sprintf("pnpm %s (packageManager in %s)", strings.TrimPrefix(strings.SplitN(pm, "+", 2)[0], "pnpm@"), path.Base(c.pkg.File))
		}
	}
	return out
}
