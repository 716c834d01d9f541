package workflow

import (
	"strings"
	"testing"
)

// checkInline checks one inline workflow (publish.yml) with an optional package.json and
// repository, and returns its findings as "line id severity".
func checkInline(t *testing.T, src, pkgJSON, repo string) []string {
	t.Helper()
	w, err := Parse("publish.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	w.Repo = repo
	var pkg *Package
	if pkgJSON != "" {
		if pkg, err = ParsePackage("package.json", []byte(pkgJSON)); err != nil {
			t.Fatal(err)
		}
	}
	var out []string
	for _, f := range findingLines(t, CheckAll([]*Workflow{w}, pkg)) {
		out = append(out, strings.TrimPrefix(f, "publish.yml:"))
	}
	return out
}

// The kinds `check` missed before: pnpm's OIDC on Node 22, a token without registry-url,
// GitHub Packages scopes, node-version from variables, runners from a matrix, publishes
// hidden in package.json scripts. Each with the near-miss that publishes fine.
func TestCheckKinds(t *testing.T) {
	const head = "on: push\npermissions:\n  contents: read\n  id-token: write\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n"
	tests := []struct {
		name, steps, pkg, repo string
		want                   []string
	}{
		{"pnpm 10 runs the runner's npm: Node 22 has no OIDC", `
      - uses: pnpm/action-setup@v4
      - uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: pnpm publish --no-git-checks`, `{"name": "x", "packageManager": "pnpm@10.20.0"}`, "",
			[]string{"12 check-npm-too-old error"}},
		{"pnpm 11 exchanges the token itself", `
      - uses: pnpm/action-setup@v4
        with:
          version: 11
      - uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: pnpm publish --no-git-checks`, "", "", nil},
		{"changesets on pnpm 10 through a script", `
      - uses: pnpm/action-setup@v4
      - uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: pnpm run release`, `{"name": "root", "private": true, "packageManager": "pnpm@10.30.2", "scripts": {"release": "changeset publish"}}`, "",
			[]string{"12 check-npm-too-old error"}},
		{"token without registry-url", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`, "", "", []string{"14 check-token-no-registry-url warning"}},
		{"token with registry-url", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://registry.npmjs.org
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`, "", "", nil},
		{"token with an .npmrc written in the job", `
      - run: echo "//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}" > ~/.npmrc
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}`, "", "", nil},
		{"changesets/action writes its own .npmrc from NPM_TOKEN", `
      - uses: changesets/action@v1
        with:
          publish: pnpm release
        env:
          NPM_TOKEN: ${{ secrets.NPM_TOKEN }}`, "", "", nil},
		{"GitHub Packages: scope of another owner", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://npm.pkg.github.com
          scope: '@someone-else'
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}`, `{"name": "@someone-else/lib", "version": "1.0.0"}`, "acme/lib",
			[]string{"13 check-gpr-scope error"}},
		{"GitHub Packages: the owner's scope", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://npm.pkg.github.com
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}`, `{"name": "@acme/lib", "version": "1.0.0"}`, "Acme/lib", nil},
		{"GitHub Packages: unscoped", `
      - uses: actions/setup-node@v6
        with:
          node-version: 24
          registry-url: https://npm.pkg.github.com
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: ${{ secrets.GITHUB_TOKEN }}`, `{"name": "lib", "version": "1.0.0"}`, "acme/lib",
			[]string{"12 check-gpr-scope error"}},
		{"node-version from a matrix that is not there", `
      - uses: actions/setup-node@v6
        with:
          node-version: ${{ matrix.node-version }}
      - run: npm publish`, "", "", []string{"11 check-node-version-unresolved warning"}},
		{"node-version from vars: cannot tell", `
      - uses: actions/setup-node@v6
        with:
          node-version: ${{ vars.NODE_VERSION }}
      - run: npm publish`, "", "", []string{"11 check-node-version-unresolved note"}},
		{"node-version from env resolves", `
      - uses: actions/setup-node@v6
        with:
          node-version: ${{ env.NODE }}
        env:
          NODE: '22'
      - run: npm publish`, "", "", []string{"11 check-npm-too-old error"}},
		{"node-version from vars, npm pinned after it", `
      - uses: actions/setup-node@v6
        with:
          node-version: ${{ vars.NODE_VERSION }}
      - run: npm install -g npm@^11.5.1
      - run: npm publish`, "", "", nil},
		{"a hidden publish script on a third-party runner: cannot tell", `
      - run: bun run release:publish`, `{"name": "root", "scripts": {"release:publish": "bun run scripts/publish.ts"}}`, "",
			[]string{"7 check-self-hosted-runner note"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + strings.TrimPrefix(tt.steps, "\n") + "\n"
			if strings.HasPrefix(tt.name, "GitHub Packages") {
				src = strings.Replace(src, "id-token: write", "packages: write", 1)
			}
			if strings.Contains(tt.name, "third-party") {
				src = strings.Replace(src, "ubuntu-latest", "blacksmith-4vcpu-ubuntu-2404", 1)
			}
			equalLines(t, "findings", checkInline(t, src, tt.pkg, tt.repo), tt.want)
		})
	}
}

// runs-on from the matrix: a third-party leg that publishes with provenance fails; a leg
// the publish step's if: excludes does not count.
func TestRunnerFromMatrix(t *testing.T) {
	const src = `on: push
permissions:
  id-token: write
jobs:
  publish:
    runs-on: ${{ matrix.runner }}
    strategy:
      matrix:
        include:
          - runner: ubuntu-latest
            main: true
          - runner: blacksmith-4vcpu-ubuntu-2404
    steps:
      - uses: actions/setup-node@v6
        with:
          node-version: 24
      - run: npm publish --provenance
        if: %s
`
	for cond, want := range map[string][]string{
		"success()":                        {"12 check-self-hosted-runner error"},
		"matrix.main":                      nil,
		"matrix.runner != 'ubuntu-latest'": {"12 check-self-hosted-runner error"},
	} {
		t.Run(cond, func(t *testing.T) {
			equalLines(t, "findings", checkInline(t, strings.Replace(src, "%s", cond, 1), "", ""), want)
		})
	}
}

// Every check names a rule that exists, and takes its fix and snippet from it with the
// file's values filled in.
func TestFindingsTakeTheRulesText(t *testing.T) {
	for _, file := range []string{"missing-id-token.yml", "self-hosted-provenance.yml", "npm-latest-node22.yml", "github-packages.yml"} {
		for _, f := range Check(load(t, file)) {
			r := rules().Rule(f.Rule)
			if r == nil {
				t.Fatalf("%s: rule %s does not exist", f.ID, f.Rule)
			}
			sum, snip := r.Fix.Render(map[string]string{"job": f.Job, "setup_node": "actions/setup-node@v6"})
			if f.Cause != strings.TrimSpace(r.Cause) || f.Fix != strings.TrimSpace(sum) {
				t.Errorf("%s: cause or fix is not rule %s's", f.ID, f.Rule)
			}
			if f.Job != "" && strings.Contains(r.Fix.SnippetTemplate, "{{job}}") && !strings.Contains(f.Snippet, f.Job+":") {
				t.Errorf("%s: snippet does not name job %s:\n%s", f.ID, f.Job, f.Snippet)
			}
			if strings.Contains(f.Snippet, "{{") && !strings.Contains(snip, "{{") {
				t.Errorf("%s: placeholder left in the snippet:\n%s", f.ID, f.Snippet)
			}
		}
	}
}
