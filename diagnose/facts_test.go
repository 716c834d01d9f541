package diagnose

import (
	"path/filepath"
	"strings"
	"testing"
)

type wantFact struct {
	value, kind string
	line        int // 0: any line
}

func checkFacts(t *testing.T, res *Result, want map[string]wantFact) {
	t.Helper()
	for name, w := range want {
		got, ok := res.Facts[name]
		if w.value == "" {
			if ok {
				t.Errorf("%s = %q, want unknown", name, got)
			}
			continue
		}
		ref := res.FactEvidence[name]
		if got != w.value || (w.kind != "" && ref.Kind != w.kind) || (w.line != 0 && ref.Line != w.line) {
			t.Errorf("%s = %q (%s, line %d), want %q (%s, line %d)", name, got, ref.Kind, ref.Line, w.value, w.kind, w.line)
		}
	}
}

func TestFactsFromAFullActionsLog(t *testing.T) {
	e := testEngine(t)
	res := diagnoseFile(t, e, filepath.Join("testdata", "seed", "oidc-npm-too-old.log"))
	checkFacts(t, res, map[string]wantFact{
		"npm_version":            {"10.9.2", "exact", 48},
		"node_version":           {"22.16.0", "exact", 47},
		"yarn_version":           {"1.22.22", "exact", 49},
		"id_token_permission":    {"granted", "exact", 21},
		"runner":                 {"github-hosted", "", 0},
		"runner_image":           {"ubuntu-24.04", "", 0},
		"ci":                     {"github-actions", "", 0},
		"publish_tool":           {"npm", "", 0},
		"publish_command":        {"npm publish --provenance --access public", "", 0},
		"provenance_flag":        {"true", "", 0},
		"registry":               {"https://registry.npmjs.org/", "", 79},
		"access":                 {"public", "", 79},
		"dist_tag":               {"latest", "", 79},
		"package_name":           {"@acme/widgets", "", 0},
		"package_version":        {"2.4.0", "", 0},
		"scoped":                 {"true", "", 0},
		"prerelease":             {"false", "", 0},
		"npm_error_code":         {"E404", "", 83},
		"http_method":            {"PUT", "", 84},
		"http_status":            {"404", "", 84},
		"setup_node_placeholder": {"true", "", 0},
		"provenance":             {"published", "", 0},
		"npm_log_prefix":         {"error", "", 0},
		"reached_registry":       {"true", "", 79},
		"oidc_intended":          {"true", "", 0},
	})
	if res.Failure == nil || res.Failure.Step != "npm publish --provenance --access public" || !strings.HasPrefix(res.Failure.Text, "Process completed") {
		t.Errorf("failure point: %+v", res.Failure)
	}
}

func TestNPMVersionFromWhatWasPrinted(t *testing.T) {
	e := testEngine(t)
	cases := map[string]struct {
		log  string
		want map[string]wantFact
	}{
		"old prefix bounds": {"npm ERR! code E404\nnpm ERR! 404 Not Found - PUT https://registry.npmjs.org/x - Not found\n",
			map[string]wantFact{"npm_version": {"<10.6.0", "bounded", 1}, "npm_log_prefix": {"ERR!", "", 0}}},
		"new prefix and old wording": {"npm error code E404\nnpm error 404  'x@1.0.0' is not in this registry.\n",
			map[string]wantFact{"npm_version": {">=10.6.0 <11.5.0", "bounded", 2}}},
		"new wording": {"npm error 404  The requested resource 'x@1.0.0' could not be found or you do not have permission to access it.\n",
			map[string]wantFact{"npm_version": {">=11.5.0", "bounded", 1}}},
		"inferred from node 22": {"Environment details\n  node: v22.16.0\nnpm error code E404\n",
			map[string]wantFact{"npm_version": {">=10.6.0 <=10.9.8", "inferred", 2}, "node_version": {"22.16.0", "exact", 2}}},
		"npm -v output": {"$ npm -v\n11.6.2\nnpm error code ENEEDAUTH\n",
			map[string]wantFact{"npm_version": {"11.6.2", "exact", 2}}},
		"verbose info using": {"npm info using npm@11.5.1\nnpm info using node@v24.5.0\n",
			map[string]wantFact{"npm_version": {"11.5.1", "exact", 1}, "node_version": {"24.5.0", "exact", 2}}},
		"tool bundles its own npm": {"  npm: 11.6.2\nnpm error 404  'x@1.0.0' is not in this registry.\n",
			map[string]wantFact{"npm_version": {">=10.6.0 <11.5.0", "bounded", 2}, "npm_runner_version": {"11.6.2", "exact", 1}}},
		"upgrade after setup-node": {"  npm: 10.9.2\nRun npm install -g npm@^11.5.1\nnpm error code E404\n",
			map[string]wantFact{"npm_version": {">=11.5.1 <12.0.0", "inferred", 2}, "npm_runner_version": {"10.9.2", "exact", 1}, "npm_upgrade": {"^11.5.1", "", 2}}},
		"oidc lines need the exchange": {"npm verbose oidc Failed token exchange request with body message: OIDC token exchange error - package not found\n",
			map[string]wantFact{"npm_version": {">=11.5.0", "bounded", 1}, "oidc_log": {"Failed token exchange request with body message: OIDC token exchange error - package not found", "", 1}}},
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

func TestRunnerToolsAndPermissions(t *testing.T) {
	e := testEngine(t)
	cases := map[string]struct {
		log  string
		want map[string]wantFact
	}{
		"self-hosted":  {"Runner name: 'build-box-7'\nMachine name: 'build-box-7'\n", map[string]wantFact{"runner": {"self-hosted", "inferred", 1}}},
		"third-party":  {"Runner name: 'blacksmith-4vcpu-ubuntu-2404'\n", map[string]wantFact{"runner": {"third-party", "", 1}}},
		"github image": {"Runner name: 'GitHub Actions 12'\n", map[string]wantFact{"runner": {"github-hosted", "", 1}}},
		"permissions without IdToken": {"##[group]GITHUB_TOKEN Permissions\nContents: read\nMetadata: read\n##[endgroup]\nSecret source: Actions\n",
			map[string]wantFact{"id_token_permission": {"missing", "exact", 1}}},
		"gh run view permissions": {"publish\tSet up job\t2025-01-01T00:00:00.0000000Z ##[group]GITHUB_TOKEN Permissions\npublish\tSet up job\t2025-01-01T00:00:00.0000000Z IdToken: write\npublish\tSet up job\t2025-01-01T00:00:00.0000000Z ##[endgroup]\n",
			map[string]wantFact{"id_token_permission": {"granted", "exact", 2}}},
		"semantic-release": {"[semantic-release] › ℹ  Running semantic-release version 24.2.3\n[semantic-release] [@semantic-release/npm] › ℹ  Verifying OIDC context for publishing from GitHub Actions\n",
			map[string]wantFact{"publish_tool": {"semantic-release", "", 1}, "semantic_release_version": {"24.2.3", "", 1}, "oidc_intended": {"true", "", 2}}},
		"lerna":         {"lerna notice cli v8.1.9\nlerna ERR! E404 Not found\n", map[string]wantFact{"publish_tool": {"lerna", "", 1}, "lerna_version": {"8.1.9", "", 1}}},
		"yarn berry":    {"➤ YN0000: · Yarn 4.9.2\n➤ YN0033: No authentication configured for request\n", map[string]wantFact{"publish_tool": {"yarn-berry", "", 1}, "yarn_version": {"4.9.2", "", 1}}},
		"token env set": {"  NODE_AUTH_TOKEN: ***\nnpm error code E404\n", map[string]wantFact{"token_env": {"set", "", 1}, "oidc_intended": {"false", "", 1}}},
		"gitlab":        {"Running with gitlab-runner 17.2.0 (6428c282)\nnpm error code ENEEDAUTH\n", map[string]wantFact{"ci": {"gitlab", "", 1}}},
		"success": {"npm notice Publishing to https://registry.npmjs.org/ with tag next and public access\n+ @acme/widgets@3.0.0-beta.1\n",
			map[string]wantFact{"published": {"true", "", 2}, "prerelease": {"true", "", 0}, "dist_tag": {"next", "", 1}}},
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
