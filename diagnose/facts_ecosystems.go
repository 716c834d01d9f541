package diagnose

import (
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
	"github.com/pubdoc/pubdoc/knowledge"
)

// The extractor's fields are declared in facts.go; the little state the registries below
// need (which step's inputs are being read, whether a claims block is open) is kept in
// x.tools under these keys, which finish() never reads.
const (
	ecoStepKey     = "eco:step"      // the "Run <action>" header whose `with:` inputs follow
	ecoUVClaimsKey = "eco:uv-claims" // inside uv's "OidcTokenClaims {" … "}" block
	ecoWantRefKey  = "eco:want-ref"  // the line "initiated by:" / "parent workflow is:" waiting for its ref
	ecoWantGemKey  = "eco:want-gem"  // the previous line ran `gem --version`
)

// ecosystemTriggers are the literals of the lines ecosystemLine reads, so that the scanner
// keeps them deep inside a huge log; merged into factTriggers at init. The number is how
// many lines after a hit to keep.
var ecosystemTriggers = map[string]int{
	"gh-action-pypi-publish":        0,
	"twine/":                        0,
	"twine version":                 0,
	"twine==":                       0,
	"twine-":                        0,
	"uv 0.":                         0,
	"uv/0.":                         0,
	"`sub`: `":                      0,
	"`repository`: `":               0,
	"`workflow_ref`: `":             0,
	"`job_workflow_ref`: `":         0,
	"`environment`: `":              0,
	"OidcTokenClaims":               12,
	"initiated by:":                 4,
	"parent workflow is:":           4,
	"Uploading distributions to":    0,
	"pypi.org/legacy":               0,
	"cargo 1.":                      0,
	"crates-io-auth-action":         0,
	"rubygems/release-gem":          0,
	"RUBYGEMS VERSION":              0,
	"gem --version":                 2,
	"gem -v":                        2,
	"NuGet/login":                   8,
	"nuget/login":                   8,
	"owned by user '":               0,
	"docker/login-action":           8,
	"Logging into ":                 0,
	"The push refers to repository": 0,
	"failed to push ":               0,
	"organization package":          0,
	"write_package":                 0,
	"Secret source:":                0,
	"deno 1.":                       0,
	"deno 2.":                       0,
	"denoland/deno/releases/":       0,
}

// actionFacts name the fact that records the ref (tag, branch or commit) a job used an
// action at. hint is a literal every mention contains (case-insensitive for NuGet/login,
// which workflows spell both ways).
var actionFacts = []struct {
	hintIDs []hint
	fact    string
	re      *lazyre.Regexp
}{
	{words([]string{"pypa/gh-action-pypi-publish"}), "pypi_action_version", actionRefRe(`pypa/gh-action-pypi-publish`)},
	{words([]string{"rust-lang/crates-io-auth-action"}), "crates_auth_action_version", actionRefRe(`rust-lang/crates-io-auth-action`)},
	{words([]string{"rubygems/release-gem"}), "release_gem_version", actionRefRe(`rubygems/release-gem`)},
	{words([]string{"NuGet/login", "nuget/login", "Nuget/login"}), "nuget_login_version", actionRefRe(`(?i:nuget/login)`)},
	{words([]string{"docker/login-action"}), "docker_login_version", actionRefRe(`docker/login-action`)},
}

// actionRefRe matches "owner/action@REF" (uses:, Run, "Download action repository") and the
// runner's checkout path ".../_actions/owner/action/REF/", where a branch ref like
// release/v1 is one path segment plus its "/vN".
func actionRefRe(action string) *lazyre.Regexp {
	return lazyre.New(action + `(?:@([A-Za-z0-9._/-]+)|/([^/\s'"]+(?:/v\d+)?)/)`)
}

var (
	reTwineVersion  = lazyre.New(`\btwine(?:/|==| version |-)v?(\d+\.\d+\.\d+(?:\.post\d+)?)\b|Requirement already satisfied: twine in \S+ \((\d+\.\d+\.\d+)\)`)
	reUVVersion     = lazyre.New(`(?:^|[\s'"(=])uv(?:/| | version )v?(\d+\.\d+\.\d+)\b`)
	reActionClaim   = lazyre.New("`(sub|repository|workflow_ref|job_workflow_ref|environment)`: `([^`]*)`")
	reUVClaim       = lazyre.New(`(?:^|[\s{,])(sub|repository|workflow_ref|job_workflow_ref|environment): "([^"]*)"`)
	reSubRepo       = lazyre.New(`^repo:([^:\s]+/[^:\s]+):(ref|environment|pull_request|job_workflow_ref)\b(?::([^:]+))?`)
	reWorkflowFile  = lazyre.New(`\.github/workflows/([^@/\s]+)(?:@|$)`)
	reWorkflowRef   = lazyre.New(`^(\S+/\.github/workflows/[^@\s]+(?:@\S+)?)$`)
	reUploadTo      = lazyre.New(`Uploading distributions to (https?://\S+)`)
	rePyPIURL       = lazyre.New(`https://(?:upload\.|test\.|upload\.test\.)?pypi\.org/legacy/?`)
	reRepoURLInput  = lazyre.New(`^\s*repository[-_]url: (https?://\S+)\s*$`)
	reCargoVersion  = lazyre.New(`(?:^|\s)cargo (\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?) \(`)
	reCratesAgent   = lazyre.New(`crates-io-auth-action/(\d+\.\d+\.\d+)`)
	reGemEnv        = lazyre.New(`RUBYGEMS VERSION: (\d+\.\d+\.\d+)`)
	reGemVersionCmd = lazyre.New(`(?:^|[\s$>+])gem (?:-v|--version)\s*$`)
	reInput         = lazyre.New(`^\s*(user|registry): (\S+)\s*$`)
	reNuGetPolicy   = lazyre.New(`No matching trust policy owned by user '([^']+)'`)
	reLoggingInto   = lazyre.New(`Logging into (.+?)\.\.\.`)
	rePushRepo      = lazyre.New(`The push refers to repository \[([^\]\s]+)\]`)
	rePushImage     = lazyre.New(`(?:failed to push|pushing) ([A-Za-z0-9][^\s:]*(?::\d+)?/[^\s:]+)`)
	reRegistryV2    = lazyre.New(`https://([^/"\s]+)/v2/`)
	reLayerUpload   = lazyre.New(`/blobs/uploads/ in ([^\s:]+):`)
	reSecretSource  = lazyre.New(`^\s*Secret source: (\S+)\s*$`)
	reDenoVersion   = lazyre.New(`(?:^|\s)[Dd]eno v?(\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?)(?:\s|$|\.|,)`)
	reDenoDownload  = lazyre.New(`denoland/deno/releases/download/v(\d+\.\d+\.\d+(?:-[A-Za-z0-9.]+)?)/`)
)

// ecosystemLine reads the facts of registries other than npm (PyPI, crates.io, RubyGems,
// NuGet, JSR, container registries): tool and action versions, the claims an OIDC failure
// prints, the registry a job talked to.
func (x *extractor) ecosystemLine(t string, l *Line) {
	if x.has(hEscapedNewline) {
		// A workflow command (::error::, ::warning::) with its newlines escaped, as
		// gh-action-pypi-publish prints its claims: read it line by line.
		whole := x.hints
		for part := range strings.SplitSeq(t, "%0A") {
			x.hints = hintsIn(part, x.hm)
			x.ecosystemText(part, l)
		}
		x.hints = whole
		return
	}
	x.ecosystemText(t, l)
}

// ecosystemText reads one line (or one %0A-separated part of it) for every non-npm
// registry in turn; the order of the steps is the order their state depends on.
func (x *extractor) ecosystemText(t string, l *Line) {
	hasVer := strings.ContainsAny(t, "0123456789")
	x.stepContext(t, l)
	x.actionRefs(t, l)
	x.pypiText(t, l, hasVer)
	x.cratesText(t, l, hasVer)
	x.gemText(t, l)
	x.loginInputs(t, l)
	x.containerLine(t, l)
	if x.has(hSecretSource) {
		if m := reSecretSource.FindStringSubmatch(t); m != nil {
			x.facts.set("secret_source", m[1], l, "exact")
		}
	}
	x.denoText(t, l, hasVer)
}

// actionRefs records the ref of each known action the line names (uses: owner/action@ref).
func (x *extractor) actionRefs(t string, l *Line) {
	if !strings.Contains(t, "/") {
		return
	}
	for _, a := range actionFacts {
		if !x.hints.hasAny(a.hintIDs) {
			continue
		}
		if m := a.re.FindStringSubmatch(t); m != nil {
			x.actionRef(a.fact, m[1]+m[2], l)
		}
	}
}

// pypiText reads PyPI's facts: twine and uv versions, the OIDC claims either prints after a
// refusal, the reusable-workflow warning and the repository the upload went to.
func (x *extractor) pypiText(t string, l *Line, hasVer bool) {
	if x.has(hTwine) && hasVer {
		if m := reTwineVersion.FindStringSubmatch(t); m != nil {
			x.version("twine_version", m[1]+m[2], l)
		}
	}
	if hasVer && (x.has(hUV) || x.has(hUVSlash)) {
		if m := reUVVersion.FindStringSubmatch(t); m != nil {
			x.version("uv_version", m[1], l)
		}
	}
	if x.has(hBacktickClaim) {
		for _, m := range reActionClaim.FindAllStringSubmatch(t, -1) {
			x.pypiClaim(m[1], m[2], l)
		}
	}
	x.uvClaims(t, l)
	x.reusableWarning(t, l)
	x.pypiRegistry(t, l)
}

// uvClaims reads the claims uv prints in an OidcTokenClaims { … } block, a few lines long.
func (x *extractor) uvClaims(t string, l *Line) {
	if x.has(hClaims) {
		x.tools[ecoUVClaimsKey] = l
	}
	if h := x.tools[ecoUVClaimsKey]; h != nil && l.N-h.N > 20 {
		delete(x.tools, ecoUVClaimsKey) // the block was cut off: its claims are a few lines
	}
	if x.tools[ecoUVClaimsKey] == nil {
		return
	}
	if x.has(hQuotedClaim) {
		for _, m := range reUVClaim.FindAllStringSubmatch(t, -1) {
			x.pypiClaim(m[1], m[2], l)
		}
	}
	if strings.Contains(t, "}") {
		delete(x.tools, ecoUVClaimsKey)
	}
}

// pypiRegistry reads the repository URL an upload went to: twine's "Uploading
// distributions to", the publish action's repository-url input, or a legacy upload URL.
func (x *extractor) pypiRegistry(t string, l *Line) {
	if !x.has(hURL) {
		return
	}
	f := x.facts
	switch {
	case x.has(hUploading):
		if m := reUploadTo.FindStringSubmatch(t); m != nil {
			f.set("registry", m[1], l, "exact")
		}
	case x.has(hRepository) && strings.Contains(x.currentStep(), "gh-action-pypi-publish"):
		if m := reRepoURLInput.FindStringSubmatch(t); m != nil {
			f.set("registry", m[1], l, "exact")
		}
	case x.has(hPyPILegacy):
		if m := rePyPIURL.FindString(t); m != "" && !strings.Contains(f.value("registry"), "pypi") {
			f.set("registry", m, l, "exact")
		}
	}
}

// cratesText reads crates.io's facts: the cargo version and crates-io-auth-action's.
func (x *extractor) cratesText(t string, l *Line, hasVer bool) {
	if hasVer && x.has(hCargo) {
		if m := reCargoVersion.FindStringSubmatch(t); m != nil {
			x.version("cargo_version", m[1], l)
		}
	}
	if x.has(hCratesAgent) {
		if m := reCratesAgent.FindStringSubmatch(t); m != nil {
			x.version("crates_auth_action_version", m[1], l)
		}
	}
}

// gemText reads RubyGems' version: from `gem env`, or the bare version `gem --version`
// prints on the next non-blank line.
func (x *extractor) gemText(t string, l *Line) {
	if w := x.tools[ecoWantGemKey]; w != nil && w != l {
		if m := reVersionOnly.FindStringSubmatch(t); m != nil {
			x.version("gem_version", m[1], l)
			delete(x.tools, ecoWantGemKey)
		} else if strings.TrimSpace(t) != "" && l.Marker == "" {
			delete(x.tools, ecoWantGemKey)
		}
	}
	if x.has(hGem) && reGemVersionCmd.MatchString(t) {
		x.tools[ecoWantGemKey] = l
	}
	if x.has(hGemEnv) {
		if m := reGemEnv.FindStringSubmatch(t); m != nil {
			x.version("gem_version", m[1], l)
		}
	}
}

// loginInputs reads the inputs of NuGet/login and docker/login-action, echoed under
// "Run …" / "with:", and the NuGet user a trust policy names.
func (x *extractor) loginInputs(t string, l *Line) {
	f := x.facts
	if strings.Contains(t, ": ") && (x.has(hUser) || x.has(hRegistry)) {
		if m := reInput.FindStringSubmatch(t); m != nil {
			step := strings.ToLower(x.currentStep())
			switch {
			case m[1] == "user" && strings.Contains(step, "nuget/login"):
				f.set("nuget_user", m[2], l, "exact")
			case m[1] == "registry" && strings.Contains(step, "docker/login-action"):
				f.set("container_registry", registryHost(m[2]), l, "exact")
			}
		}
	}
	if x.has(hOwnedByUser) && f["nuget_user"] == nil {
		if m := reNuGetPolicy.FindStringSubmatch(t); m != nil {
			f.set("nuget_user", m[1], l, "exact")
		}
	}
}

// denoText reads JSR's deno version: `deno --version`, or the deno binary `npx jsr
// publish` downloads.
func (x *extractor) denoText(t string, l *Line, hasVer bool) {
	if hasVer && (x.has(hDeno) || x.has(hDenoCap)) {
		if m := reDenoVersion.FindStringSubmatch(t); m != nil {
			x.version("deno_version", m[1], l)
		}
	}
	if x.has(hDenoDownload) {
		if m := reDenoDownload.FindStringSubmatch(t); m != nil {
			x.version("deno_version", m[1], l)
		}
	}
}

// stepContext follows the "Run <step>" header whose inputs the next lines echo: up to the
// endgroup in a raw Actions log, while lines stay indented in a copy from the web UI.
func (x *extractor) stepContext(t string, l *Line) {
	if strings.HasPrefix(t, "Run ") {
		x.tools[ecoStepKey] = l
		return
	}
	h := x.tools[ecoStepKey]
	if h == nil {
		return
	}
	if h.Marker == "group" {
		if l.Marker == "endgroup" {
			delete(x.tools, ecoStepKey)
		}
		return
	}
	if t != "" && t[0] != ' ' && t[0] != '\t' && strings.TrimSpace(t) != "" {
		delete(x.tools, ecoStepKey)
	}
}

func (x *extractor) currentStep() string {
	if h := x.tools[ecoStepKey]; h != nil {
		return strings.TrimPrefix(h.Text, "Run ")
	}
	return ""
}

// actionRef records the ref an action ran at: a full tag is an exact version, a major or
// minor tag (v1, v1.12) or a release/vN branch bounds it, a commit or another branch is
// kept as written with no range. A version printed by the action itself (a user agent)
// is not replaced by a looser tag.
func (x *extractor) actionRef(name, ref string, l *Line) {
	ref = strings.TrimRight(ref, "./-")
	if ref == "" {
		return
	}
	if cur := x.facts[name]; cur != nil && cur.Range.IsExact() {
		return
	}
	tag := strings.TrimPrefix(ref, "release/")
	v, err := knowledge.ParseVersion(tag)
	if err != nil || !strings.HasPrefix(tag, "v") && !strings.Contains(tag, ".") {
		x.facts.set(name, ref, l, "exact") // a commit or a branch
		return
	}
	var hi knowledge.Version
	switch strings.Count(strings.SplitN(tag, "-", 2)[0], ".") {
	case 2:
		if tag == ref {
			x.facts.setVersion(name, v, l)
			return
		}
		hi = knowledge.Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}
	case 1:
		hi = knowledge.Version{Major: v.Major, Minor: v.Minor + 1}
	default:
		hi = knowledge.Version{Major: v.Major + 1}
	}
	x.facts[name] = &Fact{Name: name, Value: ref, Line: l.N, Text: l.Text, Kind: "bounded", Source: "log",
		Range: knowledge.Range{Min: v, HasMin: true, Max: below(hi), HasMax: true}}
}

func (x *extractor) version(name, s string, l *Line) {
	if v, err := knowledge.ParseVersion(strings.SplitN(s, ".post", 2)[0]); err == nil {
		x.facts.setVersion(name, v, l)
	}
}

// pypiClaim records one OIDC claim that gh-action-pypi-publish or uv printed after PyPI
// refused the token. The derived facts name the files a publisher must register: PyPI
// takes the workflow file from job_workflow_ref (the called workflow).
func (x *extractor) pypiClaim(name, value string, l *Line) {
	f := x.facts
	if value == "" {
		return
	}
	missing := value == "MISSING" // the action renders an absent claim so
	switch name {
	case "sub":
		m := reSubRepo.FindStringSubmatch(value)
		if m == nil {
			return
		}
		if f["pypi_repository"] == nil {
			f.set("pypi_repository", m[1], l, "exact")
		}
		if f["pypi_environment"] == nil {
			switch m[2] {
			case "environment":
				f.set("pypi_environment", m[3], l, "exact")
			case "ref", "pull_request":
				f.set("pypi_environment", "none", l, "exact")
			}
		}
	case "repository":
		if !missing {
			f.set("pypi_repository", value, l, "exact")
		}
	case "environment":
		if missing {
			f.set("pypi_environment", "none", l, "exact")
		} else {
			f.set("pypi_environment", value, l, "exact")
		}
	case "workflow_ref", "job_workflow_ref":
		if !missing {
			x.workflowRef(name, value, l)
		}
	}
}

// workflowRef records workflow_ref (the caller, the run's top-level workflow) or
// job_workflow_ref (the workflow holding the publishing job), the file names in them, and,
// once both are known, whether they differ (a reusable workflow) and whether the called
// workflow lives in another repository.
func (x *extractor) workflowRef(claim, ref string, l *Line) {
	f := x.facts
	fact, file := "pypi_workflow_ref", "pypi_caller_file"
	if claim == "job_workflow_ref" {
		fact, file = "pypi_job_workflow_ref", "pypi_publisher_file"
	}
	f.set(fact, ref, l, "exact")
	if m := reWorkflowFile.FindStringSubmatch(ref); m != nil {
		f.set(file, m[1], l, "exact")
	}
	if w, j := f["pypi_workflow_ref"], f["pypi_job_workflow_ref"]; w != nil && j != nil {
		v := boolText(w.Value != j.Value)
		if wr, jr := workflowRepo(w.Value), workflowRepo(j.Value); v == "true" && wr != "" && jr != "" && !strings.EqualFold(wr, jr) {
			v = "cross-repo" // a publisher can only name a workflow of its own repository
		}
		f.set("pypi_reusable_workflow", v, l, "exact")
	}
}

// workflowRepo is the owner/repo of a workflow ref "owner/repo/.github/workflows/f.yml@ref".
func workflowRepo(ref string) string {
	repo, _, ok := strings.Cut(ref, "/.github/workflows/")
	if !ok {
		return ""
	}
	return repo
}

// reusableWarning reads the refs of gh-action-pypi-publish's "Potential workflow
// misconfiguration" warning: "this action was initiated by:" job_workflow_ref, "Whereas
// its parent workflow is:" workflow_ref, each on the next non-blank line.
func (x *extractor) reusableWarning(t string, l *Line) {
	if w := x.tools[ecoWantRefKey]; w != nil && w != l {
		tt := strings.TrimSpace(t)
		if tt == "" {
			return
		}
		delete(x.tools, ecoWantRefKey)
		if m := reWorkflowRef.FindStringSubmatch(tt); m != nil {
			claim := "workflow_ref"
			if strings.Contains(w.Text, "initiated by") {
				claim = "job_workflow_ref"
			}
			x.workflowRef(claim, m[1], l)
		}
		return
	}
	if x.has(hInitiatedBy) || x.has(hParentWorkflow) {
		x.tools[ecoWantRefKey] = &Line{N: l.N, Text: t}
	}
}

// containerLine reads where an image push or a registry login went, and how GHCR refused it.
func (x *extractor) containerLine(t string, l *Line) {
	f := x.facts
	if x.has(hDenied) {
		kind := ""
		switch {
		case x.has(hWritePackage):
			kind = "write_package"
		case x.has(hInstallWrite):
			kind = "write_org_package"
		case x.has(hInstallCreate):
			kind = "create_org_package"
		case x.has(hGHCR) && x.has(hDeniedDenied):
			kind = "login_denied"
		}
		if kind != "" {
			f.set("ghcr_denied", kind, l, "exact")
			if f["container_registry"] == nil {
				// Only GHCR words its refusals so.
				f.set("container_registry", "ghcr.io", l, "inferred")
			}
		}
	}
	host := ""
	switch {
	case x.has(hLoggingInto):
		if m := reLoggingInto.FindStringSubmatch(t); m != nil {
			host = registryHost(m[1])
		}
	case x.has(hPushRefers):
		if m := rePushRepo.FindStringSubmatch(t); m != nil {
			host = imageHost(m[1])
		}
	case x.has(hFailedToPush) || x.has(hWithDocker):
		if m := rePushImage.FindStringSubmatch(t); m != nil {
			host = imageHost(m[1])
		}
	case x.has(hV2):
		if m := reRegistryV2.FindStringSubmatch(t); m != nil {
			host = registryHost(m[1])
		} else if m := reLayerUpload.FindStringSubmatch(t); m != nil {
			host = registryHost(m[1])
		}
	}
	if host != "" {
		f.set("container_registry", host, l, "exact")
	}
}

// registryHost normalizes a registry as written in a login (ghcr.io, https://index.docker.io/v1/,
// "Docker Hub") to its host; Docker Hub's aliases are docker.io.
func registryHost(s string) string {
	s = strings.TrimSpace(s)
	if s == "Docker Hub" {
		return "docker.io"
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	switch s {
	case "registry-1.docker.io", "index.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return s
}

// imageHost is the registry of an image reference: its first component when that looks
// like a host, else Docker Hub.
func imageHost(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return registryHost(first)
	}
	return "docker.io"
}
