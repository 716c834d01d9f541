package patch

import (
	"bytes"
	"fmt"
	"strings"
)

// context is the number of unchanged lines a hunk shows around a change, as diff -u.
const context = 3

// maxEdits bounds the line edits Diff looks for; files differing by more are shown as one
// hunk that replaces everything (a fix changes a few lines, never thousands).
const maxEdits = 4000

// Diff returns the unified diff from before to after of the file at path (a repository
// path, written as a/path and b/path, so `git apply` and `patch -p1` apply it), or "" when
// they are equal. A last line without a newline is marked as diff marks it.
func Diff(path string, before, after []byte) string {
	if bytes.Equal(before, after) {
		return ""
	}
	a, b := splitLines(before), splitLines(after)
	ops := lineDiff(a, b)
	var w strings.Builder
	fmt.Fprintf(&w, "--- a/%s\n+++ b/%s\n", path, path)
	for _, h := range hunks(ops) {
		writeHunk(&w, h, a, b)
	}
	return w.String()
}

// splitLines splits a file into lines, each with its "\n" (the last may lack it).
func splitLines(src []byte) []string {
	var out []string
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			out = append(out, string(src))
			break
		}
		out = append(out, string(src[:i+1]))
		src = src[i+1:]
	}
	return out
}

// op is one step of a line diff: keep a[ai] (= b[bi]), delete a[ai] or insert b[bi].
type op struct {
	kind   byte // ' ', '-', '+'
	ai, bi int
}

// lineDiff is Myers' greedy O((N+M)D) diff over lines, with the common prefix and suffix
// taken off first.
func lineDiff(a, b []string) []op {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []op
	for i := range pre {
		ops = append(ops, op{' ', i, i})
	}
	mid := myers(a[pre:len(a)-suf], b[pre:len(b)-suf])
	for _, o := range mid {
		o.ai += pre
		o.bi += pre
		ops = append(ops, o)
	}
	for i := range suf {
		ops = append(ops, op{' ', len(a) - suf + i, len(b) - suf + i})
	}
	return ops
}

func myers(a, b []string) []op {
	n, m := len(a), len(b)
	if n > 0 && m > 0 {
		if trace := myersTrace(a, b); trace != nil {
			return myersPath(trace, n, m)
		}
	}
	var ops []op // replace everything
	for i := range n {
		ops = append(ops, op{'-', i, 0})
	}
	for j := range m {
		ops = append(ops, op{'+', n, j})
	}
	return ops
}

// myersTrace runs the forward search, keeping V (the furthest x on each diagonal k) as it
// was before each round d; nil when more than maxEdits edits are needed.
func myersTrace(a, b []string) [][]int {
	n, m := len(a), len(b)
	maxD := min(n+m, maxEdits)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			x := v[off+k-1] + 1
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return trace
			}
		}
	}
	return nil
}

// myersPath walks the trace back from (n, m) to the start, giving the edit script.
func myersPath(trace [][]int, n, m int) []op {
	off := (len(trace[0])-3)/2 + 1
	var rev []op
	x, y := n, m
	for d := len(trace) - 1; d >= 0; d-- {
		tv := trace[d]
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && tv[off+k-1] < tv[off+k+1]) {
			prevK = k + 1
		}
		prevX := tv[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			rev = append(rev, op{' ', x - 1, y - 1})
			x, y = x-1, y-1
		}
		switch {
		case d == 0:
		case x == prevX:
			rev = append(rev, op{'+', x, y - 1})
		default:
			rev = append(rev, op{'-', x - 1, y})
		}
		x, y = prevX, prevY
	}
	ops := make([]op, len(rev))
	for i, o := range rev {
		ops[len(rev)-1-i] = o
	}
	return ops
}

// hunks groups the ops into hunks: each change with up to context kept lines around it,
// changes closer than 2*context lines sharing one hunk.
func hunks(ops []op) [][]op {
	var out [][]op
	i := 0
	for i < len(ops) {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start := max(0, i-context)
		// Extend while the next change is within 2*context kept lines.
		end := i
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			run := end
			for run < len(ops) && ops[run].kind == ' ' {
				run++
			}
			if run == len(ops) || run-end > 2*context {
				end = min(end+context, len(ops))
				break
			}
			end = run
		}
		out = append(out, ops[start:end])
		i = end
	}
	return out
}

func writeHunk(w *strings.Builder, h []op, a, b []string) {
	aStart, bStart := h[0].ai, h[0].bi
	aCount, bCount := 0, 0
	for _, o := range h {
		switch o.kind {
		case ' ':
			aCount++
			bCount++
		case '-':
			aCount++
		case '+':
			bCount++
		}
	}
	fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(aStart, aCount), hunkRange(bStart, bCount))
	for _, o := range h {
		var line string
		switch o.kind {
		case ' ', '-':
			line = a[o.ai]
		case '+':
			line = b[o.bi]
		}
		w.WriteByte(o.kind)
		w.WriteString(line)
		if !strings.HasSuffix(line, "\n") {
			w.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange is "start,count" of a hunk header; an empty range names the line before it.
func hunkRange(start, count int) string {
	if count == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	return fmt.Sprintf("%d,%d", start+1, count)
}
