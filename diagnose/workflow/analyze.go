package workflow

import (
	"path"
	"strings"
)

// Publish tools, named as the engine's publish_tool fact names them.
const (
	toolNPM             = "npm"
	toolPNPM            = "pnpm"
	toolYarn            = "yarn"
	toolYarnBerry       = "yarn-berry"
	toolLerna           = "lerna"
	toolChangesets      = "changesets"
	toolSemanticRelease = "semantic-release"
	toolReleaseIt       = "release-it"
	toolNx              = "nx"
	toolNPMPublish      = "npm-publish-action" // JS-DevTools/npm-publish
)

// view is what one job does, in order. seq numbers order steps and the commands inside
// them, so "the setup-node before the publish" is a comparison.
type view struct {
	job       *Job
	setups    []setupNode
	upgrades  []upgrade
	corepack  []value
	versions  []int   // seq of commands that change the package version in CI
	authWrite []value // run lines that write an _authToken
	publishes []*publish

	// The other registries (registries.go).
	uploads    []*upload
	logins     []*dockerLogin
	pushes     []*imagePush
	dotnets    []*step          // actions/setup-dotnet steps with a source-url
	stepIDs    map[string]*step // steps by id:
	cargoCreds int              // seq of the first command that logs cargo in or sets its token
	setAPIKey  int              // seq of the first nuget setapikey
	cleans     []int            // seqs of commands that may remove attestation files
}

type setupNode struct {
	seq         int
	step        *step
	nodeVersion value
	registryURL value
	scope       value
	checkLatest bool
}

func (s *setupNode) node() nodeSpec {
	if s == nil || !s.nodeVersion.set {
		return nodeSpec{}
	}
	return parseNode(s.nodeVersion.s, s.checkLatest)
}

// major returns setup-node's major version from its ref, or from the "# v4.2.0" comment of a
// SHA pin; 0 when neither says.
func (s *setupNode) major() int {
	for _, r := range []string{s.step.ref(), s.step.usesComment} {
		if v := parseVer(strings.TrimPrefix(r, "v")); v.known() && strings.HasPrefix(strings.TrimSpace(r), "v") {
			return v.major
		}
	}
	return 0
}

type upgrade struct {
	seq  int
	spec npmSpec
	line int
	text string
}

// publish is one upload: a run command or an action step.
type publish struct {
	seq    int
	tool   string
	text   string // publish_command: the command as written, or the action's uses:
	line   int
	step   *step
	words  []string          // the command's words; nil for an action
	assign map[string]string // VAR=value before the command
	npmAt  string            // X of "npx npm@X publish"
	action bool
}

// analyze walks a job's steps once.
func analyze(j *Job) *view {
	v := &view{job: j}
	seq := 0
	for _, s := range j.steps {
		seq++
		if s.uses.set {
			v.addAction(seq, s)
			v.addRegistryAction(seq, s)
			continue
		}
		for _, c := range s.commands() {
			seq++
			v.addRegistryCommand(seq, s, c)
			v.addCommand(seq, s, c)
		}
	}
	return v
}

func (v *view) addAction(seq int, s *step) {
	switch s.action() {
	case "actions/setup-node":
		v.setups = append(v.setups, setupNode{
			seq: seq, step: s,
			nodeVersion: s.with["node-version"],
			registryURL: s.with["registry-url"],
			scope:       s.with["scope"],
			checkLatest: s.with["check-latest"].s == "true",
		})
	case "js-devtools/npm-publish":
		if s.with["dry-run"].s == "true" {
			return
		}
		v.publishes = append(v.publishes, &publish{seq: seq, tool: toolNPMPublish, text: s.uses.s, line: s.uses.line, step: s, action: true})
	case "changesets/action":
		// Without a publish: input the action only opens the "Version Packages" PR.
		if in := s.with["publish"]; in.set && strings.TrimSpace(in.s) != "" {
			v.publishes = append(v.publishes, &publish{seq: seq, tool: toolChangesets, text: strings.TrimSpace(in.s), line: in.line, step: s, action: true})
		}
	case "cycjimmy/semantic-release-action":
		if s.with["dry_run"].s == "true" {
			return
		}
		v.publishes = append(v.publishes, &publish{seq: seq, tool: toolSemanticRelease, text: s.uses.s, line: s.uses.line, step: s, action: true})
	}
}

func (v *view) addCommand(seq int, s *step, c command) {
	for _, w := range c.words {
		if strings.Contains(w, "_authToken") {
			v.authWrite = append(v.authWrite, value{s: c.text, line: c.line, set: true})
			break
		}
	}
	if spec, ok := npmUpgradeSpec(c.words); ok {
		v.upgrades = append(v.upgrades, upgrade{seq: seq, spec: parseNPMSpec(spec), line: c.line, text: c.text})
		return
	}
	if len(c.words) > 0 && c.words[0] == "corepack" {
		v.corepack = append(v.corepack, value{s: c.text, line: c.line, set: true})
		return
	}
	if changesVersion(c.words) {
		v.versions = append(v.versions, seq)
		return
	}
	if tool, npmAt, ok := recognize(c.words); ok {
		v.publishes = append(v.publishes, &publish{
			seq: seq, tool: tool, text: c.text, line: c.line, step: s,
			words: c.words, assign: c.assign, npmAt: npmAt,
		})
	}
}

// setupBefore returns the last setup-node step before seq (seq < 0: in the whole job).
func (v *view) setupBefore(seq int) *setupNode {
	var out *setupNode
	for i := range v.setups {
		if seq < 0 || v.setups[i].seq < seq {
			out = &v.setups[i]
		}
	}
	return out
}

func (v *view) upgradeBefore(seq int) *upgrade {
	var out *upgrade
	for i := range v.upgrades {
		if seq < 0 || v.upgrades[i].seq < seq {
			out = &v.upgrades[i]
		}
	}
	return out
}

// npm options that take a value when written as two words.
var (
	npmValueFlags  = flagSet("-w", "--workspace", "--prefix", "-C", "--registry", "--userconfig", "--cache", "--loglevel", "--tag", "--access", "--otp", "--location")
	pnpmValueFlags = flagSet("-F", "--filter", "--filter-prod", "-C", "--dir", "--loglevel", "--reporter", "--tag", "--access", "--otp", "--registry")
	yarnValueFlags = flagSet("--cwd", "--registry", "--tag", "--access", "--otp")
	npxValueFlags  = flagSet("-p", "--package", "-c", "--call")
)

func flagSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// subcommand returns the first word that is not an option (skipping the values of options
// that take one) and the words after it.
func subcommand(words []string, valueFlags map[string]bool) (string, []string) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			continue
		}
		if strings.HasPrefix(w, "-") {
			if valueFlags[w] {
				i++
			}
			continue
		}
		return w, words[i+1:]
	}
	return "", nil
}

func isDryRun(words []string) bool {
	for _, w := range words {
		if w == "--dry-run" || w == "--dry-run=true" || w == "--dryRun" {
			return true
		}
	}
	return false
}

// knownBins are tools a package manager can run by name (pnpm changeset publish).
var knownBins = map[string]bool{"changeset": true, "semantic-release": true, "release-it": true, "lerna": true, "nx": true}

// recognize says whether a command uploads a package, with which tool. npmAt is X when the
// upload is "npx npm@X publish".
func recognize(words []string) (tool, npmAt string, ok bool) {
	if len(words) == 0 || isDryRun(words) {
		return "", "", false
	}
	bin := path.Base(words[0])
	rest := words[1:]
	switch bin {
	case "npx", "pnpx", "bunx":
		return recognizeRunner(rest)
	case "bun":
		if len(rest) > 0 && rest[0] == "x" {
			return recognizeRunner(rest[1:])
		}
	case "npm":
		return recognizeNPM(rest)
	case "pnpm":
		return recognizePNPM(rest)
	case "yarn":
		return recognizeYarn(rest)
	case "changeset", "changesets":
		if sub, _ := subcommand(rest, nil); sub == "publish" {
			return toolChangesets, "", true
		}
	case "semantic-release":
		return toolSemanticRelease, "", true
	case "release-it":
		return toolReleaseIt, "", true
	case "lerna":
		if sub, _ := subcommand(rest, nil); sub == "publish" {
			return toolLerna, "", true
		}
	case "nx":
		sub, args := subcommand(rest, nil)
		if sub == "release" && !hasWord(args, "--skip-publish") {
			if next, _ := subcommand(args, nil); next == "" || next == "publish" {
				return toolNx, "", true
			}
		}
	}
	return "", "", false
}

// recognizeNPM reads the arguments of npm: publish, stage publish, or a runner (npm exec).
func recognizeNPM(rest []string) (tool, npmAt string, ok bool) {
	sub, args := subcommand(rest, npmValueFlags)
	switch sub {
	case "publish":
		return toolNPM, "", true
	case "stage":
		if first(args) == "publish" {
			return toolNPM, "", true
		}
	case "exec", "x":
		return recognizeRunner(args)
	}
	return "", "", false
}

// recognizePNPM reads the arguments of pnpm: publish, recursive publish, a runner, or a
// known tool run by name.
func recognizePNPM(rest []string) (tool, npmAt string, ok bool) {
	sub, args := subcommand(rest, pnpmValueFlags)
	switch {
	case sub == "publish":
		return toolPNPM, "", true
	case sub == "recursive" || sub == "m" || sub == "multi":
		if first(args) == "publish" {
			return toolPNPM, "", true
		}
	case sub == "exec" || sub == "dlx":
		return recognizeRunner(args)
	case knownBins[sub]:
		return recognize(append([]string{sub}, args...))
	}
	return "", "", false
}

// recognizeYarn reads the arguments of yarn: classic publish, berry's npm publish, either
// across workspaces, a runner, or a known tool run by name.
func recognizeYarn(rest []string) (tool, npmAt string, ok bool) {
	sub, args := subcommand(rest, yarnValueFlags)
	switch {
	case sub == "publish":
		return toolYarn, "", true
	case sub == "npm":
		if first(args) == "publish" {
			return toolYarnBerry, "", true
		}
	case sub == "workspaces" || sub == "workspace":
		for i := range args {
			if args[i] == "npm" && i+1 < len(args) && args[i+1] == "publish" {
				return toolYarnBerry, "", true
			}
			if args[i] == "publish" {
				return toolYarn, "", true
			}
		}
	case sub == "exec" || sub == "dlx":
		return recognizeRunner(args)
	case knownBins[sub]:
		return recognize(append([]string{sub}, args...))
	}
	return "", "", false
}

// recognizeRunner handles what npx, pnpm dlx and friends run: "npx -y npm@11 publish".
func recognizeRunner(words []string) (tool, npmAt string, ok bool) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" {
			continue
		}
		if strings.HasPrefix(w, "-") {
			if npxValueFlags[w] {
				i++
			}
			continue
		}
		name, at := w, ""
		if j := strings.LastIndex(w, "@"); j > 0 {
			name, at = w[:j], w[j+1:]
		}
		args := append([]string{path.Base(name)}, words[i+1:]...)
		tool, _, ok := recognize(args)
		if ok && name == "npm" {
			if at == "" {
				at = "latest"
			}
			return tool, at, true
		}
		return tool, "", ok
	}
	return "", "", false
}

// npmUpgradeSpec recognizes "npm install -g npm@X" (and i, add, update, --global,
// --location=global). A bare "npm" installs latest.
func npmUpgradeSpec(words []string) (string, bool) {
	if len(words) < 3 || words[0] != "npm" {
		return "", false
	}
	sub, args := subcommand(words[1:], npmValueFlags)
	switch sub {
	case "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall", "add", "update", "up", "upgrade":
	default:
		return "", false
	}
	all := words[1:]
	global := hasWord(all, "-g") || hasWord(all, "--global") || hasWord(all, "--location=global") || hasWord(all, "-g=true")
	if loc, ok := flagValue(all, "--location"); ok && loc == "global" {
		global = true
	}
	if !global {
		return "", false
	}
	for _, a := range args {
		if a == "npm" {
			return "latest", true
		}
		if spec, ok := strings.CutPrefix(a, "npm@"); ok {
			return spec, true
		}
	}
	return "", false
}

// changesVersion recognizes commands that rewrite package.json's version during the run, so
// the version committed is not the one published.
func changesVersion(words []string) bool {
	if len(words) < 2 {
		return false
	}
	switch path.Base(words[0]) {
	case "npm", "pnpm", "yarn":
		sub, _ := subcommand(words[1:], npmValueFlags)
		return sub == "version" || sub == "changeset" && hasWord(words, "version")
	case "changeset", "lerna":
		sub, _ := subcommand(words[1:], nil)
		return sub == "version"
	case "npx":
		return changesVersion(words[1:])
	}
	return false
}

func first(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

func hasWord(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}
