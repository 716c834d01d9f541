package workflow

import (
	"fmt"
	"path"
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
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
	pkg       *Package // the package.json whose scripts run lines call, when known
	setups    []setupNode
	upgrades  []upgrade
	corepack  []value
	versions  []int   // seq of commands that change the package version in CI
	renames   []int   // seq of commands that rewrite the package name (npm init --scope, npm pkg set name=)
	authWrite []value // run lines that write an _authToken
	publishes []*publish
	npmrcs    []npmrcLine // registry mappings a step writes (.npmrc lines, npm config set)
	pnpmSetup *step       // the first pnpm/action-setup
	// hidden are run lines that call a package.json script named like a publish that the
	// file does not show (not in the package.json given, or not a publish Pubdoc reads).
	hidden []hiddenScript

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
	step *step
}

// npmrcLine is a registry mapping a step writes: "@scope:registry=URL" or "registry=URL" in
// an .npmrc, or npm config set.
type npmrcLine struct {
	seq      int
	line     int
	text     string
	scope    string // "@scope", "" for the default registry
	registry string
}

// hiddenScript is a run line calling a package.json script whose publish the file does not
// show.
type hiddenScript struct {
	line int
	text string
	step *step
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
func analyze(j *Job) *view { return analyzeWith(j, nil) }

// analyzeWith walks a job's steps once, reading the package.json scripts the run lines call
// (npm run release, pnpm release, yarn release, bun run release) when pkg is known.
func analyzeWith(j *Job, pkg *Package) *view {
	v := &view{job: j, pkg: pkg}
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
	case "pnpm/action-setup":
		if v.pnpmSetup == nil {
			v.pnpmSetup = s
		}
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
		v.upgrades = append(v.upgrades, upgrade{seq: seq, spec: parseNPMSpec(spec), line: c.line, text: c.text, step: s})
		return
	}
	if n, ok := npmrcMapping(c); ok {
		n.seq = seq
		v.npmrcs = append(v.npmrcs, n)
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
	if changesName(c.words) {
		v.renames = append(v.renames, seq)
		return
	}
	if tool, npmAt, ok := recognize(c.words); ok {
		v.publishes = append(v.publishes, &publish{
			seq: seq, tool: tool, text: c.text, line: c.line, step: s,
			words: c.words, assign: c.assign, npmAt: npmAt,
		})
		return
	}
	v.addScript(seq, s, c)
}

// maxScriptDepth bounds how deep scripts calling scripts are followed.
const maxScriptDepth = 3

// addScript follows a run line that calls a package.json script into the script's
// commands: a publish found there is the run line's publish (its text says which script);
// a script named like a publish that is not read is kept as hidden.
func (v *view) addScript(seq int, s *step, c command) {
	name, ok := scriptCall(c.words)
	if !ok {
		// A program run by path or through a runner (node scripts/publish.mjs, pnpm exec
		// bun scripts/publish.ts, ./release.sh): its publish is not in the file either.
		if runsProgram(c.words) && looksLikePublish(c.text) {
			v.hidden = append(v.hidden, hiddenScript{line: c.line, text: c.text, step: s})
		}
		return
	}
	text := c.text
	for depth := 0; depth < maxScriptDepth; depth++ {
		body, known := v.pkg.script(name)
		if !known {
			break
		}
		for _, sc := range commands([]value{{s: body, line: c.line, set: true}}) {
			if tool, npmAt, ok := recognize(sc.words); ok {
				v.publishes = append(v.publishes, &publish{
					seq: seq, tool: tool, text: fmt.Sprintf("%s (script %s: %s)", text, name, sc.text), line: c.line, step: s,
					words: sc.words, assign: c.assign, npmAt: npmAt,
				})
				return
			}
		}
		// One level down: a script that only calls another script.
		next, ok := "", false
		for _, sc := range commands([]value{{s: body, line: c.line, set: true}}) {
			if n, isCall := scriptCall(sc.words); isCall {
				next, ok = n, true
				break
			}
		}
		if !ok {
			break
		}
		name = next
	}
	if looksLikePublish(name) || looksLikePublish(text) {
		v.hidden = append(v.hidden, hiddenScript{line: c.line, text: c.text, step: s})
	}
}

// programRunners run a program given as a file.
var programRunners = flagSet("node", "bun", "deno", "tsx", "ts-node", "npx", "pnpx", "bunx", "bash", "sh", "python", "python3", "pnpm", "yarn", "npm", "make")

// runsProgram reports whether a command runs a script file or a make target rather than a
// tool Pubdoc reads (git, gh, echo and the like do not count).
func runsProgram(words []string) bool {
	if len(words) == 0 {
		return false
	}
	w := words[0]
	return programRunners[path.Base(w)] || strings.HasPrefix(w, "./") || strings.HasSuffix(w, ".sh") ||
		strings.HasSuffix(w, ".js") || strings.HasSuffix(w, ".mjs") || strings.HasSuffix(w, ".ts")
}

// looksLikePublish: a script or command named for publishing or releasing.
func looksLikePublish(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(l, "publish") || strings.Contains(l, "release")
}

// pnpmBuiltins are pnpm commands that are not scripts (pnpm X runs script X otherwise).
var pnpmBuiltins = flagSet("install", "i", "add", "remove", "rm", "update", "up", "exec", "dlx", "run", "test", "t",
	"publish", "pack", "build", "store", "config", "list", "ls", "why", "outdated", "link", "unlink", "import",
	"rebuild", "prune", "fetch", "audit", "licenses", "env", "setup", "init", "create", "deploy", "patch",
	"patch-commit", "root", "bin", "start", "version", "m", "multi", "recursive", "-r", "changeset")

// scriptCall recognizes a run line that calls a package.json script and returns its name.
func scriptCall(words []string) (string, bool) {
	if len(words) < 2 {
		return "", false
	}
	bin := path.Base(words[0])
	var valueFlags map[string]bool
	switch bin {
	case "npm":
		valueFlags = npmValueFlags
	case "pnpm":
		valueFlags = pnpmValueFlags
	case "yarn":
		valueFlags = yarnValueFlags
	case "bun":
	default:
		return "", false
	}
	sub, rest := subcommand(words[1:], valueFlags)
	switch {
	case sub == "run" || sub == "run-script" || sub == "rum" || sub == "urn":
		name, _ := subcommand(rest, valueFlags)
		return name, name != ""
	case bin == "pnpm" && !pnpmBuiltins[sub] && sub != "", bin == "yarn" && sub != "" && !yarnBuiltin(sub):
		return sub, true
	}
	return "", false
}

func yarnBuiltin(sub string) bool {
	switch sub {
	case "install", "add", "remove", "upgrade", "publish", "npm", "workspaces", "workspace", "exec", "dlx", "pack", "version", "config", "set", "cache", "info", "init", "link", "why":
		return true
	}
	return false
}

// npmrcMapping recognizes a registry mapping a command writes: an "@scope:registry=URL" or
// "registry=URL" line (echo into .npmrc, a heredoc body) or npm/pnpm/yarn config set.
func npmrcMapping(c command) (npmrcLine, bool) {
	if m := npmrcRegistry.Get().FindStringSubmatch(c.text); m != nil {
		return npmrcLine{line: c.line, text: strings.TrimSpace(c.text), scope: strings.ToLower(m[1]), registry: m[2]}, true
	}
	if len(c.words) >= 5 && (c.words[0] == "npm" || c.words[0] == "pnpm" || c.words[0] == "yarn") && c.words[1] == "config" && c.words[2] == "set" {
		key, val := c.words[3], c.words[4]
		if k, v, ok := strings.Cut(key, "="); ok {
			key, val = k, v
		}
		if scope, ok := strings.CutSuffix(key, ":registry"); ok && strings.HasPrefix(scope, "@") {
			return npmrcLine{line: c.line, text: c.text, scope: strings.ToLower(scope), registry: val}, true
		}
		if key == "registry" {
			return npmrcLine{line: c.line, text: c.text, registry: val}, true
		}
	}
	return npmrcLine{}, false
}

var npmrcRegistry = lazyre.New(`(?:^|[\s"'])(@[A-Za-z0-9._-]+)?:?registry\s*=\s*"?(https?://[^\s"']+)`)

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

// changesName recognizes commands that rewrite package.json's name during the run (npm init
// --scope, npm pkg set name=…), so the name committed is not the one published.
func changesName(words []string) bool {
	if len(words) < 2 || path.Base(words[0]) != "npm" {
		return false
	}
	sub, args := subcommand(words[1:], npmValueFlags)
	switch sub {
	case "init", "create", "innit":
		_, ok := flagValue(args, "--scope")
		return ok
	case "pkg":
		for _, a := range args {
			if strings.HasPrefix(a, "name=") {
				return true
			}
		}
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
