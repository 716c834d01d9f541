package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func repo(p string) string { return filepath.Join("..", "..", p) }

func TestDiagnoseBundledExample(t *testing.T) {
	code, out, stderr := runCLI(t, "", "diagnose", repo("examples/old-npm.log"))
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if !strings.HasPrefix(out, "DIAGNOSED  npm is too old for trusted publishing") || !strings.Contains(out, "rule oidc-npm-too-old") {
		t.Fatalf("output starts %q", out[:min(len(out), 200)])
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour codes written to a non-terminal")
	}
	for _, want := range []string{"Evidence", "L", "Fix", "npm install -g npm@^11.5.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
}

func TestDiagnoseFormatsAndStdin(t *testing.T) {
	log, err := os.ReadFile(repo("examples/bare-paste.log"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, string(log), "diagnose", "--format", "json", "-")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var res struct {
		Verdict    string   `json:"verdict"`
		NextChecks []string `json:"next_checks"`
		Diagnoses  []struct {
			ID string `json:"id"`
		} `json:"diagnoses"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if res.Verdict != "inconclusive" || len(res.NextChecks) == 0 || len(res.Diagnoses) < 3 {
		t.Fatalf("bare paste: %+v", res)
	}
	code, out, _ = runCLI(t, string(log), "diagnose", "--format", "markdown")
	if code != exitOK || !strings.HasPrefix(out, "**Inconclusive:**") || !strings.Contains(out, "### First question:") || !strings.Contains(out, "**Next check**") {
		t.Fatalf("markdown (exit %d):\n%s", code, out)
	}
}

func TestUsageAndInputErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.log")
	binary := filepath.Join(dir, "core.bin")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(binary, []byte("\x7fELF\x00\x00\x01"), 0o644)
	for name, args := range map[string][]string{
		"no command":     {},
		"unknown":        {"frobnicate"},
		"bad format":     {"diagnose", "--format", "yaml", repo("examples/old-npm.log")},
		"two inputs":     {"diagnose", "a.log", "b.log"},
		"missing file":   {"diagnose", filepath.Join(dir, "nope.log")},
		"directory":      {"diagnose", dir},
		"empty file":     {"diagnose", empty},
		"binary file":    {"diagnose", binary},
		"eval no dir":    {"kb", "eval"},
		"eval no labels": {"kb", "eval", dir},
		"kb nothing":     {"kb"},
		"search nothing": {"kb", "search"},
	} {
		code, _, stderr := runCLI(t, "", args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want %d", name, code, exitUsage)
		}
		if lines := strings.Count(stderr, "pubdoc: "); lines != 1 || !strings.HasSuffix(stderr, "\n") {
			t.Errorf("%s: want one 'pubdoc: …' line on stderr, got %q", name, stderr)
		}
	}
}

func TestDiagnoseRunLogZip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	old, _ := os.ReadFile(repo("examples/old-npm.log"))
	for name, body := range map[string]string{
		"0_publish.txt":            string(old),
		"publish/1_Set up job.txt": "x\n",
		"1_lint.txt":               "2025-01-01T00:00:00.0000000Z all good\n",
	} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	f.Close()
	code, out, stderr := runCLI(t, "", "diagnose", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "== job: publish ==") || strings.Contains(out, "job: lint") || !strings.Contains(out, "rule oidc-npm-too-old") {
		t.Fatalf("zip output should hold the failed job only:\n%s", out)
	}
	data, _ := os.ReadFile(path)
	code, out, _ = runCLI(t, string(data), "diagnose", "--format", "json", "-")
	var obj struct {
		Job  string           `json:"job"`
		Jobs []map[string]any `json:"jobs"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &obj) != nil || obj.Job != "publish" || len(obj.Jobs) != 1 || obj.Jobs[0]["job"] != "publish" {
		t.Fatalf("zip on stdin as JSON (exit %d): %s", code, out)
	}
}

func TestKBCommands(t *testing.T) {
	code, out, _ := runCLI(t, "", "kb", "search", "e404", "put", "token", "expired")
	if code != exitOK || !strings.Contains(out, "token-expired-or-revoked") {
		t.Fatalf("kb search (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "kb", "lint")
	if code != exitOK || !strings.Contains(out, "OK") {
		t.Fatalf("kb lint (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "kb", "test")
	if code != exitOK || !strings.Contains(out, " passed, 0 failed") {
		t.Fatalf("kb test (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "kb", "eval", repo("diagnose/testdata/cases/negative"))
	if code != exitOK || !strings.Contains(out, "top-1 12/12") || !strings.Contains(out, "confident-wrong 0") {
		t.Fatalf("kb eval (exit %d):\n%s", code, out)
	}
	docs := filepath.Join(t.TempDir(), "rules.md")
	code, _, _ = runCLI(t, "", "kb", "docs", "-o", docs)
	if data, err := os.ReadFile(docs); code != exitOK || err != nil || !bytes.Contains(data, []byte("### oidc-npm-too-old")) {
		t.Fatalf("kb docs (exit %d, %v)", code, err)
	}
}

func TestNoColor(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	if useColor(os.Stdout) {
		t.Fatal("NO_COLOR set but colour chosen")
	}
	t.Setenv("NO_COLOR", "")
	if useColor(&bytes.Buffer{}) {
		t.Fatal("colour chosen for a buffer")
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", "diagnose", "--help")
	if code != exitOK || !strings.Contains(out, "pubdoc diagnose [--format") {
		t.Fatalf("diagnose --help (exit %d): %s", code, out)
	}
	code, out, _ = runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "pubdoc ") || !strings.Contains(out, " rules") {
		t.Fatalf("version (exit %d): %s", code, out)
	}
}
