package diagnose

import (
	"bytes"
	"os"
	"slices"
	"testing"
	"unsafe"

	"github.com/pubdoc/pubdoc/knowledge"
)

// automata_gen.bin must be what the embedded knowledge base builds, or every big log builds
// its automata again (correct, ~3 ms slower) — or, were its hashes to lie, scans with stale
// ones.
func TestAutomataAreFresh(t *testing.T) {
	want, err := CompileAutomata(knowledge.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(AutomataFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal([]byte(automataBlob), want) {
		t.Fatalf("diagnose/%s differs from what the knowledge base builds: run `make kb` (or `UPDATE=1 go test ./diagnose -run TestAutomataAreFresh`)", AutomataFile)
	}
	if embeddedAutomata() == nil {
		t.Fatal("the embedded automata do not read back")
	}
}

// The engine of the embedded knowledge base scans with the embedded tables, in place.
func TestEngineUsesThePrebuiltAutomata(t *testing.T) {
	e := testEngine(t)
	inBlob := func(p unsafe.Pointer) bool {
		base := uintptr(unsafe.Pointer(unsafe.StringData(automataBlob)))
		return uintptr(p) >= base && uintptr(p) < base+uintptr(len(automataBlob))
	}
	if ts := e.scan.triggers(); !inBlob(unsafe.Pointer(unsafe.SliceData(ts.m.next))) {
		t.Fatal("the triggers' table was built, not read from automata_gen.bin")
	}
	km := e.keys()
	if !inBlob(unsafe.Pointer(unsafe.SliceData(km.ac.next))) {
		t.Fatal("the keys' table was built, not read from automata_gen.bin")
	}
	if &km.keys[0] != &e.keyList[0] {
		t.Fatal("the keys' automaton does not use the engine's key list")
	}
	// Other triggers or keys (a rule edited without make kb) are not served stale tables.
	trig := scanTriggers(e.kb)
	trig["a trigger no rule has"] = 2
	if prebuiltTriggers(trig) != nil {
		t.Fatal("prebuilt triggers served for a different trigger set")
	}
	for k := range trig {
		trig[k]++
		break
	}
	delete(trig, "a trigger no rule has")
	if prebuiltTriggers(trig) != nil {
		t.Fatal("prebuilt triggers served for a different after-context")
	}
	if prebuiltKeys(append(slices.Clone(e.keyList), "another key")) != nil {
		t.Fatal("prebuilt keys served for a different key list")
	}
	if prebuiltKeys(e.keyList[1:]) != nil {
		t.Fatal("prebuilt keys served for a shorter key list")
	}
}

// What the file holds is what was built: the same patterns, classes, table and outputs.
func TestAutomataReadBackAsBuilt(t *testing.T) {
	e := testEngine(t)
	blob, err := CompileAutomata(e.kb)
	if err != nil {
		t.Fatal(err)
	}
	pats, after, tm := minimalTriggers(scanTriggers(e.kb))
	km := newKeyMatcher(e.keyList)
	// At an odd offset the tables cannot be views: they are read as copies, equal too.
	for _, shift := range []int{0, 1} {
		src := string(blob)
		if shift == 1 {
			src = ("x" + src)[1:]
			if uintptr(unsafe.Pointer(unsafe.StringData(src)))%4 == 0 {
				t.Fatal("the shifted copy is aligned after all")
			}
		}
		p, err := readAutomata(src, true)
		if err != nil {
			t.Fatalf("shift %d: %v", shift, err)
		}
		if !slices.Equal(p.triggers.patterns, pats) || !slices.Equal(p.triggers.after, after) {
			t.Fatalf("shift %d: trigger patterns or after-context differ", shift)
		}
		sameMatcher(t, p.triggers.m, tm)
		sameMatcher(t, p.keys.ac, km.ac)
		if !slices.Equal(p.keys.byPrefix.start, km.byPrefix.start) || !slices.Equal(p.keys.byPrefix.items, km.byPrefix.items) {
			t.Fatalf("shift %d: keys by prefix differ", shift)
		}
		if !validTable(p.triggers.m) || !validTable(p.keys.ac) {
			t.Fatalf("shift %d: a table entry is not a state", shift)
		}
	}
}

func sameMatcher(t *testing.T, got, want *matcher) {
	t.Helper()
	if got.class != want.class || got.stride != want.stride || got.acceptFrom != want.acceptFrom ||
		!slices.Equal(got.patterns, want.patterns) || !slices.Equal(got.next, want.next) ||
		!slices.Equal(got.out.start, want.out.start) || !slices.Equal(got.out.items, want.out.items) {
		t.Fatal("an automaton read back differs from the one built")
	}
}

// A file cut short or altered anywhere is refused with an error, never read past its end.
func TestAutomataRefuseADamagedFile(t *testing.T) {
	blob := automataBlob
	if len(blob) < 1000 {
		t.Fatalf("automata_gen.bin is %d bytes", len(blob))
	}
	cuts := []int{0, 5, len(automataMagic), len(automataMagic) + 8, len(automataMagic) + 17, 4096, len(blob) / 2, len(blob) - 5, len(blob) - 1}
	for _, n := range cuts {
		if _, err := readAutomata(blob[:n], true); err == nil {
			t.Fatalf("a file cut to %d bytes read without error", n)
		}
	}
	if _, err := readAutomata(blob+"x", true); err == nil {
		t.Fatal("a file with a byte too many read without error")
	}
	// Damage each header field in turn: a count, a stride, a class.
	for _, at := range []int{len(automataMagic) + 16, len(automataMagic) + 19} {
		b := []byte(blob)
		b[at] = 0xff
		if _, err := readAutomata(string(b), true); err == nil {
			t.Fatalf("a file with byte %d damaged read without error", at)
		}
	}
}

// tinyAutomata is a small automata file, for the fuzzer to start from.
func tinyAutomata() string {
	pats := []string{"E404", "npm error", "rror 4"}
	ts := &triggerSet{patterns: pats, after: []int{2, 3, 1}, m: newMatcher(pats)}
	km := newKeyMatcher([]string{"Access token expired", "E404", "Not found", "Access denied"})
	return string(writeAutomata(1, 2, ts, km))
}

// FuzzReadAutomata: any bytes read as an automata file are refused or give automata that
// scan text without panicking (their every table entry is a state).
func FuzzReadAutomata(f *testing.F) {
	tiny := tinyAutomata()
	f.Add(tiny)
	f.Add(tiny[:len(tiny)/2])
	f.Add(automataMagic)
	f.Fuzz(func(t *testing.T, blob string) {
		p, err := readAutomata(blob, true)
		if err != nil {
			return
		}
		text := "npm error 404 Not Found - E404 Access token expired rror 4\nAccess denied\n"
		n := 0
		p.triggers.m.each(text, func(int32, int) { n++ })
		var scratch [streams][]acHit
		if hits := p.triggers.m.all([]byte(text), nil, &scratch); len(hits) != n {
			t.Fatalf("all found %d hits, each %d", len(hits), n)
		}
		p.triggers.m.first([]byte(text), 0)
		maxKey := int32(-1)
		for _, k := range p.keys.byPrefix.items {
			maxKey = max(maxKey, k)
		}
		if maxKey >= 1<<12 {
			return // key ids beyond any key list of this size: prebuiltKeys refuses them
		}
		km := *p.keys
		km.keys = make([]string, maxKey+1)
		for i := range km.keys {
			km.keys[i] = "Access"
		}
		km.walk(text, 0, len(text), 0, func(int32, int) {}, func(int32, int) {})
	})
}
