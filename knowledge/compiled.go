package knowledge

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"sort"
)

// Decoding ~1 MB of rule YAML is most of a small diagnosis' start-up (about 25 ms on two
// cores), so the decoded rules are also kept in a gob, rules.gob, next to the YAML they
// come from. Load uses it only when the hash it records is the hash of the embedded YAML:
// a rule edited without regenerating the gob is still read from its YAML (slower, never
// wrong), and TestCompiledIsFresh fails until `make kb` (or `pubdoc kb docs`) writes it.
//
// The gob holds the rules as decoded, before checkRule: regexes, anchors and fact
// operators are compiled at every load, exactly as from YAML.

// compiledFile is the gob's name inside the embedded tree.
const compiledFile = "rules.gob"

// compiledRules is what rules.gob holds.
type compiledRules struct {
	// Hash is sourceHash of the YAML the rules were decoded from.
	Hash  [32]byte
	Files []string
	Rules []*Rule
}

// GobEncode refuses to write a compiled anchor: the gob holds rules before compilation, so
// an anchor there is a bug, not data.
func (a *Anchor) GobEncode() ([]byte, error) {
	return nil, errors.New("knowledge: compiled anchors are not serialized")
}

// GobDecode is GobEncode's counterpart; it is never given data.
func (a *Anchor) GobDecode([]byte) error {
	return errors.New("knowledge: compiled anchors are not serialized")
}

// ruleFiles lists the rule files of fsys in load order.
func ruleFiles(fsys fs.FS) ([]string, error) {
	files, err := fs.Glob(fsys, "rules/*/*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing rules: %w", err)
	}
	sort.Strings(files)
	return files, nil
}

// sourceHash hashes every rule file's name and bytes, in load order.
func sourceHash(fsys fs.FS, files []string) ([32]byte, error) {
	h := sha256.New()
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			return [32]byte{}, fmt.Errorf("reading %s: %w", f, err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// precompiled returns the decoded rules of rules.gob when it matches the YAML of fsys, or
// nil.
func precompiled(fsys fs.FS, files []string) []*Rule {
	data, err := fs.ReadFile(fsys, compiledFile)
	if err != nil {
		return nil
	}
	want, err := sourceHash(fsys, files)
	if err != nil {
		return nil
	}
	var c compiledRules
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&c); err != nil || c.Hash != want || len(c.Rules) != len(files) {
		return nil
	}
	for i, f := range c.Files {
		if f != files[i] {
			return nil
		}
	}
	return c.Rules
}

// Compiled returns the content of rules.gob for the YAML of the embedded knowledge base.
func Compiled() ([]byte, error) { return CompiledFS(embedded) }

// CompiledFS returns the content of rules.gob for the YAML of fsys.
func CompiledFS(fsys fs.FS) ([]byte, error) {
	files, err := ruleFiles(fsys)
	if err != nil {
		return nil, err
	}
	hash, err := sourceHash(fsys, files)
	if err != nil {
		return nil, err
	}
	c := compiledRules{Hash: hash, Files: files}
	for _, f := range files {
		_, r, err := decodeRule(fsys, f)
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", compiledFile, err)
	}
	return buf.Bytes(), nil
}

// IsCompiledFresh reports whether the embedded rules.gob matches the embedded YAML.
func IsCompiledFresh() bool {
	files, err := ruleFiles(embedded)
	return err == nil && precompiled(embedded, files) != nil
}
