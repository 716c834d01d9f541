package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/ghaction"
)

// errFindings makes `pubdoc check` exit 1 when a finding is an error, so it can gate CI.
var errFindings = codeError{fmt.Errorf("check: the workflow will fail to publish (see the errors above)"), exitRuntime}

// checkOptions are check's flags.
type checkOptions struct {
	format string
	pkg    string
}

func cmdCheck(opt checkOptions, args []string, stdout io.Writer) (err error) {
	if err := checkFormat("check", opt.format, "text", "json", "markdown", "sarif", "github"); err != nil {
		return err
	}
	defer func() { writeJSONError(stdout, opt.format, err) }()
	paths := args
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	files, err := workflowFiles("check", paths)
	if err != nil {
		return err
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
	if src, err := os.ReadFile(opt.pkg); err == nil {
		if pkg, err = workflow.ParsePackage(opt.pkg, src); err != nil {
			return usagef("check: %v", err)
		}
	}
	// Callers and the reusable workflows they call are judged together.
	all := workflow.CheckAll(wfs, pkg)
	if all == nil {
		all = []workflow.Finding{}
	}
	givenPaths(all, wfs)
	errs := 0
	for _, f := range all {
		if f.Severity == "error" {
			errs++
		}
	}
	if err := writeFindings(stdout, opt.format, all, files, errs); err != nil {
		return err
	}
	if errs > 0 {
		return errFindings
	}
	return nil
}

// writeFindings prints check's answer in one of its formats. SARIF and the workflow
// commands are internal/ghaction's, the same the GitHub Action writes.
func writeFindings(w io.Writer, format string, all []workflow.Finding, files []string, errs int) error {
	switch format {
	case "json":
		return diagnose.WriteJSON(w, checkAnswer{Schema: diagnose.SchemaCheck, Findings: all})
	case "sarif":
		v, _, _ := buildVersion()
		return ghaction.CheckSARIF(all, v, repoPath).Write(w)
	case "github":
		return ghaction.WriteAnnotations(w, ghaction.CheckAnnotations(all, repoPath))
	case "markdown":
		same := func(s string) string { return s }
		_, err := io.WriteString(w, checkSummary(all, files, same, errs, len(all)-errs))
		return err
	}
	for _, f := range all {
		fmt.Fprintf(w, "%s:%d: %s [%s] %s\n", f.File, f.Line, f.Severity, f.ID, f.Message)
		if f.Fix != "" {
			fmt.Fprintf(w, "    fix: %s\n", indent(f.Fix, "         "))
		}
		if f.Snippet != "" {
			fmt.Fprintf(w, "         %s\n", indent(strings.TrimRight(f.Snippet, "\n"), "         "))
		}
	}
	fmt.Fprintf(w, "%d workflow file(s), %d finding(s)\n", len(files), len(all))
	return nil
}

// repoPath is a finding's file for SARIF and annotations, relative to the repository root
// (%SRCROOT%): a relative path as given, an absolute one made relative to the working
// directory when it lies under it.
func repoPath(p string) string {
	if filepath.IsAbs(p) {
		if wd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
				p = rel
			}
		}
	}
	return strings.TrimPrefix(filepath.ToSlash(filepath.Clean(p)), "./")
}

// workflowFiles expands directories to the workflow files in them (*.yml, *.yaml, sorted);
// files are kept as given. cmd prefixes the messages.
func workflowFiles(cmd string, paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, usagef("%s: cannot read %s: %v", cmd, p, unwrapPath(err))
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		var in []string
		for _, pat := range []string{"*.yml", "*.yaml"} {
			m, _ := filepath.Glob(filepath.Join(p, pat))
			in = append(in, m...)
		}
		slices.Sort(in)
		files = append(files, in...)
	}
	if len(files) == 0 {
		return nil, usagef("%s: no workflow files (*.yml, *.yaml) in %s", cmd, strings.Join(paths, ", "))
	}
	return files, nil
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
