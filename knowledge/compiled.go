package knowledge

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
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
	Hash  uint64
	Files []string
	Rules []*Rule
	// Regexes are the rules' regexes in anchor order, each with the literals one of which
	// its every match holds (requiredLiterals), so start-up neither parses nor compiles a
	// regex: they are compiled on first use. Every regex here compiled when the gob was
	// made. (A slice, not a map: gob writes a map in random order, and the file would
	// change at every regeneration.)
	Regexes []compiledExpr
}

// compiledExpr is one regex of rules.gob and its required literals.
type compiledExpr struct {
	Expr     string
	Required []string
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

// RuleCount is the number of rules of the embedded knowledge base (its rule files, which
// TestEmbeddedBaseLoads holds to the rules Load returns), without loading them.
func RuleCount() (int, error) {
	files, err := ruleFiles(embedded)
	return len(files), err
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

// sourceHash hashes every rule file's name and bytes, in load order. It tells a stale gob
// from a fresh one (nothing adversarial), so a hardware CRC does: ~1 MB in well under a
// millisecond.
func sourceHash(fsys fs.FS, files []string) (uint64, error) {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	total := 0
	buf := make([]byte, 32<<10)
	for _, name := range files {
		n, err := hashFile(h, fsys, name, buf)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return uint64(h.Sum32())<<32 | uint64(uint32(total)), nil
}

// hashFile streams one file into h after its name and size, through buf, without holding
// its bytes: start-up hashes ~1 MB of YAML and should not allocate it again (io.Copy would
// allocate a 32 KB buffer per file).
func hashFile(h io.Writer, fsys fs.FS, name string, buf []byte) (int, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	defer func() { _ = f.Close() }() // read-only
	fmt.Fprintf(h, "%s\x00%d\x00", name, info.Size())
	n, err := io.CopyBuffer(h, struct{ io.Reader }{f}, buf)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	return int(n), nil
}

// readCompiled decodes rules.gob from fsys, or returns nil when there is none or it does
// not decode. Whether it matches the YAML is matches' question.
func readCompiled(fsys fs.FS) *compiledRules {
	f, err := fsys.Open(compiledFile)
	if err != nil {
		return nil
	}
	defer func() { _ = f.Close() }() // read-only
	var c compiledRules
	if err := gob.NewDecoder(f).Decode(&c); err != nil {
		return nil
	}
	return &c
}

// matches reports whether the gob was made from the YAML files with that sourceHash.
func (c *compiledRules) matches(hash uint64, files []string) bool {
	if c == nil || c.Hash != hash || len(c.Rules) != len(files) || len(c.Files) != len(files) {
		return false
	}
	for i, f := range c.Files {
		if f != files[i] {
			return false
		}
	}
	return true
}

// precompiled returns rules.gob's content when it matches the YAML of fsys, or nil.
func precompiled(fsys fs.FS, files []string) *compiledRules {
	want, err := sourceHash(fsys, files)
	if err != nil {
		return nil
	}
	if c := readCompiled(fsys); c.matches(want, files) {
		return c
	}
	return nil
}

// Compiled returns the content of rules.gob for the YAML of the embedded knowledge base.
func Compiled() ([]byte, error) { return CompiledFS(embedded) }

// CompiledFS returns the content of rules.gob for the YAML of fsys. The base is loaded
// from the YAML first, so only rules that load (regexes that compile) are written.
func CompiledFS(fsys fs.FS) ([]byte, error) {
	yamlFS := yamlOnly{fsys}
	base, err := LoadFS(yamlFS)
	if err != nil {
		return nil, err
	}
	files, err := ruleFiles(yamlFS)
	if err != nil {
		return nil, err
	}
	hash, err := sourceHash(yamlFS, files)
	if err != nil {
		return nil, err
	}
	c := compiledRules{Hash: hash, Files: files}
	for _, f := range files {
		_, r, err := decodeRule(yamlFS, f)
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	for _, a := range base.Anchors {
		if a.IsRegex() {
			c.Regexes = append(c.Regexes, compiledExpr{Expr: a.Expr, Required: a.Required})
		}
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&c); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", compiledFile, err)
	}
	return buf.Bytes(), nil
}

// yamlOnly hides rules.gob, so LoadFS decodes the YAML.
type yamlOnly struct{ fs.FS }

// Open opens name unless it is the gob.
func (y yamlOnly) Open(name string) (fs.File, error) {
	if name == compiledFile {
		return nil, fs.ErrNotExist
	}
	return y.FS.Open(name)
}

// IsCompiledFresh reports whether the embedded rules.gob matches the embedded YAML.
func IsCompiledFresh() bool {
	files, err := ruleFiles(embedded)
	return err == nil && precompiled(embedded, files) != nil
}
