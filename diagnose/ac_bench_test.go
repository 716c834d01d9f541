package diagnose

import (
	"bytes"
	"testing"

	"github.com/pubdoc/pubdoc/internal/synth"
)

// BenchmarkTriggerScan is the scanner's inner loop alone: the trigger automaton over a
// 64 MB job log already in memory, in the scanner's 1 MB regions, on one core.
func BenchmarkTriggerScan(b *testing.B) {
	ts := testEngine(b).scan.triggers()
	var buf bytes.Buffer
	if _, err := synth.WriteJobLog(&buf, 64<<20); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	var regions [][]byte
	for pos := 0; pos < len(data); {
		end := min(pos+1<<20, len(data))
		if end < len(data) {
			end = pos + bytes.LastIndexByte(data[pos:end], '\n') + 1
		}
		regions = append(regions, data[pos:end])
		pos = end
	}
	var hits []acHit
	var scratch [streams][]acHit
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, r := range regions {
			hits = ts.m.all(r, hits[:0], &scratch)
			n += len(hits)
		}
		if n == 0 {
			b.Fatal("no trigger in the log")
		}
	}
}

// BenchmarkTriggerAutomaton is building the scanner's automaton, which a log larger than
// the tail pays once.
func BenchmarkTriggerAutomaton(b *testing.B) {
	pats, _, _ := minimalTriggers(scanTriggers(testEngine(b).kb))
	b.ReportAllocs()
	for b.Loop() {
		newMatcher(pats)
	}
}
