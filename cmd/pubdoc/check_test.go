package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const goodWorkflow = `name: Publish
on:
  release:
    types: [published]
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v6
        with:
          node-version: '24'
      - run: npm ci
      - run: npm publish --access public
`

const badWorkflow = `name: Publish
on:
  push:
    tags: ['v*']
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - uses: actions/setup-node@v4
        with:
          node-version: 20
      - run: npm install -g npm@latest
      - run: npm publish --provenance --access public
`

func TestCheckGatesCI(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte(goodWorkflow), 0o644)
	os.WriteFile(bad, []byte(badWorkflow), 0o644)

	code, out, stderr := runCLI(t, "", "check", good)
	if code != exitOK || !strings.Contains(out, "0 finding(s)") {
		t.Fatalf("good workflow: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, "", "check", bad)
	if code != exitRuntime {
		t.Fatalf("bad workflow: exit %d, want %d\n%s", code, exitRuntime, out)
	}
	for _, want := range []string{"bad.yml:", "error", "id-token"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "", "check", "--format", "json", bad)
	var answer struct {
		Schema   string `json:"schema"`
		Findings []struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			File     string `json:"file"`
			Message  string `json:"message"`
			Fix      string `json:"fix"`
			Line     int    `json:"line"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &answer); err != nil || code != exitRuntime || answer.Schema != "pubdoc.check/v1" || len(answer.Findings) == 0 {
		t.Fatalf("json (exit %d, %v): %s", code, err, out)
	}
	for _, f := range answer.Findings {
		if f.Line == 0 || f.ID == "" || f.Message == "" || !strings.HasSuffix(f.File, "bad.yml") {
			t.Errorf("finding without file:line, id or message: %+v", f)
		}
	}
	if code, _, _ := runCLI(t, "", "check", filepath.Join(dir, "missing.yml")); code != exitUsage {
		t.Errorf("missing file: exit %d", code)
	}
	os.WriteFile(filepath.Join(dir, "broken.yml"), []byte("jobs: [\n"), 0o644)
	if code, _, stderr := runCLI(t, "", "check", filepath.Join(dir, "broken.yml")); code != exitUsage || strings.Count(stderr, "\n") != 1 {
		t.Errorf("broken YAML: exit %d, stderr %q", code, stderr)
	}
}
