package diagnose

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// joinedHits finds anchors that only match once a wrapped line is joined to the next one or
// two: humans and wrappers (release-it, changesets, semantic-release) break long npm lines
// between words, terminals and some pastes break them at a column, inside a word. Both
// joins are tried. The hits are returned in the order found, to be recorded after the
// lines' own hits (analyze).
func (e *Engine) joinedHits(lines []Line) []joinedHit {
	var km *keyMatcher
	if e.keyAutomaton(lines) {
		km = e.keys()
	}
	return e.joinedHitsWith(lines, km)
}

// joinedHitsWith is joinedHits finding keys with km, or one by one when km is nil.
func (e *Engine) joinedHitsWith(lines []Line, km *keyMatcher) []joinedHit {
	j := &joiner{e: e, km: km, tried: make([]bool, len(e.kb.Anchors)), seen: make([]bool, len(e.keyList))}
	// Wrapping is a paste and wrapper habit: it is looked for near the end, where failures
	// are, so the cost stays bounded on huge logs.
	from := max(0, len(lines)-maxJoinedLines)
	j.lines, j.from = lines, from
	j.trims, j.trimmed = make([]string, len(lines)-from), make([]bool, len(lines)-from)
	if km != nil {
		j.walks = make([]*lineWalk, len(lines)-from)
	}
	for i := from; i < len(lines); i++ {
		first := strings.TrimRight(lines[i].Match, " \t")
		if first == "" {
			continue
		}
		j.start(i, first)
		for _, sep := range []string{" ", ""} {
			if sep == "" && utf8.RuneCountInString(lines[i].Text) < minColumnWrap {
				continue // nobody's terminal is this narrow
			}
			j.restart(first)
			for w, k := 1, i+1; w <= 2 && k < len(lines) && lines[k].N == lines[k-1].last()+1; w, k = w+1, k+1 {
				next := j.trim(k)
				if next == "" && k+1 < len(lines) && utf8.RuneCountInString(lines[k-1].Text) >= minColumnWrap && lines[k+1].N == lines[k].N+1 {
					// The empty row a terminal shows when a cut falls on a line's trailing blank.
					k++
					next = j.trim(k)
				}
				if next == "" {
					break
				}
				j.join(sep, next, k)
			}
		}
	}
	return j.found
}

// joiner joins one line to the next ones and finds the anchors that match across a join.
// With the keys' automaton, the automaton's state at the end of the text joined so far is
// kept, so each join reads only what it adds (and the keys it may complete) instead of the
// whole joined text again.
type joiner struct {
	e     *Engine
	km    *keyMatcher // nil: keys are searched one by one (a short paste)
	found []joinedHit

	i        int // the line being joined to the next ones
	joined   string
	boundary int // where the last join starts in joined; -1 while reading line i alone
	sepLen   int
	state    int32     // the automaton's state after joined
	open     []openKey // keys whose first bytes end joined
	seenIDs  []int32   // the keys joined holds (seen)
	seen     []bool
	tried    []bool // per anchor: its regex was tried on this joined text
	triedIDs []int

	// Line i's own text, read once for both separators.
	firstState int32
	firstOpen  []openKey
	firstKeys  []int32

	// buf holds the joined text; joined is a view of it, valid until the next start.
	buf []byte

	// trims[k-from] is line k's text trimmed (when trimmed[k-from]), walks[k-from] the
	// automaton's walk of it: each made on first need.
	lines   []Line
	from    int
	trims   []string
	trimmed []bool
	walks   []*lineWalk
}

// trim returns line k's text without its leading and trailing blanks.
func (j *joiner) trim(k int) string {
	if !j.trimmed[k-j.from] {
		j.trims[k-j.from], j.trimmed[k-j.from] = strings.TrimSpace(j.lines[k].Match), true
	}
	return j.trims[k-j.from]
}

// lineWalk is the keys' automaton run over one line's trimmed text on its own: the state it
// ends in, and the keys it finds whose prefix ends at byte keyPrefixLen or later. From that
// byte on the automaton's state no longer depends on what preceded the line (no prefix is
// longer), so a text that ends with the line walks only up to the line's first
// keyPrefixLen bytes and replays the rest: each line is read whole once, not once per join.
type lineWalk struct {
	state  int32
	events []walkEvent
}

// walkEvent is a key found whole (or, open, only its beginning) at start in the line.
type walkEvent struct {
	k     int32
	start int
	open  bool
}

// walkOf returns line k's walk, text being its trimmed text.
func (j *joiner) walkOf(k int, text string) *lineWalk {
	if w := j.walks[k-j.from]; w != nil {
		return w
	}
	w := &lineWalk{}
	late := func(k int32, start int) bool {
		return start+min(len(j.km.keys[k]), keyPrefixLen) > keyPrefixLen
	}
	w.state = j.km.walk(text, 0, len(text), 0, func(k int32, start int) {
		if late(k, start) {
			w.events = append(w.events, walkEvent{k: k, start: start})
		}
	}, func(k int32, start int) {
		if late(k, start) {
			w.events = append(w.events, walkEvent{k: k, start: start, open: true})
		}
	})
	j.walks[k-j.from] = w
	return w
}

// openKey is a key whose first bytes end the text read so far, at start.
type openKey struct {
	k     int32
	start int
}

// start reads line i's text on its own.
func (j *joiner) start(i int, first string) {
	j.i, j.joined, j.boundary = i, first, -1
	j.buf = append(j.buf[:0], first...)
	if j.km == nil {
		return
	}
	j.clearSeen()
	j.open = j.open[:0]
	j.state = j.feed(0, 0, i, j.trim(i))
	j.firstState = j.state
	j.firstOpen = append(j.firstOpen[:0], j.open...)
	j.firstKeys = append(j.firstKeys[:0], j.seenIDs...)
}

// restart goes back to line i's own text, for the other separator.
func (j *joiner) restart(first string) {
	j.joined, j.boundary = first, -1
	j.buf = append(j.buf[:0], first...)
	if j.km == nil {
		return
	}
	j.clearSeen()
	for _, k := range j.firstKeys {
		j.see(k)
	}
	j.state = j.firstState
	j.open = append(j.open[:0], j.firstOpen...)
}

// join appends sep and next to the joined text and records the anchors that match across
// that boundary: literal keys that cross it, and the regexes of every key the joined text
// holds that match across it.
func (j *joiner) join(sep, next string, k int) {
	j.boundary, j.sepLen = len(j.joined), len(sep)
	j.buf = append(append(j.buf, sep...), next...)
	// A view, not a copy: nothing keeps the joined text past this join (found holds line
	// and anchor numbers), and the buffer is only written again by the next join or line.
	j.joined = unsafe.String(unsafe.SliceData(j.buf), len(j.buf))
	if j.km == nil {
		j.clearSeen()
		j.e.eachKeySearched(j.joined, func(k int32, end int) {
			j.hit(k, end-len(j.e.keyList[k]))
		})
	} else {
		j.state = j.feed(j.boundary, j.state, k, next)
	}
	for _, k := range j.seenIDs {
		j.tryRegexes(k)
	}
	for _, a := range j.triedIDs {
		j.tried[a] = false
	}
	j.triedIDs = j.triedIDs[:0]
}

// feed continues the keys' automaton from state st over joined[from:] (joined[:from] was
// read already), completing the open keys first. Joined ends with text, line k's trimmed
// text, whose walk is replayed past its first bytes.
func (j *joiner) feed(from int, st int32, k int, text string) int32 {
	s := j.joined
	kept := j.open[:0]
	for _, o := range j.open {
		key := j.km.keys[o.k]
		switch {
		case strings.HasPrefix(s[o.start:], key):
			j.hit(o.k, o.start)
		case strings.HasPrefix(key, s[o.start:]):
			kept = append(kept, o)
		}
	}
	j.open = kept
	open := func(k int32, start int) { j.open = append(j.open, openKey{k, start}) }
	off := len(s) - len(text)
	if len(text) <= keyPrefixLen || off < from || !strings.HasSuffix(s, text) {
		return j.km.walk(s, from, len(s), st, j.hit, open)
	}
	j.km.walk(s, from, off+keyPrefixLen, st, j.hit, open)
	w := j.walkOf(k, text)
	for _, ev := range w.events {
		if ev.open {
			open(ev.k, off+ev.start)
		} else {
			j.hit(ev.k, off+ev.start)
		}
	}
	return w.state
}

// hit notes key k found whole at start in the joined text: its literal anchors match
// across the join when it crosses the boundary.
func (j *joiner) hit(k int32, start int) {
	end := start + len(j.e.keyList[k])
	if j.boundary >= 0 && start < j.boundary && end > j.boundary+j.sepLen {
		for _, a := range j.e.keyLits.at(int(k)) {
			j.found = append(j.found, joinedHit{a: int(a), i: j.i})
		}
	}
	j.see(k)
}

func (j *joiner) see(k int32) {
	if !j.seen[k] {
		j.seen[k] = true
		j.seenIDs = append(j.seenIDs, k)
	}
}

func (j *joiner) clearSeen() {
	for _, k := range j.seenIDs {
		j.seen[k] = false
	}
	j.seenIDs = j.seenIDs[:0]
}

// tryRegexes tries, once per joined text, the regex anchors key k selects; one that matches
// across the boundary is a hit.
func (j *joiner) tryRegexes(k int32) {
	for _, a32 := range j.e.keyRegex.at(int(k)) {
		a := int(a32)
		if j.tried[a] {
			continue
		}
		j.tried[a] = true
		j.triedIDs = append(j.triedIDs, a)
		if loc := j.e.kb.Anchors[a].Regex().FindStringIndex(j.joined); loc != nil && loc[0] < j.boundary && loc[1] > j.boundary+j.sepLen {
			j.found = append(j.found, joinedHit{a: a, i: j.i, regex: true})
		}
	}
}
