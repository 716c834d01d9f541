//go:build unix

package mmapfile

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestMapReadsTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	want := bytes.Repeat([]byte("npm error code E404\n"), 10000)
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, unmap, err := Map(f, int64(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("mapped bytes differ from the file")
	}
	if err := unmap(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Map(f, 0); err == nil {
		t.Fatal("an empty mapping was accepted")
	}
}
