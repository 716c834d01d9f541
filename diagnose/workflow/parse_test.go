package workflow

import (
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseErrors(t *testing.T) {
	invalid, err := os.ReadFile("testdata/invalid.yml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		src  string
		want string // the whole error
	}{
		{"unterminated quote", string(invalid), ".github/workflows/invalid.yml:7: not a valid workflow file: could not parse as YAML: found unexpected end of stream"},
		{"tab indentation", "on: push\njobs:\n\ta: {}\n", ".github/workflows/invalid.yml:3: not a valid workflow file: could not parse as YAML: found character that cannot start any token"},
		{"empty", "", ".github/workflows/invalid.yml:1: not a valid workflow file: workflow is empty"},
		{"a list", "- on: push\n", `.github/workflows/invalid.yml:1: not a valid workflow file: "workflow" section is sequence node but mapping node is expected`},
		{"a scalar", "hello\n", `.github/workflows/invalid.yml:1: not a valid workflow file: "workflow" section is scalar node but mapping node is expected`},
		{"neither on nor jobs", "name: x\n", `.github/workflows/invalid.yml:1: not a valid workflow file: neither "on" nor "jobs" is set`},
		{"too large", "on: push\n" + strings.Repeat("#", MaxSize), ".github/workflows/invalid.yml: not a valid workflow file: 1048585 bytes is larger than 1048576"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Parse(".github/workflows/invalid.yml", []byte(tt.src))
			if err == nil {
				t.Fatalf("no error; parsed %+v", w)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// A workflow GitHub would refuse (unknown keys, a job without runs-on) still says what it
// meant to do, so Parse reads it.
func TestParseTolerant(t *testing.T) {
	src := `on:
  push:
jobs:
  publish:
    unknown-key: true
    steps:
      - run: npm publish
        shell: bash
        unknown: 1
`
	w, err := Parse("x/y/release.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if w.Path != "x/y/release.yaml" || w.File != "release.yaml" {
		t.Errorf("Path %q File %q", w.Path, w.File)
	}
	if j := w.PublishJob(); j == nil || j.ID != "publish" || j.Line != 4 {
		t.Errorf("PublishJob = %+v", j)
	}
}

func TestParseWindowsPath(t *testing.T) {
	w, err := Parse(`.github\workflows\Publish.yml`, []byte("on: push\njobs: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w.File != "Publish.yml" {
		t.Errorf("File = %q", w.File)
	}
}

func TestParseTriggers(t *testing.T) {
	tests := []struct{ src, want string }{
		{"on: push\njobs: {}\n", "1 push"},
		{"on: [push, pull_request, push]\njobs: {}\n", "1 push,pull_request"},
		{"name: x\n\"on\":\n  workflow_dispatch:\n  release:\n    types: [published]\n  workflow_call:\njobs: {}\n", "2 workflow_dispatch,release,workflow_call"},
		{"name: x\non:\n  schedule:\n    - cron: '0 0 * * *'\njobs: {}\n", "2 schedule"},
	}
	for _, tt := range tests {
		w, err := Parse("w.yml", []byte(tt.src))
		if err != nil {
			t.Fatal(err)
		}
		got := strconv.Itoa(w.onLine) + " " + strings.Join(w.Triggers, ",")
		if got != tt.want {
			t.Errorf("%q: triggers %q, want %q", tt.src, got, tt.want)
		}
	}
}

// Lines inside run: scripts point at the command, whatever the scalar style.
func TestScriptLines(t *testing.T) {
	src := `on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: |

          npm ci
          npm publish \
            --access public
      - run: >-
          npm ci &&
          npm publish --tag next
      - run: "npm ci &&
          npm publish --provenance"
      - name: plain
        run: npm ci && npm publish --dry-run
`
	w, err := Parse("w.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range w.Jobs[0].steps {
		for _, c := range s.commands() {
			got = append(got, strconv.Itoa(c.line)+" "+strings.Join(c.words, " "))
		}
	}
	equalLines(t, "commands", got, []string{
		"8 npm ci",
		"9 npm publish --access public",
		"12 npm ci",
		"13 npm publish --tag next",
		"14 npm ci",
		"15 npm publish --provenance",
		"17 npm ci",
		"17 npm publish --dry-run",
	})
}

// STYLE.md: actionlint is not semver-stable, so one file of the product imports it (tests
// may use it to lint the repository's own workflows).
func TestOnlyParseGoImportsActionlint(t *testing.T) {
	root := filepath.Join("..", "..")
	var importers []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "testdata" || d.Name() == "vendor") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, im := range f.Imports {
			if path, _ := strconv.Unquote(im.Path.Value); strings.HasPrefix(path, "github.com/rhysd/actionlint") {
				rel, _ := filepath.Rel(root, p)
				importers = append(importers, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	equalLines(t, "files importing actionlint", importers, []string{"diagnose/workflow/parse.go"})
}

// Nested aliases cost actionlint exponential time; Parse refuses them before it does.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("on: push\nx:\n  - &a0 {run: npm publish}\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "  - &a%d [*a%d, *a%d]\n", i, i-1, i-1)
	}
	b.WriteString("jobs:\n  j:\n    runs-on: ubuntu-latest\n    strategy:\n      matrix:\n        os: *a39\n    steps: *a39\n")
	start := time.Now()
	_, err := Parse("bomb.yml", []byte(b.String()))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "aliases expand to more than") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Parse took %s", d)
	}
}

// Anchors as GitHub Actions supports them are read through.
func TestParseAnchors(t *testing.T) {
	src := `on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - &setup
        uses: actions/setup-node@v6
        with:
          node-version: 22
      - run: npm publish
  again:
    runs-on: ubuntu-latest
    steps:
      - *setup
      - run: npm publish --access public
`
	w, err := Parse("a.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	// The aliased setup-node is the anchor's node: its lines are the anchor's.
	equalLines(t, "findings", findingLines(t, Check(w)), []string{
		"a.yml:11 check-npm-too-old error",
		"a.yml:13 check-missing-id-token error",
	})
}

// The package is pure: actionlint comes with os/exec (for shellcheck, never called here)
// but no network client and no adapter reaches it.
func TestNoNetworkDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/pubdoc/pubdoc/diagnose/workflow").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, banned := range []string{"net/http", "github.com/slack-go/", "github.com/google/go-github", "github.com/pubdoc/pubdoc/bot", "github.com/pubdoc/pubdoc/store"} {
			if strings.HasPrefix(d, banned) {
				t.Errorf("diagnose/workflow depends on %s", d)
			}
		}
	}
}
