package workflow

import (
	"path"
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// Registries other than npm, named as the knowledge base's directories and rule ids name
// them (shared/knowledge/registries.md).
const (
	regPyPI     = "pypi"
	regCrates   = "crates"
	regRubyGems = "rubygems"
	regNuGet    = "nuget"
	regJSR      = "jsr"
)

// registryName is how a message names the registry.
var registryName = map[string]string{
	"npm":       "npm",
	regPyPI:     "PyPI",
	regCrates:   "crates.io",
	regRubyGems: "RubyGems",
	regNuGet:    "nuget.org",
	regJSR:      "JSR",
}

// Upload tools of the other registries.
const (
	toolPyPIAction    = "gh-action-pypi-publish"         // pypa/gh-action-pypi-publish
	toolUV            = "uv"                             // uv publish
	toolCratesAuth    = "crates-io-auth-action"          // rust-lang/crates-io-auth-action
	toolCargo         = "cargo"                          // cargo publish, actions-rs/cargo command: publish
	toolReleaseGem    = "release-gem"                    // rubygems/release-gem
	toolRubyGemsCreds = "configure-rubygems-credentials" // rubygems/configure-rubygems-credentials
	toolNuGetLogin    = "nuget-login"                    // NuGet/login
	toolNuGetPush     = "nuget-push"                     // dotnet nuget push, nuget push
	toolJSR           = "jsr"                            // deno publish, npx jsr publish
)

// upload is one step or command that publishes to (or authenticates for) a registry other
// than npm. Uploads are kept apart from view.publishes, which PublishJob and Facts read as
// npm's.
type upload struct {
	seq    int
	reg    string
	tool   string
	text   string // the command as written, or the action's uses:
	line   int
	step   *step
	words  []string          // the command's words; for actions-rs/cargo its args; nil for other actions
	assign map[string]string // VAR=value before the command
	action bool
	nuget  bool // nuget.exe (flags are case-insensitive -ApiKey, -Source), not dotnet nuget
}

// dockerLogin is a docker/login-action step or a docker login command.
type dockerLogin struct {
	seq      int
	step     *step
	line     int
	registry string // as written: the registry input, or the command's server ("" is Docker Hub)
	regLine  int
	password string // the password input ("" for a command: its source line says)
	text     string // the command as written
	action   bool
}

// imagePush is a docker/build-push-action step that pushes, or a command that pushes.
type imagePush struct {
	seq    int
	step   *step
	line   int    // the push: input (or outputs:), or the command
	text   string // how the message quotes it
	image  string // tags or image as written; "" when the command does not say
	always bool   // push: true or a push command; false for push: ${{ … }}
	action bool
}

func (v *view) addRegistryAction(seq int, s *step) {
	if s.id.set {
		if v.stepIDs == nil {
			v.stepIDs = map[string]*step{}
		}
		if _, dup := v.stepIDs[s.id.s]; !dup {
			v.stepIDs[s.id.s] = s
		}
	}
	add := func(reg, tool string) {
		v.uploads = append(v.uploads, &upload{seq: seq, reg: reg, tool: tool, text: s.uses.s, line: s.uses.line, step: s, action: true})
	}
	switch s.action() {
	case "pypa/gh-action-pypi-publish":
		add(regPyPI, toolPyPIAction)
	case "rust-lang/crates-io-auth-action":
		add(regCrates, toolCratesAuth)
	case "actions-rs/cargo":
		if cmd := s.with["command"]; strings.TrimSpace(cmd.s) == "publish" {
			words := splitWords(s.with["args"].s)
			if isDryRun(words) || hasWord(words, "-n") {
				return
			}
			v.uploads = append(v.uploads, &upload{seq: seq, reg: regCrates, tool: toolCargo, text: s.uses.s + " (command: publish)", line: s.uses.line, step: s, words: words, action: true})
		}
	case "rubygems/release-gem":
		add(regRubyGems, toolReleaseGem)
	case "rubygems/configure-rubygems-credentials":
		add(regRubyGems, toolRubyGemsCreds)
	case "nuget/login":
		add(regNuGet, toolNuGetLogin)
	case "actions/setup-dotnet":
		if s.with["source-url"].set {
			v.dotnets = append(v.dotnets, s)
		}
	case "docker/login-action":
		r := s.with["registry"]
		v.logins = append(v.logins, &dockerLogin{seq: seq, step: s, line: s.uses.line, registry: strings.TrimSpace(r.s), regLine: r.line, password: s.with["password"].s, action: true})
	case "docker/build-push-action":
		in, always := s.with["push"], false
		switch t := strings.ToLower(strings.TrimSpace(in.s)); {
		case t == "true":
			always = true
		case strings.Contains(t, "${{"):
		default:
			out := s.with["outputs"]
			if o := strings.ToLower(out.s); !strings.Contains(o, "push=true") && !strings.Contains(o, "type=registry") {
				return
			}
			in, always = out, true
		}
		v.pushes = append(v.pushes, &imagePush{seq: seq, step: s, line: in.line, text: s.uses.s, image: s.with["tags"].s, always: always, action: true})
	}
}

func (v *view) addRegistryCommand(seq int, s *step, c command) {
	if len(c.words) == 0 {
		return
	}
	v.noteCommand(seq, c)
	if isDryRun(c.words) {
		return
	}
	add := func(reg, tool string, nuget bool) {
		v.uploads = append(v.uploads, &upload{seq: seq, reg: reg, tool: tool, text: c.text, line: c.line, step: s, words: c.words, assign: c.assign, nuget: nuget})
	}
	bin, rest := path.Base(c.words[0]), c.words[1:]
	switch bin {
	case "uv":
		if sub, _ := subcommand(rest, uvValueFlags); sub == "publish" {
			add(regPyPI, toolUV, false)
		}
	case "cargo":
		if sub, _ := subcommand(dropToolchain(rest), cargoValueFlags); sub == "publish" && !hasWord(c.words, "-n") {
			add(regCrates, toolCargo, false)
		}
	case "dotnet":
		if first(rest) == "nuget" && len(rest) > 1 && rest[1] == "push" {
			add(regNuGet, toolNuGetPush, false)
		}
	case "nuget", "nuget.exe":
		if strings.EqualFold(first(rest), "push") {
			add(regNuGet, toolNuGetPush, true)
		}
	case "docker":
		v.addDockerCommand(seq, s, c)
	}
	if isJSRPublish(c.words) {
		add(regJSR, toolJSR, false)
	}
}

var (
	uvValueFlags    = flagSet("--directory", "--project", "--config-file", "--cache-dir", "--color")
	cargoValueFlags = flagSet("-Z", "--config", "-C", "--color")
	dockerValFlags  = flagSet("-u", "--username", "-p", "--password", "-t", "--tag", "-f", "--file", "--platform", "--build-arg", "--target", "--label", "--cache-from", "--cache-to", "--secret", "--output", "-o", "--builder", "--context", "-c", "--config", "-H", "--host", "--log-level", "-l", "--progress", "--provenance", "--sbom", "--network", "--iidfile", "--metadata-file", "--ssh")
)

// noteCommand keeps what later checks ask of the commands before an upload, so each asks
// in constant time: does cargo get credentials, does nuget get an API key, are attestation
// files removed.
func (v *view) noteCommand(seq int, c command) {
	upper := strings.ToUpper(c.text)
	sub := ""
	if path.Base(c.words[0]) == "cargo" {
		sub, _ = subcommand(dropToolchain(c.words[1:]), cargoValueFlags)
	}
	if v.cargoCreds == 0 && (sub == "login" || strings.Contains(upper, "CARGO_REGISTRY_TOKEN") || strings.Contains(upper, "CREDENTIALS")) {
		v.cargoCreds = seq // cargo login, a credentials file, or the variable through $GITHUB_ENV
	}
	if v.setAPIKey == 0 && strings.Contains(upper, "SETAPIKEY") {
		v.setAPIKey = seq
	}
	if strings.Contains(upper, "ATTESTATION") || c.words[0] == "rm" {
		v.cleans = append(v.cleans, seq)
	}
}

// dropToolchain drops cargo's +toolchain argument (cargo +nightly publish).
func dropToolchain(words []string) []string {
	if len(words) > 0 && strings.HasPrefix(words[0], "+") {
		return words[1:]
	}
	return words
}

// addDockerCommand recognizes docker login, docker push, docker image push and
// docker [buildx] build --push.
func (v *view) addDockerCommand(seq int, s *step, c command) {
	sub, args := subcommand(c.words[1:], dockerValFlags)
	if sub == "image" || sub == "buildx" {
		sub, args = subcommand(args, dockerValFlags)
	}
	switch sub {
	case "login":
		server, _ := subcommand(args, dockerValFlags)
		v.logins = append(v.logins, &dockerLogin{seq: seq, step: s, line: c.line, registry: server, regLine: c.line, text: c.text})
	case "push":
		image, _ := subcommand(args, dockerValFlags)
		v.pushes = append(v.pushes, &imagePush{seq: seq, step: s, line: c.line, text: c.text, image: image, always: true})
	case "build":
		if !hasWord(args, "--push") {
			return
		}
		var tags []string
		for i, a := range args {
			if (a == "-t" || a == "--tag") && i+1 < len(args) {
				tags = append(tags, args[i+1])
			} else if t, ok := strings.CutPrefix(a, "--tag="); ok {
				tags = append(tags, t)
			}
		}
		v.pushes = append(v.pushes, &imagePush{seq: seq, step: s, line: c.line, text: c.text, image: strings.Join(tags, " "), always: true})
	}
}

// isJSRPublish recognizes deno publish and the jsr CLI's publish, however it is run
// (npx jsr publish, pnpm dlx jsr publish, bunx jsr publish, yarn jsr publish).
func isJSRPublish(words []string) bool {
	if len(words) == 0 {
		return false
	}
	bin, rest := path.Base(words[0]), words[1:]
	switch bin {
	case "deno", "jsr":
		sub, _ := subcommand(rest, nil)
		return sub == "publish"
	case "npx", "pnpx", "bunx":
		return runsJSRPublish(rest)
	case "bun":
		return first(rest) == "x" && runsJSRPublish(rest[1:])
	case "npm", "pnpm", "yarn":
		sub, args := subcommand(rest, npmValueFlags)
		switch sub {
		case "exec", "x", "dlx":
			return runsJSRPublish(args)
		case "jsr":
			next, _ := subcommand(args, nil)
			return next == "publish"
		}
	}
	return false
}

func runsJSRPublish(words []string) bool {
	name, rest := subcommand(words, npxValueFlags)
	if j := strings.LastIndex(name, "@"); j > 0 {
		name = name[:j] // jsr@0.13.4
	}
	if name != "jsr" {
		return false
	}
	sub, _ := subcommand(rest, nil)
	return sub == "publish"
}

// lookupEnv looks a variable up the way the runner does: the command's own assignment, then
// the step's env, the job's, the workflow's.
func lookupEnv(w *Workflow, j *Job, s *step, assign map[string]string, line int, name string) (value, bool) {
	if v, ok := assign[name]; ok {
		return value{s: v, line: line, set: true}, true
	}
	if s != nil {
		if v, ok := s.env.vars[name]; ok {
			return v, true
		}
	}
	if j != nil {
		if v, ok := j.env.vars[name]; ok {
			return v, true
		}
	}
	v, ok := w.env.vars[name]
	return v, ok
}

// envUnknown reports whether an env: level that reaches the step is an expression
// (env: ${{ fromJSON(…) }}), whose variables the file does not show.
func envUnknown(w *Workflow, j *Job, s *step) bool {
	return s != nil && s.env.expr.set || j != nil && j.env.expr.set || w.env.expr.set
}

var envRef = lazyre.New(`\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// expandEnv replaces ${{ env.NAME }} with NAME's literal value where the step sees one, so
// registry: ${{ env.REGISTRY }} (GitHub's own container example) reads as ghcr.io.
func expandEnv(w *Workflow, j *Job, s *step, text string) string {
	return envRef.Get().ReplaceAllStringFunc(text, func(m string) string {
		name := strings.ToUpper(envRef.Get().FindStringSubmatch(m)[1])
		if v, ok := lookupEnv(w, j, s, nil, 0, name); ok && !strings.Contains(v.s, "${{") {
			return v.s
		}
		return m
	})
}

// stepByID returns the job's first action step with that id:, or nil.
func (v *view) stepByID(id string) *step { return v.stepIDs[id] }

// isGitHubToken reports whether a credential as written is the job's GITHUB_TOKEN.
func isGitHubToken(s string) bool {
	l := strings.ToLower(strings.Join(strings.Fields(s), ""))
	return strings.Contains(l, "secrets.github_token") || strings.Contains(l, "github.token") || strings.Contains(l, "$github_token")
}

// onlyCalled reports whether the workflow runs only when another workflow calls it (or by
// hand): then every publish in it carries the called file in job_workflow_ref.
func (w *Workflow) onlyCalled() bool {
	if !w.IsCallee() {
		return false
	}
	for _, t := range w.Triggers {
		if t != "workflow_call" && t != "workflow_dispatch" {
			return false
		}
	}
	return true
}
