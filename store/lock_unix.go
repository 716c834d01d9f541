//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// dirLock is an exclusive flock on DataDir/pubdoc.lock, held while the store is open.
// The kernel drops it when the process dies, however it dies, so a restart after
// kill -9 finds the directory free.
type dirLock struct {
	f *os.File
}

// lockDir takes the lock without waiting: a second process (or a second Open in this
// one) fails at once with an error naming the directory.
func lockDir(dir, path string) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the lock file %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) || errors.Is(err, syscall.EAGAIN) {
			return nil, fmt.Errorf("another pubdoc serve is using %s (%s is locked): %w", dir, path, ErrDataDirInUse)
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	// The pid is for people looking at the directory; the lock is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// exclusive reports whether the lock guarantees that no other process uses the data.
func (l *dirLock) exclusive() bool { return true }

func (l *dirLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}
