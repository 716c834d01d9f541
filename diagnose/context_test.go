package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The bare three-line paste is inconclusive from the log alone; the workflow and the
// registry settle it, and the evidence says where it came from.
func TestOutsideEvidenceSettlesTheSeed(t *testing.T) {
	e := testEngine(t)
	paste, err := os.ReadFile(filepath.Join("testdata", "seed", "bare-paste.log"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		facts []OutsideFact
		want  string
	}{
		"workflow without id-token": {[]OutsideFact{
			{Name: "id_token_permission", Value: "missing", Source: "workflow", File: "publish.yml", Line: 8, Text: "permissions: contents: read"},
			{Name: "node_version", Value: "24.11.0", Source: "workflow", File: "publish.yml", Line: 14},
			{Name: "oidc_intended", Value: "true", Source: "workflow", File: "publish.yml", Line: 20, Text: "npm publish with no NODE_AUTH_TOKEN"},
		}, "oidc-missing-id-token-permission"},
		"node 22 without an npm upgrade": {[]OutsideFact{
			{Name: "id_token_permission", Value: "granted", Source: "workflow", File: "publish.yml", Line: 8},
			{Name: "node_version", Value: "22.16.0", Source: "workflow", File: "publish.yml", Line: 14},
			{Name: "oidc_intended", Value: "true", Source: "workflow", File: "publish.yml", Line: 20},
		}, "oidc-npm-too-old"},
		"trusted publisher names another file": {[]OutsideFact{
			{Name: "id_token_permission", Value: "granted", Source: "workflow", File: "publish.yml", Line: 8},
			{Name: "npm_version", Value: "11.6.2", Source: "run"},
			{Name: "oidc_intended", Value: "true", Source: "workflow", File: "publish.yml", Line: 20},
			{Name: "workflow_file", Value: "publish.yml", Source: "run"},
			{Name: "trusted_publisher", Value: "mismatch", Source: "registry", Text: "trusted: release.yml; this run: publish.yml"},
			{Name: "tp_mismatch", Value: "workflow", Source: "registry"},
			{Name: "package_exists", Value: "true", Source: "registry"},
		}, "oidc-workflow-filename-mismatch"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := e.DiagnoseWith(strings.NewReader(string(paste)), &Outside{Facts: c.facts})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != Diagnosed || res.Diagnoses[0].ID != c.want {
				t.Fatalf("got %s, want %s diagnosed", ranking(res), c.want)
			}
			sources := map[string]bool{}
			for _, r := range res.Diagnoses[0].Reasons {
				sources[r.Source] = true
				if r.Source == "workflow" && (r.File != "publish.yml" || r.Line == 0) {
					t.Errorf("workflow evidence without file:line: %+v", r)
				}
			}
			if !sources["workflow"] && !sources["registry"] && !sources["run"] {
				t.Errorf("no reason names the outside evidence: %+v", res.Diagnoses[0].Reasons)
			}
		})
	}
	if _, err := e.DiagnoseWith(strings.NewReader(string(paste)), &Outside{Facts: []OutsideFact{{Name: "made_up", Value: "x"}}}); err == nil {
		t.Fatal("an unknown outside fact was accepted")
	}
}
