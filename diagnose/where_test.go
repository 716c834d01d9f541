package diagnose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/knowledge"
)

// Every row of the table names a rule of the knowledge base and facts or sites the
// engine knows: a renamed rule or fact must not silently stop citing the file to change.
func TestFixSitesNameKnownRulesAndFacts(t *testing.T) {
	e := testEngine(t)
	ids := map[string]bool{}
	for _, r := range e.kb.Rules {
		ids[r.ID] = true
	}
	for id, names := range fixSites {
		if !ids[id] {
			t.Errorf("fixSites: %s is not a rule", id)
		}
		if len(names) == 0 {
			t.Errorf("fixSites: %s names no site", id)
		}
		for _, alts := range names {
			for n := range strings.SplitSeq(alts, "|") {
				if _, ok := knowledge.Facts[n]; !ok && !slices.Contains(SiteNames, n) {
					t.Errorf("fixSites: %s cites %q, neither a fact nor a site", id, n)
				}
			}
		}
	}
}

// A log that settles the cause on its own still names where to change the workflow: the
// log's exact npm version wins the fact, yet node-version's line is cited.
func TestConclusiveLogCitesWorkflowLine(t *testing.T) {
	e := testEngine(t)
	log, err := os.ReadFile(filepath.Join("testdata", "seed", "oidc-npm-too-old.log"))
	if err != nil {
		t.Fatal(err)
	}
	alone, err := e.DiagnoseWith(strings.NewReader(string(log)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if alone.Verdict != Diagnosed || alone.Diagnoses[0].ID != "oidc-npm-too-old" {
		t.Fatalf("the log alone: %s", ranking(alone))
	}
	out := &Outside{Facts: []OutsideFact{
		{Name: "id_token_permission", Value: "granted", Source: "workflow", File: "release.yml", Line: 11, Text: "id-token: write"},
		{Name: "node_version", Value: "20.99.0", Source: "workflow", File: "release.yml", Line: 16, Text: "node-version: 20"},
		{Name: "setup_node_version", Value: "actions/setup-node@v5", Source: "workflow", File: "release.yml", Line: 14, Text: "- uses: actions/setup-node@v5"},
		{Name: "workflow_file", Value: "release.yml", Source: "run"},
	}}
	res, err := e.DiagnoseWith(strings.NewReader(string(log)), out)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Diagnoses[0]
	if res.Verdict != Diagnosed || d.ID != "oidc-npm-too-old" {
		t.Fatalf("with the workflow: %s", ranking(res))
	}
	if res.FactEvidence["npm_version"].Source != "log" {
		t.Errorf("the log's npm version lost to the workflow: %+v", res.FactEvidence["npm_version"])
	}
	var cited []Evidence
	for _, ev := range d.Evidence {
		if ev.Source == "workflow" {
			cited = append(cited, ev)
		}
	}
	want := []Evidence{{Line: 16, Text: "node-version: 20", Source: "workflow", File: "release.yml"}}
	if !slices.Equal(cited, want) {
		t.Fatalf("workflow evidence %+v, want %+v", cited, want)
	}
	if d.Evidence[0] != want[0] {
		t.Errorf("the place to change is not the first evidence: %+v", d.Evidence)
	}
	if len(d.Evidence) != len(alone.Diagnoses[0].Evidence)+1 {
		t.Errorf("log evidence changed: %d lines alone, %d with the workflow", len(alone.Diagnoses[0].Evidence), len(d.Evidence))
	}
	// Without a node-version, the setup-node step is where to set one.
	out.Facts = slices.DeleteFunc(out.Facts, func(f OutsideFact) bool { return f.Name == "node_version" })
	if res, err = e.DiagnoseWith(strings.NewReader(string(log)), out); err != nil {
		t.Fatal(err)
	}
	if ev := res.Diagnoses[0].Evidence[0]; ev.Line != 14 || ev.File != "release.yml" {
		t.Errorf("without node-version, first evidence %+v, want release.yml:14", ev)
	}
	// A cause whose fix is not in a file (the registry's settings) cites no workflow line.
	for _, d := range res.Diagnoses {
		if _, ok := fixSites[d.ID]; ok {
			continue
		}
		for _, ev := range d.Evidence {
			if ev.Source == "workflow" {
				t.Errorf("%s cites %s:%d", d.ID, ev.File, ev.Line)
			}
		}
	}
}

// package.json sites are cited for the causes fixed there, and unknown site names are refused.
func TestPackageSites(t *testing.T) {
	e := testEngine(t)
	log := "npm error code E422\nnpm error 422 Unprocessable Entity - PUT https://registry.npmjs.org/@acme%2fwidgets - Error verifying sigstore provenance bundle: Failed to validate repository information: package.json: \"repository.url\" is \"\", expected to match \"https://github.com/acme/widgets\" from provenance\n"
	out := &Outside{Sites: []OutsideFact{{Name: SitePackageRepository, Value: "", Source: "workflow", File: "package.json", Line: 5, Text: `"repository": "github:acme/old"`}}}
	res, err := e.DiagnoseWith(strings.NewReader(log), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != "provenance-repo-url-mismatch" {
		t.Fatalf("got %s", ranking(res))
	}
	if ev := res.Diagnoses[0].Evidence[0]; ev.File != "package.json" || ev.Line != 5 || ev.Source != "workflow" {
		t.Errorf("first evidence %+v, want package.json:5", ev)
	}
	if _, err := e.DiagnoseWith(strings.NewReader(log), &Outside{Sites: []OutsideFact{{Name: "made_up"}}}); err == nil {
		t.Error("an unknown site was accepted")
	}
}
