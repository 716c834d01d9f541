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

	// Trie with goto over classes.
	type node struct {
		edges map[uint8]int
		fail  int
		out   []int32
	}
	nodes := []node{{edges: map[uint8]int{}}}
	for pid, p := range patterns {
		if p == "" {
			continue
		}
		s := 0
		for i := 0; i < len(p); i++ {
			c := m.class[p[i]]
			nx, ok := nodes[s].edges[c]
			if !ok {
				nx = len(nodes)
				nodes = append(nodes, node{edges: map[uint8]int{}})
				nodes[s].edges[c] = nx
			}
			s = nx
		}
		nodes[s].out = append(nodes[s].out, int32(pid))
	}
	// BFS for failure links and the full transition function.
	delta := make([][]int, len(nodes))
	for i := range delta {
		delta[i] = make([]int, n)
	}
	queue := []int{}
	for c := 0; c < n; c++ {
		if nx, ok := nodes[0].edges[uint8(c)]; ok {
			delta[0][c] = nx
			nodes[nx].fail = 0
			queue = append(queue, nx)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		f := nodes[s].fail
		nodes[s].out = append(nodes[s].out, nodes[f].out...)
		for c := 0; c < n; c++ {
			if nx, ok := nodes[s].edges[uint8(c)]; ok {
				nodes[nx].fail = delta[f][c]
				delta[s][c] = nx
				queue = append(queue, nx)
			} else {
				delta[s][c] = delta[f][c]
			}
		}
	}
	// Renumber so that accepting states come last: one comparison per byte tells a hit.
	order := make([]int, 0, len(nodes))
	for i := range nodes {
		if len(nodes[i].out) == 0 {
			order = append(order, i)
		}
	}
	first := len(order)
	for i := range nodes {
		if len(nodes[i].out) > 0 {
			order = append(order, i)
		}
	}
	// The start state must stay state 0; it never accepts (no empty patterns).
	newID := make([]int, len(nodes))
	for id, old := range order {
		newID[old] = id
	}
	m.next = make([]int32, len(nodes)*n)
	m.out = make([][]int32, len(nodes))
	for old, row := range delta {
		id := newID[old]
		for c, to := range row {
			m.next[id*n+c] = int32(newID[to] * n)
		}
		m.out[id] = nodes[old].out
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
