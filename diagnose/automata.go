package diagnose

import (
	_ "embed" // the prebuilt automata
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/pubdoc/pubdoc/knowledge"
)

// Building the scanner's two automata, the triggers' (a ~2.6 MB table) and the keys' (~1.5
// MB), took ~3 ms of a big log's start-up, before its scan could begin, and ~1,000 fresh
// pages. `pubdoc kb compile` (make kb) also writes them, built, to automata_gen.bin, which
// the binary embeds. An engine whose triggers and keys are the ones that file was built from
// (their hashes say so) reads the tables in place, from the binary's read-only data, paged
// in as the scan touches them. Any other knowledge base (a rule edited without
// recompiling, a test's own rules) builds its automata as before. TestAutomataAreFresh
// holds the file to what the embedded knowledge base builds, byte for byte.

//go:embed automata_gen.bin
var automataBlob string

// AutomataFile is the prebuilt automata's file name in the package's folder.
const AutomataFile = "automata_gen.bin"

// automataMagic starts the file; a new layout is a new magic, which an old file lacks.
const automataMagic = "pubdoc automata v1\n"

// prebuilt is what automata_gen.bin holds: the triggers (with their hash, the patterns
// and after-context they stand for and their automaton) and the keys' automaton (with the
// hash of the key list it was built for).
type prebuilt struct {
	trigHash, keysHash uint64
	triggers           *triggerSet
	keys               *keyMatcher // keys is nil: the engine's key list, which keysHash names
}

// embeddedAutomata reads the embedded file once; nil when it is missing or unreadable
// (then every engine builds its own).
var embeddedAutomata = sync.OnceValue(func() *prebuilt {
	p, err := readAutomata(automataBlob, false)
	if err != nil {
		return nil
	}
	return p
})

// prebuiltTriggers returns the embedded trigger set when it was built from trig.
func prebuiltTriggers(trig map[string]int) *triggerSet {
	p := embeddedAutomata()
	if p == nil || p.trigHash != triggersHash(trig) {
		return nil
	}
	return p.triggers
}

// prebuiltKeys returns the embedded keys' automaton when it was built for keys.
func prebuiltKeys(keys []string) *keyMatcher {
	p := embeddedAutomata()
	if p == nil || p.keysHash != keysHash(keys) {
		return nil
	}
	if slices.ContainsFunc(p.keys.byPrefix.items, func(k int32) bool { return k < 0 || int(k) >= len(keys) }) {
		return nil // cannot be with equal hashes; a key id must index the list all the same
	}
	km := *p.keys
	km.keys = keys
	return &km
}

// triggersHash hashes the triggers and their after-context, in any order (a sum of each
// entry's hash): staleness, not an adversary, is what it detects.
func triggersHash(trig map[string]int) uint64 {
	var sum uint64
	var n [5]byte // a 0 byte, then the after-context
	for k, after := range trig {
		binary.LittleEndian.PutUint32(n[1:], uint32(after))
		sum += fnv64a(fnv64a(fnvOffset, k), string(n[:]))
	}
	return sum ^ uint64(len(trig))
}

// keysHash hashes the key list in order (a key's index is its id), each key ended by a 0
// byte.
func keysHash(keys []string) uint64 {
	h := uint64(fnvOffset)
	for _, k := range keys {
		h = fnv64a(fnv64a(h, k), "\x00")
	}
	return h
}

// FNV-1a, 64 bits, over strings as they are: hash/fnv's Write would copy each of the
// ~1,600 keys to bytes at every start.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv64a continues the FNV-1a hash h over s.
func fnv64a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// CompileAutomata returns automata_gen.bin for kb: its triggers and keys, built.
func CompileAutomata(kb *knowledge.Base) ([]byte, error) {
	e, err := New(kb, nil, Options{})
	if err != nil {
		return nil, err
	}
	trig := scanTriggers(kb)
	pats, after, tm := minimalTriggers(trig)
	ts := &triggerSet{patterns: pats, after: after, m: tm}
	return writeAutomata(triggersHash(trig), keysHash(e.keyList), ts, newKeyMatcher(e.keyList)), nil
}

// writeAutomata lays out the file readAutomata reads.
func writeAutomata(trigHash, keysHash uint64, ts *triggerSet, km *keyMatcher) []byte {
	w := &blobWriter{}
	w.b = append(w.b, automataMagic...)
	w.u64(trigHash)
	w.u64(keysHash)
	w.strs(ts.patterns)
	w.i32s(intsToInt32(ts.after))
	w.matcher(ts.m)
	w.ragged(km.byPrefix)
	w.matcher(km.ac)
	return w.b
}

func intsToInt32(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// readAutomata reads what CompileAutomata wrote. The tables are views of blob when it is
// aligned for them (it is, embedded, on the platforms the release builds), else copies.
// Every entry of the tables is checked too when checkTables is true, for a file that is
// not the binary's own: reading them all pages in the whole file.
func readAutomata(blob string, checkTables bool) (*prebuilt, error) {
	r := &blobReader{s: blob}
	if r.take(len(automataMagic)) != automataMagic {
		return nil, errors.New("automata: not a prebuilt automata file (or an older layout)")
	}
	p := &prebuilt{trigHash: r.u64(), keysHash: r.u64()}
	pats := r.strs()
	after32 := r.i32s()
	tm := r.matcher()
	byPrefix := r.ragged()
	ac := r.matcher()
	if r.err != nil {
		return nil, r.err
	}
	if r.off != len(blob) {
		return nil, fmt.Errorf("automata: %d bytes left over", len(blob)-r.off)
	}
	if len(after32) != len(pats) || len(tm.patterns) != len(pats) || len(byPrefix.start) != len(ac.patterns)+1 {
		return nil, errors.New("automata: the parts do not fit together")
	}
	if slices.ContainsFunc(byPrefix.items, func(k int32) bool { return k < 0 }) {
		return nil, errors.New("automata: a key id is negative")
	}
	if checkTables && (!validTable(tm) || !validTable(ac)) {
		return nil, errors.New("automata: a table entry is not a state")
	}
	after := make([]int, len(after32))
	for i, a := range after32 {
		after[i] = int(a)
	}
	p.triggers = &triggerSet{patterns: pats, after: after, m: tm}
	p.keys = &keyMatcher{ac: ac, byPrefix: byPrefix}
	return p, nil
}

// blobWriter lays out the file: little-endian numbers, strings as a length and bytes, int32
// lists as a length then, from a 4-byte boundary of the file, their items.
type blobWriter struct{ b []byte }

func (w *blobWriter) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *blobWriter) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }

func (w *blobWriter) str(s string) {
	w.u32(uint32(len(s)))
	w.b = append(w.b, s...)
}

func (w *blobWriter) strs(ss []string) {
	w.u32(uint32(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

func (w *blobWriter) i32s(v []int32) {
	w.u32(uint32(len(v)))
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
	for _, x := range v {
		w.u32(uint32(x))
	}
}

func (w *blobWriter) ragged(r ragged) {
	w.i32s(r.start)
	w.i32s(r.items)
}

func (w *blobWriter) matcher(m *matcher) {
	w.b = append(w.b, m.class[:]...)
	w.u32(uint32(m.stride))
	w.u32(uint32(m.acceptFrom))
	w.strs(m.patterns)
	w.ragged(m.out)
	w.i32s(m.next)
}

// blobReader reads a blobWriter's file; the first error sticks and zero values follow.
type blobReader struct {
	s   string
	off int
	err error
}

func (r *blobReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("automata: truncated or corrupt at byte %d (%s)", r.off, what)
	}
	r.off = len(r.s)
}

func (r *blobReader) take(n int) string {
	if r.err != nil || n < 0 || n > len(r.s)-r.off {
		r.fail("length")
		return ""
	}
	s := r.s[r.off : r.off+n]
	r.off += n
	return s
}

func (r *blobReader) u32() uint32 {
	b := r.take(4)
	if len(b) < 4 {
		return 0
	}
	return binary.LittleEndian.Uint32([]byte(b))
}

func (r *blobReader) u64() uint64 { return uint64(r.u32()) | uint64(r.u32())<<32 }

func (r *blobReader) strs() []string {
	n := int(r.u32())
	if n > len(r.s)-r.off {
		r.fail("string count")
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.take(int(r.u32()))
	}
	return out
}

// i32s returns the next int32 list: a view of the file when the host is little-endian and
// the items are 4-byte aligned in memory, else a copy.
func (r *blobReader) i32s() []int32 {
	n := int(r.u32())
	for r.err == nil && r.off%4 != 0 {
		r.take(1)
	}
	raw := r.take(4 * n)
	if r.err != nil || n == 0 {
		return nil
	}
	p := unsafe.StringData(raw)
	if littleEndian && uintptr(unsafe.Pointer(p))%4 == 0 {
		return unsafe.Slice((*int32)(unsafe.Pointer(p)), n) // read-only: never written
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32([]byte(raw[4*i : 4*i+4])))
	}
	return out
}

func (r *blobReader) ragged() ragged {
	g := ragged{start: r.i32s(), items: r.i32s()}
	if r.err != nil {
		return ragged{}
	}
	if len(g.start) == 0 || g.start[0] != 0 {
		r.fail("list starts")
		return ragged{}
	}
	for i := 1; i < len(g.start); i++ {
		if g.start[i] < g.start[i-1] || int(g.start[i]) > len(g.items) {
			r.fail("list starts")
			return ragged{}
		}
	}
	return g
}

// matcher reads an automaton and checks its shape. The table's entries are not checked
// here, which would page in all of it: the file is the binary's own, held by
// TestAutomataAreFresh to what the knowledge base builds (and validTable checks them).
func (r *blobReader) matcher() *matcher {
	m := &matcher{}
	copy(m.class[:], r.take(256))
	m.stride = int(r.u32())
	m.acceptFrom = int32(r.u32())
	m.patterns = r.strs()
	m.out = r.ragged()
	m.next = r.i32s()
	if r.err != nil {
		return m
	}
	if m.stride <= 0 || m.stride > 256 || len(m.next) < m.stride || len(m.next)%m.stride != 0 || len(m.out.start) != len(m.next)/m.stride+1 {
		r.fail("automaton shape")
		return m
	}
	for _, c := range m.class {
		if int(c) >= m.stride {
			r.fail("byte classes")
			return m
		}
	}
	if m.acceptFrom < 0 || int(m.acceptFrom) > len(m.next) || int(m.acceptFrom)%m.stride != 0 {
		r.fail("accepting states")
		return m
	}
	for s := int(m.acceptFrom) / m.stride; s < len(m.out.start)-1; s++ {
		if len(m.out.at(s)) == 0 {
			r.fail("accepting states")
			return m
		}
	}
	for _, pid := range m.out.items {
		if pid < 0 || int(pid) >= len(m.patterns) {
			r.fail("pattern ids")
			return m
		}
	}
	return m
}

// validTable reports whether every entry of m's table is a premultiplied state inside it,
// which the scan loop (first) relies on to read without bounds checks.
func validTable(m *matcher) bool {
	for _, st := range m.next {
		if st < 0 || int(st) >= len(m.next) || int(st)%m.stride != 0 {
			return false
		}
	}
	return true
}

// littleEndian is true on hosts that store an int32 least significant byte first.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()
