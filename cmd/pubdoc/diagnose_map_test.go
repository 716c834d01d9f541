package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pubdoc/pubdoc/internal/synth"
)

// A log file big enough to be mapped and scanned in place gets the answer the same bytes
// get through stdin, which is read as a stream.
func TestMappedFileAnswersAsStdin(t *testing.T) {
	var buf bytes.Buffer
	if _, err := synth.WriteJobLog(&buf, mapMin+(1<<20)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "job.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	code, fromFile, stderr := runCLI(t, "", "diagnose", "--format", "json", path)
	if code != 0 {
		t.Fatalf("file: exit %d: %s", code, stderr)
	}
	code, fromStdin, stderr := runCLI(t, buf.String(), "diagnose", "--format", "json", "-")
	if code != 0 {
		t.Fatalf("stdin: exit %d: %s", code, stderr)
	}
	if fromFile != fromStdin {
		t.Fatalf("a mapped file and stdin differ:\nfile:  %.400s\nstdin: %.400s", fromFile, fromStdin)
	}
	if !bytes.Contains([]byte(fromFile), []byte(`"verdict"`)) {
		t.Fatalf("no verdict in %.300s", fromFile)
	}
}
