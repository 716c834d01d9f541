package ghaction

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fakeArchive is a release archive whose pubdoc is a script that answers `version`.
func fakeArchive(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, body := range map[string]string{
		"pubdoc":    "#!/bin/sh\necho \"pubdoc v9.9.9 (fake), 1 rules\"\n",
		"README.md": "# Pubdoc\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The action's install step downloads the archive of the runner's OS and architecture from
// the release the action's ref names (else the latest), checks it against checksums.txt and
// refuses one that does not match.
func TestInstallScript(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "tar", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	archive := fakeArchive(t)
	sum := fmt.Sprintf("%x", sha256.Sum256(archive))
	var mu sync.Mutex
	var asked []string
	checksums := sum + "  pubdoc_linux_amd64.tar.gz\n" + sum + "  pubdoc_linux_arm64.tar.gz\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		sums := checksums
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/checksums.txt"):
			fmt.Fprint(w, sums)
		case strings.HasSuffix(r.URL.Path, ".tar.gz"):
			_, _ = w.Write(archive)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	install := func(t *testing.T, env ...string) (string, string, error) {
		t.Helper()
		dir := t.TempDir()
		outFile := filepath.Join(dir, "output")
		cmd := exec.Command("bash", "install.sh")
		cmd.Env = append(os.Environ(), "RUNNER_TEMP="+dir, "GITHUB_OUTPUT="+outFile, "PUBDOC_RELEASES_URL="+srv.URL+"/releases",
			"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "PUBDOC_VERSION=", "PUBDOC_INSTALL=", "ACTION_REF=")
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		data, _ := os.ReadFile(outFile)
		return string(out), string(data), err
	}
	reset := func() { mu.Lock(); asked = nil; mu.Unlock() }
	paths := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(asked) }

	out, outputs, err := install(t, "ACTION_REF=v9.9.9")
	if err != nil || !strings.Contains(out, "pubdoc v9.9.9 (fake)") || !regexp.MustCompile(`(?m)^bin=.*/pubdoc-bin/pubdoc$`).MatchString(outputs) {
		t.Fatalf("install: %v\n%s\noutputs: %s", err, out, outputs)
	}
	if got := paths(); !slices.Contains(got, "/releases/download/v9.9.9/pubdoc_linux_amd64.tar.gz") || !slices.Contains(got, "/releases/download/v9.9.9/checksums.txt") {
		t.Fatalf("asked %v", got)
	}

	reset()
	if out, _, err := install(t, "ACTION_REF=v1", "RUNNER_ARCH=ARM64"); err != nil {
		t.Fatalf("latest arm64: %v\n%s", err, out)
	}
	if got := paths(); !slices.Contains(got, "/releases/latest/download/pubdoc_linux_arm64.tar.gz") {
		t.Fatalf("a major-version ref takes the latest release: asked %v", got)
	}

	setSums := func(s string) { mu.Lock(); checksums = s; mu.Unlock() }
	setSums(strings.Repeat("0", 64) + "  pubdoc_linux_amd64.tar.gz\n")
	out, outputs, err = install(t, "PUBDOC_VERSION=v9.9.9")
	if err == nil || !strings.Contains(out, "does not match checksums.txt") || strings.Contains(outputs, "bin=") {
		t.Fatalf("a tampered archive was installed: %v\n%s", err, out)
	}
	setSums(sum + "  pubdoc_darwin_amd64.tar.gz\n")
	if out, _, err := install(t); err == nil || !strings.Contains(out, "lists no pubdoc_linux_amd64.tar.gz") {
		t.Fatalf("an archive missing from checksums.txt was installed: %v\n%s", err, out)
	}
	if out, _, err := install(t, "RUNNER_ARCH=PPC64"); err == nil || !strings.Contains(out, "::error") {
		t.Fatalf("unknown architecture: %v\n%s", err, out)
	}
}

// action.yml passes every input the entry reads, under the name it reads, and maps every
// output from the entry's step.
func TestActionYAML(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs  map[string]struct{ Default string } `yaml:"inputs"`
		Outputs map[string]struct{ Value string }   `yaml:"outputs"`
		Runs    struct {
			Using string `yaml:"using"`
			Steps []struct {
				ID    string            `yaml:"id"`
				Shell string            `yaml:"shell"`
				Env   map[string]string `yaml:"env"`
				Run   string            `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	if action.Runs.Using != "composite" || len(action.Runs.Steps) != 2 {
		t.Fatalf("runs: %+v", action.Runs)
	}
	entry := action.Runs.Steps[1]
	if entry.ID != "pubdoc" || !strings.Contains(entry.Run, "action") {
		t.Fatalf("the second step is not the entry: %+v", entry)
	}
	for _, s := range action.Runs.Steps {
		if s.Shell != "bash" || strings.Contains(s.Run, "${{") {
			t.Errorf("step %s: want shell bash and no expression inside run: (inputs go through env)", s.ID)
		}
	}
	// Every INPUT_ variable FromEnv asks for is passed from the input of that name.
	var read []string
	_, _ = FromEnv(func(k string) string {
		if strings.HasPrefix(k, "INPUT_") {
			read = append(read, k)
		}
		return ""
	})
	passed := map[string]bool{}
	for _, k := range read {
		v, ok := entry.Env[k]
		if !ok {
			continue // the other spelling Input also reads
		}
		name := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, "INPUT_"), "_", "-"))
		if v != "${{ inputs."+name+" }}" {
			t.Errorf("%s = %s, want the input %s", k, v, name)
		}
		if _, ok := action.Inputs[name]; !ok {
			t.Errorf("action.yml has no input %s", name)
		}
		passed[name] = true
	}
	for name := range action.Inputs {
		if passed[name] {
			continue
		}
		found := false
		for _, s := range action.Runs.Steps {
			for _, v := range s.Env {
				found = found || v == "${{ inputs."+name+" }}"
			}
		}
		if !found {
			t.Errorf("input %s reaches no step", name)
		}
	}
	for name, o := range action.Outputs {
		if o.Value != "${{ steps.pubdoc.outputs."+name+" }}" {
			t.Errorf("output %s = %s", name, o.Value)
		}
	}
}
