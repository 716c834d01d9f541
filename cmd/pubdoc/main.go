package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/pubdoc/pubdoc/internal/config"
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

func main() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" && oneShot(os.Args[1:]) {
		// A one-shot command allocates ~20 MB while it loads the knowledge base and is gone
		// soon after; a 100 MB log adds ~12 MB (the scanner reuses its buffers). Collecting
		// during that is a third of a small diagnosis' wall time, so one-shot commands
		// collect only when the heap nears oneShotHeap. The long-running server and MCP
		// server keep Go's default.
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(oneShotHeap)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// oneShotHeap is the heap from which a one-shot command collects garbage.
const oneShotHeap = 256 << 20

// oneShot reports whether the command runs once and exits (everything but serve and mcp).
func oneShot(args []string) bool {
	return len(args) == 0 || args[0] != "serve" && args[0] != "mcp"
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	logger, err := newLogger(stderr, os.Getenv("PUBDOC_LOG_LEVEL"))
	if err == nil {
		err = dispatch(args, stdin, stdout, stderr, logger)
	}
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

// newLogger is the CLI's logger, at the level PUBDOC_LOG_LEVEL names (the one parser,
// internal/config's); an invalid level stops the command with one line (exit 2).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	// A CLI answers on stdout and fails with one line on stderr; the adapters' progress
	// notes (fallbacks, retries) are for PUBDOC_LOG_LEVEL=warn|info|debug.
	l := slog.LevelError
	if strings.TrimSpace(level) != "" {
		var err error
		if l, err = config.ParseLogLevel(level); err != nil {
			return nil, usagef("%v", err)
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
