package diagnose

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

// Wrapped-line hits found with the keys' automaton, each join reading only what it adds,
// are the hits found by searching every joined text key by key: on lines made of keys cut
// at random places, with and without a space at the cut, with noise between and blanks
// around.
func TestJoinedHitsAutomatonAgreesWithSearch(t *testing.T) {
	e := testEngine(t)
	km := e.keys()
	r := rand.New(rand.NewSource(5))
	total := 0
	for round := range 400 {
		var text []string
		for len(text) < 12 {
			key := e.keyList[r.Intn(len(e.keyList))]
			if r.Intn(4) == 0 {
				key += " " + e.keyList[r.Intn(len(e.keyList))]
			}
			cut := r.Intn(len(key) + 1)
			noise := []string{"", "npm error ", "x ", "  ", "\t "}[r.Intn(5)]
			// Trailing blanks: the line is joined without them, and a line's walk is made
			// of its trimmed text and replayed past its first bytes.
			a, b := noise+key[:cut]+[]string{"", "", "  ", " \t"}[r.Intn(4)], key[cut:]
			if r.Intn(2) == 0 {
				b = strings.TrimLeft(b, " ")
			}
			text = append(text, a, b+[]string{"", " tail", " E404"}[r.Intn(3)])
			if r.Intn(5) == 0 {
				text = append(text, strings.Repeat("w", r.Intn(60))) // a column-wide filler
			}
		}
		var raw []rawLine
		for i, s := range text {
			raw = append(raw, rawLine{n: i + 1, text: s})
		}
		lines := e.normalize(raw)
		want := e.joinedHitsWith(lines, nil)
		got := e.joinedHitsWith(lines, km)
		key := func(h joinedHit) string {
			return strings.Join([]string{itoa(h.i), itoa(h.a), map[bool]string{true: "r"}[h.regex]}, "/")
		}
		g, w := mapKeys(got, key), mapKeys(want, key)
		if !slices.Equal(g, w) {
			t.Fatalf("round %d: automaton %v, search %v\nlines %q", round, g, w, text)
		}
		total += len(want)
	}
	if total < 200 {
		t.Fatalf("only %d joined hits in 400 rounds: the test does not exercise joins", total)
	}
}

func mapKeys(hs []joinedHit, key func(joinedHit) string) []string {
	var out []string
	for _, h := range hs {
		out = append(out, key(h))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
