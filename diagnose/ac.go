package diagnose

import (
	"bytes"
	"strings"
	"unsafe"
)

// matcher is an Aho–Corasick automaton compiled to a dense DFA over byte classes. One pass
// over a line (or a megabyte of raw log) finds every occurrence of every pattern, which is
// what lets the engine look for a few hundred anchors at memory speed instead of running a
// few hundred substring searches per line.
type matcher struct {
	class  [256]uint8
	stride int
	// next[state*stride + class] is the next state, already multiplied by stride.
	next []int32
	// acceptFrom: states at or above this (premultiplied) index have outputs.
	acceptFrom int32
	// out.at(state) lists the patterns ending at that state, longest first.
	out      ragged
	patterns []string
}

// ragged is a list of int32 lists laid out flat, list i being items[start[i]:start[i+1]]:
// two slices rather than one per list, which a prebuilt automaton reads in place.
type ragged struct {
	start, items []int32
}

func (r ragged) at(i int) []int32 { return r.items[r.start[i]:r.start[i+1]] }

// raggedOf lays lists out flat.
func raggedOf(lists [][]int32) ragged {
	r := ragged{start: make([]int32, len(lists)+1)}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	r.items = make([]int32, 0, n)
	for i, l := range lists {
		r.items = append(r.items, l...)
		r.start[i+1] = int32(len(r.items))
	}
	return r
}

// newMatcher compiles patterns into a dense Aho-Corasick automaton: byte classes, a trie,
// failure links that complete the transition table, then accepting states numbered last.
func newMatcher(patterns []string) *matcher {
	m := &matcher{patterns: patterns}
	n := m.classify(patterns)
	trie, outs := buildTrie(patterns, &m.class, n)
	completeTransitions(trie, outs, n)
	m.renumber(trie, outs, n)
	return m
}

// classify gives each byte that occurs in a pattern its own class; bytes that occur in no
// pattern share class 0. It returns the number of classes, the table's stride.
func (m *matcher) classify(patterns []string) int {
	used := [256]bool{}
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	n := 1
	for b := 0; b < 256; b++ {
		if used[b] {
			m.class[b] = uint8(n)
			n++
		}
	}
	m.stride = n
	return n
}

// buildTrie lays the trie over classes in a dense table, -1 marking a missing edge, and
// returns it with each state's outputs (one slice per state in use).
func buildTrie(patterns []string, class *[256]uint8, n int) (trie []int32, outs [][]int32) {
	states := 1
	for _, p := range patterns {
		states += len(p)
	}
	// Rows are added as states are made, within a capacity for the most there can be:
	// the rows never used are never touched.
	missing := make([]int32, n)
	for i := range missing {
		missing[i] = -1
	}
	trie = append(make([]int32, 0, states*n), missing...)
	outs = make([][]int32, 1, states)
	for pid, p := range patterns {
		if p == "" {
			continue
		}
		s := 0
		for i := 0; i < len(p); i++ {
			c := int(class[p[i]])
			nx := trie[s*n+c]
			if nx < 0 {
				nx = int32(len(outs))
				outs = append(outs, nil)
				trie[s*n+c] = nx
				trie = append(trie, missing...)
			}
			s = int(nx)
		}
		outs[s] = append(outs[s], int32(pid))
	}
	return trie, outs
}

// completeTransitions walks the trie breadth first computing failure links, inherits each
// state's outputs from its failure state and fills every missing edge, in place.
func completeTransitions(trie []int32, outs [][]int32, n int) {
	count := len(outs)
	fail := make([]int32, count)
	queue := make([]int32, 0, count)
	for c := 0; c < n; c++ {
		if nx := trie[c]; nx > 0 {
			fail[nx] = 0
			queue = append(queue, nx)
		} else {
			trie[c] = 0
		}
	}
	for qi := 0; qi < len(queue); qi++ {
		s := int(queue[qi])
		f := int(fail[s])
		if len(outs[f]) > 0 {
			outs[s] = append(outs[s], outs[f]...)
		}
		for c := 0; c < n; c++ {
			if nx := trie[s*n+c]; nx >= 0 {
				fail[nx] = trie[f*n+c]
				queue = append(queue, nx)
			} else {
				trie[s*n+c] = trie[f*n+c]
			}
		}
	}
}

// renumber stores the automaton so that accepting states come last: one comparison per
// byte tells a hit. The start state stays 0: it never accepts (there are no empty patterns).
// The trie's table becomes the automaton's in place, its entries premultiplied and its rows
// moved to their new numbers (a second table of a few megabytes cost more in fresh pages
// than the renumbering itself).
func (m *matcher) renumber(trie []int32, nodes [][]int32, n int) {
	count := len(nodes)
	newID := make([]int32, count)
	id := int32(0)
	for i := range nodes {
		if len(nodes[i]) == 0 {
			newID[i] = id
			id++
		}
	}
	first := id
	for i := range nodes {
		if len(nodes[i]) > 0 {
			newID[i] = id
			id++
		}
	}
	for i, old := range trie {
		trie[i] = newID[old] * int32(n)
	}
	out := make([][]int32, count)
	for old, outs := range nodes {
		out[newID[old]] = outs
	}
	m.out = raggedOf(out)
	// Move each row to its new number, one cycle of the permutation at a time.
	held, swap := make([]int32, n), make([]int32, n)
	moved := make([]bool, count)
	for start := range count {
		if moved[start] || int(newID[start]) == start {
			continue
		}
		copy(held, trie[start*n:(start+1)*n])
		for at := start; !moved[at]; {
			moved[at] = true
			to := int(newID[at])
			row := trie[to*n : (to+1)*n]
			copy(swap, row)
			copy(row, held)
			held, swap = swap, held
			at = to
		}
	}
	m.next = trie
	m.acceptFrom = first * int32(n)
}

// each calls fn for every pattern occurrence in s with the index just past its end.
func (m *matcher) each(s string, fn func(pid int32, end int)) {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = m.next[st+int32(m.class[s[i]])]
		if st >= m.acceptFrom {
			for _, pid := range m.out.at(int(st) / m.stride) {
				fn(pid, i+1)
			}
		}
	}
}

// first returns the end offset and pattern of the first occurrence in b at or after from,
// or -1. It is the prefilter's inner loop, run over every byte of the input, so it reads
// the transition table without bounds checks: every entry of next is a valid premultiplied
// state and class[] is below stride, so the sum always indexes inside next.
func (m *matcher) first(b []byte, from int) (end int, pid int32) {
	if from >= len(b) {
		return -1, -1
	}
	st := int32(0)
	next := unsafe.Pointer(unsafe.SliceData(m.next))
	class := &m.class
	accept := m.acceptFrom
	p := unsafe.Pointer(unsafe.SliceData(b))
	for i := from; i < len(b); i++ {
		c := class[*(*byte)(unsafe.Add(p, i))]
		st = *(*int32)(unsafe.Add(next, uintptr(st+int32(c))*4))
		if st >= accept {
			return i + 1, m.out.at(int(st) / m.stride)[0]
		}
	}
	return -1, -1
}

// prefixLen is how much of a trigger the scanner's automaton holds: enough to decide that a
// line of a huge log is worth keeping, short enough that the automaton stays small for the
// CPU caches and is built in about a millisecond at start-up.
const prefixLen = 12

// keyPrefixLen is how much of a key the keys' automaton holds; the rest of a key is
// compared at each prefix hit. Keys are looked for in kept lines only, so a short prefix
// (a smaller automaton, built faster) costs little.
const keyPrefixLen = 8

// keyMatcher finds every occurrence of a set of keys of any length: an automaton over their
// prefixes, and a comparison of the rest at each prefix hit.
type keyMatcher struct {
	ac       *matcher
	byPrefix ragged // prefix id -> key ids
	keys     []string
}

func newKeyMatcher(keys []string) *keyMatcher {
	km := &keyMatcher{keys: keys}
	index := map[string]int{}
	var prefixes []string
	var byPrefix [][]int32
	for k, key := range keys {
		p := key[:min(len(key), keyPrefixLen)]
		i, ok := index[p]
		if !ok {
			i = len(prefixes)
			index[p] = i
			prefixes = append(prefixes, p)
			byPrefix = append(byPrefix, nil)
		}
		byPrefix[i] = append(byPrefix[i], int32(k))
	}
	km.byPrefix = raggedOf(byPrefix)
	km.ac = newMatcher(prefixes)
	return km
}

// each calls fn for every key occurrence in s with the index just past its end.
func (km *keyMatcher) each(s string, fn func(k int32, end int)) {
	km.walk(s, 0, len(s), 0, func(k int32, start int) { fn(k, start+len(km.keys[k])) }, nil)
}

// walk runs the automaton from state st over s[from:to] (s[:from] was read already,
// leaving it in st) and returns the state it ends in. It calls whole for every key found
// whole in s whose prefix ends in s[from:to], with the key's start, and, when open is not
// nil, open for every key of which only a beginning ends s: a text appended later may
// complete it.
func (km *keyMatcher) walk(s string, from, to int, st int32, whole, open func(k int32, start int)) int32 {
	m := km.ac
	for i := from; i < to; i++ {
		st = m.next[st+int32(m.class[s[i]])]
		if st < m.acceptFrom {
			continue
		}
		for _, pid := range m.out.at(int(st) / m.stride) {
			start := i + 1 - len(m.patterns[pid])
			if start < 0 {
				continue // only a damaged automaton reports a prefix longer than what was read
			}
			for _, k := range km.byPrefix.at(int(pid)) {
				key := km.keys[k]
				switch {
				case strings.HasPrefix(s[start:], key):
					whole(k, start)
				case open != nil && strings.HasPrefix(key, s[start:]):
					open(k, start)
				}
			}
		}
	}
	return st
}

// acHit is one pattern occurrence: its end offset and the pattern; the scanner adds the
// number of newlines before the line that holds it (numberHits).
type acHit struct {
	end  int
	pid  int32
	line int
}

// streams is how many independent automata all runs side by side. A DFA step waits for the
// previous step's table load; four interleaved walks over four parts of the buffer keep the
// CPU busy during that wait, which makes the scan about three times faster.
const streams = 4

// all appends every occurrence in b to dst, in order. b is split at line boundaries into
// streams parts walked in lockstep; patterns never contain '\n', so no match is lost at a
// split. scratch holds per-part buffers between calls.
func (m *matcher) all(b []byte, dst []acHit, scratch *[streams][]acHit) []acHit {
	lo, hi := splitLines(b)
	for i := range scratch {
		scratch[i] = scratch[i][:0]
	}
	common := len(b)
	for i := 0; i < streams; i++ {
		common = min(common, hi[i]-lo[i])
	}
	next := unsafe.Pointer(unsafe.SliceData(m.next))
	class := &m.class
	accept := m.acceptFrom
	p := unsafe.Pointer(unsafe.SliceData(b))
	var s0, s1, s2, s3 int32
	// Offsets, not pointers, per part: a pointer to the end of an empty part would point
	// outside b (checkptr rejects that even unused).
	p0, p1, p2, p3 := lo[0], lo[1], lo[2], lo[3]
	for k := 0; k < common; k++ {
		c0 := int32(class[*(*byte)(unsafe.Add(p, p0+k))])
		c1 := int32(class[*(*byte)(unsafe.Add(p, p1+k))])
		c2 := int32(class[*(*byte)(unsafe.Add(p, p2+k))])
		c3 := int32(class[*(*byte)(unsafe.Add(p, p3+k))])
		s0 = *(*int32)(unsafe.Add(next, uintptr(s0+c0)*4))
		s1 = *(*int32)(unsafe.Add(next, uintptr(s1+c1)*4))
		s2 = *(*int32)(unsafe.Add(next, uintptr(s2+c2)*4))
		s3 = *(*int32)(unsafe.Add(next, uintptr(s3+c3)*4))
		if s0 >= accept || s1 >= accept || s2 >= accept || s3 >= accept {
			for i, s := range [streams]int32{s0, s1, s2, s3} {
				if s >= accept {
					scratch[i] = m.hits(scratch[i], s, lo[i]+k+1)
				}
			}
		}
	}
	for i, s := range [streams]int32{s0, s1, s2, s3} {
		for at := lo[i] + common; at < hi[i]; at++ {
			c := class[*(*byte)(unsafe.Add(p, at))]
			s = *(*int32)(unsafe.Add(next, uintptr(s+int32(c))*4))
			if s >= accept {
				scratch[i] = m.hits(scratch[i], s, at+1)
			}
		}
		dst = append(dst, scratch[i]...)
	}
	return dst
}

// hits appends the patterns that end at end, where the walk reached the accepting
// (premultiplied) state s.
func (m *matcher) hits(dst []acHit, s int32, end int) []acHit {
	for _, pid := range m.out.at(int(s) / m.stride) {
		dst = append(dst, acHit{end: end, pid: pid})
	}
	return dst
}

// splitLines cuts b into streams parts [lo[i], hi[i]) of about equal size, each ending
// just after a newline (or at the end of b).
func splitLines(b []byte) (lo, hi [streams]int) {
	n := len(b)
	prev := 0
	for i := 0; i < streams; i++ {
		lo[i] = prev
		end := n
		if i < streams-1 {
			end = max(prev, n*(i+1)/streams)
			if j := indexNewline(b, end); j >= 0 {
				end = j + 1
			} else {
				end = n
			}
		}
		hi[i] = end
		prev = end
	}
	return lo, hi
}

func indexNewline(b []byte, from int) int {
	if from >= len(b) {
		return -1
	}
	if j := bytes.IndexByte(b[from:], '\n'); j >= 0 {
		return from + j
	}
	return -1
}
