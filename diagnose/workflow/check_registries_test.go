package workflow

import (
	"strings"
	"testing"
)

// The other registries' pitfalls, one realistic workflow each, and the near-misses that
// must stay silent.
func TestCheckRegistries(t *testing.T) {
	tests := []struct {
		file string
		want []string // "file:line id severity"
	}{
		// PyPI.
		{"pypi-macos-runner.yml", []string{"pypi-macos-runner.yml:7 check-container-action-non-linux error"}},
		{"pypi-build-matrix.yml", nil}, // matrix build, Linux publish job guarded by if:
		{"pypi-missing-id-token.yml", []string{"pypi-missing-id-token.yml:25 check-missing-id-token error"}},
		{"pypi-token-upload.yml", nil}, // password: no OIDC, so no id-token and no fork problem
		{"pypi-fork-pr.yml", []string{"pypi-fork-pr.yml:8 check-fork-pr-oidc warning"}},
		{"pypi-attestations-twice.yml", []string{"pypi-attestations-twice.yml:23 check-attestation-already-exists error"}},
		{"pypi-testpypi-no-attestations.yml", nil},
		{"uv-publish.yml", []string{"uv-publish.yml:8 check-missing-id-token warning"}}, // a keyring could answer first
		// Alone, a called PyPI workflow cannot know its callers' permissions, and PyPI
		// matches its own file name.
		{"reusable/pypi-publish.yml", []string{
			"pypi-publish.yml:9 check-missing-id-token warning",
			"pypi-publish.yml:17 check-reusable-workflow-publisher warning",
		}},
		{"reusable/pypi-release.yml", nil},
		// crates.io.
		{"crates-missing-id-token.yml", []string{"crates-missing-id-token.yml:5 check-missing-id-token error"}},
		{"crates-trusted-publishing.yml", nil},
		{"crates-auth-not-wired.yml", []string{"crates-auth-not-wired.yml:16 check-cargo-no-token error"}},
		// torrust/torrust-tracker#441: the token under with: of a run step; four publishes,
		// one finding.
		{"crates-token-misplaced.yml", []string{"crates-token-misplaced.yml:32 check-cargo-no-token error"}},
		{"crates-token-typo.yml", []string{"crates-token-typo.yml:11 check-cargo-no-token error"}},
		// RubyGems.
		{"rubygems-release.yml", []string{"rubygems-release.yml:10 check-missing-id-token error"}},
		{"rubygems-trusted-publishing.yml", nil}, // and an API-key job with setup-trusted-publisher: false
		{"reusable/gem-release.yml", []string{"gem-release.yml:15 check-reusable-workflow-publisher warning"}},
		{"reusable/gem-caller.yml", nil},
		// NuGet.
		{"nuget-missing-id-token.yml", []string{"nuget-missing-id-token.yml:6 check-missing-id-token error"}},
		{"nuget-pull-request-target.yml", []string{"nuget-pull-request-target.yml:5 check-nuget-event-not-allowed warning"}},
		{"nuget-auth-token.yml", []string{"nuget-auth-token.yml:17 check-nuget-no-api-key error"}}, // actions/setup-dotnet#526
		{"nuget-trusted-publishing.yml", nil}, // GitHub Packages takes NUGET_AUTH_TOKEN
		// Containers.
		{"ghcr-missing-packages-write.yml", []string{"ghcr-missing-packages-write.yml:11 check-missing-packages-write error"}},
		{"ghcr-pull-request.yml", []string{"ghcr-pull-request.yml:21 check-read-only-token-context warning"}},
		{"ghcr-docs-example.yml", nil}, // GitHub's documented workflow, and a Docker Hub push
		{"ghcr-docker-cli.yml", []string{
			"ghcr-docker-cli.yml:5 check-missing-packages-write error",
			"ghcr-docker-cli.yml:15 check-read-only-token-context warning",
		}},
		// JSR.
		{"jsr-publish.yml", []string{"jsr-publish.yml:8 check-missing-id-token error"}},
		{"jsr-deno.yml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			equalLines(t, "findings", findingLines(t, Check(load(t, tt.file))), tt.want)
		})
	}
}

// Reusable workflows per registries.md §0.3: the caller grants the OIDC token; PyPI and
// RubyGems match the called file, and the finding names both files.
func TestCheckAllRegistriesReusable(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"pypi caller grants", []string{"reusable/pypi-publish.yml", "reusable/pypi-release.yml"}, []string{
			"pypi-publish.yml:17 check-reusable-workflow-publisher warning",
		}},
		{"pypi caller does not grant", []string{"reusable/pypi-release-no-id-token.yml", "reusable/pypi-publish.yml"}, []string{
			"pypi-publish.yml:17 check-reusable-workflow-publisher warning",
			"pypi-release-no-id-token.yml:5 check-missing-id-token error",
		}},
		{"rubygems same repository", []string{"reusable/gem-caller.yml", "reusable/gem-release.yml"}, []string{
			"gem-release.yml:15 check-reusable-workflow-publisher warning",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ws []*Workflow
			for _, f := range tt.files {
				ws = append(ws, load(t, f))
			}
			equalLines(t, "findings", findingLines(t, CheckAll(ws, nil)), tt.want)
		})
	}
}

// The finding must name the right file: PyPI and RubyGems the called one, not the caller.
// The file names are the file's specifics, so the message says them; the fix is the rule's.
func TestReusablePublisherNamesFiles(t *testing.T) {
	tests := []struct {
		files    []string
		rule     string
		inFix    []string
		notInFix string
	}{
		{[]string{"reusable/pypi-publish.yml", "reusable/pypi-release.yml"}, "pypi-reusable-workflow",
			[]string{"must name pypi-publish.yml (the called file)", "not pypi-release.yml"}, ""},
		{[]string{"reusable/pypi-publish.yml"}, "pypi-reusable-workflow",
			[]string{"must name pypi-publish.yml (the called file)", "another repository cannot be registered"}, ""},
		{[]string{"reusable/gem-release.yml", "reusable/gem-caller.yml"}, "rubygems-no-trusted-publisher",
			[]string{"must name gem-release.yml (the called file), not gem-caller.yml"}, ""},
		{[]string{"reusable/gem-release.yml"}, "rubygems-no-trusted-publisher",
			[]string{"another repository no trusted publisher can match"}, "must name gem-release.yml"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.files, "+"), func(t *testing.T) {
			var ws []*Workflow
			for _, f := range tt.files {
				ws = append(ws, load(t, f))
			}
			var found bool
			for _, f := range CheckAll(ws, nil) {
				if f.ID != CheckReusablePublisher {
					continue
				}
				found = true
				if f.Rule != tt.rule {
					t.Errorf("Rule = %s, want %s", f.Rule, tt.rule)
				}
				for _, want := range tt.inFix {
					if !strings.Contains(f.Message, want) {
						t.Errorf("message does not say %q: %s", want, f.Message)
					}
				}
				if tt.notInFix != "" && strings.Contains(f.Message, tt.notInFix) {
					t.Errorf("message says %q: %s", tt.notInFix, f.Message)
				}
			}
			if !found {
				t.Fatal("no check-reusable-workflow-publisher finding")
			}
		})
	}
}

// Each finding cites the lines that prove it, carries the registry's rule, and a snippet
// that fixes it.
func TestRegistryFindingText(t *testing.T) {
	tests := []struct {
		file, id, rule string
		message        []string
		snippet        []string
	}{
		{"pypi-macos-runner.yml", CheckContainerNonLinux, "pypi-container-action-non-linux",
			[]string{"pypi-macos-runner.yml:17", "macos-latest (pypi-macos-runner.yml:7)", "Container action is only supported on Linux"},
			[]string{"runs-on: ubuntu-latest", "needs: build-and-publish", "- uses: pypa/gh-action-pypi-publish@release/v1"}},
		{"pypi-missing-id-token.yml", CheckMissingIDToken, "pypi-missing-id-token",
			[]string{"pypi-missing-id-token.yml:35", "pypi-missing-id-token.yml:25", "Trusted publishing exchange failure"},
			[]string{"id-token: write"}},
		{"pypi-attestations-twice.yml", CheckAttestationTwice, "pypi-attestation-already-exists",
			[]string{"pypi-attestations-twice.yml:19", "pypi-attestations-twice.yml:23", "v1.12.4 attests by default"},
			[]string{"repository-url: https://test.pypi.org/legacy/", "attestations: false"}},
		{"pypi-fork-pr.yml", CheckForkPROIDC, "pypi-oidc-fork-pr",
			[]string{"pull_request (pypi-fork-pr.yml:5)", "pypi-fork-pr.yml:20"},
			[]string{"testpypi:", "if: github.event_name != 'pull_request'"}},
		{"crates-token-misplaced.yml", CheckCargoNoToken, "crates-no-token",
			[]string{"crates-token-misplaced.yml:30", "under `with:` (crates-token-misplaced.yml:29)", "no token found"},
			[]string{"CARGO_REGISTRY_TOKEN: \"${{ secrets.TORRUST_UPDATE_CARGO_REGISTRY_TOKEN }}\""}},
		{"crates-auth-not-wired.yml", CheckCargoNoToken, "crates-no-token",
			[]string{"crates-auth-not-wired.yml:13", "steps.crates-io.outputs.token"},
			[]string{"CARGO_REGISTRY_TOKEN: ${{ steps.crates-io.outputs.token }}"}},
		{"crates-token-typo.yml", CheckCargoNoToken, "crates-no-token",
			[]string{"sets CARGO_REGIST", "(crates-token-typo.yml:8), a variable cargo does not read"},
			[]string{"CARGO_REGISTRY_TOKEN: ${{ secrets.CRATES_IO_TOKEN }}"}},
		{"rubygems-release.yml", CheckMissingIDToken, "rubygems-missing-id-token",
			[]string{"rubygems-release.yml:20", "ACTIONS_ID_TOKEN_REQUEST_URL"},
			[]string{"contents: write", "id-token: write"}},
		{"nuget-auth-token.yml", CheckNuGetNoAPIKey, "nuget-401-no-api-key",
			[]string{"nuget-auth-token.yml:12", "NUGET_AUTH_TOKEN (nuget-auth-token.yml:14)", "X-NuGet-ApiKey"},
			[]string{"uses: NuGet/login@v1\n  id: login", "--api-key \"${{ steps.login.outputs.NUGET_API_KEY }}\""}},
		{"nuget-pull-request-target.yml", CheckNuGetEvent, "nuget-login-event-not-allowed",
			[]string{"nuget-pull-request-target.yml:18", "pull_request_target (nuget-pull-request-target.yml:5)"},
			[]string{"workflow_dispatch"}},
		{"ghcr-missing-packages-write.yml", CheckMissingPackagesWr, "ghcr-missing-packages-write",
			[]string{"ghcr-missing-packages-write.yml:33", "ghcr-missing-packages-write.yml:18", "installation not allowed to Write organization package"},
			[]string{"packages: write"}},
		{"ghcr-pull-request.yml", CheckReadOnlyToken, "ghcr-read-only-token-context",
			[]string{"pull_request (ghcr-pull-request.yml:4)", "push to any branch (ghcr-pull-request.yml:3)"},
			[]string{"push: ${{ github.event_name != 'pull_request' && github.actor != 'dependabot[bot]' }}", "registry: ghcr.io"}},
		{"ghcr-docker-cli.yml", CheckReadOnlyToken, "ghcr-read-only-token-context",
			[]string{"ghcr-docker-cli.yml:12", "push to any branch (ghcr-docker-cli.yml:3)"},
			[]string{"if: github.event_name != 'pull_request' && github.actor != 'dependabot[bot]'", "push: ${{ github.event_name"}},
		{"jsr-publish.yml", CheckMissingIDToken, "jsr-missing-id-token",
			[]string{"jsr-publish.yml:15", "No means to authenticate"},
			[]string{"id-token: write"}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.id, func(t *testing.T) {
			var f *Finding
			for _, x := range Check(load(t, tt.file)) {
				if x.ID == tt.id {
					f = &x
					break
				}
			}
			if f == nil {
				t.Fatalf("no %s finding", tt.id)
			}
			if f.Rule != tt.rule {
				t.Errorf("Rule = %s, want %s", f.Rule, tt.rule)
			}
			for _, want := range tt.message {
				if !strings.Contains(f.Message, want) {
					t.Errorf("message does not say %q: %s", want, f.Message)
				}
			}
			for _, want := range tt.snippet {
				if !strings.Contains(f.Snippet, want) {
					t.Errorf("snippet does not say %q:\n%s", want, f.Snippet)
				}
			}
			if strings.Contains(f.Fix, "\n") {
				t.Errorf("fix is not one line: %q", f.Fix)
			}
		})
	}
}

// Small variations of one job, inline: what turns each check on or off. Lines: on: 1,
// jobs: 2, the job 3, runs-on 4, permissions (or a filler) 5, steps: 6, the first step 7.
func TestCheckRegistryVariants(t *testing.T) {
	const granted = "permissions: {contents: read, id-token: write}"
	const none = "timeout-minutes: 30"
	tests := []struct {
		name, on, runner, perms, steps string
		want                           []string // "line id severity"
	}{
		// PyPI: the container action on a runner that is not Linux.
		{"pypi on windows", "release", "windows-2022", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, []string{"4 check-container-action-non-linux error"}},
		{"pypi on a self-hosted macOS runner", "release", "[self-hosted, macOS, ARM64]", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, []string{"4 check-container-action-non-linux error"}},
		{"pypi on a matrix runner", "release", "${{ matrix.os }}", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, nil},
		{"pypi on a runner label it cannot place", "release", "[self-hosted, build-farm]", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, nil},
		{"uv publish on macOS is not a container", "release", "macos-15", granted, `
      - run: uv publish`, nil},
		// PyPI: what needs the OIDC token.
		{"pypi token upload needs no id-token", "release", "ubuntu-latest", none, `
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          password: ${{ secrets.PYPI_TOKEN }}`, nil},
		{"pypi without any permissions block", "release", "ubuntu-latest", none, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, []string{"3 check-missing-id-token error"}},
		{"pypi to a private index", "release", "ubuntu-latest", none, `
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          repository-url: https://pypi.example.com/legacy/`, nil},
		{"pypi to an index from an expression", "release", "ubuntu-latest", none, `
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          repository-url: ${{ inputs.index }}`, nil},
		{"uv always trusted publishing", "release", "ubuntu-latest", none, `
      - run: uv publish --trusted-publishing always`, []string{"3 check-missing-id-token error"}},
		{"uv with a token", "release", "ubuntu-latest", none, `
      - run: uv publish
        env:
          UV_PUBLISH_TOKEN: ${{ secrets.PYPI_TOKEN }}`, nil},
		{"uv never trusted publishing", "release", "ubuntu-latest", none, `
      - run: uv publish --trusted-publishing never -u __token__`, nil},
		// PyPI: fork pull requests.
		{"pypi on pull_request, list form", "[push, pull_request]", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, []string{"3 check-fork-pr-oidc warning"}},
		{"pypi on pull_request, step guarded", "[push, pull_request]", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1
        if: github.event_name == 'push'`, nil},
		{"pypi on pull_request_target gets a token", "pull_request_target", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1`, nil},
		// PyPI: attestations from two uploads.
		{"two v1.8 uploads attest nothing", "release", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@v1.8.14
        with:
          repository-url: https://test.pypi.org/legacy/
      - uses: pypa/gh-action-pypi-publish@v1.8.14`, nil},
		{"v1.10 attests when asked", "release", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@v1.10.3
        with:
          attestations: true
          repository-url: https://test.pypi.org/legacy/
      - uses: pypa/gh-action-pypi-publish@v1.10.3
        with:
          attestations: true`, []string{"11 check-attestation-already-exists error"}},
		{"different packages-dir", "release", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          packages-dir: testpypi-dist/
      - uses: pypa/gh-action-pypi-publish@release/v1`, nil},
		{"attestations removed between", "release", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@release/v1
      - run: rm -f dist/*.publish.attestation
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          repository-url: https://test.pypi.org/legacy/`, nil},
		{"SHA pin without a version comment", "release", "ubuntu-latest", granted, `
      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc
      - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc`, nil},
		// crates.io.
		{"cargo publish --token", "release", "ubuntu-latest", none, `
      - run: cargo publish --token ${{ secrets.CRATES_TOKEN }}`, nil},
		{"token in the job's env", "release", "ubuntu-latest", "env: {CARGO_REGISTRY_TOKEN: '${{ secrets.CRATES_TOKEN }}'}", `
      - run: cargo publish`, nil},
		{"cargo login first", "release", "ubuntu-latest", none, `
      - run: cargo login ${{ secrets.CRATES_TOKEN }}
      - run: cargo publish`, nil},
		{"token through GITHUB_ENV", "release", "ubuntu-latest", none, `
      - run: echo "CARGO_REGISTRY_TOKEN=${{ secrets.CRATES_TOKEN }}" >> "$GITHUB_ENV"
      - run: cargo publish`, nil},
		{"an alternate registry", "release", "ubuntu-latest", none, `
      - run: cargo publish --registry internal`, nil},
		{"no token anywhere", "release", "ubuntu-latest", none, `
      - run: cargo publish`, []string{"7 check-cargo-no-token warning"}},
		{"no token on a self-hosted runner", "release", "[self-hosted, linux]", none, `
      - run: cargo publish`, nil},
		{"actions-rs/cargo with the token under with:", "release", "ubuntu-latest", none, `
      - uses: actions-rs/cargo@v1
        with:
          command: publish
          CARGO_REGISTRY_TOKEN: ${{ secrets.CRATES_TOKEN }}`, []string{"7 check-cargo-no-token error"}},
		{"auth action without id-token", "release", "ubuntu-latest", "permissions: {contents: read}", `
      - uses: rust-lang/crates-io-auth-action@v1
        id: auth
      - run: cargo publish
        env:
          CARGO_REGISTRY_TOKEN: ${{ steps.auth.outputs.token }}`, []string{"5 check-missing-id-token error"}},
		// RubyGems.
		{"release-gem with an API key", "release", "ubuntu-latest", "permissions: {contents: write}", `
      - uses: rubygems/release-gem@v1
        with:
          setup-trusted-publisher: false`, nil},
		{"credentials action with an API token", "release", "ubuntu-latest", none, `
      - uses: rubygems/configure-rubygems-credentials@v1.0.0
        with:
          api-token: ${{ secrets.RUBYGEMS_API_KEY }}
      - run: gem push pkg/*.gem`, nil},
		{"credentials action by OIDC without id-token", "release", "ubuntu-latest", "permissions: {contents: read}", `
      - uses: rubygems/configure-rubygems-credentials@v1.0.0
      - run: gem push pkg/*.gem`, []string{"5 check-missing-id-token error"}},
		// NuGet.
		{"nuget.exe push without -ApiKey", "release", "windows-latest", none, `
      - run: nuget push out\*.nupkg -Source https://api.nuget.org/v3/index.json -NonInteractive`, []string{"7 check-nuget-no-api-key error"}},
		{"nuget.exe push with -apikey", "release", "windows-latest", none, `
      - run: nuget push out\*.nupkg -apikey ${{ secrets.NUGET_KEY }} -Source https://api.nuget.org/v3/index.json`, nil},
		{"push to GitHub Packages without a key", "release", "ubuntu-latest", none, `
      - run: dotnet nuget push out/*.nupkg --source github`, nil},
		{"setapikey first", "release", "ubuntu-latest", none, `
      - run: dotnet nuget setapikey ${{ secrets.NUGET_KEY }} --source https://api.nuget.org/v3/index.json
      - run: dotnet nuget push out/*.nupkg --source https://api.nuget.org/v3/index.json`, nil},
		{"login's key not passed on", "release", "ubuntu-latest", granted, `
      - uses: NuGet/login@v1
        id: nuget-login
        with:
          user: acme
      - run: dotnet nuget push out/*.nupkg -s nuget.org`, []string{"11 check-nuget-no-api-key error"}},
		{"NuGet/login on pull_request_target, job guarded", "{push: {tags: ['v*']}, pull_request_target: {}}", "ubuntu-latest", granted, `
      - uses: NuGet/login@v1
        if: github.event_name == 'push'
        with:
          user: acme`, nil},
		// Containers.
		{"ghcr push on pushes to any branch", "{push: {branches: ['**']}}", "ubuntu-latest", "permissions: {contents: read, packages: write}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ github.token }}
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/acme/app:edge`, []string{"14 check-read-only-token-context warning"}},
		{"ghcr push on main only", "{push: {branches: [main]}}", "ubuntu-latest", "permissions: {contents: read, packages: write}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: ghcr.io/acme/app:edge`, nil},
		{"ghcr push on tags only", "{push: {tags: ['v*']}}", "ubuntu-latest", "permissions: {contents: read, packages: write}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - run: docker buildx build --push -t ghcr.io/acme/app:${{ github.ref_name }} .`, nil},
		{"Dependabot's branches ignored", "{push: {branches-ignore: ['dependabot/**']}}", "ubuntu-latest", "permissions: {contents: read, packages: write}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - run: docker push ghcr.io/acme/app:edge`, nil},
		{"ghcr with a personal access token", "release", "ubuntu-latest", "permissions: {contents: read}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: acme-bot
          password: ${{ secrets.CR_PAT }}
      - run: docker push ghcr.io/acme/app:latest`, nil},
		{"packages: read, push on some events", "release", "ubuntu-latest", "permissions: {contents: read, packages: read}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          push: ${{ github.event_name == 'release' }}
          tags: ghcr.io/acme/app:latest`, []string{"5 check-missing-packages-write warning"}},
		{"GITHUB_TOKEN for ghcr, push to Docker Hub", "release", "ubuntu-latest", "permissions: {contents: read}", `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - uses: docker/build-push-action@v6
        with:
          push: true
          tags: docker.io/acme/app:latest`, nil},
		{"default permissions say nothing", "release", "ubuntu-latest", none, `
      - uses: docker/login-action@v3
        with:
          registry: ghcr.io
          username: ${{ github.actor }}
          password: ${{ secrets.GITHUB_TOKEN }}
      - run: docker push ghcr.io/acme/app:latest`, nil},
		// JSR.
		{"deno publish without any permissions block", "{push: {branches: [main]}}", "ubuntu-latest", none, `
      - run: deno publish`, []string{"3 check-missing-id-token error"}},
		{"deno publish --dry-run", "pull_request", "ubuntu-latest", none, `
      - run: deno publish --dry-run`, nil},
		{"bunx jsr publish with a token", "release", "ubuntu-latest", none, `
      - run: bunx jsr publish --token "$JSR_TOKEN"`, nil},
		{"pnpm dlx jsr publish", "release", "ubuntu-latest", "permissions: {contents: read}", `
      - run: pnpm dlx jsr publish`, []string{"5 check-missing-id-token error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "on: " + tt.on + "\njobs:\n  publish:\n    runs-on: " + tt.runner + "\n    " + tt.perms + "\n    steps:\n" + strings.TrimPrefix(tt.steps, "\n") + "\n"
			w, err := Parse("publish.yml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findingLines(t, Check(w)) {
				got = append(got, strings.TrimPrefix(f, "publish.yml:"))
			}
			if !equalStrings(got, tt.want) {
				t.Errorf("findings:\n got:\n\t%s\n want:\n\t%s\n%s", join(got), join(tt.want), src)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Uploads to the other registries stay out of what PublishJob and Facts say (npm's).
func TestRegistriesLeaveNPMFactsAlone(t *testing.T) {
	for _, file := range []string{"pypi-missing-id-token.yml", "crates-trusted-publishing.yml", "ghcr-docs-example.yml", "jsr-deno.yml"} {
		w := load(t, file)
		if j := w.PublishJob(); j != nil {
			t.Errorf("%s: PublishJob = %s, want none (npm only)", file, j.ID)
		}
		for _, f := range w.Facts(w.Jobs[0]) {
			if f.Name == "publish_tool" || f.Name == "publish_command" {
				t.Errorf("%s: fact %s=%s", file, f.Name, f.Value)
			}
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		match, ok  bool
	}{
		{"**", "dependabot/npm_and_yarn/x-1.0", true, true},
		{"*", "dependabot/npm_and_yarn/x-1.0", false, true},
		{"dependabot/**", "dependabot/npm_and_yarn/x-1.0", true, true},
		{"main", "main", true, true},
		{"releases/**/*", "releases/v1/x", true, true},
		{"!main", "main", false, false},
		{"feature/[ab]*", "feature/a", false, false},
	}
	for _, tt := range tests {
		m, ok := globMatch(tt.pattern, tt.s)
		if m != tt.match || ok != tt.ok {
			t.Errorf("globMatch(%q, %q) = %v, %v; want %v, %v", tt.pattern, tt.s, m, ok, tt.match, tt.ok)
		}
	}
}

func TestIsJSRPublish(t *testing.T) {
	for cmd, want := range map[string]bool{
		"deno publish":    true,
		"npx jsr publish": true,
		"npx -y jsr@0.13 publish --allow-slow-types": true,
		"pnpm dlx jsr publish":                       true,
		"yarn dlx jsr publish":                       true,
		"bun x jsr publish":                          true,
		"pnpm jsr publish":                           true,
		"npx jsr add @std/fs":                        false,
		"deno task publish":                          false,
		"npm publish":                                false,
	} {
		if got := isJSRPublish(splitWords(cmd)); got != want {
			t.Errorf("isJSRPublish(%q) = %v, want %v", cmd, got, want)
		}
	}
}
