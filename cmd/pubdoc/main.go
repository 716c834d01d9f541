package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
)

// Exit codes of the CLI contract.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

// usageError is an error the user can fix by calling the command differently or giving it
// other input; it exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const usage = `pubdoc — why did my package publish fail?

Usage:
  pubdoc diagnose [--format text|markdown|json] [--explain] [FILE|-|RUN_URL]
      Diagnose a CI log (text, .gz, a run's log .zip) or a GitHub Actions
      run/job URL (auto mode). Text shows the answer on one screen;
      --explain (-v) adds the facts, the reasons and every candidate's cause
      and fix.
  pubdoc check [--format text|json] [WORKFLOW.yml ...]
      Predict publish failures in workflow files (default
      .github/workflows/*.yml); exit 1 on errors.
  pubdoc kb lint                  check the knowledge base
  pubdoc kb test                  run every rule's examples and near-misses
  pubdoc kb eval [-v] [-windows] DIR...
                                  score against DIR/labels.tsv, with a
                                  reliability table
  pubdoc kb search WORDS...       find rules by loose words
  pubdoc kb docs [-o FILE]        regenerate docs/rules.md, docs/sources.md
  pubdoc kb compile [-o FILE]     regenerate knowledge/rules.gob (faster
                                  start-up)
  pubdoc serve                    the Slack bot and GitHub webhook receiver,
                                  configured by environment (docs/deploy.md)
  pubdoc mcp                      MCP server on stdio for coding agents
                                  (docs/mcp.md)
  pubdoc action                   the GitHub Action's entry (action.yml):
                                  diagnose the run or check workflows, from
                                  INPUT_* variables
  pubdoc version                  print the version, commit, build date and
                                  rule count

Environment: NO_COLOR disables colour; PUBDOC_LOG_LEVEL=warn|info|debug logs
to stderr. Auto mode: GITHUB_TOKEN (or GITHUB_APP_ID +
GITHUB_APP_PRIVATE_KEY[_FILE]), GITHUB_API_URL for GitHub Enterprise Server;
PUBDOC_NPM_REGISTRY_URL and NPM_TOKEN for registry look-ups (optional).
`

func main() {
	if os.Getenv("GOGC") == "" && (len(os.Args) < 2 || os.Args[1] != "serve") {
		// A one-shot command allocates a few MB while it loads the knowledge base and is
		// gone soon after: collecting at twice the live heap instead of at the same size
		// saves a third of a small diagnosis' wall time; a 100 MB log still peaks under
		// 50 MiB. The long-running server keeps Go's default.
		debug.SetGCPercent(200)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger := newLogger(stderr)
	err := dispatch(args, stdin, stdout, stderr, logger)
	if err == nil {
		return exitOK
	}
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(stderr, "pubdoc: %s\n", msg)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var ce codeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitRuntime
}

// codeError carries a specific exit code (kb test and kb lint exit 1 on findings).
type codeError struct {
	error
	code int
}

func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	if len(args) > 1 && wantsHelp(args[1:]) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "diagnose":
		return cmdDiagnose(args[1:], stdin, stdout, logger)
	case "kb":
		return cmdKB(args[1:], stdout, logger)
	case "check":
		return cmdCheck(args[1:], stdout)
	case "serve":
		return cmdServe(args[1:])
	case "action":
		return cmdAction(args[1:], stdin, stdout, stderr, logger)
	case "mcp":
		return cmdMCP(args[1:], stdin, stdout, logger)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "--version":
		return cmdVersion(stdout)
	}
	fmt.Fprint(stderr, usage)
	return usagef("unknown command %q", args[0])
}

// wantsHelp reports whether a subcommand was asked for help rather than work.
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

func newLogger(w io.Writer) *slog.Logger {
	// A CLI answers on stdout and fails with one line on stderr; the adapters' progress
	// notes (fallbacks, retries) are for PUBDOC_LOG_LEVEL=warn|info|debug.
	level := slog.LevelError
	switch strings.ToLower(os.Getenv("PUBDOC_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
