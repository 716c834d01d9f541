//go:build unix

package mmapfile

import (
	"fmt"
	"os"
	"syscall"
)

// Map maps f's first size bytes read-only. The returned function unmaps them; the bytes
// must not be used after it.
func Map(f *os.File, size int64) ([]byte, func() error, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, fmt.Errorf("mapping %s: size %d: %w", f.Name(), size, ErrUnsupported)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED|populate)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping %s: %w", f.Name(), err)
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
