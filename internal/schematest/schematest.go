package schematest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The schema files, by the name of the answer they describe.
const (
	DiagnosisFile = "diagnosis.v1.json"
	CheckFile     = "check.v1.json"
	ErrorFile     = "error.v1.json"
)

var (
	mu       sync.Mutex
	compiled = map[string]*jsonschema.Schema{}
)

// Dir is docs/schema of this checkout, found from this file's place in it.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("docs", "schema")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "schema")
}

// Schema compiles (once) the schema file name of docs/schema.
func Schema(name string) (*jsonschema.Schema, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := compiled[name]; ok {
		return s, nil
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	s, err := c.Compile(filepath.Join(Dir(), name))
	if err != nil {
		return nil, fmt.Errorf("compiling %s: %w", name, err)
	}
	compiled[name] = s
	return s, nil
}

// Check reports why data (one JSON value) does not match the schema file name, or nil.
func Check(name string, data []byte) error {
	s, err := Schema(name)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not one JSON value: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("does not match %s: %w", name, err)
	}
	return nil
}

// Validate fails t when data does not match the schema file name; what names the answer in
// the failure message.
func Validate(t testing.TB, name, what string, data []byte) {
	t.Helper()
	if err := Check(name, data); err != nil {
		t.Errorf("%s: %v\n%s", what, err, excerpt(data))
	}
}

func excerpt(data []byte) []byte {
	if len(data) > 2000 {
		return append(data[:2000:2000], "…"...)
	}
	return data
}
