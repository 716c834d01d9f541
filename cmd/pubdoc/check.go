package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/patch"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/ghaction"
)

// errFindings makes `pubdoc check` exit 1 when a finding is an error, so it can gate CI.
var errFindings = codeError{fmt.Errorf("check: the workflow will fail to publish (see the errors above)"), exitRuntime}

// checkOptions are check's flags.
type checkOptions struct {
	format string
	pkg    string
	fix    bool // apply the fixes to the files
	diff   bool // print the fixes as a unified diff, write nothing
}

func cmdCheck(opt checkOptions, args []string, stdout io.Writer) (err error) {
	if err := checkFormat("check", opt.format, "text", "json", "markdown", "sarif", "github"); err != nil {
		return err
	}
	defer func() { writeJSONError(stdout, opt.format, err) }()
	if opt.fix && opt.diff {
		return usagef("check: --fix writes the fixes, --diff prints them: give one")
	}
	if opt.diff && opt.format != "text" && opt.format != "json" {
		return usagef("check: --diff prints a unified diff (--format text) or the JSON answer with it (--format json), not %s", opt.format)
	}
	paths := args
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	files, err := workflowFiles("check", paths)
	if err != nil {
		return err
	}
	srcs, pkgSrc, err := readCheckFiles(files, opt.pkg)
	if err != nil {
		return err
	}
	var fixed *patch.Result
	if opt.fix || opt.diff {
		if fixed, err = fixFiles(files, srcs, opt.pkg, pkgSrc, opt.fix); err != nil {
			return err
		}
		if opt.diff && opt.format == "text" {
			_, err := io.WriteString(stdout, fixed.Diff())
			return err
		}
		if p, ok := srcs[opt.pkg]; ok {
			pkgSrc = p
		}
	}
	all, wfs, err := checkSources(files, srcs, opt.pkg, pkgSrc)
	if err != nil {
		return err
	}
	errs := 0
	for _, f := range all {
		if f.Severity == "error" {
			errs++
		}
	}
	if fixed != nil {
		givenPaths(fixed.Fixed, wfs)
		if err := writeFixed(stdout, opt, fixed, all); err != nil {
			return err
		}
	}
	if opt.format != "json" || fixed == nil {
		if err := writeFindings(stdout, opt.format, all, files, errs); err != nil {
			return err
		}
	}
	if errs > 0 && !opt.diff {
		return errFindings
	}
	return nil
}

// readCheckFiles reads the workflow files (each must parse) and the package.json, which
// is read when it exists; nil when it does not.
func readCheckFiles(files []string, pkgPath string) (map[string][]byte, []byte, error) {
	srcs := map[string][]byte{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, usagef("check: cannot read %s: %v", f, unwrapPath(err))
		}
		if _, err := workflow.Parse(f, src); err != nil {
			return nil, nil, usagef("check: %v", err)
		}
		srcs[f] = src
	}
	pkgSrc, err := os.ReadFile(pkgPath)
	if err != nil {
		return srcs, nil, nil
	}
	if _, err := workflow.ParsePackage(pkgPath, pkgSrc); err != nil {
		return nil, nil, usagef("check: %v", err)
	}
	return srcs, pkgSrc, nil
}

// checkSources checks the files together (callers with the reusable workflows they
// call), each finding named by the path given.
func checkSources(files []string, srcs map[string][]byte, pkgPath string, pkgSrc []byte) ([]workflow.Finding, []*workflow.Workflow, error) {
	var wfs []*workflow.Workflow
	for _, f := range files {
		wf, err := workflow.Parse(f, srcs[f])
		if err != nil {
			return nil, nil, usagef("check: %v", err)
		}
		wf.Repo = os.Getenv("GITHUB_REPOSITORY") // in Actions: GitHub Packages' scope is its owner
		wfs = append(wfs, wf)
	}
	var pkg *workflow.Package
	if pkgSrc != nil {
		var err error
		if pkg, err = workflow.ParsePackage(pkgPath, pkgSrc); err != nil {
			return nil, nil, usagef("check: %v", err)
		}
	}
	all := workflow.CheckAll(wfs, pkg)
	if all == nil {
		all = []workflow.Finding{}
	}
	givenPaths(all, wfs)
	return all, wfs, nil
}

// fixFiles makes the fixes of the findings (diagnose/patch) and, when write, writes the
// changed files and updates srcs (by path as given; package.json under pkgPath). The diff
// names each file by its path from the repository root (repoPath), so `git apply` at the
// root applies it.
func fixFiles(files []string, srcs map[string][]byte, pkgPath string, pkgSrc []byte, write bool) (*patch.Result, error) {
	in := patch.Input{Repo: os.Getenv("GITHUB_REPOSITORY")}
	real := map[string]string{}
	for _, f := range files {
		rp := repoPath(f)
		real[rp] = f
		in.Workflows = append(in.Workflows, patch.File{Path: rp, Src: srcs[f]})
	}
	if pkgSrc != nil {
		rp := repoPath(pkgPath)
		real[rp] = pkgPath
		in.Package = &patch.File{Path: rp, Src: pkgSrc}
	}
	res, err := patch.Fix(in)
	if err != nil {
		return nil, fmt.Errorf("check: fixing: %w", err)
	}
	for _, c := range res.Changes {
		if !write {
			break
		}
		f := real[c.Path]
		srcs[f] = c.After
		mode := os.FileMode(0o644)
		if st, err := os.Stat(f); err == nil {
			mode = st.Mode().Perm()
		}
		if err := os.WriteFile(f, c.After, mode); err != nil {
			return nil, fmt.Errorf("check: writing the fix of %s: %w", f, err)
		}
	}
	return res, nil
}

// writeFixed says what --fix changed (text and markdown: one line per fixed finding, before
// the report of what is left), or writes --fix's and --diff's JSON answer: the findings
// left, the fixed ones and the patch.
func writeFixed(w io.Writer, opt checkOptions, res *patch.Result, left []workflow.Finding) error {
	if opt.format == "json" {
		return diagnose.WriteJSON(w, checkAnswer{Schema: diagnose.SchemaCheck, Findings: left, Fixed: nonNilFindings(res.Fixed), Patch: res.Diff()})
	}
	if opt.format != "text" && opt.format != "markdown" {
		return nil
	}
	for _, f := range res.Fixed {
		fmt.Fprintf(w, "fixed %s:%d [%s] %s\n", f.File, f.Line, f.ID, f.Fix)
	}
	if len(res.Changes) == 0 {
		fmt.Fprintln(w, "nothing to fix in the files")
	}
	return nil
}

func nonNilFindings(fs []workflow.Finding) []workflow.Finding {
	if fs == nil {
		return []workflow.Finding{}
	}
	return fs
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
