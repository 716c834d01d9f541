package diagnose

import (
	"fmt"
	"strings"
)

// Window is a few lines cut from a log the way a person pastes them into chat: the tail up
// to the last error line, or one error line with the lines around it.
type Window struct {
	// Name says which cut it is ("last 6 to line 212", "line 180 ±2").
	Name string
	// First and Last are the 1-based numbers of the window's lines in the log.
	First, Last int
	Text        string
}

// Holds reports whether the window holds line n of the log.
func (w Window) Holds(n int) bool { return n >= w.First && n <= w.Last }

// minWindowLog is the shortest log worth cutting: shorter ones are pastes already.
const minWindowLog = 8

// maxWindows bounds the cuts of one log (the error lines nearest its end are cut first).
const maxWindows = 40

// PasteWindows cuts the windows a person would paste from a log longer than eight lines: the
// last 3, 6 and 10 lines up to the last error line, and each error line with two lines
// either side.
func PasteWindows(text string) []Window {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) <= minWindowLog {
		return nil
	}
	var errs []int // 0-based
	for i, l := range lines {
		if isErrorLine(l) {
			errs = append(errs, i)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	var out []Window
	seen := map[[2]int]bool{}
	add := func(name string, from, to int) {
		from, to = max(from, 0), min(to, len(lines)-1)
		if seen[[2]int{from, to}] || from > to {
			return
		}
		seen[[2]int{from, to}] = true
		out = append(out, Window{Name: name, First: from + 1, Last: to + 1, Text: strings.Join(lines[from:to+1], "\n") + "\n"})
	}
	last := errs[len(errs)-1]
	for _, n := range []int{3, 6, 10} {
		add(fmt.Sprintf("last %d to line %d", n, last+1), last-n+1, last)
	}
	for k := len(errs) - 1; k >= 0 && len(out) < maxWindows; k-- {
		add(fmt.Sprintf("line %d ±2", errs[k]+1), errs[k]-2, errs[k]+2)
	}
	return out
}

// isErrorLine is what a person takes for an error when they scroll a failed job: a line
// that says error, ERR!, failed or fatal (after the runner's own markers are gone).
func isErrorLine(raw string) bool {
	l := normalizeLine(raw, docStyle{})
	return l.Marker == "error" || reErrorish.MatchString(l.Text)
}
