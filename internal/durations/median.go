package durations

import (
	"slices"
	"time"
)

// Median is the middle of ds, the mean of the middle two when their number is even
// (computed without overflowing); 0 for none. It does not modify ds.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return s[m-1] + (s[m]-s[m-1])/2
}
