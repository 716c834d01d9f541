package knowledge

// FactKind says how a fact's value compares.
type FactKind int

// Fact kinds.
const (
	StringFact FactKind = iota
	VersionFact
)

// Facts is the vocabulary of facts the engine extracts from a log (and, in auto mode, from
// the workflow and the run). Rules may only name these; Load rejects any other name.
var Facts = map[string]FactKind{
	"npm_version":              VersionFact, // the npm that printed the failure: exact, bounded or inferred
	"npm_runner_version":       VersionFact, // npm the runner reported (setup-node, npm -v), when it differs
	"node_version":             VersionFact,
	"pnpm_version":             VersionFact,
	"yarn_version":             VersionFact,
	"lerna_version":            VersionFact,
	"semantic_release_version": VersionFact,
	"changesets_version":       VersionFact,
	"npm_log_prefix":           StringFact, // "ERR!" (npm <= 10.5) or "error" (npm >= 10.6)
	"id_token_permission":      StringFact, // granted | missing
	"runner":                   StringFact, // github-hosted | self-hosted | third-party
	"runner_image":             StringFact,
	"ci":                       StringFact, // github-actions | gitlab | circleci | other
	"publish_tool":             StringFact, // npm | pnpm | yarn | yarn-berry | lerna | changesets | semantic-release | release-it | nx | npm-publish-action
	"publish_command":          StringFact,
	"registry":                 StringFact,
	"access":                   StringFact, // public | restricted | default (from "Publishing to … with tag T and A access")
	"dist_tag":                 StringFact,
	"provenance_flag":          StringFact, // true when --provenance / NPM_CONFIG_PROVENANCE is seen
	"package_name":             StringFact,
	"package_version":          StringFact,
	"scoped":                   StringFact, // true | false, from package_name
	"prerelease":               StringFact, // true | false, from package_version
	"npm_error_code":           StringFact,
	"http_method":              StringFact,
	"http_status":              StringFact,
	"http_url":                 StringFact,
	"setup_node_placeholder":   StringFact, // true when NODE_AUTH_TOKEN: XXXXX-XXXXX-XXXXX-XXXXX is printed
	"token_env":                StringFact, // set | empty: NODE_AUTH_TOKEN / NPM_TOKEN in a step's env dump
	"oidc_log":                 StringFact, // the last "npm … oidc …" message
	"provenance":               StringFact, // signed | published | failed
	"npm_upgrade":              StringFact, // the spec of an "npm install -g npm@…" step
	"reached_registry":         StringFact, // true once "npm notice Publishing to …" is printed
	"published":                StringFact, // true when "+ name@version" (success) is printed
	"oidc_intended":            StringFact, // true when the log shows a tokenless/OIDC publish was meant
	// Facts from outside the log (auto mode and pubdoc check): the workflow file at the
	// failing commit, the run's metadata, the registry.
	"workflow_file":       StringFact, // the run's workflow file name (workflow_run.path), e.g. publish.yml
	"workflow_call":       StringFact, // true when the publishing workflow is a reusable (called) one
	"reusable_call":       StringFact, // the workflow a job calls with uses: (the caller's view)
	"environment":         StringFact, // the publish job's environment
	"packages_permission": StringFact, // write | read | none | default
	"registry_url":        StringFact, // setup-node's registry-url input
	"setup_node_version":  StringFact, // actions/setup-node@vN
	"event":               StringFact, // the run's triggering event
	"trusted_publisher":   StringFact, // match | mismatch | none: the package's trusted publishers against this run
	"tp_mismatch":         StringFact, // which fields differ: repository, workflow, environment (comma list)
	"package_exists":      StringFact, // true | false: the registry answered the packument GET with 200 or 404

	// Facts of the other registries (diagnose/facts_ecosystems.go). An action's version is
	// the ref it ran at: a full tag is exact, v1 / v1.12 / release/v1 bound it, a commit or
	// another branch is kept as written with no range (version comparisons are unknown).
	// PyPI.
	"pypi_action_version":    VersionFact, // pypa/gh-action-pypi-publish@REF
	"twine_version":          VersionFact, // twine/X (user agent), "twine version X", pip's twine-X
	"uv_version":             VersionFact, // "uv X (…)", uv/X
	"pypi_repository":        StringFact,  // the `repository` claim (or the repo in `sub`) PyPI refused
	"pypi_workflow_ref":      StringFact,  // the `workflow_ref` claim: the run's top-level (calling) workflow
	"pypi_job_workflow_ref":  StringFact,  // the `job_workflow_ref` claim: the workflow holding the publish job
	"pypi_environment":       StringFact,  // the `environment` claim (or from `sub`); none when the token has none
	"pypi_publisher_file":    StringFact,  // file name in job_workflow_ref: what PyPI's publisher must name
	"pypi_caller_file":       StringFact,  // file name in workflow_ref: the calling workflow
	"pypi_reusable_workflow": StringFact,  // true | cross-repo | false: job_workflow_ref differs from workflow_ref (cross-repo: in another repository)
	// crates.io.
	"cargo_version":              VersionFact, // "cargo X (…)"
	"crates_auth_action_version": VersionFact, // rust-lang/crates-io-auth-action@REF or its user agent
	// RubyGems.
	"release_gem_version": VersionFact, // rubygems/release-gem@REF
	"gem_version":         VersionFact, // RubyGems, from `gem --version` or `gem env`
	// NuGet.
	"nuget_login_version": VersionFact, // NuGet/login@REF
	"nuget_user":          StringFact,  // NuGet/login's `user:` input (or the user nuget.org names in its refusal)
	// Container registries.
	"docker_login_version": VersionFact, // docker/login-action@REF
	"container_registry":   StringFact,  // host a login or push went to: ghcr.io, docker.io, …
	"ghcr_denied":          StringFact,  // write_package | write_org_package | create_org_package | login_denied
	"secret_source":        StringFact,  // Actions | Dependabot | None ("Secret source:" in Set up job)
	// JSR.
	"deno_version": VersionFact, // "deno X (…)"
}
