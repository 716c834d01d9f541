package diagnose

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHintsFit(t *testing.T) {
	if len(hintWords) > maxHints {
		t.Fatalf("%d hints, a hintSet holds %d: raise maxHints", len(hintWords), maxHints)
	}
	if len(hintWords) < 100 {
		t.Fatalf("only %d hints registered: the readers' literals are missing", len(hintWords))
	}
	for i, w := range hintWords {
		if w == "" {
			t.Fatalf("hint %d is empty", i)
		}
	}
}

// The automaton must find exactly the hints strings.Contains finds, or a long log would
// read different facts from the same lines than a short one.
func TestHintsAutomatonAgreesWithContains(t *testing.T) {
	m := hintMatcher()
	check := func(s string) {
		t.Helper()
		if got, want := hintsIn(s, m), hintsIn(s, nil); got != want {
			t.Fatalf("%q: automaton %v, literal by literal %v", s, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, w := range hintWords {
		check(w)
		check("x" + w + w[:len(w)/2])
		// Overlaps and neighbours: each hint glued to pieces of others.
		for range 5 {
			o := hintWords[rng.IntN(len(hintWords))]
			check(o[len(o)/2:] + w + o[:len(o)/2])
		}
	}
	logs, _ := filepath.Glob("testdata/cases/*/*.log")
	if len(logs) < 50 {
		t.Fatalf("found %d case logs", len(logs))
	}
	lines := 0
	for _, f := range logs {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(data), "\n") {
			check(l)
			lines++
		}
	}
	t.Logf("%d hints agree on %d lines", len(hintWords), lines)
}
