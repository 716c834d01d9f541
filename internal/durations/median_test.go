package durations

import (
	"math"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		name string
		in   []time.Duration
		want time.Duration
	}{
		{"none", nil, 0},
		{"one", []time.Duration{3 * h}, 3 * h},
		{"odd", []time.Duration{5 * h, 1 * h, 3 * h}, 3 * h},
		{"even", []time.Duration{4 * h, 1 * h, 2 * h, 10 * h}, 3 * h},
		{"even halves", []time.Duration{time.Minute, 2 * time.Minute}, 90 * time.Second},
		{"no overflow", []time.Duration{math.MaxInt64 - 2, math.MaxInt64}, math.MaxInt64 - 1},
	} {
		in := append([]time.Duration(nil), tc.in...)
		if got := Median(tc.in); got != tc.want {
			t.Errorf("%s: Median(%v) = %v, want %v", tc.name, tc.in, got, tc.want)
		}
		if len(in) > 0 && in[0] != tc.in[0] {
			t.Errorf("%s: Median reordered its input", tc.name)
		}
	}
}
