//go:build !unix

package store

// dirLock is a placeholder where flock is not available: nothing stops two processes
// from sharing a data directory, so start-up does not resume jobs left 'running'
// (River's rescuer does, after Config.RescueAfter).
type dirLock struct{}

func lockDir(_, _ string) (*dirLock, error) { return &dirLock{}, nil }

func (l *dirLock) exclusive() bool { return false }

func (l *dirLock) release() {}
