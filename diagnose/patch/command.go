package patch

import (
	"fmt"
	"strings"
)

// Known is what an answer knows of the publish, for a fix outside the repository.
type Known struct {
	Package     string // the npm package name
	Repo        string // OWNER/REPO the run is in
	Workflow    string // the workflow file the run started from (the caller's, for a reusable workflow): a bare name, e.g. release.yml
	Environment string // the job's environment, "" for none
}

// trustRules are the causes fixed by the package's trusted-publisher entry on npmjs.com,
// each with whether an entry already exists that must go first (npm keeps one per
// package).
var trustRules = map[string]bool{
	"oidc-trusted-publisher-not-configured":  false,
	"oidc-publish-action-not-allowed":        true,
	"oidc-trusted-publisher-mismatch":        true,
	"oidc-workflow-filename-mismatch":        true,
	"oidc-reusable-workflow-caller-mismatch": true,
	"oidc-repo-owner-mismatch":               true,
	"oidc-environment-mismatch":              true,
}

// Command returns the commands that make the fix of rule outside the repository — the
// package's trusted-publisher entry on npmjs.com, with `npm trust` (npm >= 11.10; the docs
// ask for 11.15, whose entries need --allow-publish, and account 2FA) — or "" when the
// rule's fix is not there or the answer lacks the package, the repository or the workflow.
func Command(rule string, k Known) string {
	replace, ok := trustRules[rule]
	if !ok || k.Package == "" || strings.Count(k.Repo, "/") != 1 || k.Workflow == "" || strings.ContainsAny(k.Workflow, "/\\") {
		return ""
	}
	for _, s := range []string{k.Package, k.Repo, k.Workflow, k.Environment} {
		if strings.ContainsAny(s, " \t\n'\"`$;&|<>()\\") {
			return "" // not a name to put on a command line
		}
	}
	var b strings.Builder
	if replace {
		fmt.Fprintf(&b, "npm trust list %s\n", k.Package)
		fmt.Fprintf(&b, "npm trust revoke %s --id <id from the list>   # npm keeps one trusted publisher per package\n", k.Package)
	}
	fmt.Fprintf(&b, "npm trust github %s --repo %s --file %s", k.Package, k.Repo, k.Workflow)
	if k.Environment != "" {
		fmt.Fprintf(&b, " --env %s", k.Environment)
	}
	b.WriteString(" --allow-publish --yes\n")
	return b.String()
}
