package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/internal/fakenpm"
)

// autoResult is the part of a run URL's JSON answer these tests read: the result of the
// job that explains the run (the whole answer, or the first element of a list).
type autoResult struct {
	Verdict   string            `json:"verdict"`
	Facts     map[string]string `json:"facts"`
	Diagnoses []struct {
		ID       string `json:"id"`
		Evidence []struct {
			Line               int
			Text, Source, File string
		} `json:"evidence"`
	} `json:"diagnoses"`
	FactEvidence map[string]struct {
		Source, File string
		Line         int
	} `json:"fact_evidence"`
}

func decodeAuto(t *testing.T, out string) autoResult {
	t.Helper()
	var res autoResult
	if strings.HasPrefix(strings.TrimSpace(out), "[") {
		var list []autoResult
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) == 0 {
			t.Fatalf("not a JSON answer: %v\n%s", err, out)
		}
		return list[0]
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not a JSON answer: %v\n%s", err, out)
	}
	return res
}

func lineIn(t *testing.T, src, s string) int {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q is not in the file", s)
	return 0
}

// On runs whose logs alone are conclusive, the top diagnosis cites the workflow line to
// change; with PUBDOC_NPM_REGISTRY_URL at a loopback registry, a publish to
// registry.npmjs.org is checked there, and a publish to another registry is not.
func TestRunURLCitesWhereToChangeIt(t *testing.T) {
	oldNPM, err := os.ReadFile(repo("examples/old-npm.log"))
	if err != nil {
		t.Fatal(err)
	}
	missing, err := os.ReadFile(repo("examples/missing-id-token.log"))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := fakenpm.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Close() }()
	reg.AddToken("npm_readToken", "")
	reg.AddPackage("@acme/widgets", fakenpm.Package{Versions: []string{"2.3.0"}, Trusted: &fakenpm.TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "release.yml", AllowPublish: true}})

	const idToken = "\n      id-token: write"
	cases := []struct {
		name, perms, node, log, want, cite string
		asked                              bool
	}{
		{"old npm, node-version 20", idToken, "20", string(oldNPM), "oidc-npm-too-old", "node-version: 20", true},
		{"no id-token: write", "", "'24'", string(missing), "oidc-missing-id-token-permission", "permissions:", true},
		{"old npm to GitHub Packages", idToken, "20",
			strings.ReplaceAll(string(oldNPM), "https://registry.npmjs.org/", "https://npm.pkg.github.com/"), "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wf := fmt.Sprintf(releaseWorkflow, c.perms, c.node)
			gh := fakeGitHub(t, wf, c.log)
			t.Setenv("GITHUB_TOKEN", "test-token")
			t.Setenv("GITHUB_API_URL", gh.URL+"/")
			t.Setenv("PUBDOC_NPM_REGISTRY_URL", reg.URL)
			t.Setenv("NPM_TOKEN", "npm_readToken")
			before := len(reg.Requests())
			code, out, stderr := runCLI(t, "", "diagnose", "--format", "json", "https://github.com/acme/widgets/actions/runs/42")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			res := decodeAuto(t, out)
			asked := len(reg.Requests()) > before
			tp := res.FactEvidence["trusted_publisher"]
			if c.asked != asked || c.asked != (tp.Source == "registry") {
				t.Errorf("registry asked %v (trusted_publisher %q from %q), want %v", asked, res.Facts["trusted_publisher"], tp.Source, c.asked)
			}
			if c.want == "" {
				return
			}
			if res.Verdict != "diagnosed" || len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != c.want {
				t.Fatalf("want %s diagnosed:\n%s", c.want, out)
			}
			line := lineIn(t, wf, c.cite)
			if c.perms == "" {
				line = lineIn(t, wf, "    permissions:") // the job's block, which lacks id-token
			}
			for _, ev := range res.Diagnoses[0].Evidence {
				if ev.Source == "workflow" && ev.File == "release.yml" && ev.Line == line && strings.Contains(ev.Text, c.cite) {
					return
				}
			}
			t.Errorf("the top diagnosis does not cite release.yml:%d %q: %+v", line, c.cite, res.Diagnoses[0].Evidence)
		})
	}
}
