// Package durations holds the small computations on time.Duration values that both the
// store's statistics and the weekly digest make, so that they agree.
package durations
