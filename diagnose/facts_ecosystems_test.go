package diagnose

import (
	"strings"
	"testing"
)

// The log shapes below are copied from shared/cases/real (cases 003, 004, 010, 013, 029, 033,
// 043, 044, 047) and from the tools' sources quoted in shared/knowledge/registries.md.
func TestEcosystemFacts(t *testing.T) {
	e := testEngine(t)
	cases := map[string]struct {
		log  string
		want map[string]wantFact
	}{
		"pypi action claims, v1.8 era (case 004)": {
			log: "Error: Trusted publishing exchange failure: \n" +
				"Token request failed: the server refused the request for the following reasons:\n" +
				"\n" +
				"* `invalid-publisher`: valid token, but no corresponding publisher (All lookup strategies exhausted)\n" +
				"\n" +
				"* `sub`: `repo:poliastro/czml3:environment:pypi`\n" +
				"* `repository`: `poliastro/czml3`\n" +
				"* `repository_owner`: `poliastro`\n" +
				"* `job_workflow_ref`: `poliastro/czml3/.github/workflows/publish-to-pypi.yml@refs/tags/v1.0.0`\n" +
				"* `ref`: `refs/tags/v1.0.0`\n",
			want: map[string]wantFact{
				"pypi_repository":        {"poliastro/czml3", "exact", 7},
				"pypi_environment":       {"pypi", "exact", 6},
				"pypi_job_workflow_ref":  {"poliastro/czml3/.github/workflows/publish-to-pypi.yml@refs/tags/v1.0.0", "exact", 9},
				"pypi_publisher_file":    {"publish-to-pypi.yml", "exact", 9},
				"pypi_workflow_ref":      {"", "", 0},
				"pypi_caller_file":       {"", "", 0},
				"pypi_reusable_workflow": {"", "", 0},
			},
		},
		"pypi action claims, newer action renders workflow_ref and environment": {
			log: "* `invalid-publisher`: valid token, but no corresponding publisher (Publisher with matching claims was not found)\n" +
				"* `sub`: `repo:acme/widgets:ref:refs/tags/v2.0.0`\n" +
				"* `repository`: `acme/widgets`\n" +
				"* `workflow_ref`: `acme/widgets/.github/workflows/release.yml@refs/tags/v2.0.0`\n" +
				"* `job_workflow_ref`: `acme/widgets/.github/workflows/release.yml@refs/tags/v2.0.0`\n" +
				"* `ref`: `refs/tags/v2.0.0`\n" +
				"* `environment`: `MISSING`\n",
			want: map[string]wantFact{
				"pypi_environment":       {"none", "exact", 7},
				"pypi_caller_file":       {"release.yml", "exact", 4},
				"pypi_publisher_file":    {"release.yml", "exact", 5},
				"pypi_reusable_workflow": {"false", "exact", 5},
				"pypi_repository":        {"acme/widgets", "exact", 3},
			},
		},
		"pypi reusable called workflow": {
			log: "* `sub`: `repo:acme/widgets:environment:release`\n" +
				"* `workflow_ref`: `acme/widgets/.github/workflows/release.yml@refs/tags/v1.4.0`\n" +
				"* `job_workflow_ref`: `acme/widgets/.github/workflows/_publish.yml@refs/tags/v1.4.0`\n" +
				"* `environment`: `release`\n",
			want: map[string]wantFact{
				"pypi_caller_file":       {"release.yml", "exact", 2},
				"pypi_publisher_file":    {"_publish.yml", "exact", 3},
				"pypi_reusable_workflow": {"true", "exact", 3},
				"pypi_environment":       {"release", "exact", 4},
				"pypi_repository":        {"acme/widgets", "exact", 1},
			},
		},
		"pypi reusable workflow from another repository": {
			log: "* `sub`: `repo:acme/widgets:ref:refs/tags/v1.4.0`\n" +
				"* `repository`: `acme/widgets`\n" +
				"* `workflow_ref`: `acme/widgets/.github/workflows/release.yml@refs/tags/v1.4.0`\n" +
				"* `job_workflow_ref`: `acme/.github/.github/workflows/pypi.yml@refs/heads/main`\n",
			want: map[string]wantFact{
				"pypi_caller_file":       {"release.yml", "exact", 3},
				"pypi_publisher_file":    {"pypi.yml", "exact", 4},
				"pypi_reusable_workflow": {"cross-repo", "exact", 4},
				"pypi_environment":       {"none", "exact", 1},
			},
		},
		"uv OidcTokenClaims debug form (case 003)": {
			log: "error: Failed to obtain token for trusted publishing\n" +
				"  Caused by: PyPI returned error code 422 Unprocessable Entity, is trusted publishing correctly configured?\n" +
				`Response: {"errors":[{"code":"invalid-publisher","description":"valid token, but no corresponding publisher (Publisher with matching claims was not found)"}],"message":"Token request failed"}` + "\n" +
				"\n" +
				"Token claims, which must match the PyPI configuration: OidcTokenClaims {\n" +
				`    sub: "repo:tail-unica/hopwise:environment:release",` + "\n" +
				`    repository: "tail-unica/hopwise",` + "\n" +
				`    repository_owner: "tail-unica",` + "\n" +
				`    repository_owner_id: "187305435",` + "\n" +
				`    job_workflow_ref: "tail-unica/hopwise/.github/workflows/pypi_release.yml@refs/tags/v0.9.1",` + "\n" +
				`    ref: "refs/tags/v0.9.1",` + "\n" +
				"}\n" +
				`repository: "not/a-claim",` + "\n",
			want: map[string]wantFact{
				"pypi_repository":       {"tail-unica/hopwise", "exact", 7},
				"pypi_environment":      {"release", "exact", 6},
				"pypi_job_workflow_ref": {"tail-unica/hopwise/.github/workflows/pypi_release.yml@refs/tags/v0.9.1", "exact", 10},
				"pypi_publisher_file":   {"pypi_release.yml", "exact", 10},
			},
		},
		"pypi reusable-workflow warning": {
			log: "Warning: Potential workflow misconfiguration: \n" +
				"The claims in this token suggest that the calling workflow is a reusable workflow.\n" +
				"\n" +
				"In particular, this action was initiated by:\n" +
				"\n" +
				"    acme/widgets/.github/workflows/_publish.yml@refs/tags/v1.4.0\n" +
				"\n" +
				"Whereas its parent workflow is:\n" +
				"\n" +
				"    acme/widgets/.github/workflows/release.yml@refs/tags/v1.4.0\n",
			want: map[string]wantFact{
				"pypi_publisher_file":    {"_publish.yml", "exact", 6},
				"pypi_job_workflow_ref":  {"acme/widgets/.github/workflows/_publish.yml@refs/tags/v1.4.0", "exact", 6},
				"pypi_caller_file":       {"release.yml", "exact", 10},
				"pypi_reusable_workflow": {"true", "exact", 10},
			},
		},
		"pypi warning as one escaped workflow command": {
			log: "::warning::Potential workflow misconfiguration: %0AThe claims in this token suggest that the calling workflow is a reusable workflow.%0A%0AIn particular, this action was initiated by:%0A%0A    o/r/.github/workflows/pypi.yml@refs/heads/main%0A%0AWhereas its parent workflow is:%0A%0A    o/r/.github/workflows/ci.yml@refs/heads/main%0A\n",
			want: map[string]wantFact{
				"pypi_publisher_file":    {"pypi.yml", "exact", 1},
				"pypi_caller_file":       {"ci.yml", "exact", 1},
				"pypi_reusable_workflow": {"true", "exact", 1},
			},
		},
		"pypi action ref, twine from pip, upload url": {
			log: "Download action repository 'pypa/gh-action-pypi-publish@v1.8.14' (SHA:81e9d935c883d0b210363ab89cf05f3894778450)\n" +
				"Run pypa/gh-action-pypi-publish@v1.8.14\n" +
				"Successfully installed id-1.3.0 pkginfo-1.10.0 readme-renderer-43.0 twine-5.0.0 urllib3-2.2.1\n" +
				" Uploading distributions to https://upload.pypi.org/legacy/\n" +
				"ERROR    InvalidDistribution: Metadata is missing required fields: Name,\n",
			want: map[string]wantFact{
				"pypi_action_version": {"1.8.14", "exact", 1},
				"twine_version":       {"5.0.0", "exact", 3},
				"registry":            {"https://upload.pypi.org/legacy/", "exact", 4},
			},
		},
		"pypi release/v1 branch, TestPyPI input, twine user agent": {
			log: "##[group]Run pypa/gh-action-pypi-publish@release/v1\n" +
				"with:\n" +
				"  repository-url: https://test.pypi.org/legacy/\n" +
				"  user: __token__\n" +
				"##[endgroup]\n" +
				"INFO     User-Agent: twine/6.1.0 CPython/3.13.1\n",
			want: map[string]wantFact{
				"pypi_action_version": {"release/v1", "bounded", 1},
				"registry":            {"https://test.pypi.org/legacy/", "exact", 3},
				"twine_version":       {"6.1.0", "exact", 6},
				"nuget_user":          {"", "", 0},
			},
		},
		"pypi action on macOS (case 013): user input is not NuGet's": {
			log: "Run pypa/gh-action-pypi-publish@master\n" +
				"  with:\n" +
				"    user: __token__\n" +
				"    password: ***\n" +
				"##[error]Container action is only supported on Linux\n",
			want: map[string]wantFact{
				"pypi_action_version": {"master", "exact", 1},
				"nuget_user":          {"", "", 0},
			},
		},
		"twine --version and uv --version": {
			log: "$ twine --version\n" +
				"twine version 5.1.1 (pkginfo: 1.10.0, requests: 2.32.3, requests-toolbelt: 1.0.0, urllib3: 2.2.2, id: 1.4.0)\n" +
				"$ uv --version\n" +
				"uv 0.5.11 (c4d0caaee 2024-12-19)\n",
			want: map[string]wantFact{
				"twine_version": {"5.1.1", "exact", 2},
				"uv_version":    {"0.5.11", "exact", 4},
			},
		},
		"cargo and crates-io-auth-action": {
			log: "Run rust-lang/crates-io-auth-action@v1\n" +
				"User agent: crates-io-auth-action/1.0.3\n" +
				"Requesting token from: https://crates.io/api/v1/trusted_publishing/tokens\n" +
				"Run rust-lang/crates-io-auth-action@v1\n" +
				"cargo 1.95.0 (f2d3ce0bd 2026-03-21)\n",
			want: map[string]wantFact{
				"crates_auth_action_version": {"1.0.3", "exact", 2},
				"cargo_version":              {"1.95.0", "exact", 5},
			},
		},
		"crates-io-auth-action tag only": {
			log: "Download action repository 'rust-lang/crates-io-auth-action@v1.0' (SHA:a1c979fa8eec9cf00f2c01904184fe133deb0ce9)\n",
			want: map[string]wantFact{
				"crates_auth_action_version": {"v1.0", "bounded", 1},
			},
		},
		"release-gem by commit in RUBYOPT (case 029), gem --version": {
			log: "run bundle exec rake release\n" +
				"  env:\n" +
				"    RUBYOPT: -r/home/runner/work/_actions/rubygems/release-gem/a25424ba2ba8b387abc8ef40807c2c85b96cbe32/rubygems-attestation-patch.rb \n" +
				"$ gem --version\n" +
				"3.6.7\n",
			want: map[string]wantFact{
				"release_gem_version": {"a25424ba2ba8b387abc8ef40807c2c85b96cbe32", "exact", 3},
				"gem_version":         {"3.6.7", "exact", 5},
			},
		},
		"release-gem tag, gem env": {
			log: "Run rubygems/release-gem@v1.1.1\n" +
				"  - RUBYGEMS VERSION: 3.5.22\n",
			want: map[string]wantFact{
				"release_gem_version": {"1.1.1", "exact", 1},
				"gem_version":         {"3.5.22", "exact", 2},
			},
		},
		"NuGet/login raw log inputs": {
			log: "##[group]Run NuGet/login@v1\n" +
				"with:\n" +
				"  user: contoso\n" +
				"##[endgroup]\n" +
				"##[error]Token exchange failed (HTTP 401) at https://www.nuget.org/api/v2/token.\n" +
				"No matching trust policy owned by user 'contoso' was found.\n" +
				"  user: somebody-else\n",
			want: map[string]wantFact{
				"nuget_login_version": {"v1", "bounded", 1},
				"nuget_user":          {"contoso", "exact", 3},
			},
		},
		"nuget user from the refusal (case 033)": {
			log: "##[error]Token exchange failed (HTTP 401) at https://www.nuget.org/api/v2/token.\n" +
				"Make sure you are using the username of the policy creator, not the policy owner:\n" +
				"No matching trust policy owned by user 'guy.korland' was found.\n",
			want: map[string]wantFact{
				"nuget_user": {"guy.korland", "exact", 3},
			},
		},
		"pasted nuget/login step, lower case": {
			log: "Run nuget/login@v1.2.0\n" +
				"  with:\n" +
				"    user: jane.doe\n" +
				"Error: GitHub OIDC is not available. Ensure your workflow has the required permissions:\n",
			want: map[string]wantFact{
				"nuget_login_version": {"1.2.0", "exact", 1},
				"nuget_user":          {"jane.doe", "exact", 3},
			},
		},
		"docker login to ghcr, dependabot run (case 043 shape)": {
			log: "Secret source: Dependabot\n" +
				"Run docker/login-action@v3\n" +
				"  with:\n" +
				"    registry: ghcr.io\n" +
				"    username: acme-bot\n" +
				"Logging into ghcr.io...\n" +
				"Error: buildx failed with: ERROR: denied: installation not allowed to Write organization package\n",
			want: map[string]wantFact{
				"secret_source":        {"Dependabot", "exact", 1},
				"docker_login_version": {"v3", "bounded", 2},
				"container_registry":   {"ghcr.io", "exact", 6},
				"ghcr_denied":          {"write_org_package", "exact", 7},
			},
		},
		"docker login by commit (case 047)": {
			log: "Run docker/login-action@f054a8b539a109f9f41c372932f1ae047eff08c9\n" +
				"  with:\n" +
				"    username: correctUsername\n" +
				"    logout: true\n" +
				"Error: Username and password required\n",
			want: map[string]wantFact{
				"docker_login_version": {"f054a8b539a109f9f41c372932f1ae047eff08c9", "exact", 1},
				"container_registry":   {"", "", 0},
			},
		},
		"ghcr write_package from skopeo (case 044)": {
			log: "Error: writing blob: initiating layer upload to /v2/tuna-os/flounder-sid/blobs/uploads/ in ghcr.io: denied: permission_denied: write_package\n",
			want: map[string]wantFact{
				"ghcr_denied":        {"write_package", "exact", 1},
				"container_registry": {"ghcr.io", "exact", 1},
			},
		},
		"ghcr create, no host printed": {
			log: "#12 ERROR: denied: installation not allowed to Create organization package\n",
			want: map[string]wantFact{
				"ghcr_denied":        {"create_org_package", "exact", 1},
				"container_registry": {"ghcr.io", "inferred", 1},
			},
		},
		"docker hub push and login": {
			log: "Secret source: Actions\n" +
				"Logging into Docker Hub...\n" +
				"The push refers to repository [docker.io/library/api]\n" +
				"denied: requested access to the resource is denied\n",
			want: map[string]wantFact{
				"secret_source":      {"Actions", "exact", 1},
				"container_registry": {"docker.io", "exact", 3},
				"ghcr_denied":        {"", "", 0},
			},
		},
		"docker hub login rejected": {
			log: `Error: Error response from daemon: Get "https://registry-1.docker.io/v2/": unauthorized: incorrect username or password` + "\n",
			want: map[string]wantFact{
				"container_registry": {"docker.io", "exact", 1},
			},
		},
		"ghcr bad PAT": {
			log: `Error: Error response from daemon: Get "https://ghcr.io/v2/": denied: denied` + "\n",
			want: map[string]wantFact{
				"container_registry": {"ghcr.io", "exact", 1},
				"ghcr_denied":        {"login_denied", "exact", 1},
			},
		},
		"deno version": {
			log: "$ deno --version\n" +
				"deno 2.1.4 (stable, release, x86_64-unknown-linux-gnu)\n" +
				"v8 13.0.245.12-rusty\n" +
				"error: No means to authenticate. Pass a token to `--token`.\n",
			want: map[string]wantFact{
				"deno_version": {"2.1.4", "exact", 2},
			},
		},
		"deno downloaded by npx jsr": {
			log: "Run npx jsr publish\n" +
				"Download https://github.com/denoland/deno/releases/download/v2.5.6/deno-x86_64-unknown-linux-gnu.zip\n",
			want: map[string]wantFact{
				"deno_version": {"2.5.6", "exact", 2},
			},
		},
		"ordinary lines say nothing": {
			log: "Run uv sync --all-extras\n" +
				"Resolved 42 packages in 1.2s\n" +
				"cargo build --release 2>&1 | tee build.log\n" +
				"   Compiling serde v1.0.219\n" +
				"Run deno test -A\n" +
				"ok | 12 passed | 0 failed (3s)\n" +
				"  user: alice\n" +
				"  registry: ghcr.io\n" +
				"repository: \"acme/widgets\",\n" +
				"docker pull ghcr.io/pypa/gh-action-pypi-publish:release-v1\n",
			want: map[string]wantFact{
				"uv_version":          {"", "", 0},
				"cargo_version":       {"", "", 0},
				"deno_version":        {"", "", 0},
				"nuget_user":          {"", "", 0},
				"container_registry":  {"", "", 0},
				"pypi_repository":     {"", "", 0},
				"pypi_action_version": {"", "", 0},
				"secret_source":       {"", "", 0},
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := e.DiagnoseText(c.log)
			if err != nil {
				t.Fatal(err)
			}
			checkFacts(t, res, c.want)
		})
	}
}

// The facts the rules name survive a log far bigger than what the scanner keeps whole.
func TestEcosystemFactsDeepInAHugeLog(t *testing.T) {
	e := testEngine(t)
	var b strings.Builder
	n := 0
	line := func(s string) int {
		b.WriteString(s + "\n")
		n++
		return n
	}
	filler := func(k int) {
		for i := range k {
			line("filler output of a long build, nothing to see here " + strings.Repeat("x", i%40))
		}
	}
	filler(3000)
	action := line("Run pypa/gh-action-pypi-publish@v1.12.4")
	filler(50)
	twine := line("twine version 5.1.1 (pkginfo: 1.10.0)")
	filler(50)
	cargo := line("cargo 1.95.0 (f2d3ce0bd 2026-03-21)")
	filler(30000)
	claim := line("* `job_workflow_ref`: `acme/widgets/.github/workflows/publish.yml@refs/tags/v1.0.0`")
	filler(20000)
	line("Error: Process completed with exit code 1.")
	res, err := e.DiagnoseText(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Scanned.Kept > 15000 {
		t.Fatalf("kept %d lines: the filler is not being dropped", res.Scanned.Kept)
	}
	checkFacts(t, res, map[string]wantFact{
		"pypi_action_version": {"1.12.4", "exact", action},
		"twine_version":       {"5.1.1", "exact", twine},
		"cargo_version":       {"1.95.0", "exact", cargo},
		"pypi_publisher_file": {"publish.yml", "exact", claim},
	})
}
