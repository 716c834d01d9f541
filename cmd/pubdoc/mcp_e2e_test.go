package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// These tests start the real `pubdoc mcp` binary as a child process and speak the Model
// Context Protocol to it over stdio through the SDK's client: what a coding agent does.

// startMCP starts `pubdoc mcp` with env added to a copy of the environment without any
// GitHub or npm credentials, and connects a client session to it.
func startMCP(t *testing.T, env ...string) *mcp.ClientSession {
	t.Helper()
	cmd := exec.Command(pubdocBinary(t), "mcp")
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GITHUB_") || strings.HasPrefix(name, "NPM_") || strings.HasPrefix(name, "PUBDOC_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "pubdoc-e2e", Version: "1"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 5 * time.Second}, nil)
	if err != nil {
		t.Fatalf("connecting to pubdoc mcp: %v\nstderr: %s", err, stderr.String())
	}
	t.Cleanup(func() {
		// Closing stdin ends the server; Close waits for it and returns its exit status.
		if err := cs.Close(); err != nil {
			t.Errorf("pubdoc mcp did not exit cleanly: %v; stderr: %s", err, stderr.String())
		}
	})
	return cs
}

// callTool calls a tool and returns its text and whether it is a tool error; a protocol
// error fails the test.
func callTool(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, bool, *mcp.CallToolResult) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", name, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content blocks, want 1", name, len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content is %T, not text", name, res.Content[0])
	}
	return tc.Text, res.IsError, res
}

// mcpDiagnosis is the part of the diagnosis envelope these tests read.
type mcpDiagnosis struct {
	Schema    string `json:"schema"`
	Verdict   string `json:"verdict"`
	Job       string `json:"job"`
	Diagnoses []struct {
		ID string `json:"id"`
	} `json:"diagnoses"`
	Jobs []struct {
		Job string `json:"job"`
		URL string `json:"url"`
	} `json:"jobs"`
}

func (d mcpDiagnosis) ids() []string {
	var ids []string
	for _, x := range d.Diagnoses {
		ids = append(ids, x.ID)
	}
	return ids
}

func decodeDiagnosis(t *testing.T, text string) mcpDiagnosis {
	t.Helper()
	var d mcpDiagnosis
	if err := json.Unmarshal([]byte(text), &d); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, text)
	}
	if d.Schema != "pubdoc.diagnosis/v1" {
		t.Fatalf("schema %q, want pubdoc.diagnosis/v1\n%s", d.Schema, text)
	}
	return d
}

func TestMCPEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cs := startMCP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	t.Run("tools/list", func(t *testing.T) {
		list, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"diagnose_log": "log", "diagnose_run": "url", "check_workflow": "path", "search_causes": "words"}
		for _, tool := range list.Tools {
			prop, ok := want[tool.Name]
			if !ok {
				t.Errorf("unexpected tool %q", tool.Name)
				continue
			}
			delete(want, tool.Name)
			schema, _ := json.Marshal(tool.InputSchema)
			var s struct {
				Type       string                     `json:"type"`
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if err := json.Unmarshal(schema, &s); err != nil || s.Type != "object" || s.Properties[prop] == nil {
				t.Errorf("%s: input schema %s lacks property %q", tool.Name, schema, prop)
			}
			if tool.Description == "" {
				t.Errorf("%s: no description", tool.Name)
			}
		}
		if len(want) > 0 {
			t.Errorf("tools missing: %v", want)
		}
	})

	t.Run("diagnose_log on the seed's bare paste", func(t *testing.T) {
		paste, err := os.ReadFile(repo("diagnose/testdata/seed/bare-paste.log"))
		if err != nil {
			t.Fatal(err)
		}
		text, isErr, res := callTool(t, cs, "diagnose_log", map[string]any{"log": string(paste)})
		if isErr {
			t.Fatalf("tool error: %s", text)
		}
		d := decodeDiagnosis(t, text)
		if d.Verdict != "inconclusive" || !strings.Contains(strings.Join(d.ids(), " "), "oidc-npm-too-old") {
			t.Fatalf("got %s %v, want inconclusive naming oidc-npm-too-old", d.Verdict, d.ids())
		}
		// The same answer as the CLI's, and as structured content.
		_, cli, _ := runCLI(t, "", "diagnose", "--format", "json", repo("diagnose/testdata/seed/bare-paste.log"))
		if text != cli {
			t.Errorf("the tool's JSON differs from `pubdoc diagnose --format json`:\n%s\nvs\n%s", text, cli)
		}
		sc, _ := json.Marshal(res.StructuredContent)
		if got := decodeDiagnosis(t, string(sc)); got.Verdict != d.Verdict {
			t.Errorf("structured content %s", sc)
		}
	})

	t.Run("diagnose_log on old-npm.log", func(t *testing.T) {
		log, err := os.ReadFile(repo("examples/old-npm.log"))
		if err != nil {
			t.Fatal(err)
		}
		text, isErr, _ := callTool(t, cs, "diagnose_log", map[string]any{"log": string(log)})
		if isErr {
			t.Fatalf("tool error: %s", text)
		}
		if d := decodeDiagnosis(t, text); d.Verdict != "diagnosed" || len(d.Diagnoses) == 0 || d.Diagnoses[0].ID != "oidc-npm-too-old" {
			t.Fatalf("got %s %v, want diagnosed oidc-npm-too-old", d.Verdict, d.ids())
		}
	})

	t.Run("bad input is a tool error", func(t *testing.T) {
		for _, c := range []struct {
			tool, code string
			args       map[string]any
		}{
			{"diagnose_log", "empty", map[string]any{"log": ""}},
			{"diagnose_log", "empty", map[string]any{"log": "  \n\n"}},
			{"diagnose_run", "usage", map[string]any{"url": "https://example.com/not-a-run"}},
			{"check_workflow", "usage", map[string]any{}},
			{"check_workflow", "unreadable", map[string]any{"path": "no/such/workflow.yml"}},
			{"search_causes", "usage", map[string]any{"words": " "}},
		} {
			text, isErr, _ := callTool(t, cs, c.tool, c.args)
			var e struct {
				Schema string `json:"schema"`
				Error  struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(text), &e); !isErr || err != nil || e.Schema != "pubdoc.error/v1" || e.Error.Code != c.code || e.Error.Message == "" {
				t.Errorf("%s %v: isError %v, want the %s error envelope: %s", c.tool, c.args, isErr, c.code, text)
			}
		}
		// A call the input schema rejects is a tool error too, and the server lives on.
		if _, isErr, _ := callTool(t, cs, "diagnose_log", map[string]any{"log": 42}); !isErr {
			t.Error("a number for log was accepted")
		}
	})

	t.Run("search_causes", func(t *testing.T) {
		text, isErr, _ := callTool(t, cs, "search_causes", map[string]any{"words": "token expired"})
		var ans struct {
			Rules []struct{ ID, Title, Registry, Fix string }
		}
		if err := json.Unmarshal([]byte(text), &ans); isErr || err != nil {
			t.Fatalf("isError %v, %v: %s", isErr, err, text)
		}
		found := false
		for _, r := range ans.Rules {
			found = found || r.ID == "token-expired-or-revoked" && r.Registry == "npm" && r.Title != "" && r.Fix != ""
		}
		if !found {
			t.Fatalf("token-expired-or-revoked not found with its title, registry and fix: %s", text)
		}
	})

	t.Run("check_workflow", func(t *testing.T) {
		dir := t.TempDir()
		path := dir + "/.github/workflows/release.yml"
		if err := os.MkdirAll(dir+"/.github/workflows", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(badWorkflow), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range []map[string]any{{"text": badWorkflow}, {"path": path}} {
			text, isErr, _ := callTool(t, cs, "check_workflow", args)
			var ans struct {
				Schema   string `json:"schema"`
				Findings []struct {
					ID, Severity, File string
					Line               int
				}
			}
			if err := json.Unmarshal([]byte(text), &ans); isErr || err != nil || ans.Schema != "pubdoc.check/v1" {
				t.Fatalf("isError %v, %v: %s", isErr, err, text)
			}
			hasError := false
			for _, f := range ans.Findings {
				hasError = hasError || f.Severity == "error" && f.Line > 0 && f.ID != ""
			}
			if !hasError {
				t.Errorf("%v: no error finding on the broken workflow: %s", args, text)
			}
		}
		text, isErr, _ := callTool(t, cs, "check_workflow", map[string]any{"text": goodWorkflow})
		if isErr || !strings.Contains(text, `"findings": []`) {
			t.Errorf("good workflow: isError %v: %s", isErr, text)
		}
		// The package.json read is the one at the root of the repository the path is in.
		good := dir + "/.github/workflows/publish.yml"
		if err := os.WriteFile(good, []byte(goodWorkflow), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/package.json", []byte(`{"name": "@acme/widgets", "version": "2.0.0-beta.1"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		text, isErr, _ = callTool(t, cs, "check_workflow", map[string]any{"path": good})
		if isErr || !strings.Contains(text, "check-prerelease-requires-tag") {
			t.Errorf("a prerelease in the repository's package.json: isError %v: %s", isErr, text)
		}
		text, isErr, _ = callTool(t, cs, "check_workflow", map[string]any{"text": goodWorkflow, "package": dir + "/package.json"})
		if isErr || !strings.Contains(text, "check-prerelease-requires-tag") {
			t.Errorf("package given: isError %v: %s", isErr, text)
		}
	})

	t.Run("diagnose_run without credentials", func(t *testing.T) {
		text, isErr, _ := callTool(t, cs, "diagnose_run", map[string]any{"url": "https://github.com/acme/widgets/actions/runs/42"})
		if !isErr || !strings.Contains(text, "GITHUB_TOKEN") || !strings.Contains(text, "pubdoc.error/v1") {
			t.Fatalf("isError %v, want an error naming GITHUB_TOKEN: %s", isErr, text)
		}
	})
}

// diagnose_run is auto mode, against a loopback GitHub and npm registry.
func TestMCPDiagnoseRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	paste, reg := seedRun(t, false)
	gh := fakeGitHub(t, fmt.Sprintf(releaseWorkflow, "\n      id-token: write", "22"), paste)
	cs := startMCP(t, "GITHUB_TOKEN=test-token", "GITHUB_API_URL="+gh.URL+"/", "PUBDOC_NPM_REGISTRY_URL="+reg.URL)

	text, isErr, _ := callTool(t, cs, "diagnose_run", map[string]any{"url": "https://github.com/acme/widgets/actions/runs/42"})
	if isErr {
		t.Fatalf("tool error: %s", text)
	}
	d := decodeDiagnosis(t, text)
	if d.Verdict != "diagnosed" || d.Diagnoses[0].ID != "oidc-npm-too-old" || d.Job != "publish" || len(d.Jobs) != 1 || d.Jobs[0].URL == "" {
		t.Fatalf("got %s %v job %q jobs %v, want diagnosed oidc-npm-too-old in job publish", d.Verdict, d.ids(), d.Job, d.Jobs)
	}
	if strings.Contains(text, "test-token") {
		t.Error("the token leaked into the answer")
	}
}
