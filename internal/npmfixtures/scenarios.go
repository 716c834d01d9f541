package npmfixtures

import (
	"github.com/pubdoc/pubdoc/internal/fakenpm"
)

// Versions are the npm releases whose output differs for these scenarios: Node 20's and
// Node 22's bundled npm, the last without OIDC, the first with it, the documented minimum,
// the newest 11 and the newest 12.
var Versions = []string{"10.8.2", "10.9.8", "11.4.2", "11.5.0", "11.5.1", "11.21.2", "12.2.1"}

// Levels are the log levels recorded.
var Levels = []string{"default", "verbose"}

// Token is what the job hands npm as NODE_AUTH_TOKEN.
type Token int

// Token modes.
const (
	NoToken     Token = iota // no registry-url, no NODE_AUTH_TOKEN: nothing in .npmrc
	Placeholder              // setup-node <= v6 with registry-url and no token: XXXXX-XXXXX-XXXXX-XXXXX
	Valid                    // a working granular token from a secret
	Expired                  // a token the registry no longer accepts
	Empty                    // registry-url set, NODE_AUTH_TOKEN from a secret that is not set
)

// Scenario is one way a publish job goes.
type Scenario struct {
	Name string
	// Expect is the rule id the engine must rank first; "none" for a publish that works.
	Expect string
	// MinVersion/MaxVersion bound the npm versions the scenario means something for (a
	// scenario about the OIDC exchange is moot on npm that has none).
	MinVersion, MaxVersion string
	Package                string
	Version                string
	Args                   []string
	Token                  Token
	IDToken                bool // the job has id-token: write
	Claims                 fakenpm.Claims
	Setup                  func(r *fakenpm.Registry)
	// Command replaces "publish" (e.g. an npm self-upgrade).
	Command []string
	// Step is the step's title in the job log.
	Step string
}

const (
	pkg  = "@acme/widgets"
	repo = "acme/widgets"
)

func claims(workflow, env string) fakenpm.Claims {
	return fakenpm.Claims{
		Repository:        repo,
		WorkflowRef:       repo + "/.github/workflows/" + workflow + "@refs/tags/v1.2.0",
		JobWorkflowRef:    repo + "/.github/workflows/" + workflow + "@refs/tags/v1.2.0",
		Environment:       env,
		RepoVisibility:    "private", // public repos get auto-provenance, which needs Sigstore
		RunnerEnvironment: "github-hosted",
		Subject:           "repo:" + repo + ":ref:refs/tags/v1.2.0",
	}
}

func trusted(file string) func(r *fakenpm.Registry) {
	return func(r *fakenpm.Registry) {
		r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0"}, Trusted: &fakenpm.TrustedPublisher{Repository: repo, WorkflowFile: file, AllowPublish: true}})
	}
}

// Scenarios are the recorded situations (issue 3's list).
var Scenarios = []Scenario{
	{Name: "oidc-npm-too-old", Expect: "oidc-npm-too-old", MaxVersion: "11.4.99",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Placeholder, IDToken: true,
		Claims: claims("release.yml", ""), Setup: trusted("release.yml")},
	{Name: "oidc-missing-id-token-permission", Expect: "oidc-missing-id-token-permission", MinVersion: "11.5.0",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Placeholder, IDToken: false,
		Setup: trusted("release.yml")},
	{Name: "oidc-trusted-publisher-other-workflow", Expect: "oidc-trusted-publisher-mismatch", MinVersion: "11.5.0",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Placeholder, IDToken: true,
		Claims: claims("publish.yml", ""), Setup: trusted("release.yml")},
	{Name: "oidc-first-publish", Expect: "oidc-first-publish-package-missing", MinVersion: "11.5.0",
		Package: "@acme/brand-new", Version: "0.1.0", Args: []string{"--access", "public"}, Token: Placeholder, IDToken: true,
		Claims: claims("release.yml", "")},
	{Name: "token-expired", Expect: "token-expired-or-revoked",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Expired, IDToken: false,
		Setup: func(r *fakenpm.Registry) { r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0"}}) }},
	{Name: "eneedauth-secret-not-set", Expect: "token-missing-eneedauth",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Empty, IDToken: false,
		Setup: func(r *fakenpm.Registry) { r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0"}}) }},
	{Name: "eotp-required", Expect: "token-eotp-otp-required",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Valid,
		Setup: func(r *fakenpm.Registry) {
			r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0"}, RequireOTP: true})
		}},
	{Name: "2fa-bypass-required", Expect: "token-2fa-required-no-bypass",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Valid,
		Setup: func(r *fakenpm.Registry) {
			r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0"}, DisallowTokens: true})
		}},
	{Name: "version-already-published", Expect: "version-already-published",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Valid,
		Setup: func(r *fakenpm.Registry) { r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0", "1.2.0"}}) }},
	{Name: "e402-scoped-without-access", Expect: "scoped-package-default-restricted",
		Package: "@acme/brand-new", Version: "0.1.0", Token: Valid},
	{Name: "prerelease-without-tag", Expect: "prerelease-requires-tag", MinVersion: "11.0.0",
		Package: pkg, Version: "2.0.0-beta.1", Args: []string{"--access", "public"}, Token: Valid,
		Setup: func(r *fakenpm.Registry) { r.AddPackage(pkg, fakenpm.Package{Versions: []string{"1.1.0"}}) }},
	{Name: "npm-latest-ebadengine", Expect: "npm-upgrade-ebadengine",
		Command: []string{"install", "-g", "npm@12.2.1"}, Step: "npm install -g npm@latest",
		Setup: func(r *fakenpm.Registry) {
			r.AddPackage("npm", fakenpm.Package{Versions: []string{"11.21.2", "12.2.1"}, Engines: map[string]string{
				"11.21.2": "^20.17.0 || >=22.9.0", "12.2.1": "^22.22.2 || ^24.15.0 || >=26.0.0"}})
		}},
	{Name: "success-trusted-publishing", Expect: "none", MinVersion: "11.5.1",
		Package: pkg, Version: "1.2.0", Args: []string{"--access", "public"}, Token: Placeholder, IDToken: true,
		Claims: claims("release.yml", ""), Setup: trusted("release.yml")},
}
