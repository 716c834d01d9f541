package diagnose

import (
	"net/url"
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
	"github.com/pubdoc/pubdoc/knowledge"
)

// Fact is one thing the log says, with the line that says it.
type Fact struct {
	Name  string
	Value string
	Line  int
	Text  string
	// Kind is how sure the fact is: "exact" (printed), "bounded" (a range implied by what
	// was printed) or "inferred" (from another fact through a table).
	Kind string
	// Source is where it came from: log, workflow, run or registry.
	Source string
	// File is the workflow file a workflow fact was read from.
	File string
	// Range is set for version facts.
	Range knowledge.Range
}

// Facts are a log's facts by name (knowledge.Facts is the vocabulary).
type Facts map[string]*Fact

func (f Facts) value(name string) string {
	if x := f[name]; x != nil {
		return x.Value
	}
	return ""
}

func (f Facts) set(name, value string, l *Line, kind string) {
	f[name] = &Fact{Name: name, Value: value, Line: l.N, Text: l.Text, Kind: kind, Source: "log"}
}

func (f Facts) setOnce(name, value string, l *Line) {
	if f[name] == nil {
		f.set(name, value, l, "exact")
	}
}

func (f Facts) setVersion(name string, v knowledge.Version, l *Line) {
	f[name] = &Fact{Name: name, Value: v.String(), Line: l.N, Text: l.Text, Kind: "exact", Source: "log", Range: knowledge.Exact(v)}
}

// factTriggers are the literals of the facts read in code (groups, env dumps, HTTP lines):
// the scanner keeps lines that contain them even deep inside a huge log. The one-line facts
// of factSpecs add theirs (specTriggers). The number is how many lines after a hit to keep
// (a group's body).
var factTriggers = map[string]int{
	"GITHUB_TOKEN Permissions":   30,
	"Environment details":        6,
	"Runner Image":               4,
	"Runner name:":               2,
	"Hosted Compute Agent":       0,
	"npm verb":                   0,
	"npm ERR!":                   0,
	"npm error":                  0,
	"npm warn":                   0,
	"npm notice":                 0,
	"npm -v":                     3,
	"npm --version":              3,
	"node -v":                    3,
	"node --version":             3,
	"_AUTH_TOKEN:":               0,
	"NPM_TOKEN:":                 0,
	" oidc ":                     0,
	"rovenance":                  0,
	"-g npm@":                    0,
	"--global npm@":              0,
	"##[group]Run ":              0,
	"##[error]":                  0,
	" publish":                   0,
	"semantic-release":           0,
	"lerna ":                     0,
	"YN0":                        0,
	"ERR_PNPM":                   0,
	"Running with gitlab-runner": 0,
	"section_start":              0,
	"circleci":                   0,
	"OIDC":                       0,
}

var (
	reVersionOnly    = lazyre.New(`^\s*v?(\d+\.\d+\.\d+)\s*$`)
	reVersionCmd     = lazyre.New(`(?:^|[\s$>+])(npm|node) (?:-v|--version)\s*$`)
	reNPMPrefixOld   = lazyre.New(`(?:^|\s)npm ERR! `)
	reNPMPrefixNew   = lazyre.New(`(?:^|\s)npm (?:error|warn|verbose|silly) `)
	reOld404         = lazyre.New(`404 +'(\S+)@([^'@\s]+)' is not in (?:this|the npm) registry`)
	reNew404         = lazyre.New(`404 +The requested resource '(\S+)@([^'@\s]+)' could not be found`)
	reActualNPM      = lazyre.New(`Actual: +\{.*"npm": ?"v?(\d+\.\d+\.\d+[^"]*)"`)
	reActualNode     = lazyre.New(`Actual: +\{.*"node": ?"v?(\d+\.\d+\.\d+[^"]*)"`)
	reErrorCode      = lazyre.New(`npm (?:ERR!|error) code (\S+)`)
	reHTTPLine       = lazyre.New(`\b(\d{3}) [A-Za-z][A-Za-z ]*? - (GET|PUT|POST|DELETE|PATCH) (https?://\S+)`)
	reHTTPFetch      = lazyre.New(`npm http fetch (GET|PUT|POST|DELETE) (\d{3}) (https?://\S+)`)
	rePublishingTo   = lazyre.New(`Publishing to (https?://\S+?)/? with tag (\S+) and (\S+) access`)
	rePublishingToV8 = lazyre.New(`npm notice Publishing to (https?://\S+)`)
	rePkgBox         = lazyre.New(`npm notice (?:📦|package:)\s+(@?[^@\s]+)@(\S+)`)
	rePkgName        = lazyre.New(`npm notice name:\s+(\S+)`)
	rePkgVersion     = lazyre.New(`npm notice version:\s+(\S+)`)
	rePublished      = lazyre.New(`^\+ (@?[A-Za-z0-9._/-]+)@(\d+\.\d+\.\d+\S*)\s*$`)
	reTokenEnv       = lazyre.New(`^\s*(NODE_AUTH_TOKEN|NPM_TOKEN|NPM_AUTH_TOKEN|NPM_CONFIG_TOKEN):\s*(.*?)\s*$`)
	reOIDCLog        = lazyre.New(`npm (?:silly|sill|verbose|verb|notice|warn|info) oidc (.+)`)
	reNPMUpgrade     = lazyre.New(`\bnpm (?:install|i|add|update|up) (?:[^|&;]*\s)?(?:-g|--global)(?:\s[^|&;]*)?\snpm@(\S+)|\bnpm (?:install|i) npm@(\S+) (?:-g|--global)`)
	rePerm           = lazyre.New(`^\s*([A-Za-z]+): (read|write|none)\s*$`)
	rePublishCmd     = lazyre.New(`(?:^|[\s$>+])((?:npm|pnpm|yarn(?: npm)?|lerna|npx lerna|changeset|npx changeset|pnpm changeset|npx semantic-release|semantic-release|release-it|npx release-it|nx release)(?: -r| -ws| --workspaces| run)? publish\b.*|npx semantic-release.*|npx release-it.*|nx release.*)$`)
	reRunnerName     = lazyre.New(`Runner name: '([^']*)'`)
	reImage          = lazyre.New(`^\s*Image: (\S+)`)
	reStepRun        = lazyre.New(`^Run (.+)$`)
	reThirdParty     = lazyre.New(`(?i)blacksmith|depot|buildjet|ubicloud|namespace-profile|warpbuild|cirun|runs-on=`)
	reGitLab         = lazyre.New(`Running with gitlab-runner|^Job succeeded$|section_start|Using Docker executor|gitlab-ci`)
	reCircle         = lazyre.New(`(?i)circleci|CIRCLE_`)
)

// extractor walks normalized lines once and collects facts.
type extractor struct {
	kb    *knowledge.Base
	facts Facts

	inPerms   bool
	permsHead *Line
	idToken   *Line
	wantVer   string // "npm" or "node": the previous line ran `npm -v` / `node -v`
	step      string

	npmExact   *Fact
	npmBounds  knowledge.Range
	npmBoundAt *Fact
	hasBounds  bool
	// upgradeInferred: the bounds come from an "npm install -g npm@spec" step.
	upgradeInferred bool

	tools map[string]*Line
	// hints are the hint literals of the text being read; hm finds them on a long log.
	hints hintSet
	hm    *matcher
	// packuments are the registry's answers to GETs of package documents, by package name.
	packuments map[string]packument
}

type packument struct {
	status string
	line   *Line
}

func newExtractor(kb *knowledge.Base) *extractor {
	return &extractor{kb: kb, facts: Facts{}, tools: map[string]*Line{}, packuments: map[string]packument{}}
}

// line reads one normalized line: each step below looks for one family of facts, in the
// order their state depends on.
func (x *extractor) line(l *Line) {
	t := l.Text
	x.hints = hintsIn(t, x.hm)
	if x.permissionsLine(t, l) {
		return
	}
	x.trackStep(t, l)
	// Most lines of a big log are test or build output: cheap substring checks keep the
	// regexes below off them.
	hasVer := strings.ContainsAny(t, "0123456789")
	x.versionOutput(t, l)
	x.applySpecs(t, l)
	if x.has(hNPM) {
		x.npmLine(t, l)
	}
	x.tokenLine(t, l)
	x.provenanceLine(t, l)
	x.publishLine(t, l, hasVer)
	x.tool(t, l)
	x.ecosystemLine(t, l)
	x.runnerLine(t, l)
	if x.facts["ci"] == nil {
		x.ciLine(t, l)
	}
}

// has reports whether the text being read holds h.
func (x *extractor) has(h hint) bool { return x.hints.has(h) }

// permissionsLine follows the GITHUB_TOKEN Permissions group of "Set up job" and reports
// whether the line was one of its entries (or its header), which says nothing else.
func (x *extractor) permissionsLine(t string, l *Line) bool {
	if x.inPerms {
		if m := rePerm.FindStringSubmatch(t); m != nil {
			if m[1] == "IdToken" && m[2] == "write" {
				x.idToken = l
			}
			return true
		}
		if l.Marker == "endgroup" || strings.TrimSpace(t) != "" {
			x.closePerms()
		}
	}
	if strings.HasSuffix(strings.TrimSpace(t), "GITHUB_TOKEN Permissions") {
		x.inPerms, x.permsHead, x.idToken = true, l, nil
		x.facts.setOnce("ci", "github-actions", l)
		return true
	}
	return false
}

// trackStep follows the step the line belongs to.
func (x *extractor) trackStep(t string, l *Line) {
	if l.Marker == "group" {
		if m := reStepRun.FindStringSubmatch(t); m != nil {
			x.step = m[1]
		}
	}
	if l.Step != "" {
		x.step = l.Step
	}
}

// versionOutput reads the bare version `npm -v` or `node -v` printed on the line after it.
func (x *extractor) versionOutput(t string, l *Line) {
	if x.wantVer != "" {
		if m := reVersionOnly.FindStringSubmatch(t); m != nil {
			if v, err := knowledge.ParseVersion(m[1]); err == nil {
				x.exactVersion(x.wantVer, v, l)
			}
			x.wantVer = ""
		} else if strings.TrimSpace(t) != "" && l.Marker == "" {
			x.wantVer = ""
		}
	}
	if x.has(hDashV) || x.has(hVersionFlag) {
		if m := reVersionCmd.FindStringSubmatch(t); m != nil {
			x.wantVer = m[1]
		}
	}
}

// tokenLine reads whether the step's npm token was set, empty or setup-node's placeholder.
func (x *extractor) tokenLine(t string, l *Line) {
	f := x.facts
	if x.has(hTokenPlaceholder) {
		f.set("setup_node_placeholder", "true", l, "exact")
	} else if x.has(hTokenEnv) {
		if m := reTokenEnv.FindStringSubmatch(t); m != nil {
			if m[2] == "" {
				f.set("token_env", "empty", l, "exact")
			} else if !strings.Contains(m[2], "XXXXX") {
				f.set("token_env", "set", l, "exact")
			}
		}
	}
}

// provenanceLine reads whether provenance was asked for, signed and published.
func (x *extractor) provenanceLine(t string, l *Line) {
	if !x.has(hProvenance) {
		return
	}
	f := x.facts
	if x.has(hProvenanceSigned) {
		f.set("provenance", "signed", l, "exact")
	} else if x.has(hProvenancePublished) {
		f.set("provenance", "published", l, "exact")
	}
	if x.has(hProvenanceFlag) && !x.has(hProvenanceOff) || x.has(hProvenanceEnv) {
		f.setOnce("provenance_flag", "true", l)
	}
}

// publishLine reads the publish command, the registry's HTTP answers and the "+ pkg@version"
// line of a publish that went through.
func (x *extractor) publishLine(t string, l *Line, hasVer bool) {
	f := x.facts
	if x.has(hPublish) || x.has(hRelease) {
		if m := rePublishCmd.FindStringSubmatch(t); m != nil && !x.has(hNPMNotice) {
			f.setOnce("publish_command", strings.TrimSpace(m[1]), l)
		}
	}
	if hasVer && x.has(hSpacedDash) {
		if m := reHTTPLine.FindStringSubmatch(t); m != nil {
			x.http(m[2], m[1], m[3], l)
		}
	}
	if strings.HasPrefix(t, "+ ") {
		if m := rePublished.FindStringSubmatch(t); m != nil {
			x.pkg(m[1], m[2], l)
			f.set("published", "true", l, "exact")
		}
	}
}

// runnerLine reads which kind of runner ran the job.
func (x *extractor) runnerLine(t string, l *Line) {
	f := x.facts
	switch {
	case x.has(hHostedAgent) || strings.HasPrefix(t, "Image Release: "):
		f.setOnce("runner", "github-hosted", l)
	case x.has(hImage):
		if m := reImage.FindStringSubmatch(t); m != nil {
			f.setOnce("runner", "github-hosted", l)
			f.setOnce("runner_image", m[1], l)
		}
	case x.has(hRunnerName):
		m := reRunnerName.FindStringSubmatch(t)
		switch {
		case m == nil:
		case strings.HasPrefix(m[1], "GitHub Actions"):
			f.setOnce("runner", "github-hosted", l)
		case reThirdParty.MatchString(m[1]):
			f.setOnce("runner", "third-party", l)
		}
		if f["runner"] == nil {
			f.set("runner", "self-hosted", l, "inferred")
		}
	}
}

// ciLine recognizes the CI system from its markers, until one is known.
func (x *extractor) ciLine(t string, l *Line) {
	f := x.facts
	switch {
	case l.Marker != "" && l.Marker != "group" && l.Marker != "endgroup" || strings.HasPrefix(t, "Current runner version:"):
		f.setOnce("ci", "github-actions", l)
	case x.has(hGitLab) || x.has(hSection) || x.has(hJobSucceeded):
		if reGitLab.MatchString(t) {
			f.setOnce("ci", "gitlab", l)
		}
	case x.has(hCircle) || x.has(hCircleEnv):
		if reCircle.MatchString(t) {
			f.setOnce("ci", "circleci", l)
		}
	}
}

// npmLine reads what only lines mentioning npm can say.
func (x *extractor) npmLine(t string, l *Line) {
	x.npmWordings(t, l)
	x.npmActual(t, l)
	x.npmRegistryLine(t, l)
	x.npmSetupLine(t, l)
}

// npmWordings bounds npm's version by wordings only some versions print (npm/cli
// error-message.js, npm-registry-client): the log prefix, the 404 message, "publish Failed
// PUT" up to 6.5, "You should bug the author" up to 8.
func (x *extractor) npmWordings(t string, l *Line) {
	f := x.facts
	if reNPMPrefixOld.MatchString(t) {
		x.bound(l, knowledge.Range{Max: below(x.kb.Thresholds["npm_new_log_prefix"]), HasMax: true})
		f.set("npm_log_prefix", "ERR!", l, "exact")
	} else if reNPMPrefixNew.MatchString(t) {
		x.bound(l, knowledge.Range{Min: x.kb.Thresholds["npm_new_log_prefix"], HasMin: true})
		if f["npm_log_prefix"] == nil || f["npm_log_prefix"].Value != "ERR!" {
			f.set("npm_log_prefix", "error", l, "exact")
		}
	}
	if x.has(h404) {
		if m := reOld404.FindStringSubmatch(t); m != nil {
			x.bound(l, knowledge.Range{Max: below(x.kb.Thresholds["npm_new_404_wording"]), HasMax: true})
			x.pkg(m[1], m[2], l)
		} else if m := reNew404.FindStringSubmatch(t); m != nil {
			x.bound(l, knowledge.Range{Min: x.kb.Thresholds["npm_new_404_wording"], HasMin: true})
			x.pkg(m[1], m[2], l)
		}
	}
	if x.has(hFailedPUT) {
		x.bound(l, knowledge.Range{Max: below(x.kb.Thresholds["npm_registry_fetch"]), HasMax: true})
	}
	if x.has(hBugTheAuthor) {
		x.bound(l, knowledge.Range{Max: below(x.kb.Thresholds["npm9"]), HasMax: true})
	}
}

// npmActual reads the npm and Node that ran from EBADENGINE's "Actual:" line.
func (x *extractor) npmActual(t string, l *Line) {
	if !x.has(hActual) || !x.has(hQuotedNPM) {
		return
	}
	if m := reActualNPM.FindStringSubmatch(t); m != nil {
		if v, err := knowledge.ParseVersion(m[1]); err == nil {
			x.exactVersion("npm", v, l)
		}
	}
	if m := reActualNode.FindStringSubmatch(t); m != nil {
		if v, err := knowledge.ParseVersion(m[1]); err == nil {
			x.exactVersion("node", v, l)
		}
	}
}

// npmRegistryLine reads npm's talk with the registry: the error code, the HTTP fetches,
// where it published and the package it packed.
func (x *extractor) npmRegistryLine(t string, l *Line) {
	f := x.facts
	if x.has(hCode) {
		if m := reErrorCode.FindStringSubmatch(t); m != nil {
			f.set("npm_error_code", m[1], l, "exact")
		}
	}
	if x.has(hHTTPFetch) {
		if m := reHTTPFetch.FindStringSubmatch(t); m != nil {
			if m[2] >= "400" {
				x.http(m[1], m[2], m[3], l)
			}
			if m[1] == "GET" {
				x.packument(m[3], m[2], l)
			}
		}
	}
	if x.has(hPublishingTo) {
		if m := rePublishingTo.FindStringSubmatch(t); m != nil {
			f.set("registry", m[1]+"/", l, "exact")
			f.set("dist_tag", m[2], l, "exact")
			f.set("access", m[3], l, "exact")
			f.set("reached_registry", "true", l, "exact")
		} else if m := rePublishingToV8.FindStringSubmatch(t); m != nil {
			f.set("registry", m[1], l, "exact")
			f.set("reached_registry", "true", l, "exact")
		}
	}
	if x.has(hNPMNotice) {
		if m := rePkgBox.FindStringSubmatch(t); m != nil {
			x.pkg(m[1], m[2], l)
		}
		if m := rePkgName.FindStringSubmatch(t); m != nil {
			f.set("package_name", m[1], l, "exact")
		}
		if m := rePkgVersion.FindStringSubmatch(t); m != nil {
			f.set("package_version", m[1], l, "exact")
		}
	}
}

// npmSetupLine reads the OIDC exchange npm logged and an `npm install -g npm@spec` upgrade.
func (x *extractor) npmSetupLine(t string, l *Line) {
	f := x.facts
	if x.has(hOIDCLog) || x.has(hOIDCExchange) {
		if m := reOIDCLog.FindStringSubmatch(t); m != nil {
			f.set("oidc_log", m[1], l, "exact")
		}
		// Only npm with the exchange logs it.
		x.bound(l, knowledge.Range{Min: x.kb.Thresholds["npm_oidc_feature"], HasMin: true})
	}
	if x.has(hNPMAt) {
		if m := reNPMUpgrade.FindStringSubmatch(t); m != nil {
			spec := m[1]
			if spec == "" {
				spec = m[2]
			}
			f.set("npm_upgrade", spec, l, "exact")
		}
	}
}

func (x *extractor) closePerms() {
	x.inPerms = false
	if x.idToken != nil {
		x.facts.set("id_token_permission", "granted", x.idToken, "exact")
	} else if x.permsHead != nil {
		x.facts.set("id_token_permission", "missing", x.permsHead, "exact")
	}
}

// below returns the greatest version sorting under v, so "npm ERR!" (npm < 10.6.0) is the
// closed range up to 10.6.0-0.
func below(v knowledge.Version) knowledge.Version {
	v.Pre = "0"
	return v
}

func (x *extractor) exactVersion(tool string, v knowledge.Version, l *Line) {
	switch tool {
	case "npm":
		x.npmExact = &Fact{Name: "npm_version", Value: v.String(), Line: l.N, Text: l.Text, Kind: "exact", Source: "log", Range: knowledge.Exact(v)}
	case "node":
		x.facts.setVersion("node_version", v, l)
	case "yarn", "pnpm":
		x.facts.setVersion(tool+"_version", v, l)
	}
}

func (x *extractor) bound(l *Line, r knowledge.Range) {
	if !x.hasBounds {
		x.npmBounds, x.hasBounds = r, true
		x.npmBoundAt = &Fact{Line: l.N, Text: l.Text}
		return
	}
	if nb, ok := x.npmBounds.Intersect(r); ok {
		if nb != x.npmBounds { // the line that narrowed the range is the evidence
			x.npmBounds = nb
			x.npmBoundAt = &Fact{Line: l.N, Text: l.Text}
		}
	} else {
		// Two npms printed in one log (a runner npm and one bundled in a tool, or two
		// pasted runs): the latest line wins, it is nearest the failure.
		x.npmBounds = r
		x.npmBoundAt = &Fact{Line: l.N, Text: l.Text}
	}
}

func (x *extractor) pkg(name, version string, l *Line) {
	x.facts.set("package_name", name, l, "exact")
	x.facts.set("package_version", version, l, "exact")
}

// packument records a GET of a package document (https://registry/<name>, one path
// segment, or @scope%2fname).
func (x *extractor) packument(rawURL, status string, l *Line) {
	u, err := url.Parse(rawURL)
	if err != nil || strings.Count(strings.Trim(u.EscapedPath(), "/"), "/") > 0 || strings.Contains(u.Path, "/-/") {
		return
	}
	name, err := url.PathUnescape(strings.Trim(u.EscapedPath(), "/"))
	if err == nil && name != "" {
		x.packuments[name] = packument{status, l}
	}
}

func (x *extractor) http(method, status, rawURL string, l *Line) {
	f := x.facts
	if method == "GET" {
		x.packument(rawURL, status, l)
	}
	f.set("http_method", method, l, "exact")
	f.set("http_status", status, l, "exact")
	f.set("http_url", rawURL, l, "exact")
	if method == "PUT" && f["package_name"] == nil {
		if u, err := url.Parse(rawURL); err == nil {
			name, _ := url.PathUnescape(strings.TrimPrefix(u.EscapedPath(), "/"))
			if name != "" && !strings.Contains(name, "-/") {
				f.set("package_name", name, l, "exact")
			}
		}
	}
}

// toolSignals map log text to the tool that did the publish, most specific first. The hint
// is a literal every match contains, so the regex runs only on lines that could match.
var toolSignals = []struct {
	tool    string
	hintIDs []hint
	re      *lazyre.Regexp
}{
	{"semantic-release", words([]string{"semantic-release"}), lazyre.New(`\[semantic-release\]|\[@semantic-release/npm\]|npx semantic-release`)},
	{"changesets", words([]string{"🦋", "changeset", "No NPM_TOKEN found"}), lazyre.New(`🦋|changeset publish|changesets/action|No NPM_TOKEN found, but OIDC is available`)},
	{"lerna", words([]string{"lerna "}), lazyre.New(`lerna (?:ERR!|info|notice|success|WARN)|lerna publish`)},
	{"release-it", words([]string{"release-it"}), lazyre.New(`release-it`)},
	{"nx", words([]string{"nx release", "NX   "}), lazyre.New(`nx release|NX   `)},
	{"yarn-berry", words([]string{"YN0", "yarn npm publish"}), lazyre.New(`YN0\d{3}|yarn npm publish`)},
	{"yarn", words([]string{"yarn publish"}), lazyre.New(`yarn publish`)},
	{"pnpm", words([]string{"ERR_PNPM_", "pnpm "}), lazyre.New(`ERR_PNPM_|pnpm (?:-r |--recursive |-w )?publish`)},
	{"npm-publish-action", words([]string{"JS-DevTools/npm-publish"}), lazyre.New(`JS-DevTools/npm-publish`)},
	{"npm", words([]string{"npm publish", "npm notice Publishing to"}), lazyre.New(`npm publish|npm notice Publishing to`)},
}

func (x *extractor) tool(t string, l *Line) {
	for _, s := range toolSignals {
		if x.tools[s.tool] != nil {
			continue
		}
		if x.hints.hasAny(s.hintIDs) && s.re.MatchString(t) {
			x.tools[s.tool] = l
		}
	}
}

// finish settles facts that need the whole log: the npm version from its exact, bounded and
// inferred sources, the tool, derived flags.
func (x *extractor) finish() Facts {
	f := x.facts
	if x.inPerms {
		x.closePerms()
	}
	for _, s := range toolSignals {
		if l := x.tools[s.tool]; l != nil {
			f.set("publish_tool", s.tool, l, "exact")
			break
		}
	}
	x.applyUpgrade()
	x.resolveNPMVersion()
	x.npmFromNode()
	x.packageFacts()
	x.oidcIntent()
	return f
}

// applyUpgrade handles an npm replaced after it printed its version: what ran later is the
// spec's npm (if the install worked), not the runner's.
func (x *extractor) applyUpgrade() {
	f := x.facts
	up := f["npm_upgrade"]
	if up == nil || x.npmExact == nil || up.Line <= x.npmExact.Line {
		return
	}
	f["npm_runner_version"] = &Fact{Name: "npm_runner_version", Value: x.npmExact.Value, Line: x.npmExact.Line, Text: x.npmExact.Text, Kind: "exact", Source: "log", Range: x.npmExact.Range}
	x.npmExact = nil
	c, err := knowledge.ParseConstraint(up.Value)
	if err != nil {
		return
	}
	r, ok := c.Bounds()
	if !ok {
		return
	}
	if x.hasBounds {
		// What the failure printed must agree with the spec, else the upgrade did not take
		// (or another npm ran): then the printed bounds stand.
		r, ok = r.Intersect(x.npmBounds)
	}
	if ok {
		x.npmBounds, x.hasBounds = r, true
		x.npmBoundAt = &Fact{Line: up.Line, Text: up.Text}
		x.upgradeInferred = true
	}
}

// resolveNPMVersion sets npm_version from the version npm printed and the bounds its
// wordings set.
func (x *extractor) resolveNPMVersion() {
	f := x.facts
	switch {
	case x.npmExact != nil && x.hasBounds:
		if _, ok := x.npmExact.Range.Intersect(x.npmBounds); ok {
			f["npm_version"] = x.npmExact
		} else {
			// The runner's npm is not the npm that printed the failure (a tool bundles its own).
			f["npm_runner_version"] = &Fact{Name: "npm_runner_version", Value: x.npmExact.Value, Line: x.npmExact.Line, Text: x.npmExact.Text, Kind: "exact", Source: "log", Range: x.npmExact.Range}
			f["npm_version"] = x.boundFact()
		}
	case x.npmExact != nil:
		f["npm_version"] = x.npmExact
	case x.hasBounds:
		f["npm_version"] = x.boundFact()
	}
}

// npmFromNode narrows an inexact npm_version (or infers one) from the npm bundled with the
// Node that ran, unless npm was upgraded.
func (x *extractor) npmFromNode() {
	f := x.facts
	nv := f["node_version"]
	if nv == nil || f["npm_version"] != nil && f["npm_version"].Range.IsExact() || f["npm_upgrade"] != nil {
		return
	}
	v := nv.Range.Min
	for _, row := range x.kb.NodeNPM {
		if !row.Node.Allows(v) {
			continue
		}
		r := knowledge.Range{Min: row.NPMMin, HasMin: true, Max: row.NPMMax, HasMax: true}
		if cur := f["npm_version"]; cur != nil {
			nr, ok := cur.Range.Intersect(r)
			if !ok || nr == cur.Range {
				return
			}
			r = nr
		}
		f["npm_version"] = &Fact{Name: "npm_version", Value: rangeText(r), Line: nv.Line, Text: nv.Text, Kind: "inferred", Source: "log", Range: r}
		return
	}
}

// packageFacts derives scoped, prerelease and package_exists from the package npm packed.
func (x *extractor) packageFacts() {
	f := x.facts
	if n := f["package_name"]; n != nil {
		f.set("scoped", boolText(strings.HasPrefix(n.Value, "@")), &Line{N: n.Line, Text: n.Text}, "exact")
	}
	if v := f["package_version"]; v != nil {
		if pv, err := knowledge.ParseVersion(v.Value); err == nil {
			f.set("prerelease", boolText(pv.Pre != ""), &Line{N: v.Line, Text: v.Text}, "exact")
		}
	}
	if n := f["package_name"]; n != nil {
		if p, ok := x.packuments[n.Value]; ok && (p.status == "200" || p.status == "304" || p.status == "404") {
			f.set("package_exists", boolText(p.status != "404"), p.line, "exact")
		}
	}
}

func (x *extractor) boundFact() *Fact {
	kind := "bounded"
	if x.upgradeInferred {
		kind = "inferred" // from the spec of the upgrade step, not from what npm printed
	}
	return &Fact{Name: "npm_version", Value: rangeText(x.npmBounds), Line: x.npmBoundAt.Line, Text: x.npmBoundAt.Text, Kind: kind, Source: "log", Range: x.npmBounds}
}

// oidcIntent decides whether the job meant to publish without a token.
func (x *extractor) oidcIntent() {
	f := x.facts
	for _, name := range []string{"oidc_log", "setup_node_placeholder"} {
		if g := f[name]; g != nil {
			f.set("oidc_intended", "true", &Line{N: g.Line, Text: g.Text}, "exact")
			return
		}
	}
	if l := x.tools["oidc-signal"]; l != nil {
		f.set("oidc_intended", "true", l, "exact")
		return
	}
	if te := f["token_env"]; te != nil && (te.Value == "set" || te.Value == "empty") {
		// A token variable wired from a secret (even one that turned out empty) is a
		// token-based publish.
		f.set("oidc_intended", "false", &Line{N: te.Line, Text: te.Text}, "exact")
		return
	}
	if it := f["id_token_permission"]; it != nil && it.Value == "granted" && f["token_env"] == nil {
		f.set("oidc_intended", "true", &Line{N: it.Line, Text: it.Text}, "inferred")
	}
}

var reOIDCSignal = lazyre.New(`No NPM_TOKEN found, but OIDC is available|Verifying OIDC context for publishing|OIDC token exchange with the npm registry|(?i)trusted publish(?:ing|er)`)

// noteOIDCSignal records lines that show a tokenless publish was meant.
func (x *extractor) noteOIDCSignal(l *Line) {
	t := l.Text
	if x.tools["oidc-signal"] == nil && (x.has(hOIDC) || x.has(hTrustedPublish)) && reOIDCSignal.MatchString(t) {
		x.tools["oidc-signal"] = l
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// rangeText renders a version range for people: "10.9.2", "<10.6.0", ">=11.5.0",
// "10.6.0–11.4.x".
func rangeText(r knowledge.Range) string {
	if r.IsExact() {
		return r.Min.String()
	}
	hi := ""
	if r.HasMax {
		if r.Max.Pre == "0" {
			m := r.Max
			m.Pre = ""
			hi = "<" + m.String()
		} else {
			hi = "<=" + r.Max.String()
		}
	}
	switch {
	case r.HasMin && r.HasMax:
		return ">=" + r.Min.String() + " " + hi
	case r.HasMin:
		return ">=" + r.Min.String()
	}
	return hi
}
