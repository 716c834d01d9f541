package main

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// Piped, the answer fits the first screen of an 80-column terminal; --explain and -v add
// the facts and the reasons.
func TestDiagnoseTextFirstScreenAndExplain(t *testing.T) {
	code, out, stderr := runCLI(t, "", "diagnose", repo("examples/bare-paste.log"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := strings.Count(out, "\n"); n > 30 {
		t.Errorf("bare paste: %d lines, want <= 30:\n%s", n, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if utf8.RuneCountInString(l) > 80 {
			t.Errorf("line wider than 80 columns when piped: %q", l)
		}
	}
	code, out, _ = runCLI(t, "", "diagnose", repo("examples/old-npm.log"))
	if code != exitOK || strings.Contains(out, "npm_log_prefix") || strings.Contains(out, "Reasons") {
		t.Errorf("a clear diagnosis shows facts or reasons by default:\n%s", out)
	}
	for _, flag := range []string{"--explain", "-v"} {
		code, out, stderr := runCLI(t, "", "diagnose", flag, repo("examples/old-npm.log"))
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", flag, code, stderr)
		}
		for _, want := range []string{"Facts", "npm_log_prefix", "Reasons", "+0.30", "Refs"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q", flag, want)
			}
		}
	}
}

// The README's example is what the command prints.
func TestReadmeExampleIsCurrent(t *testing.T) {
	readme, err := os.ReadFile(repo("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "$ go run ./cmd/pubdoc diagnose examples/old-npm.log\n"
	_, block, ok := strings.Cut(string(readme), "```\n"+cmd)
	if !ok {
		t.Fatalf("README has no block starting %q", cmd)
	}
	block, _, _ = strings.Cut(block, "```\n")
	_, out, _ := runCLI(t, "", "diagnose", repo("examples/old-npm.log"))
	if block != out {
		t.Errorf("README example differs from the output; the command prints:\n%s", out)
	}
}
