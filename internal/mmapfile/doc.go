// Package mmapfile maps a regular file into memory read-only, so the engine can scan a big
// log in place (diagnose.FromBytes) instead of copying it through a read buffer. Where
// mapping is not available it reports ErrUnsupported and the caller reads the file.
package mmapfile
