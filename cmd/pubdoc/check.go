package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
)

// errFindings makes `pubdoc check` exit 1 when a finding is an error, so it can gate CI.
var errFindings = codeError{fmt.Errorf("check: the workflow will fail to publish (see the errors above)"), exitRuntime}

func cmdCheck(args []string, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	format := fs.String("format", "text", "output format: text or json")
	pkgPath := fs.String("package", "package.json", "the package.json being published (read when it exists)")
	if err := fs.Parse(args); err != nil {
		return usagef("check: %v", err)
	}
	if *format != "text" && *format != "json" {
		return usagef("check: --format must be text or json, not %q", *format)
	}
	defer func() { writeJSONError(stdout, *format, err) }()
	files := fs.Args()
	if len(files) == 0 {
		for _, pat := range []string{".github/workflows/*.yml", ".github/workflows/*.yaml"} {
			m, _ := filepath.Glob(pat)
			files = append(files, m...)
		}
		sort.Strings(files)
		if len(files) == 0 {
			return usagef("check: no workflow files given and none in .github/workflows")
		}
	}
	var wfs []*workflow.Workflow
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return usagef("check: cannot read %s: %v", f, unwrapPath(err))
		}
		wf, err := workflow.Parse(f, src)
		if err != nil {
			return usagef("check: %v", err)
		}
		wfs = append(wfs, wf)
	}
	var pkg *workflow.Package
	if src, err := os.ReadFile(*pkgPath); err == nil {
		if pkg, err = workflow.ParsePackage(*pkgPath, src); err != nil {
			return usagef("check: %v", err)
		}
	}
	// Callers and the reusable workflows they call are judged together.
	all := workflow.CheckAll(wfs, pkg)
	if all == nil {
		all = []workflow.Finding{}
	}
	givenPaths(all, wfs)
	failed := false
	for _, f := range all {
		failed = failed || f.Severity == "error"
	}
	if *format == "json" {
		if err := diagnose.WriteJSON(stdout, checkAnswer{Schema: diagnose.SchemaCheck, Findings: all}); err != nil {
			return err
		}
	} else {
		for _, f := range all {
			fmt.Fprintf(stdout, "%s:%d: %s [%s] %s\n", f.File, f.Line, f.Severity, f.ID, f.Message)
			if f.Fix != "" {
				fmt.Fprintf(stdout, "    fix: %s\n", indent(f.Fix, "         "))
			}
			if f.Snippet != "" {
				fmt.Fprintf(stdout, "         %s\n", indent(strings.TrimRight(f.Snippet, "\n"), "         "))
			}
		}
		fmt.Fprintf(stdout, "%d workflow file(s), %d finding(s)\n", len(files), len(all))
	}
	if failed {
		return errFindings
	}
	return nil
}

func indent(s, pad string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' && i+1 < len(s) {
			out = append(out, pad...)
		}
	}
	return string(out)
}
