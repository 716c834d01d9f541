package workflow

import (
	"fmt"
	"strings"
	"testing"
)

func TestFacts(t *testing.T) {
	tests := []struct {
		file, job string // job "" is the workflow level (Facts(nil))
		want      []string
	}{
		{"trusted-publishing.yml", "publish", []string{
			"1 workflow_file=trusted-publishing.yml",
			"5 triggers=release,workflow_dispatch",
			"27 runner=github-hosted",
			"28 environment=npm",
			"29 packages_permission=none",
			"31 id_token_permission=granted",
			"34 setup_node_version=v6",
			"36 node_version=24",
			"38 publish_tool=npm",
			"38 publish_command=npm publish --access public",
			"38 access=public",
		}},
		{"trusted-publishing.yml", "", []string{
			"1 workflow_file=trusted-publishing.yml",
			"5 triggers=release,workflow_dispatch",
			"10 id_token_permission=missing",
			"10 packages_permission=none",
		}},
		// The top level grants id-token: write and the build job inherits it ...
		{"job-permissions-override.yml", "build", []string{
			"1 workflow_file=job-permissions-override.yml",
			"2 triggers=push,pull_request",
			"9 packages_permission=none",
			"11 id_token_permission=granted",
			"15 runner=github-hosted",
		}},
		// ... but the publish job's own block replaces it.
		{"job-permissions-override.yml", "publish", []string{
			"1 workflow_file=job-permissions-override.yml",
			"2 triggers=push,pull_request",
			"23 runner=github-hosted",
			"25 id_token_permission=missing",
			"25 packages_permission=none",
			"29 setup_node_version=v6",
			"31 node_version=lts/*",
			"33 publish_tool=npm",
			"33 publish_command=npm publish",
		}},
		// A workflow with no permissions block anywhere: the repository default.
		{"npm-upgrade-engines.yml", "node18-npm11", []string{
			"1 workflow_file=npm-upgrade-engines.yml",
			"3 triggers=workflow_dispatch",
			"27 id_token_permission=default",
			"27 packages_permission=default",
			"28 runner=github-hosted",
			"30 setup_node_version=v6",
			"32 node_version=18",
			"33 npm_upgrade=11",
		}},
		{"npm-latest-node22.yml", "publish", []string{
			"1 workflow_file=npm-latest-node22.yml",
			"2 triggers=push",
			"5 packages_permission=none",
			"6 id_token_permission=granted",
			"10 runner=github-hosted",
			"13 setup_node_version=v5",
			"15 node_version=22",
			"18 npm_upgrade=latest",
			"21 publish_tool=npm",
			"21 publish_command=npm publish --access public",
			"21 access=public",
		}},
		// Caller and callee of a reusable workflow.
		{"reusable/release.yml", "publish", []string{
			"1 workflow_file=release.yml",
			"2 triggers=push",
			"11 packages_permission=none",
			"13 id_token_permission=granted",
			"14 reusable_call=./.github/workflows/npm-publish.yml",
		}},
		{"reusable/release.yml", "test", []string{
			"1 workflow_file=release.yml",
			"2 triggers=push",
			"5 id_token_permission=missing",
			"5 packages_permission=none",
			"8 reusable_call=./.github/workflows/test.yml",
		}},
		{"reusable/npm-publish.yml", "publish", []string{
			"1 workflow_file=npm-publish.yml",
			"2 triggers=workflow_call",
			"3 workflow_call=true",
			"9 id_token_permission=default",
			"9 packages_permission=default",
			"10 runner=github-hosted",
			"11 environment=release",
			"14 setup_node_version=v6",
			"16 node_version=${{ inputs.node-version }}",
			"18 publish_tool=npm",
			"18 publish_command=npm publish --provenance --access public",
			"18 provenance_flag=true",
			"18 access=public",
		}},
		// A command inside a block, continued over three lines, under if/then; provenance
		// from the workflow's env.
		{"multiline-script.yml", "npm", []string{
			"1 workflow_file=multiline-script.yml",
			"2 triggers=push",
			"6 provenance_flag=true",
			"9 runner=github-hosted",
			"10 packages_permission=none",
			"11 id_token_permission=granted",
			"15 setup_node_version=v6",
			"17 node_version=24.10.0",
			"24 publish_tool=npm",
			"24 publish_command=npm publish --access public --tag latest",
			"24 access=public",
			"24 dist_tag=latest",
		}},
		{"multiline-script.yml", "", []string{
			"1 workflow_file=multiline-script.yml",
			"1 id_token_permission=default",
			"1 packages_permission=default",
			"2 triggers=push",
			"6 provenance_flag=true",
		}},
		{"changesets.yml", "release", []string{
			"1 workflow_file=changesets.yml",
			"3 triggers=push",
			"13 runner=github-hosted",
			"14 packages_permission=none",
			"17 id_token_permission=granted",
			"21 setup_node_version=v5",
			"23 node_version=20",
			"25 corepack=true",
			"30 publish_tool=changesets",
			"30 publish_command=pnpm release",
		}},
		{"semantic-release.yml", "release", []string{
			"1 workflow_file=semantic-release.yml",
			"2 triggers=push",
			"9 runner=github-hosted",
			"10 id_token_permission=missing",
			"10 packages_permission=none",
			"18 setup_node_version=v6",
			"20 node_version=lts/*",
			"22 publish_tool=semantic-release",
			"22 publish_command=npx semantic-release",
			"25 token_env=set",
		}},
		{"js-devtools.yml", "publish", []string{
			"1 workflow_file=js-devtools.yml",
			"1 triggers=push",
			"5 id_token_permission=default",
			"5 packages_permission=default",
			"6 runner=github-hosted",
			"9 setup_node_version=8f152de45cc393bb48ce5d89d36b731f54556e65",
			"11 node_version=20",
			"14 publish_tool=npm-publish-action",
			"14 publish_command=JS-DevTools/npm-publish@v3",
			"16 token_env=set",
			"17 access=public",
			"18 dist_tag=next",
		}},
		{"self-hosted-provenance.yml", "publish", []string{
			"1 workflow_file=self-hosted-provenance.yml",
			"2 triggers=workflow_dispatch",
			"6 runner=self-hosted",
			"7 packages_permission=none",
			"9 id_token_permission=granted",
			"12 setup_node_version=v4",
			"14 node_version=22",
			"15 registry_url=https://registry.npmjs.org",
			"17 publish_tool=npm",
			"17 publish_command=npm publish --provenance --access public",
			"17 provenance_flag=true",
			"17 access=public",
			"19 token_env=set",
		}},
		{"github-packages.yml", "publish-gpr", []string{
			"1 workflow_file=github-packages.yml",
			"2 triggers=release",
			"5 id_token_permission=missing",
			"5 packages_permission=none",
			"9 runner=github-hosted",
			"12 setup_node_version=v4",
			"14 node_version=20",
			"15 registry_url=https://npm.pkg.github.com/",
			"17 publish_tool=npm",
			"17 publish_command=npm publish",
			"19 token_env=set",
		}},
		{"third-party-runner.yml", "release", []string{
			"1 workflow_file=third-party-runner.yml",
			"2 triggers=push",
			"7 runner=third-party",
			"8 packages_permission=none",
			"10 id_token_permission=granted",
			"13 setup_node_version=v6",
			"15 node_version=24",
			"17 publish_tool=npm",
			"17 publish_command=npm publish",
		}},
		{"ci-only.yml", "test", []string{
			"1 workflow_file=ci-only.yml",
			"2 triggers=push,pull_request",
			"4 id_token_permission=default",
			"4 packages_permission=default",
			"8 runner=github-hosted", // every leg of the matrix: ubuntu-latest, windows-latest
			"12 setup_node_version=v6",
			"14 node_version=${{ matrix.node }}",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.job, func(t *testing.T) {
			w := load(t, tt.file)
			var j *Job
			if tt.job != "" {
				if j = w.Job(tt.job); j == nil {
					t.Fatalf("no job %q", tt.job)
				}
			}
			equalLines(t, "facts", factLines(t, w, w.Facts(j)), tt.want)
		})
	}
}

func TestFactText(t *testing.T) {
	w := load(t, "job-permissions-override.yml")
	for _, f := range w.Facts(w.Job("publish")) {
		if f.Name == "id_token_permission" && f.Text != "permissions:" {
			t.Errorf("id_token_permission Text = %q, want the line it points at", f.Text)
		}
		if f.Name == "publish_command" && f.Text != "- run: npm publish" {
			t.Errorf("publish_command Text = %q", f.Text)
		}
	}
}

func TestPublishJob(t *testing.T) {
	tests := []struct{ file, want string }{
		{"trusted-publishing.yml", "publish"},
		{"job-permissions-override.yml", "publish"},
		{"changesets.yml", "release"},
		{"semantic-release.yml", "release"},
		{"js-devtools.yml", "publish"},
		{"github-packages.yml", "publish-gpr"},
		{"reusable/npm-publish.yml", "publish"},
		{"reusable/release.yml", ""},    // it only calls the workflow that publishes
		{"ci-only.yml", ""},             // npm publish --dry-run publishes nothing
		{"npm-upgrade-engines.yml", ""}, // upgrades npm, never publishes
		{"two-registries.yml", "npmjs"}, // npmjs preferred over an earlier GitHub Packages job
		{"tools.yml", "lerna"},          // the first job that publishes
	}
	for _, tt := range tests {
		w := load(t, tt.file)
		got := ""
		if j := w.PublishJob(); j != nil {
			got = j.ID
		}
		if got != tt.want {
			t.Errorf("%s: PublishJob = %q, want %q", tt.file, got, tt.want)
		}
	}
}

// Each publish tool as real workflows invoke it, and the flags read from its command.
func TestPublishTools(t *testing.T) {
	w := load(t, "tools.yml")
	tests := []struct {
		job  string
		want []string // the publish facts of the job
	}{
		{"lerna", []string{"11 publish_tool=lerna", "11 publish_command=npx lerna publish from-package --yes --dist-tag next", "11 dist_tag=next"}},
		{"pnpm", []string{"16 publish_tool=pnpm", `16 publish_command=pnpm -r --filter "./packages/**" publish --no-git-checks --access public`, "16 access=public"}},
		{"yarn-berry", []string{"20 publish_tool=yarn-berry", "20 publish_command=yarn workspaces foreach --all --no-private npm publish --tolerate-republish"}},
		{"yarn-classic", []string{"24 publish_tool=yarn", "24 publish_command=yarn publish --non-interactive --access public", "24 access=public"}},
		{"release-it", []string{"28 publish_tool=release-it", "28 publish_command=npx release-it --ci"}},
		{"nx", []string{"32 publish_tool=nx", "32 publish_command=npx nx release publish"}},
		{"npx-npm", []string{"36 publish_tool=npm", "36 publish_command=npx -y npm@11.6.2 publish --provenance", "36 provenance_flag=true"}},
		{"stage", []string{"40 publish_tool=npm", "40 publish_command=npm stage publish"}},
		{"workspace", []string{"44 publish_tool=npm", "44 publish_command=npm publish -w @acme/core --provenance=false", "44 provenance_flag=false"}},
		{"changeset-cli", []string{"48 publish_tool=changesets", "48 publish_command=pnpm changeset publish"}},
		{"semrel-action", []string{"52 publish_tool=semantic-release", "52 publish_command=cycjimmy/semantic-release-action@v4", "54 token_env=set"}},
		{"loop", []string{"58 publish_tool=npm", "58 publish_command=NPM_CONFIG_PROVENANCE=true npm publish", "58 provenance_flag=true"}},
		{"not-publishing", nil},
	}
	publishFacts := map[string]bool{"publish_tool": true, "publish_command": true, "token_env": true, "provenance_flag": true, "access": true, "dist_tag": true}
	for _, tt := range tests {
		j := w.Job(tt.job)
		if j == nil {
			t.Fatalf("no job %q", tt.job)
		}
		var got []string
		for _, f := range factLines(t, w, w.Facts(j)) {
			var line int
			var nv string
			if _, err := fmt.Sscanf(f, "%d %s", &line, &nv); err == nil {
				name, _, _ := strings.Cut(nv, "=")
				if publishFacts[name] {
					got = append(got, f)
				}
			}
		}
		equalLines(t, tt.job, got, tt.want)
	}
}
