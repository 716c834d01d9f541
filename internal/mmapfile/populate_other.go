//go:build unix && !linux

package mmapfile

// populate is Linux's; elsewhere pages are mapped as they are first read.
const populate = 0
