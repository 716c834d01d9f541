package learn

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
)

// DefaultKeepBytes is what a case keeps of a log by default: a publish job's log is
// usually far smaller, and a 100 MB one says what it has to say in its head, around its
// evidence and in its tail.
const DefaultKeepBytes = 512 << 10

// around is how many lines are kept on each side of a line the answer cites.
const around = 10

// span is a stretch of a log in bytes, from a line's start to the start of the line
// after the last one it holds.
type span struct{ from, to int }

// Keep returns at most about maxBytes of log that a case needs to be diagnosed again: the
// whole log when it fits; else its head (an eighth of the budget: the runner, the tools
// and their versions), the lines around every log line the answer cites (the evidence of
// its first three candidates, its facts' lines, the failure line; up to a quarter) and
// its tail (the rest), with a line "… N lines cut …" where lines were left out. It reads
// the log once and allocates only what it returns. It does not redact: the caller
// redacts what it stores.
func Keep(log string, res *diagnose.Result, maxBytes int) string {
	if maxBytes <= 0 {
		maxBytes = DefaultKeepBytes
	}
	if len(log) <= maxBytes {
		return log
	}
	budget := maxBytes
	spans := []span{{0, lineEnd(log, maxBytes/8)}}
	budget -= spans[0].to
	cited := maxBytes / 4
	lines := citedLines(res)
	starts := lineStarts(log, lines)
	for _, n := range lines {
		// The stretch around the line, or a narrower one, or the line alone: what fits.
		for _, r := range []int{around, 2, 0} {
			s := span{starts[max(1, n-r)], starts[n+r+1]}
			if k := s.to - s.from; k > 0 && k <= cited && k <= budget {
				spans = append(spans, s)
				cited -= k
				budget -= k
				break
			}
		}
	}
	if from := len(log) - max(budget, 0); from < len(log) {
		if i := strings.IndexByte(log[from:], '\n'); i >= 0 {
			spans = append(spans, span{from + i + 1, len(log)})
		}
	}
	return joinSpans(log, spans)
}

// lineEnd is the start of the line after the one holding byte n-1: n rounded down to a
// line's end (0 when the first line is longer than n).
func lineEnd(log string, n int) int {
	n = min(n, len(log))
	if i := strings.LastIndexByte(log[:n], '\n'); i >= 0 {
		return i + 1
	}
	return 0
}

// lineStarts finds, in one pass over the log, the byte offset where each line a cited
// line's stretches begin or end starts (len(log) past the last line).
func lineStarts(log string, cited []int) map[int]int {
	want := map[int]bool{}
	for _, n := range cited {
		for _, r := range []int{around, 2, 0} {
			want[max(1, n-r)] = true
			want[n+r+1] = true
		}
	}
	targets := make([]int, 0, len(want))
	for n := range want {
		targets = append(targets, n)
	}
	slices.Sort(targets)
	starts := make(map[int]int, len(targets))
	pos, line := 0, 1
	for _, n := range targets {
		for line < n && pos < len(log) {
			i := strings.IndexByte(log[pos:], '\n')
			if i < 0 {
				pos = len(log)
				break
			}
			pos += i + 1
			line++
		}
		starts[n] = pos
	}
	return starts
}

// joinSpans writes the spans of log in order, merged where they touch, with a marker
// line for each gap.
func joinSpans(log string, spans []span) string {
	slices.SortFunc(spans, func(a, b span) int { return a.from - b.from })
	var b strings.Builder
	pos := 0
	for _, s := range spans {
		s.from = max(s.from, pos)
		if s.to <= s.from {
			continue
		}
		if s.from > pos {
			fmt.Fprintf(&b, "… %d lines cut …\n", strings.Count(log[pos:s.from], "\n"))
		}
		b.WriteString(log[s.from:s.to])
		pos = s.to
	}
	if pos < len(log) {
		if !strings.HasSuffix(b.String(), "\n") && b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "… %d lines cut …\n", strings.Count(log[pos:], "\n")+1)
	}
	return b.String()
}

// citedLines are the 1-based log line numbers an answer cites, the most telling first:
// the evidence of its candidates, the failure line, then its facts' lines.
func citedLines(res *diagnose.Result) []int {
	if res == nil {
		return nil
	}
	var out []int
	for i, d := range res.Diagnoses {
		if i == 3 {
			break
		}
		for _, e := range d.Evidence {
			if e.Source == "log" && e.Line > 0 {
				out = append(out, e.Line)
			}
		}
	}
	if res.Failure != nil && res.Failure.Line > 0 {
		out = append(out, res.Failure.Line)
	}
	for _, f := range res.FactEvidence {
		if f.Source == "log" && f.Line > 0 {
			out = append(out, f.Line)
		}
	}
	return out
}
