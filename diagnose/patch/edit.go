package patch

import (
	"cmp"
	"fmt"
	"slices"
)

// Edit replaces the bytes [Start, End) of a file with Text. An insertion has Start == End.
type Edit struct {
	Start, End int
	Text       string
}

// Apply returns src with the edits applied, each at its position in src. Edits may come in
// any order but must not overlap (two insertions at one offset are applied in the order
// given).
func Apply(src []byte, edits []Edit) ([]byte, error) {
	sorted := slices.Clone(edits)
	slices.SortStableFunc(sorted, func(a, b Edit) int { return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End)) })
	out := make([]byte, 0, len(src)+64)
	at := 0
	for _, e := range sorted {
		if e.Start < at || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("edit [%d,%d) overlaps another or lies outside the %d-byte file", e.Start, e.End, len(src))
		}
		out = append(out, src[at:e.Start]...)
		out = append(out, e.Text...)
		at = e.End
	}
	return append(out, src[at:]...), nil
}
