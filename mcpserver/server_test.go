package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pubdoc/pubdoc/knowledge"
)

// fake records the calls the tools make and answers them as set.
type fake struct {
	mu    sync.Mutex
	calls []string
	check CheckInput
	err   error
}

func (f *fake) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fake) tools(t *testing.T) Tools {
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	return Tools{
		DiagnoseLog: func(_ context.Context, log string) ([]byte, error) {
			if err := f.record("log:" + log); err != nil {
				return nil, err
			}
			return []byte(`{"schema": "pubdoc.diagnosis/v1", "verdict": "diagnosed"}` + "\n"), nil
		},
		DiagnoseRun: func(_ context.Context, url string) ([]byte, error) {
			if err := f.record("run:" + url); err != nil {
				return nil, err
			}
			return []byte(`{"schema": "pubdoc.diagnosis/v1", "jobs": []}`), nil
		},
		CheckWorkflow: func(_ context.Context, in CheckInput) ([]byte, error) {
			f.mu.Lock()
			f.check = in
			f.mu.Unlock()
			if err := f.record("check"); err != nil {
				return nil, err
			}
			return []byte(`{"schema": "pubdoc.check/v1", "findings": []}`), nil
		},
		ErrorJSON: func(err error) []byte {
			code := "runtime"
			if errors.Is(err, ErrBadInput) {
				code = "usage"
			}
			b, _ := json.Marshal(map[string]any{"schema": "pubdoc.error/v1", "error": map[string]string{"code": code, "message": err.Error()}})
			return b
		},
		KB:      kb,
		Version: "v1.2.3",
	}
}

// connect runs the server on in-memory transports and returns a client session.
func connect(t *testing.T, tools Tools) *mcp.ClientSession {
	t.Helper()
	s, err := newServer(tools)
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close(); _ = ss.Wait() })
	return cs
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any) (string, *mcp.CallToolResult) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d content blocks", name, len(res.Content))
	}
	return res.Content[0].(*mcp.TextContent).Text, res
}

func TestToolsPassTheirInputAndAnswerWithTheJSON(t *testing.T) {
	f := &fake{}
	cs := connect(t, f.tools(t))
	if v := cs.InitializeResult().ServerInfo; v.Name != "pubdoc" || v.Version != "v1.2.3" {
		t.Errorf("server info %+v", v)
	}

	text, res := call(t, cs, "diagnose_log", map[string]any{"log": "npm error code E404"})
	if res.IsError || text != `{"schema": "pubdoc.diagnosis/v1", "verdict": "diagnosed"}`+"\n" {
		t.Errorf("diagnose_log: isError %v, text %q", res.IsError, text)
	}
	sc, _ := json.Marshal(res.StructuredContent)
	if string(sc) != `{"schema":"pubdoc.diagnosis/v1","verdict":"diagnosed"}` {
		t.Errorf("structured content %s", sc)
	}
	if _, res := call(t, cs, "diagnose_run", map[string]any{"url": "  https://github.com/a/b/actions/runs/1 "}); res.IsError {
		t.Error("diagnose_run failed")
	}
	if _, res := call(t, cs, "check_workflow", map[string]any{"text": "on: push", "package": "pkg/package.json"}); res.IsError {
		t.Error("check_workflow failed")
	}
	want := []string{"log:npm error code E404", "run:https://github.com/a/b/actions/runs/1", "check"}
	if fmt.Sprint(f.calls) != fmt.Sprint(want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
	if f.check != (CheckInput{Text: "on: push", Package: "pkg/package.json"}) {
		t.Errorf("check input %+v", f.check)
	}
}

func TestFailuresAreToolErrors(t *testing.T) {
	f := &fake{}
	cs := connect(t, f.tools(t))
	for _, c := range []struct {
		tool string
		args map[string]any
		code string
	}{
		{"diagnose_run", map[string]any{"url": " "}, "usage"},
		{"check_workflow", map[string]any{}, "usage"},
		{"check_workflow", map[string]any{"path": "a.yml", "text": "on: push"}, "usage"},
		{"search_causes", map[string]any{"words": ""}, "usage"},
	} {
		text, res := call(t, cs, c.tool, c.args)
		if !res.IsError || res.StructuredContent != nil || !strings.Contains(text, `"code":"`+c.code+`"`) {
			t.Errorf("%s %v: isError %v, structured %v, text %s", c.tool, c.args, res.IsError, res.StructuredContent, text)
		}
	}
	f.mu.Lock()
	if len(f.calls) != 0 {
		t.Errorf("bad input reached the CLI: %q", f.calls)
	}
	f.mu.Unlock()

	// A failure of the code path is the error envelope ErrorJSON renders.
	f.mu.Lock()
	f.err = errors.New("GitHub client: no GitHub credentials: set GITHUB_TOKEN")
	f.mu.Unlock()
	text, res := call(t, cs, "diagnose_run", map[string]any{"url": "https://github.com/a/b/actions/runs/1"})
	if !res.IsError || !strings.Contains(text, `"code":"runtime"`) || !strings.Contains(text, "set GITHUB_TOKEN") {
		t.Errorf("isError %v, text %s", res.IsError, text)
	}
	// The schema rejects a missing required field before the handler runs.
	if _, res := call(t, cs, "diagnose_log", map[string]any{}); !res.IsError {
		t.Error("diagnose_log without log was accepted")
	}
}

func TestSearchCauses(t *testing.T) {
	cs := connect(t, (&fake{}).tools(t))
	text, res := call(t, cs, "search_causes", map[string]any{"words": "token expired", "limit": 2})
	var ans SearchAnswer
	if err := json.Unmarshal([]byte(text), &ans); res.IsError || err != nil {
		t.Fatalf("isError %v, %v: %s", res.IsError, err, text)
	}
	if ans.Query != "token expired" || len(ans.Rules) != 2 {
		t.Fatalf("want 2 rules for the query: %+v", ans)
	}
	ids := []string{ans.Rules[0].ID, ans.Rules[1].ID}
	if !strings.Contains(strings.Join(ids, " "), "token-expired-or-revoked") {
		t.Errorf("token-expired-or-revoked not in the top two: %v", ids)
	}
	for _, r := range ans.Rules {
		if r.Title == "" || r.Registry == "" || r.Fix == "" {
			t.Errorf("rule without title, registry or fix: %+v", r)
		}
	}
	text, _ = call(t, cs, "search_causes", map[string]any{"words": "zzqxv"})
	if err := json.Unmarshal([]byte(text), &ans); err != nil || ans.Rules == nil || len(ans.Rules) != 0 {
		t.Errorf("no match should be an empty list: %s", text)
	}
	text, _ = call(t, cs, "search_causes", map[string]any{"words": "npm", "limit": 1000})
	if err := json.Unmarshal([]byte(text), &ans); err != nil || len(ans.Rules) > maxLimit {
		t.Errorf("limit not capped: %d rules", len(ans.Rules))
	}
}

func TestToolList(t *testing.T) {
	cs := connect(t, (&fake{}).tools(t))
	list, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	required := map[string][]string{"diagnose_log": {"log"}, "diagnose_run": {"url"}, "check_workflow": nil, "search_causes": {"words"}}
	for _, tool := range list.Tools {
		want, ok := required[tool.Name]
		if !ok {
			t.Errorf("unexpected tool %s", tool.Name)
			continue
		}
		delete(required, tool.Name)
		b, _ := json.Marshal(tool.InputSchema)
		var s struct {
			Required []string `json:"required"`
		}
		_ = json.Unmarshal(b, &s)
		if len(s.Required)+len(want) > 0 && fmt.Sprint(s.Required) != fmt.Sprint(want) {
			t.Errorf("%s requires %v, want %v", tool.Name, s.Required, want)
		}
		if tool.Annotations == nil || !tool.Annotations.ReadOnlyHint {
			t.Errorf("%s is not marked read-only", tool.Name)
		}
	}
	if len(required) != 0 {
		t.Errorf("missing tools %v", required)
	}
}

func TestNewServerWantsEveryTool(t *testing.T) {
	tools := (&fake{}).tools(t)
	tools.DiagnoseRun = nil
	if _, err := newServer(tools); err == nil {
		t.Error("a missing tool func was accepted")
	}
}
