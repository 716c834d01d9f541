package main

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"golang.org/x/term"

	"github.com/pubdoc/pubdoc/bot/gha"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/mmapfile"
	"github.com/pubdoc/pubdoc/knowledge"
)

// maxSpool bounds how much of stdin is spooled to disk when a zip arrives on a pipe (zip
// needs random access).
const maxSpool = 2 << 30

// diagnoseOptions are diagnose's flags.
type diagnoseOptions struct {
	format  string
	explain bool
	repo    string
}

// pastePrompt is said on stderr before reading a terminal's stdin, which would otherwise
// wait in silence.
const pastePrompt = "pubdoc: paste the log, then Ctrl-D (Ctrl-Z Enter on Windows)\n"

// stdinIsTerminal reports whether r is an interactive terminal (a variable for tests).
var stdinIsTerminal = func(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func cmdDiagnose(opt diagnoseOptions, args []string, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) (err error) {
	if err := checkFormat("diagnose", opt.format, "text", "markdown", "json"); err != nil {
		return err
	}
	defer func() { writeJSONError(stdout, opt.format, err) }()
	if len(args) > 1 {
		return usagef("diagnose: one input at a time (got %d)", len(args))
	}
	name := "-"
	if len(args) == 1 {
		name = args[0]
	}
	// The engine is built when the input needs it: a big log file is mapped on one core
	// while the knowledge base loads and the automata are built on the other.
	engine := sync.OnceValues(func() (*diagnose.Engine, error) { return newEngine(logger) })
	var results []*diagnose.Result
	switch {
	case opt.repo != "" || isRunID(name):
		results, err = withEngine(engine, func(eng *diagnose.Engine) ([]*diagnose.Result, error) {
			return diagnoseRunID(eng, opt.repo, name, logger)
		})
	case isRunURL(name):
		results, err = withEngine(engine, func(eng *diagnose.Engine) ([]*diagnose.Result, error) {
			return diagnoseRun(eng, name, logger)
		})
	case gha.IsPullURL(name):
		results, err = withEngine(engine, func(eng *diagnose.Engine) ([]*diagnose.Result, error) {
			return diagnosePull(eng, name, logger)
		})
	default:
		if name == "-" && stdinIsTerminal(stdin) {
			fmt.Fprint(stderr, pastePrompt)
		}
		results, err = diagnoseInput(engine, name, stdin)
	}
	if err != nil {
		return err
	}
	return render(stdout, results, opt.format, diagnose.TextOptions{Color: useColor(stdout), Width: termWidth(stdout), Explain: opt.explain})
}

// newEngine loads the knowledge base and builds the engine.
func newEngine(logger *slog.Logger) (*diagnose.Engine, error) {
	kb, err := knowledge.Load()
	if err != nil {
		return nil, fmt.Errorf("loading knowledge base: %w", err)
	}
	eng, err := diagnose.New(kb, logger, diagnose.Options{})
	if err != nil {
		return nil, fmt.Errorf("building engine: %w", err)
	}
	return eng, nil
}

func withEngine(engine func() (*diagnose.Engine, error), diagnoseWith func(*diagnose.Engine) ([]*diagnose.Result, error)) ([]*diagnose.Result, error) {
	eng, err := engine()
	if err != nil {
		return nil, err
	}
	return diagnoseWith(eng)
}

// diagnoseInput opens a file or stdin and diagnoses it: one result for a log, one per failed
// job for a run's log zip.
func diagnoseInput(engine func() (*diagnose.Engine, error), name string, stdin io.Reader) ([]*diagnose.Result, error) {
	in := stdin
	var file *os.File
	var size int64 // of a regular file, else 0
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, withCode(diagnose.ErrCodeUnreadable, usagef("cannot read %s: %v", name, unwrapPath(err)))
		}
		defer func() { _ = f.Close() }() // read-only: nothing to flush
		st, err := f.Stat()
		if err == nil && st.IsDir() {
			return nil, withCode(diagnose.ErrCodeUnreadable, usagef("%s is a directory, not a log file", name))
		}
		if err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in, file = f, f
	}
	br := bufio.NewReaderSize(in, 64<<10)
	head, _ := br.Peek(4)
	if diagnose.Sniff(head) == diagnose.KindZip {
		return withEngine(engine, func(eng *diagnose.Engine) ([]*diagnose.Result, error) {
			return diagnoseZip(eng, name, br, file)
		})
	}
	if size >= mapMin && diagnose.Sniff(head) == diagnose.KindText {
		if results, ok, err := diagnoseMapped(engine, name, file, size); ok {
			return results, err
		}
	}
	eng, err := engine()
	if err != nil {
		return nil, err
	}
	text, _, err := diagnose.TextReader(br)
	if err != nil {
		return nil, withCode(diagnose.ErrCodeUnreadable, usagef("%s: %v", display(name), err))
	}
	res, err := eng.Diagnose(text)
	if err != nil {
		return nil, inputError(name, err)
	}
	return []*diagnose.Result{res}, nil
}

// diagnoseMapped diagnoses a big text file in place, mapped. The engine and its automata
// are made ready on another core while the file is mapped and scanned with the prebuilt
// triggers (diagnose.PrescanBytes). ok is false when the file could not be mapped here:
// then it is read as a stream.
func diagnoseMapped(engine func() (*diagnose.Engine, error), name string, file *os.File, size int64) (results []*diagnose.Result, ok bool, err error) {
	ready := make(chan struct{})
	go func() {
		defer close(ready)
		if eng, err := engine(); err == nil {
			eng.Prepare()
		}
	}()
	m, unmap, err := mmapfile.Map(file, size)
	if err != nil {
		<-ready
		return nil, false, nil // not mappable here: read it
	}
	// Once the scan has copied the lines it keeps, the file is unmapped on another core
	// while they are analyzed: tearing down 100 MB of mapping takes ~5 ms.
	unmapped := make(chan struct{})
	release := sync.OnceFunc(func() {
		go func() {
			defer close(unmapped)
			_ = unmap()
		}()
	})
	defer func() {
		release()
		<-unmapped
	}()
	pre := diagnose.PrescanBytes(m)
	<-ready
	eng, err := engine()
	if err != nil {
		return nil, true, err
	}
	res, err := eng.DiagnosePrescanned(pre, m, release)
	if err != nil {
		return nil, true, inputError(name, err)
	}
	return []*diagnose.Result{res}, true, nil
}

// mapMin is the size from which a plain-text log file is mapped and scanned in place
// rather than read through a buffer: below it the copy costs less than the mapping.
const mapMin = 4 << 20

func diagnoseZip(eng *diagnose.Engine, name string, br *bufio.Reader, file *os.File) ([]*diagnose.Result, error) {
	var ra io.ReaderAt
	var size int64
	if file != nil {
		st, err := file.Stat()
		if err != nil {
			return nil, fmt.Errorf("stat %s: %w", name, err)
		}
		ra, size = file, st.Size()
	} else {
		tmp, err := os.CreateTemp("", "pubdoc-*.zip")
		if err != nil {
			return nil, fmt.Errorf("spooling zip from stdin: %w", err)
		}
		defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
		n, err := io.Copy(tmp, io.LimitReader(br, maxSpool+1))
		if err != nil {
			return nil, fmt.Errorf("spooling zip from stdin: %w", err)
		}
		if n > maxSpool {
			return nil, withCode(diagnose.ErrCodeTooLarge, usagef("zip on stdin is larger than %d bytes", int64(maxSpool)))
		}
		ra, size = tmp, n
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, withCode(diagnose.ErrCodeUnreadable, usagef("%s: not a readable zip: %v", display(name), err))
	}
	results, err := eng.DiagnoseZip(zr)
	if errors.Is(err, diagnose.ErrNoJobs) {
		return nil, withCode(diagnose.ErrCodeEmpty, usagef("%s: every job log in the zip is empty", display(name)))
	}
	if err != nil {
		return nil, inputError(name, err)
	}
	return results, nil
}

func inputError(name string, err error) error {
	if errors.Is(err, diagnose.ErrEmpty) || errors.Is(err, diagnose.ErrBinary) || errors.Is(err, diagnose.ErrTooLarge) {
		return withCode(errorCode(err), usagef("%s: %v", display(name), err))
	}
	return fmt.Errorf("%s: %w", display(name), err)
}

func display(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func render(w io.Writer, results []*diagnose.Result, format string, opt diagnose.TextOptions) error {
	if format == "json" {
		return writeAnswer(w, results)
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		var err error
		if format == "markdown" {
			err = diagnose.RenderMarkdown(w, r)
		} else {
			err = diagnose.RenderText(w, r, opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// termWidth is the terminal's width in columns, or diagnose.DefaultWidth when w is not a
// terminal.
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return diagnose.DefaultWidth
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width <= 0 {
		return diagnose.DefaultWidth
	}
	return width
}

// useColor is true only for a terminal, and never when NO_COLOR is set (no-color.org).
func useColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
