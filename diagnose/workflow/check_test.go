package workflow

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		file string
		want []string // "file:line id severity"
	}{
		// The documented trusted-publishing setup, and token setups done right: nothing.
		{"trusted-publishing.yml", nil},
		{"semantic-release.yml", nil},
		{"js-devtools.yml", nil},
		{"multiline-script.yml", nil},
		{"two-registries.yml", nil},
		{"ci-only.yml", nil}, // --dry-run, matrix Node and runner: nothing to predict
		{"prerelease.yml", nil},
		{"npm-too-old-node22.yml", []string{"npm-too-old-node22.yml:15 check-npm-too-old error"}},
		{"npm-too-old-registry-url.yml", []string{
			"npm-too-old-registry-url.yml:15 check-npm-too-old error",
			"npm-too-old-registry-url.yml:16 check-token-masks-oidc note",
		}},
		// changesets may publish through pnpm's own client: likely, not certain.
		{"changesets.yml", []string{"changesets.yml:23 check-npm-too-old warning"}},
		{"missing-id-token.yml", []string{"missing-id-token.yml:5 check-missing-id-token error"}},
		{"job-permissions-override.yml", []string{"job-permissions-override.yml:25 check-missing-id-token error"}},
		{"self-hosted-provenance.yml", []string{"self-hosted-provenance.yml:6 check-self-hosted-runner error"}},
		{"third-party-runner.yml", []string{"third-party-runner.yml:7 check-self-hosted-runner warning"}},
		{"npm-latest-node20.yml", []string{"npm-latest-node20.yml:17 check-npm-upgrade-ebadengine error"}},
		{"npm-latest-node22.yml", []string{"npm-latest-node22.yml:18 check-npm-upgrade-ebadengine warning"}},
		{"npm-docs-example.yml", []string{"npm-docs-example.yml:22 check-npm-upgrade-ebadengine error"}},
		{"npm-upgrade-engines.yml", []string{
			"npm-upgrade-engines.yml:11 check-npm-upgrade-ebadengine error", // 24.14.1 < 24.15
			"npm-upgrade-engines.yml:33 check-npm-upgrade-ebadengine error", // npm 11 on Node 18
		}},
		{"scoped-access.yml", []string{"scoped-access.yml:16 check-scoped-access warning"}},
		{"tools.yml", []string{"tools.yml:44 check-scoped-access warning"}},
		{"github-packages.yml", []string{"github-packages.yml:5 check-missing-packages-write error"}},
		// Alone, a called workflow cannot know what its callers grant.
		{"reusable/npm-publish.yml", []string{"npm-publish.yml:9 check-missing-id-token warning"}},
		{"reusable/release.yml", nil},
		{"reusable/release-without-id-token.yml", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			equalLines(t, "findings", findingLines(t, Check(load(t, tt.file))), tt.want)
		})
	}
}

// A caller and the workflow it calls are one run: the callee's id-token comes from the
// caller's job.
func TestCheckAllReusable(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  []string
	}{
		{"caller grants", []string{"reusable/release.yml", "reusable/npm-publish.yml"}, nil},
		{"caller does not grant", []string{"reusable/release-without-id-token.yml", "reusable/npm-publish.yml"}, []string{
			"release-without-id-token.yml:7 check-missing-id-token error",
		}},
		// Two files start the publish: npm matches the trusted publisher against the caller,
		// and a package has one.
		{"both callers", []string{"reusable/npm-publish.yml", "reusable/release.yml", "reusable/release-without-id-token.yml"}, []string{
			"npm-publish.yml:18 check-reusable-workflow-publisher warning",
			"release-without-id-token.yml:7 check-missing-id-token error",
		}},
		{"callee alone", []string{"reusable/npm-publish.yml"}, []string{
			"npm-publish.yml:9 check-missing-id-token warning",
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

func TestCheckWithPackage(t *testing.T) {
	tests := []struct {
		name, file, pkg string
		want            []string
	}{
		{"prerelease on Node 24 without --tag", "prerelease.yml", "prerelease.package.json", []string{
			"prerelease.yml:17 check-prerelease-requires-tag error",
		}},
		{"prerelease on npm 10 is allowed", "npm-too-old-node22.yml", "prerelease.package.json", []string{
			"npm-too-old-node22.yml:15 check-npm-too-old error",
			"npm-too-old-node22.yml:19 check-scoped-access warning", // @acme/widgets, no --access
		}},
		{"prerelease with --tag", "multiline-script.yml", "prerelease.package.json", nil},
		{"scoped name from package.json", "npm-latest-node20.yml", `{"name": "@acme/cli", "version": "1.0.0"}`, []string{
			"npm-latest-node20.yml:17 check-npm-upgrade-ebadengine error",
			"npm-latest-node20.yml:19 check-scoped-access warning",
		}},
		{"publishConfig.access settles it", "scoped-access.yml", `{"name": "@acme/cli", "version": "1.0.0", "publishConfig": {"access": "public"}}`, nil},
		{"a private workspace root says nothing", "prerelease.yml", `{"name": "@acme/root", "version": "0.0.0-dev", "private": true}`, nil},
		{"unscoped", "npm-latest-node20.yml", `{"name": "cli", "version": "1.0.0"}`, []string{
			"npm-latest-node20.yml:17 check-npm-upgrade-ebadengine error",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte(tt.pkg)
			if strings.HasSuffix(tt.pkg, ".json") {
				var err error
				if src, err = os.ReadFile(filepath.Join("testdata", tt.pkg)); err != nil {
					t.Fatal(err)
				}
			}
			pkg, err := ParsePackage("package.json", src)
			if err != nil {
				t.Fatal(err)
			}
			equalLines(t, "findings", findingLines(t, CheckAll([]*Workflow{load(t, tt.file)}, pkg)), tt.want)
		})
	}
}

// Small variations of one publish job, inline: what turns a check on or off.
func TestCheckVariants(t *testing.T) {
	const head = `on: push
permissions:
  contents: read
  id-token: write
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
`
	tests := []struct {
		name, steps string
		want        []string // "line id severity"
	}{
		{"npm upgrade too old for OIDC", `
      - uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: npm install -g npm@11.4.2
      - run: npm publish`, []string{"12 check-npm-too-old error"}},
		{"npm upgrade to 11 fixes Node 22", `
      - uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: npm install -g npm@^11.5.1
      - run: npm publish`, nil},
		{"upgrade after the publish does not count", `
      - uses: actions/setup-node@v6
        with:
          node-version: 22.14.0
      - run: npm publish
      - run: npm install -g npm@11`, []string{"11 check-npm-too-old error"}},
		{"Node 24.4 bundles npm 11.4", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24.4.0
      - run: npm publish`, []string{"11 check-npm-too-old error"}},
		{"npx npm@11 publishes with npm 11", `
      - uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: npx -y npm@11 publish`, nil},
		{"a token publish does not need OIDC", `
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          registry-url: https://registry.npmjs.org
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`, nil},
		{"an .npmrc written by hand is a token publish", `
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > ~/.npmrc
      - run: npm publish`, nil},
		{"empty NODE_AUTH_TOKEN with registry-url", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://registry.npmjs.org
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ''`, []string{"12 check-token-masks-oidc note"}},
		{"setup-node v7 exports no placeholder", `
      - uses: actions/setup-node@v7
        with:
          node-version: 24
          registry-url: https://registry.npmjs.org
      - run: npm publish`, nil},
		{"SHA-pinned setup-node v4 by its comment", `
      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
        with:
          node-version: 24
          registry-url: https://registry.npmjs.org
      - run: npm publish`, []string{"12 check-token-masks-oidc note"}},
		{"third-party runner with provenance off", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
      - run: npm publish --provenance=false`, nil},
		{"private registry: no OIDC expected", `
      - uses: actions/setup-node@v6
        with:
          node-version: 20
          registry-url: https://npm.example.com/
      - run: npm publish`, nil},
		{"unknown node version", `
      - uses: actions/setup-node@v6
        with:
          node-version-file: .nvmrc
      - run: npm install -g npm@latest
      - run: npm publish`, nil},
		{"semantic-release brings its own npm", `
      - uses: actions/setup-node@v6
        with:
          node-version: 20
      - run: npx semantic-release`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + strings.TrimPrefix(tt.steps, "\n") + "\n"
			if tt.name == "third-party runner with provenance off" {
				src = strings.Replace(src, "ubuntu-latest", "depot-ubuntu-24.04", 1)
			}
			w, err := Parse("publish.yml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findingLines(t, Check(w)) {
				got = append(got, strings.TrimPrefix(f, "publish.yml:"))
			}
			equalLines(t, "findings", got, tt.want)
		})
	}
}

// Permissions as GitHub resolves them for the job.
func TestIDTokenPermission(t *testing.T) {
	tests := []struct {
		name, top, job string
		want           string // "line state"
	}{
		{"none anywhere", "", "", "3 default"},
		{"top grants", "permissions:\n  id-token: write\n", "", "3 granted"},
		{"top write-all", "permissions: write-all\n", "", "2 granted"},
		{"top read-all", "permissions: read-all\n", "", "2 missing"},
		{"top empty", "permissions: {}\n", "", "2 missing"},
		{"job grants over empty top", "permissions: {}\n", "    permissions:\n      id-token: write\n", "7 granted"},
		{"job block drops top grant", "permissions:\n  id-token: write\n", "    permissions:\n      contents: read\n", "7 missing"},
		{"job id-token read", "", "    permissions:\n      id-token: read\n", "6 missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "on: push\n" + tt.top + "jobs:\n  publish:\n    runs-on: ubuntu-latest\n" + tt.job + "    steps:\n      - run: npm publish\n"
			w, err := Parse("p.yml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range w.Facts(w.Job("publish")) {
				if f.Name == "id_token_permission" {
					if got := fmtLineState(f); got != tt.want {
						t.Errorf("id_token_permission = %s, want %s\n%s", got, tt.want, src)
					}
					return
				}
			}
			t.Errorf("no id_token_permission fact")
		})
	}
}

func fmtLineState(f Fact) string { return fmt.Sprintf("%d %s", f.Line, f.Value) }

func TestFindingText(t *testing.T) {
	fs := Check(load(t, "npm-latest-node22.yml"))
	if len(fs) != 1 {
		t.Fatalf("got %d findings", len(fs))
	}
	f := fs[0]
	for _, want := range []string{"npm 12", "^22.22.2", "npm-latest-node22.yml:15", "EBADENGINE"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message does not say %q: %s", want, f.Message)
		}
	}
	// The fix must not be the npm@latest that breaks; it pins npm 11.
	if !strings.Contains(f.Snippet, "npm@^11.5.1") || strings.Contains(f.Snippet, "npm install -g npm@latest") {
		t.Errorf("snippet: %s", f.Snippet)
	}
	if got := f.String(); !strings.HasPrefix(got, "npm-latest-node22.yml:18: warning: ") || !strings.HasSuffix(got, "[check-npm-upgrade-ebadengine]") {
		t.Errorf("String() = %s", got)
	}
	if f.Rule != "npm-upgrade-ebadengine" {
		t.Errorf("Rule = %s", f.Rule)
	}
}
