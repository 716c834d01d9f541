//go:build !unix

package mmapfile

import (
	"fmt"
	"os"
)

// Map reports ErrUnsupported: the caller reads the file instead.
func Map(f *os.File, size int64) ([]byte, func() error, error) {
	return nil, nil, fmt.Errorf("mapping %s: %w", f.Name(), ErrUnsupported)
}
