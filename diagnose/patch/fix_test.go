package patch

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose/workflow"
)

// fixtures are the workflow files of check's own tests, each with the package.json beside
// it when there is one (prerelease.yml → prerelease.package.json).
func fixtures(t *testing.T) []Input {
	t.Helper()
	dir := filepath.Join("..", "workflow", "testdata")
	var files []string
	for _, pat := range []string{"*.yml", "reusable/*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var out []Input
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := workflow.Parse(f, src); err != nil {
			continue // invalid.yml
		}
		in := Input{Workflows: []File{{Path: f, Src: src}}}
		if pkg, err := os.ReadFile(strings.TrimSuffix(f, ".yml") + ".package.json"); err == nil {
			in.Package = &File{Path: strings.TrimSuffix(f, ".yml") + ".package.json", Src: pkg}
		}
		out = append(out, in)
	}
	return out
}

// comments are a file's comment lines.
func comments(src []byte) []string {
	var out []string
	for l := range strings.SplitSeq(string(src), "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") {
			out = append(out, t)
		}
	}
	return out
}

func TestFixFixtures(t *testing.T) {
	withFindings, fixed := 0, 0
	for _, in := range fixtures(t) {
		name := filepath.Base(in.Workflows[0].Path)
		t.Run(name, func(t *testing.T) {
			res, err := Fix(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Fixed)+len(res.Left) == 0 {
				return
			}
			withFindings++
			if len(res.Fixed) > 0 {
				fixed++
			}
			t.Logf("fixed %v, left %v\n%s", ids(res.Fixed), ids(res.Left), res.Diff())
			again := in
			for _, c := range res.Changes {
				if _, err := parseYAML(c.After); err != nil && strings.HasSuffix(c.Path, ".yml") {
					t.Errorf("%s does not parse after the fix: %v", c.Path, err)
				}
				for _, cm := range comments(c.Before) {
					if !strings.Contains(string(c.After), cm) {
						t.Errorf("comment %q is gone", cm)
					}
				}
				again = replaced(again, c)
			}
			second, err := Fix(again)
			if err != nil {
				t.Fatal(err)
			}
			if len(second.Changes) != 0 {
				t.Errorf("a second fix changes more:\n%s", second.Diff())
			}
			for _, f := range second.Left {
				if slices.ContainsFunc(res.Fixed, func(g workflow.Finding) bool { return countKey(g) == countKey(f) }) && !slices.ContainsFunc(res.Left, func(g workflow.Finding) bool { return countKey(g) == countKey(f) }) {
					t.Errorf("fixed finding still reported: %v", f)
				}
			}
		})
	}
	t.Logf("%d fixtures with findings, %d fixed", withFindings, fixed)
}

func ids(fs []workflow.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID+"/"+f.Rule)
	}
	return out
}

// replaced is in with a change's file replaced by its new content.
func replaced(in Input, c Change) Input {
	out := Input{Repo: in.Repo}
	for _, w := range in.Workflows {
		if w.Path == c.Path {
			w.Src = c.After
		}
		out.Workflows = append(out.Workflows, w)
	}
	if in.Package != nil {
		p := *in.Package
		if p.Path == c.Path {
			p.Src = c.After
		}
		out.Package = &p
	}
	return out
}
