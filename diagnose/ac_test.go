package diagnose

import (
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/knowledge"
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

// The key-by-key search a small paste uses must find exactly what the automaton finds, on
// every line of every real log and rule example: otherwise a paste and the same lines
// inside a big log would be diagnosed differently.
func TestKeySearchAgreesWithAutomaton(t *testing.T) {
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(kb, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	logs, _ := filepath.Glob(filepath.Join("testdata", "cases", "*", "*"))
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil || strings.HasSuffix(f, ".tsv") {
			continue
		}
		texts = append(texts, strings.Split(string(b), "\n")...)
	}
	for _, r := range kb.Rules {
		for _, ex := range append(append([]knowledge.Example(nil), r.Examples...), r.NearMisses...) {
			texts = append(texts, strings.Split(ex.Log, "\n")...)
		}
	}
	if len(texts) < 10000 {
		t.Fatalf("only %d lines to compare", len(texts))
	}
	type hit struct {
		k   int32
		end int
	}
	km := e.keys()
	lines, hits := 0, 0
	for _, raw := range texts {
		s := matchText(raw)
		var a, b []hit
		km.each(s, func(k int32, end int) { a = append(a, hit{k, end}) })
		e.eachKeySearched(s, func(k int32, end int) { b = append(b, hit{k, end}) })
		less := func(x []hit) func(i, j int) bool {
			return func(i, j int) bool { return x[i].k < x[j].k || x[i].k == x[j].k && x[i].end < x[j].end }
		}
		sort.Slice(a, less(a))
		sort.Slice(b, less(b))
		if !slices.Equal(a, b) {
			t.Fatalf("line %q: automaton %v, search %v", s, a, b)
		}
		lines++
		hits += len(a)
	}
	if hits == 0 {
		t.Fatal("no key found in any line")
	}
	t.Logf("%d lines, %d key occurrences, identical", lines, hits)
}

// A pasted excerpt is diagnosed without building either automaton (it uses the prebuilt
// keys' automaton when there is one); a log larger than the tail builds the trigger
// automaton, and a long one the keys'.
func TestSmallPasteBuildsNoAutomaton(t *testing.T) {
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	seed := "npm notice Access token expired or revoked. Please try logging in again.\nnpm error code E404\nnpm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found\n"
	prebuilt, err := New(kb, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if prebuilt.keysReady() == nil {
		t.Fatal("the embedded knowledge base's keys are not in automata_gen.bin")
	}
	withKeys, err := prebuilt.DiagnoseText(seed)
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	e, err := New(kb, nil, Options{TailBytes: 4 << 10, ChunkBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	e.keysReady = func() *keyMatcher { return nil } // as for a base without prebuilt keys
	inner := e.scan.triggers
	e.scan.triggers = func() *triggerSet { built++; return inner() }
	res, err := e.DiagnoseText(seed)
	if err != nil {
		t.Fatal(err)
	}
	if built != 0 || e.keysBuilt.Load() {
		t.Fatalf("a 3-line paste built automata: triggers %d, keys %v", built, e.keysBuilt.Load())
	}
	if len(res.Diagnoses) == 0 || res.Verdict == "no-known-cause" {
		t.Fatalf("the paste lost its answer: %s %v", res.Verdict, res.Diagnoses)
	}
	if withKeys.Verdict != res.Verdict || withKeys.Diagnoses[0].ID != res.Diagnoses[0].ID || withKeys.Diagnoses[0].Confidence != res.Diagnoses[0].Confidence {
		t.Fatalf("paste with prebuilt keys %s/%s, key by key %s/%s", withKeys.Verdict, withKeys.Diagnoses[0].ID, res.Verdict, res.Diagnoses[0].ID)
	}
	big := strings.Repeat("ok 1 - some test passed in 3 ms\n", 1000) + seed
	res2, err := e.DiagnoseText(big)
	if err != nil {
		t.Fatal(err)
	}
	if built == 0 || !e.keysBuilt.Load() {
		t.Fatalf("a %d-byte log built no automaton: triggers %d, keys %v", len(big), built, e.keysBuilt.Load())
	}
	if res2.Verdict != res.Verdict || res2.Diagnoses[0].ID != res.Diagnoses[0].ID {
		t.Fatalf("paste %s/%s, same lines in a long log %s/%s", res.Verdict, res.Diagnoses[0].ID, res2.Verdict, res2.Diagnoses[0].ID)
	}
}

// A regex anchor without a three-byte required literal is tried only on lines holding one
// of its shorter required literals (knowledge.Prefilter): on every line of the real logs
// and rule examples the regexes match, the prefilter lets the line through.
func TestRegexPrefilterNeverHidesAMatch(t *testing.T) {
	kb, err := knowledge.Load()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	logs, _ := filepath.Glob(filepath.Join("testdata", "cases", "*", "*"))
	for _, f := range logs {
		if b, err := os.ReadFile(f); err == nil && !strings.HasSuffix(f, ".tsv") {
			lines = append(lines, strings.Split(string(b), "\n")...)
		}
	}
	for _, r := range kb.Rules {
		for _, ex := range r.Examples {
			lines = append(lines, strings.Split(ex.Log, "\n")...)
		}
	}
	matched := 0
	for _, a := range kb.Anchors {
		if !a.IsRegex() || len(a.Required) > 0 {
			continue // keyed regexes are tried where their required literals are
		}
		pre := knowledge.Prefilter(a.Expr)
		for _, l := range lines {
			t1 := matchText(l)
			if a.Regex().MatchString(t1) {
				matched++
				if pre != nil && !containsAny(t1, pre) {
					t.Fatalf("regex %q matches %q but its prefilter %q hides it", a.Expr, t1, pre)
				}
			}
		}
	}
	if matched < 3 {
		t.Fatalf("only %d regex matches checked", matched)
	}
	if got := knowledge.Prefilter(`\.dev\d+\+g[0-9a-f]{6,}|\+g[0-9a-f]{7,}(\.d\d{8})?`); !slices.Equal(got, []string{".dev", "+g"}) {
		t.Fatalf("prefilter of the local-version regex = %q", got)
	}
}
