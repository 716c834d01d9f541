package diagnose

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/knowledge"
)

// bigLog is a log of more than four chunks (so the scan runs ahead on two workers) with
// triggers scattered in its test output and the seed failure at its end.
func bigLog(size int) []byte {
	var b bytes.Buffer
	b.WriteString("2025-08-14T17:30:00.0000000Z ##[group]Run npm ci\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "2025-08-14T17:31:%02d.0000000Z ok %d - widget renders case %d in %d ms\n", i%60, i, i*7, i%13)
		if i%20000 == 7 {
			b.WriteString("2025-08-14T17:31:00.0000000Z npm warn deprecated glob@7.2.3: Glob versions prior to v9 are no longer supported\n")
		}
	}
	b.WriteString("2025-08-14T17:32:21.0000000Z ##[group]Run npm publish --provenance --access public\n")
	b.WriteString("2025-08-14T17:32:22.0000000Z npm notice Access token expired or revoked. Please try logging in again.\n")
	b.WriteString("2025-08-14T17:32:22.1000000Z npm error code E404\n")
	b.WriteString("2025-08-14T17:32:22.2000000Z npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found\n")
	b.WriteString("2025-08-14T17:32:23.0000000Z ##[error]Process completed with exit code 1.\n")
	return b.Bytes()
}

// answersAlike returns e's answer to data from the prescan p, failing unless it is the
// answer e gives scanning data itself.
func answersAlike(t *testing.T, e *Engine, p *Prescan, data []byte) *Result {
	t.Helper()
	released := 0
	got, err := e.DiagnosePrescanned(p, data, func() { released++ })
	if err != nil {
		t.Fatal(err)
	}
	if released != 1 {
		t.Fatalf("release called %d times, want once", released)
	}
	want, err := e.Diagnose(FromBytes(data))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := rendered(t, got, RenderJSON), rendered(t, want, RenderJSON); g != w {
		t.Fatalf("%d bytes: the answer from the prescan differs:\n%s\nwant\n%s", len(data), g, w)
	}
	return got
}

// A log scanned before its engine existed is diagnosed exactly as the engine diagnoses it.
func TestPrescanAnswersAsTheEngine(t *testing.T) {
	e := testEngine(t)
	for _, size := range []int{5 << 20, 9<<20 + 12345} {
		data := bigLog(size)
		p := PrescanBytes(data)
		if p == nil {
			t.Fatal("no prebuilt automata to prescan with")
		}
		if !e.scansLike(p) {
			t.Fatal("the embedded knowledge base's engine does not take its prescan over")
		}
		got := answersAlike(t, e, p, data)
		if got.Scanned.Kept < 5 || got.Scanned.Lines < 50000 || len(got.Diagnoses) == 0 {
			t.Fatalf("%d bytes: scanned %+v, %d diagnoses: the log did not exercise the scan", len(data), got.Scanned, len(got.Diagnoses))
		}
	}
}

// An engine that scans otherwise (other settings, other triggers) scans again.
func TestPrescanIsRedoneByAnEngineThatScansOtherwise(t *testing.T) {
	data := bigLog(5 << 20)
	p := PrescanBytes(data)
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	other, err := New(kb, nil, Options{TailBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if other.scansLike(p) {
		t.Fatal("an engine with another tail size takes the prescan over")
	}
	answersAlike(t, other, p, data)
	stale, err := New(kb, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	built := *stale.scan
	built.triggers = func() *triggerSet {
		pats, after, m := minimalTriggers(scanTriggers(kb))
		return &triggerSet{patterns: pats, after: after, m: m}
	}
	stale.scan = &built
	if stale.scansLike(p) {
		t.Fatal("an engine with its own triggers takes a prescan made with the prebuilt ones over")
	}
	if stale.scansLike(nil) {
		t.Fatal("a missing prescan is taken over")
	}
}

// A prescan's error is the engine's: a binary file is refused either way.
func TestPrescanReportsTheScanError(t *testing.T) {
	e := testEngine(t)
	data := append([]byte("\x00\x01binary"), bigLog(5<<20)...)
	_, err := e.DiagnosePrescanned(PrescanBytes(data), data, nil)
	_, want := e.Diagnose(FromBytes(data))
	if err == nil || want == nil || !errors.Is(err, errBinary) || err.Error() != want.Error() {
		t.Fatalf("prescanned error %v, engine's %v", err, want)
	}
	if !strings.Contains(err.Error(), "NUL byte at offset 0") {
		t.Fatalf("error %q does not say where", err)
	}
}
