//go:build unix

package mmapfile

import (
	"fmt"
	"os"
	"syscall"
)

// Map maps f's first size bytes read-only. The returned function unmaps them; the bytes
// must not be used after it. Pages are mapped as they are first read: MAP_POPULATE did it
// in one call, but held the address space's lock for ~10 ms on 100 MB, stalling the
// other threads' page faults while the engine was being built beside it; faults taken by
// the scanner's two workers cost less (median of 30 runs on 100 MB: 62.6 → 59.5 ms).
func Map(f *os.File, size int64) ([]byte, func() error, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, fmt.Errorf("mapping %s: size %d: %w", f.Name(), size, ErrUnsupported)
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping %s: %w", f.Name(), err)
	}
	return b, func() error { return syscall.Munmap(b) }, nil
}
