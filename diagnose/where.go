package diagnose

import (
	"strconv"
	"strings"
)

// fixSites says, for each cause whose fix is a change to a file, which outside facts locate
// that change: the workflow setting (or package.json field, or caller's uses: line) to
// edit. Each one the run's files have is cited as evidence with its file and line, whether
// or not the log alone was conclusive. A name is a fact of knowledge.Facts or a site of
// SiteNames; "a|b" cites a, or b when the files do not have a. The first listed come first.
var fixSites = map[string][]string{
	// Which npm runs: the node-version (its bundled npm) and any npm upgrade step.
	"oidc-npm-too-old":          {"npm_upgrade", "node_version|setup_node_version"},
	"npm-upgrade-ebadengine":    {"npm_upgrade", "node_version"},
	"npm-self-upgrade-broken":   {"npm_upgrade", "node_version"},
	"oidc-tool-no-oidc-support": {"publish_command", "npm_upgrade", "node_version"},

	// The GITHUB_TOKEN's permissions (the job's block, else the workflow's).
	"oidc-missing-id-token-permission":       {"id_token_permission"},
	"provenance-missing-id-token-permission": {"id_token_permission"},
	"pypi-missing-id-token":                  {"id_token_permission"},
	"crates-missing-id-token":                {"id_token_permission"},
	"rubygems-missing-id-token":              {"id_token_permission"},
	"nuget-missing-id-token":                 {"id_token_permission"},
	"jsr-missing-id-token":                   {"id_token_permission"},
	"ghcr-missing-packages-write":            {"packages_permission"},

	// setup-node's registry-url writes the .npmrc whose token line wins over OIDC.
	"oidc-token-fallback-masks-failure": {"registry_url", "token_env"},
	"token-missing-eneedauth":           {"registry_url", "token_env"},
	"gpr-misconfiguration":              {"registry_url", "packages_permission"},

	// The publish step's flags: --provenance, --access, --tag.
	"provenance-private-repo":           {"provenance_flag"},
	"provenance-unsupported-provider":   {"provenance_flag"},
	"provenance-new-package-access":     {"access", "publish_command"},
	"scoped-package-default-restricted": {"access", "publish_command"},
	"prerelease-requires-tag":           {"dist_tag", "publish_command"},
	"tag-is-semver-range":               {"dist_tag", "publish_command"},
	"implicit-latest-lower-version":     {"dist_tag", "publish_command"},
	"oidc-publish-action-not-allowed":   {"publish_command"},

	// package.json.
	"provenance-repo-url-mismatch": {SitePackageRepository},
	"tool-invalid-version":         {SitePackageVersion},

	// The job's environment:, runs-on and the caller's uses: line.
	"oidc-environment-mismatch":              {"environment"},
	"crates-environment-mismatch":            {"environment"},
	"oidc-self-hosted-runner":                {"runner"},
	"provenance-self-hosted-runner":          {"runner"},
	"pypi-container-action-non-linux":        {"runner"},
	"oidc-reusable-workflow-caller-mismatch": {"reusable_call"},
	"pypi-reusable-workflow":                 {"reusable_call"},
}

// Sites of a fix that are not facts the rules read: they only say where to change a file.
const (
	// SitePackageRepository is package.json's repository (its url).
	SitePackageRepository = "package_repository"
	// SitePackageVersion is package.json's version.
	SitePackageVersion = "package_version_field"
)

// SiteNames are the names Outside.Sites may use.
var SiteNames = []string{SitePackageRepository, SitePackageVersion}

// maxSites bounds the file locations cited for one diagnosis.
const maxSites = 2

// locate cites, for each diagnosis, where in the run's files its fix goes (fixSites): the
// outside facts and sites with a file and line, as evidence with their source. They lead
// the diagnosis' evidence, so a short rendering keeps them.
func locate(res *Result, out *Outside) {
	if out == nil {
		return
	}
	byName := map[string]OutsideFact{}
	for _, list := range [][]OutsideFact{out.Facts, out.Sites} {
		for _, f := range list {
			if f.File != "" && f.Line > 0 {
				byName[f.Name] = f // the last one added wins, as in join
			}
		}
	}
	if len(byName) == 0 {
		return
	}
	for i := range res.Diagnoses {
		d := &res.Diagnoses[i]
		if cited := citeSites(fixSites[d.ID], byName); len(cited) > 0 {
			d.Evidence = append(cited, d.Evidence...)
		}
	}
}

// citeSites cites up to maxSites distinct file:line locations for a fix's sites, each site
// given as alternatives "a|b" of which the first known one counts.
func citeSites(sites []string, byName map[string]OutsideFact) []Evidence {
	var cited []Evidence
	seen := map[string]bool{}
	for _, alts := range sites {
		var f OutsideFact
		ok := false
		for name := range strings.SplitSeq(alts, "|") {
			if f, ok = byName[name]; ok {
				break
			}
		}
		if !ok || len(cited) == maxSites {
			continue
		}
		key := f.File + ":" + strconv.Itoa(f.Line)
		if seen[key] {
			continue
		}
		seen[key] = true
		text := f.Text
		if text == "" {
			text = f.Name + ": " + f.Value
		}
		src := f.Source
		if src == "" {
			src = "workflow"
		}
		cited = append(cited, Evidence{Line: f.Line, Text: text, Source: src, File: f.File})
	}
	return cited
}
