//go:build unix

package diagnose

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/internal/mmapfile"
	"github.com/pubdoc/pubdoc/knowledge"
)

// A mapped log that is cut short while it is scanned gives an error, not a crash: reading
// past the new end faults, on either of the scanner's goroutines.
func TestMappedLogCutShortIsAnError(t *testing.T) {
	e, b, path := mappedTestLog(t)
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	_, err := e.Diagnose(FromBytes(b))
	if err == nil || !strings.Contains(err.Error(), "changed while it was read") {
		t.Fatalf("diagnosing a mapped file cut short: %v", err)
	}
}

// A fault on one of scanAhead's workers (the file cut short after its regions were cut) is
// handed to the scanning goroutine, which raises it where scanBytes turns it into an error:
// the worker side of the test above, whose main goroutine faults first while cutting.
func TestScanAheadHandsAWorkersFaultOver(t *testing.T) {
	e, b, path := mappedTestLog(t)
	s := &lineScanner{cfg: e.scan, lineNo: 1, inPlace: true, data: b}
	regions := s.cutRegions(b)
	if len(regions) < aheadMin {
		t.Fatalf("%d regions: scanAhead would not run", len(regions))
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	var raised any
	func() {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() { raised = recover() }()
		s.scanAhead(regions)
	}()
	if _, ok := raised.(interface{ Addr() uintptr }); !ok {
		t.Fatalf("scanAhead over a file cut short raised %v (%T), want the worker's fault", raised, raised)
	}
}

// mappedTestLog maps a ~12 MB log of passing test lines, unmapped when t ends, and returns an
// engine, the mapping and the file's path (to cut it short under the mapping).
func mappedTestLog(t *testing.T) (*Engine, []byte, string) {
	t.Helper()
	e, err := New(knowledge.MustLoad(), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "job.log")
	log := strings.Repeat("ok 1 - a test line that passed in 3 ms\n", 300000)
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	b, unmap, err := mmapfile.Map(f, int64(len(log)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unmap() })
	return e, b, path
}
