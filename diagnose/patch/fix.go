package patch

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose/workflow"
)

// File is one file the checks read and a fix may change.
type File struct {
	// Path is the file's path: as given to `pubdoc check`, or its repository path in auto
	// mode (".github/workflows/release.yml", "package.json"). Diffs name it a/Path, b/Path.
	Path string
	Src  []byte
}

// Input is a repository's files as the checks see them.
type Input struct {
	// Workflows are the workflow files checked together (a caller and the reusable
	// workflows it calls).
	Workflows []File
	// Package is the package.json being published; nil when unknown.
	Package *File
	// Repo is OWNER/REPO of the repository, when known (auto mode): the repository the
	// package.json's repository.url must name.
	Repo string
}

// Change is one file's fix: its content before and after.
type Change struct {
	Path          string
	Before, After []byte
}

// Diff is the change as a unified diff.
func (c Change) Diff() string { return Diff(diffPath(c.Path), c.Before, c.After) }

// Result is what the fixes did.
type Result struct {
	// Changes are the changed files, in input order.
	Changes []Change
	// Fixed are the findings the changes remove; Left those no mechanical edit removes
	// (their fix is a decision or lies outside the repository).
	Fixed, Left []workflow.Finding
}

// Diff is every change's unified diff, one after the other; "" when nothing changed.
func (r *Result) Diff() string {
	var b strings.Builder
	for _, c := range r.Changes {
		b.WriteString(c.Diff())
	}
	return b.String()
}

// Fix makes the edits that remove the findings of `pubdoc check` on in, as far as each has
// a mechanical fix. Each edit is kept only when checking the edited files again shows
// that finding gone and nothing new, so a fix never trades one failure for another.
// Fixing the result again changes nothing.
func Fix(in Input) (*Result, error) { return fix(in, nil) }

// ForRule is Fix restricted to the findings that predict the knowledge-base cause rule
// (a diagnosis' id), plus the fixes only a diagnosis calls for: package.json's
// repository.url when the rule is a provenance repository mismatch and in.Repo is known.
// A Result without changes means the cause has no fix in these files.
func ForRule(in Input, rule string) (*Result, error) {
	related := map[string]bool{rule: true}
	for _, group := range ruleGroups {
		if slices.Contains(group, rule) {
			for _, r := range group {
				related[r] = true
			}
		}
	}
	res, err := fix(in, func(f workflow.Finding) bool { return related[f.Rule] })
	if err != nil {
		return nil, err
	}
	if rule == "provenance-repo-url-mismatch" && in.Package != nil && in.Repo != "" && strings.Count(in.Repo, "/") == 1 {
		after, err := repositoryURL(in.Package.Src, in.Repo)
		if err == nil && after != nil {
			res.Changes = append(res.Changes, Change{Path: in.Package.Path, Before: in.Package.Src, After: after})
		}
	}
	return res, nil
}

// ruleGroups are causes one fix removes alike.
var ruleGroups = [][]string{
	{"oidc-missing-id-token-permission", "provenance-missing-id-token-permission"},
	{"oidc-self-hosted-runner", "provenance-self-hosted-runner"},
}

// maxRounds bounds the fix loop; each round removes a finding or gives one up.
const maxRounds = 64

func fix(in Input, want func(workflow.Finding) bool) (*Result, error) {
	s := newState(in)
	before, err := s.check()
	if err != nil {
		return nil, err
	}
	res := &Result{}
	cur := before
	failed := map[string]bool{}
	for range maxRounds {
		progress := false
		for _, f := range cur {
			if want != nil && !want(f) || failed[failKey(f)] {
				continue
			}
			next, after, ok := s.try(f, cur)
			if !ok {
				failed[failKey(f)] = true
				continue
			}
			s.files, cur = next, after
			res.Fixed = append(res.Fixed, f)
			progress = true
			clear(failed) // the files changed: what failed before may work now, as a second run would find
			break
		}
		if !progress {
			break
		}
	}
	for _, f := range cur {
		if want == nil || want(f) {
			res.Left = append(res.Left, f)
		}
	}
	for _, p := range s.order {
		if string(s.files[p]) != string(s.orig[p]) {
			res.Changes = append(res.Changes, Change{Path: p, Before: s.orig[p], After: s.files[p]})
		}
	}
	return res, nil
}

func failKey(f workflow.Finding) string {
	return fmt.Sprintf("%s|%s|%s|%d", f.ID, f.Rule, f.File, f.Line)
}

// countKey counts findings alike for the before/after comparison: lines move when a fix
// adds or removes lines, the kind of finding and its file do not.
func countKey(f workflow.Finding) string { return f.ID + "|" + f.Rule + "|" + f.File }

// state is the files as the fixes so far left them.
type state struct {
	files, orig map[string][]byte
	order       []string // paths in input order
	workflows   []string
	pkg         string
	byBase      map[string]string // a finding's file (base name) → path
	repo        string
}

func newState(in Input) *state {
	s := &state{files: map[string][]byte{}, orig: map[string][]byte{}, byBase: map[string]string{}, repo: in.Repo}
	for _, w := range in.Workflows {
		if _, dup := s.files[w.Path]; dup {
			continue
		}
		s.files[w.Path], s.orig[w.Path] = w.Src, w.Src
		s.order = append(s.order, w.Path)
		s.workflows = append(s.workflows, w.Path)
		if _, ok := s.byBase[path.Base(w.Path)]; !ok {
			s.byBase[path.Base(w.Path)] = w.Path
		}
	}
	if in.Package != nil {
		if _, err := workflow.ParsePackage(in.Package.Path, in.Package.Src); err != nil {
			return s // a package.json that does not read: checked and fixed without it
		}
		s.pkg = in.Package.Path
		s.files[s.pkg], s.orig[s.pkg] = in.Package.Src, in.Package.Src
		s.order = append(s.order, s.pkg)
	}
	return s
}

// checkFiles checks files as `pubdoc check` does.
func (s *state) checkFiles(files map[string][]byte) ([]workflow.Finding, error) {
	var wfs []*workflow.Workflow
	for _, p := range s.workflows {
		wf, err := workflow.Parse(p, files[p])
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", p, err)
		}
		wf.Repo = s.repo
		wfs = append(wfs, wf)
	}
	var pkg *workflow.Package
	if s.pkg != "" {
		var err error
		if pkg, err = workflow.ParsePackage(s.pkg, files[s.pkg]); err != nil {
			return nil, fmt.Errorf("checking %s: %w", s.pkg, err)
		}
	}
	return workflow.CheckAll(wfs, pkg), nil
}

func (s *state) check() ([]workflow.Finding, error) { return s.checkFiles(s.files) }

// try returns the files with the first candidate fix of f that removes f without adding
// a finding, and the findings then. A fix that brings a finding the first one hid (the
// token fallback once id-token: write is granted) counts when fixing that one too leaves
// nothing new.
func (s *state) try(f workflow.Finding, cur []workflow.Finding) (map[string][]byte, []workflow.Finding, bool) {
	return s.tryDepth(f, cur, 1)
}

func (s *state) tryDepth(f workflow.Finding, cur []workflow.Finding, depth int) (map[string][]byte, []workflow.Finding, bool) {
	for _, c := range s.candidates(f) {
		next, ok := s.apply(c)
		if !ok {
			continue
		}
		after, err := s.checkFiles(next)
		if err != nil {
			continue
		}
		if better(cur, after, countKey(f)) {
			return next, after, true
		}
		if depth == 0 {
			continue
		}
		if files, final, ok := s.fixRevealed(next, cur, after, depth-1); ok && better(cur, final, countKey(f)) {
			return files, final, true
		}
	}
	return nil, nil, false
}

// fixRevealed fixes, in the files next, the findings after holds more of than before.
func (s *state) fixRevealed(next map[string][]byte, before, after []workflow.Finding, depth int) (map[string][]byte, []workflow.Finding, bool) {
	was := map[string]int{}
	for _, f := range before {
		was[countKey(f)]++
	}
	sub := *s
	sub.files = next
	for _, g := range after {
		if was[countKey(g)] > 0 {
			was[countKey(g)]--
			continue
		}
		files, final, ok := sub.tryDepth(g, after, depth)
		if !ok {
			return nil, nil, false
		}
		sub.files, after = files, final
	}
	return sub.files, after, true
}

// better reports whether after has fewer findings like key than before and no more of
// any other kind.
func better(before, after []workflow.Finding, key string) bool {
	count := func(fs []workflow.Finding) map[string]int {
		m := map[string]int{}
		for _, f := range fs {
			m[countKey(f)]++
		}
		return m
	}
	b, a := count(before), count(after)
	if a[key] >= b[key] {
		return false
	}
	for k, n := range a {
		if n > b[k] {
			return false
		}
	}
	return true
}

// candidate is one way to fix a finding: edits to one or more files.
type candidate map[string][]Edit

func (s *state) apply(c candidate) (map[string][]byte, bool) {
	if len(c) == 0 {
		return nil, false
	}
	next := make(map[string][]byte, len(s.files))
	for p, src := range s.files {
		next[p] = src
	}
	for p, edits := range c {
		src, ok := next[p]
		if !ok {
			return nil, false
		}
		out, err := Apply(src, edits)
		if err != nil || string(out) == string(src) {
			return nil, false
		}
		next[p] = out
	}
	return next, true
}

// candidates are the fixes to try for f, the preferred first.
func (s *state) candidates(f workflow.Finding) []candidate {
	p, ok := s.byBase[f.File]
	if !ok {
		return nil
	}
	y, err := parseYAML(s.files[p])
	if err != nil {
		return nil
	}
	w := &wfEdit{y: y, path: p, s: s}
	var out []candidate
	switch f.ID {
	case workflow.CheckNPMTooOld:
		out = w.npmTooOld(f)
	case workflow.CheckNPMUpgradeEngine:
		out = w.upgradeEngine(f)
	case workflow.CheckMissingIDToken:
		out = w.grant(f, "id-token")
	case workflow.CheckMissingPackagesWr:
		out = w.grant(f, "packages")
	case workflow.CheckTokenMasksOIDC:
		out = w.masks(f)
	case workflow.CheckTokenNoRegistry:
		out = w.tokenNoRegistry(f)
	case workflow.CheckSelfHostedRunner:
		out = w.runner(f)
	case workflow.CheckScopedAccess:
		out = w.scopedAccess(f)
	case workflow.CheckPrereleaseTag:
		out = w.prerelease(f)
	}
	return slices.DeleteFunc(out, func(c candidate) bool { return len(c) == 0 })
}

// diffPath is a path as a diff names it: slashes, no leading "./" or "/".
func diffPath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return strings.TrimLeft(p, "/")
}
