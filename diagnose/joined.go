package diagnose

import (
	"strings"
	"unicode/utf8"
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
	for i := max(0, len(lines)-maxJoinedLines); i < len(lines); i++ {
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
				next := strings.TrimSpace(lines[k].Match)
				if next == "" && k+1 < len(lines) && utf8.RuneCountInString(lines[k-1].Text) >= minColumnWrap && lines[k+1].N == lines[k].N+1 {
					// The empty row a terminal shows when a cut falls on a line's trailing blank.
					k++
					next = strings.TrimSpace(lines[k].Match)
				}
				if next == "" {
					break
				}
				j.join(sep, next)
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
}

// openKey is a key whose first bytes end the text read so far, at start.
type openKey struct {
	k     int32
	start int
}

// start reads line i's text on its own.
func (j *joiner) start(i int, first string) {
	j.i, j.joined, j.boundary = i, first, -1
	if j.km == nil {
		return
	}
	j.clearSeen()
	j.open = j.open[:0]
	j.state = j.feed(0, 0)
	j.firstState = j.state
	j.firstOpen = append(j.firstOpen[:0], j.open...)
	j.firstKeys = append(j.firstKeys[:0], j.seenIDs...)
}

// restart goes back to line i's own text, for the other separator.
func (j *joiner) restart(first string) {
	j.joined, j.boundary = first, -1
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
func (j *joiner) join(sep, next string) {
	j.boundary, j.sepLen = len(j.joined), len(sep)
	j.joined += sep + next
	if j.km == nil {
		j.clearSeen()
		j.e.eachKeySearched(j.joined, func(k int32, end int) {
			j.hit(k, end-len(j.e.keyList[k]))
		})
	} else {
		j.state = j.feed(j.boundary, j.state)
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
// read already), completing the open keys first.
func (j *joiner) feed(from int, st int32) int32 {
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
	return j.km.walk(s, from, st, j.hit, func(k int32, start int) {
		j.open = append(j.open, openKey{k, start})
	})
}

// hit notes key k found whole at start in the joined text: its literal anchors match
// across the join when it crosses the boundary.
func (j *joiner) hit(k int32, start int) {
	end := start + len(j.e.keyList[k])
	if j.boundary >= 0 && start < j.boundary && end > j.boundary+j.sepLen {
		for _, a := range j.e.keyLits[k] {
			j.found = append(j.found, joinedHit{a: a, i: j.i})
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
	for _, a := range j.e.keyRegex[k] {
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
