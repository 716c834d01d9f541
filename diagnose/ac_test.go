package diagnose

import (
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"
)

func TestMatcherFindsEveryOccurrence(t *testing.T) {
	pats := []string{"he", "she", "his", "hers", "npm ERR!", "ERR"}
	m := newMatcher(pats)
	type hit struct {
		pid int32
		end int
	}
	var got []hit
	m.each("ushers npm ERR! x", func(pid int32, end int) { got = append(got, hit{pid, end}) })
	want := map[hit]bool{{1, 4}: true, {0, 4}: true, {3, 6}: true, {5, 14}: true, {4, 15}: true}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, h := range got {
		if !want[h] {
			t.Errorf("unexpected hit %v", h)
		}
	}
}

func TestMatcherAgreesWithStringsIndex(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	rnd := func(n int, alpha string) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteByte(alpha[r.Intn(len(alpha))])
		}
		return b.String()
	}
	for round := 0; round < 200; round++ {
		var pats []string
		for i := 0; i < 1+r.Intn(6); i++ {
			pats = append(pats, rnd(1+r.Intn(4), "abcab d")) // patterns never hold a newline
		}
		text := rnd(60, "abcab d\n")
		m := newMatcher(pats)
		var got []string
		m.each(text, func(pid int32, end int) { got = append(got, pats[pid]+"@"+itoa(end)) })
		var want []string
		for _, p := range pats {
			for i := 0; i+len(p) <= len(text); i++ {
				if text[i:i+len(p)] == p {
					want = append(want, p+"@"+itoa(i+len(p)))
				}
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(dedupe(want), ",") && strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("patterns %q in %q: got %v want %v", pats, text, got, want)
		}
		var scratch [streams][]acHit
		var all []string
		for _, h := range m.all([]byte(text), nil, &scratch) {
			all = append(all, pats[h.pid]+"@"+itoa(h.end))
		}
		sort.Strings(all)
		if strings.Join(all, ",") != strings.Join(got, ",") {
			t.Fatalf("all(%q, %q) = %v, each gave %v", pats, text, all, got)
		}
		end, _ := m.first([]byte(text), 0)
		firstWant := -1
		for _, w := range want {
			e := atoi(w[strings.LastIndexByte(w, '@')+1:])
			if firstWant < 0 || e < firstWant {
				firstWant = e
			}
		}
		if end != firstWant {
			t.Fatalf("first(%q, %q) = %d, want %d", pats, text, end, firstWant)
		}
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || s[i-1] != x {
			out = append(out, x)
		}
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
