package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/knowledge"
	"github.com/pubdoc/pubdoc/mcpserver"
)

// cmdMCP is `pubdoc mcp`: the Model Context Protocol server on stdin and stdout
// (docs/mcp.md). Its tools call the CLI's own code paths and answer with the JSON that
// --format json prints, so an agent reads what a person piping to jq reads.
func cmdMCP(args []string, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return usagef("mcp: %v", err)
	}
	if fs.NArg() > 0 {
		return usagef("mcp: no arguments; an MCP client starts it and speaks on stdin and stdout")
	}
	// diagnose_run reads the configuration: an invalid value stops the start, not a call.
	if _, err := loadConfig(); err != nil {
		return err
	}
	kb, err := knowledge.Load()
	if err != nil {
		return fmt.Errorf("loading knowledge base: %w", err)
	}
	eng, err := diagnose.New(kb, logger, diagnose.Options{Eager: true})
	if err != nil {
		return fmt.Errorf("building engine: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return mcpserver.Serve(ctx, mcpTools(kb, eng, logger), stdin, stdout)
}

// mcpTools binds the MCP tools to the CLI's code paths.
func mcpTools(kb *knowledge.Base, eng *diagnose.Engine, logger *slog.Logger) mcpserver.Tools {
	return mcpserver.Tools{
		DiagnoseLog: func(_ context.Context, log string) ([]byte, error) {
			text, _, err := diagnose.TextReader(strings.NewReader(log))
			if err != nil {
				return nil, withCode(diagnose.ErrCodeUnreadable, usagef("the log: %v", err))
			}
			res, err := eng.Diagnose(text)
			if err != nil {
				return nil, inputError("the log", err)
			}
			return answerJSON([]*diagnose.Result{res})
		},
		DiagnoseRun: func(_ context.Context, url string) ([]byte, error) {
			if !isRunURL(url) {
				return nil, usagef("%q is not a GitHub Actions run or job URL "+
					"(https://github.com/OWNER/REPO/actions/runs/ID)", url)
			}
			// Auto mode bounds itself (two minutes); it does not take the call's context.
			results, err := diagnoseRun(eng, url, logger)
			if err != nil {
				return nil, err
			}
			return answerJSON(results)
		},
		CheckWorkflow: checkWorkflowJSON,
		ErrorJSON: func(err error) []byte {
			if errors.Is(err, mcpserver.ErrBadInput) {
				err = usagef("%v", err)
			}
			var buf bytes.Buffer
			writeJSONError(&buf, "json", err)
			return buf.Bytes()
		},
		KB:      kb,
		Version: mcpVersion(),
		Logger:  logger,
	}
}

func answerJSON(results []*diagnose.Result) ([]byte, error) {
	var buf bytes.Buffer
	if err := writeAnswer(&buf, results); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkWorkflowJSON is `pubdoc check --format json` on one workflow, given by path or
// text; findings are the answer, not a failure. The package.json read is in.Package, else
// the one at the root of the repository the path is in, else ./package.json.
func checkWorkflowJSON(_ context.Context, in mcpserver.CheckInput) ([]byte, error) {
	name, src := in.Path, []byte(in.Text)
	if in.Path != "" {
		var err error
		if src, err = os.ReadFile(in.Path); err != nil {
			return nil, withCode(diagnose.ErrCodeUnreadable, usagef("cannot read %s: %v", in.Path, unwrapPath(err)))
		}
	} else {
		name = "workflow.yml"
	}
	wf, err := workflow.Parse(name, src)
	if err != nil {
		return nil, usagef("check: %v", err)
	}
	pkgPath := in.Package
	if pkgPath == "" {
		pkgPath = "package.json"
		slash := filepath.ToSlash(in.Path)
		if i := strings.Index("/"+slash, "/.github/workflows/"); in.Path != "" && i >= 0 {
			pkgPath = filepath.Join(filepath.FromSlash(slash[:i]), "package.json")
		}
	}
	var pkg *workflow.Package
	if src, err := os.ReadFile(pkgPath); err == nil {
		if pkg, err = workflow.ParsePackage(pkgPath, src); err != nil {
			return nil, usagef("check: %v", err)
		}
	} else if in.Package != "" {
		return nil, withCode(diagnose.ErrCodeUnreadable, usagef("cannot read %s: %v", in.Package, unwrapPath(err)))
	}
	all := workflow.CheckAll([]*workflow.Workflow{wf}, pkg)
	if all == nil {
		all = []workflow.Finding{}
	}
	var buf bytes.Buffer
	if err := diagnose.WriteJSON(&buf, checkAnswer{Schema: diagnose.SchemaCheck, Findings: all}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mcpVersion is the version the server gives in the MCP handshake.
func mcpVersion() string {
	v, _, _ := buildVersion()
	return v
}
