package diagnose

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
	// out[state] lists the patterns ending at that state, longest first.
	out      [][]int32
	patterns []string
}

func newMatcher(patterns []string) *matcher {
	m := &matcher{patterns: patterns}
	// Byte classes: bytes that occur in no pattern share class 0.
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

	// Trie over classes in a dense table; -1 marks a missing edge.
	states := 1
	for _, p := range patterns {
		states += len(p)
	}
	trie := make([]int32, states*n)
	for i := range trie {
		trie[i] = -1
	}
	outs := make([][]int32, 1, states)
	count := 1
	for pid, p := range patterns {
		if p == "" {
			continue
		}
		s := 0
		for i := 0; i < len(p); i++ {
			c := int(m.class[p[i]])
			nx := trie[s*n+c]
			if nx < 0 {
				nx = int32(count)
				count++
				outs = append(outs, nil)
				trie[s*n+c] = nx
			}
			s = int(nx)
		}
		outs[s] = append(outs[s], int32(pid))
	}
	// BFS: failure links, inherited outputs and the full transition function, in place.
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
	nodes := outs[:count]
	// Renumber so that accepting states come last: one comparison per byte tells a hit.
	// The start state stays 0: it never accepts (there are no empty patterns).
	order := make([]int, 0, count)
	for i := range nodes {
		if len(nodes[i]) == 0 {
			order = append(order, i)
		}
	}
	first := len(order)
	for i := range nodes {
		if len(nodes[i]) > 0 {
			order = append(order, i)
		}
	}
	newID := make([]int32, count)
	for id, old := range order {
		newID[old] = int32(id)
	}
	m.next = make([]int32, count*n)
	m.out = make([][]int32, count)
	for old := 0; old < count; old++ {
		id := int(newID[old])
		for c := 0; c < n; c++ {
			m.next[id*n+c] = newID[trie[old*n+c]] * int32(n)
		}
		m.out[id] = nodes[old]
	}
	m.acceptFrom = int32(first * n)
	return m
}

// each calls fn for every pattern occurrence in s with the index just past its end.
func (m *matcher) each(s string, fn func(pid int32, end int)) {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = m.next[st+int32(m.class[s[i]])]
		if st >= m.acceptFrom {
			for _, pid := range m.out[int(st)/m.stride] {
				fn(pid, i+1)
			}
		}
	}
}

// first returns the end offset and pattern of the first occurrence in b at or after from,
// or -1. It is the prefilter's inner loop.
func (m *matcher) first(b []byte, from int) (end int, pid int32) {
	st := int32(0)
	next, class, accept := m.next, &m.class, m.acceptFrom
	for i := from; i < len(b); i++ {
		st = next[st+int32(class[b[i]])]
		if st >= accept {
			return i + 1, m.out[int(st)/m.stride][0]
		}
	}
	return -1, -1
}
