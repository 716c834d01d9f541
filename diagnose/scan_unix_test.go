//go:build unix

package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/internal/mmapfile"
	"github.com/pubdoc/pubdoc/knowledge"
)

// A mapped log that is cut short while it is scanned gives an error, not a crash: reading
// past the new end faults, on either of the scanner's goroutines.
func TestMappedLogCutShortIsAnError(t *testing.T) {
	e, err := New(knowledge.MustLoad(), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "job.log")
	log := strings.Repeat("ok 1 - a test line that passed in 3 ms\n", 300000) // ~12 MB
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, unmap, err := mmapfile.Map(f, int64(len(log)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unmap() }()
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	_, err = e.Diagnose(FromBytes(b))
	if err == nil || !strings.Contains(err.Error(), "changed while it was read") {
		t.Fatalf("diagnosing a mapped file cut short: %v", err)
	}
}
