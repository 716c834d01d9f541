package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
)

// Tools are what the MCP tools call. Each func answers with one JSON object (what the CLI
// prints with --format json) or fails with an error; ErrorJSON renders such an error as
// the JSON error envelope, which the agent receives as a tool error.
type Tools struct {
	// DiagnoseLog diagnoses a CI log's text: `pubdoc diagnose --format json`.
	DiagnoseLog func(ctx context.Context, log string) ([]byte, error)
	// DiagnoseRun diagnoses a GitHub Actions run or job URL: auto mode.
	DiagnoseRun func(ctx context.Context, url string) ([]byte, error)
	// CheckWorkflow lints one workflow: `pubdoc check --format json`.
	CheckWorkflow func(ctx context.Context, in CheckInput) ([]byte, error)
	// ErrorJSON renders a failure of the funcs above as one JSON object.
	ErrorJSON func(err error) []byte
	// KB is searched by search_causes.
	KB *knowledge.Base
	// Version is the server's version in the MCP handshake.
	Version string
	// Logger gets the server's notes; nil discards them. Never stdout: that is the
	// protocol's.
	Logger *slog.Logger
}

// CheckInput is check_workflow's input: a workflow file's path, or its text.
type CheckInput struct {
	Path    string `json:"path,omitempty" jsonschema:"path of a workflow file, e.g. .github/workflows/release.yml (give path or text)"`
	Text    string `json:"text,omitempty" jsonschema:"the workflow's YAML text (give path or text)"`
	Package string `json:"package,omitempty" jsonschema:"path of the package.json being published; default package.json in the server's working directory, read when it exists"`
}

type logInput struct {
	Log string `json:"log" jsonschema:"the CI log text of the failed publish step or job (a paste or the whole log)"`
}

type runInput struct {
	URL string `json:"url" jsonschema:"a GitHub Actions run or job URL, e.g. https://github.com/OWNER/REPO/actions/runs/123 or .../actions/runs/123/job/456"`
}

type searchInput struct {
	Words string `json:"words" jsonschema:"loose words or an error code, e.g. 'e404 token expired'"`
	Limit int    `json:"limit,omitempty" jsonschema:"at most this many rules (default 10, at most 50)"`
}

// SearchAnswer is search_causes' answer: the rules the words match, best first.
type SearchAnswer struct {
	Query string      `json:"query"`
	Rules []FoundRule `json:"rules"`
}

// FoundRule is one rule in a SearchAnswer.
type FoundRule struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Registry string `json:"registry"`
	Fix      string `json:"fix"`
}

const (
	defaultLimit = 10
	maxLimit     = 50
)

// ErrBadInput marks a tool call that the agent can fix by calling it differently (an empty
// URL, neither path nor text); ErrorJSON receives it wrapped.
var ErrBadInput = errors.New("bad input")

// Serve runs the MCP server over in and out (stdin and stdout) until the client closes
// in or ctx ends.
func Serve(ctx context.Context, t Tools, in io.Reader, out io.Writer) error {
	s, err := newServer(t)
	if err != nil {
		return err
	}
	tr := &mcp.IOTransport{Reader: io.NopCloser(in), Writer: nopWriteCloser{out}}
	if err := s.Run(ctx, tr); err != nil && ctx.Err() == nil {
		return fmt.Errorf("mcp: %w", err)
	}
	return nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func newServer(t Tools) (*mcp.Server, error) {
	if t.DiagnoseLog == nil || t.DiagnoseRun == nil || t.CheckWorkflow == nil || t.ErrorJSON == nil || t.KB == nil {
		return nil, errors.New("mcpserver: every field of Tools but Version and Logger is required")
	}
	logger := t.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	version := t.Version
	if version == "" {
		version = "(devel)"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "pubdoc", Title: "Pubdoc", Version: version}, &mcp.ServerOptions{
		Instructions: "Pubdoc explains why a package publish failed in CI (npm, PyPI, crates.io, RubyGems, " +
			"Maven Central, …). Given a failed run's URL, call diagnose_run; given a log, diagnose_log; " +
			"before publishing, check_workflow. Each answers with JSON: the verdict, the cause, the evidence " +
			"lines and the fix. Quote its fix rather than guessing.",
		Logger: logger,
	})
	h := handlers{t: t, logger: logger}
	closed := false
	open := true
	mcp.AddTool(s, &mcp.Tool{
		Name:  "diagnose_log",
		Title: "Diagnose a CI log",
		Description: "Name the cause of a failed package publish from its CI log text, with the evidence " +
			"lines, the confidence and the fix. Returns pubdoc's diagnosis JSON (schema pubdoc.diagnosis/v1): " +
			"verdict is diagnosed, inconclusive (the candidates and the checks that separate them) or " +
			"no-known-cause.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed},
	}, h.diagnoseLog)
	mcp.AddTool(s, &mcp.Tool{
		Name:  "diagnose_run",
		Title: "Diagnose a GitHub Actions run",
		Description: "Diagnose a failed GitHub Actions run or job from its URL: reads the failed jobs' logs, " +
			"the workflow at the failing commit and the registry, as `pubdoc diagnose RUN_URL` does. Needs " +
			"GITHUB_TOKEN (or a GitHub App) in the server's environment. Returns the diagnosis JSON with every " +
			"failed job under jobs.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &open},
	}, h.diagnoseRun)
	mcp.AddTool(s, &mcp.Tool{
		Name:  "check_workflow",
		Title: "Check a publish workflow",
		Description: "Predict publish failures in a GitHub Actions workflow before it runs (missing " +
			"id-token: write, an npm too old for trusted publishing, …). Give the file's path or its YAML " +
			"text. Returns pubdoc check's JSON (schema pubdoc.check/v1): findings with file, line, severity, " +
			"id, message and fix.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed},
	}, h.checkWorkflow)
	mcp.AddTool(s, &mcp.Tool{
		Name:  "search_causes",
		Title: "Search known publish failures",
		Description: "Find the publish-failure causes Pubdoc knows by loose words or an error code " +
			"('e404 token expired', 'trusted publisher'): each rule's id, title, registry and fix summary, " +
			"best match first.",
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: &closed},
	}, h.searchCauses)
	return s, nil
}

type handlers struct {
	t      Tools
	logger *slog.Logger
}

func (h handlers) diagnoseLog(ctx context.Context, _ *mcp.CallToolRequest, in logInput) (*mcp.CallToolResult, any, error) {
	return h.answer(h.t.DiagnoseLog(ctx, in.Log))
}

func (h handlers) diagnoseRun(ctx context.Context, _ *mcp.CallToolRequest, in runInput) (*mcp.CallToolResult, any, error) {
	url := strings.TrimSpace(in.URL)
	if url == "" {
		return h.answer(nil, fmt.Errorf("%w: give the URL of a GitHub Actions run or job", ErrBadInput))
	}
	return h.answer(h.t.DiagnoseRun(ctx, url))
}

func (h handlers) checkWorkflow(ctx context.Context, _ *mcp.CallToolRequest, in CheckInput) (*mcp.CallToolResult, any, error) {
	if (in.Path == "") == (strings.TrimSpace(in.Text) == "") {
		return h.answer(nil, fmt.Errorf("%w: give either path or text, not both or neither", ErrBadInput))
	}
	return h.answer(h.t.CheckWorkflow(ctx, in))
}

func (h handlers) searchCauses(_ context.Context, _ *mcp.CallToolRequest, in searchInput) (*mcp.CallToolResult, any, error) {
	if strings.TrimSpace(in.Words) == "" {
		return h.answer(nil, fmt.Errorf("%w: give some words, e.g. 'e404 token expired'", ErrBadInput))
	}
	limit := in.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	ans := SearchAnswer{Query: in.Words, Rules: []FoundRule{}}
	for _, hit := range h.t.KB.Search(in.Words, limit) {
		r := hit.Rule
		ans.Rules = append(ans.Rules, FoundRule{ID: r.ID, Title: r.Title, Registry: r.Registry, Fix: strings.TrimSpace(r.Fix.Summary)})
	}
	var buf bytes.Buffer
	if err := diagnose.WriteJSON(&buf, ans); err != nil {
		return nil, nil, err
	}
	return h.answer(buf.Bytes(), nil)
}

// answer turns a func's JSON, or its failure, into the tool's result: the JSON as text
// content and as structured content, or a tool error whose text is the error envelope.
func (h handlers) answer(js []byte, err error) (*mcp.CallToolResult, any, error) {
	if err != nil {
		h.logger.Info("tool call failed", "err", err)
		msg := h.t.ErrorJSON(err)
		if len(msg) == 0 {
			msg = []byte(err.Error())
		}
		return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: string(msg)}}}, nil, nil
	}
	if !json.Valid(js) {
		return nil, nil, errors.New("mcpserver: a tool's answer is not JSON")
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(js)}}}, json.RawMessage(js), nil
}
