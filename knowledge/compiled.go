package knowledge

import (
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"slices"
	"sort"
)

// Decoding ~1 MB of rule YAML is most of a small diagnosis' start-up (about 25 ms on two
// cores), so the decoded rules are also kept as Go, rules_gen.go, next to the YAML they
// come from: one composite literal the compiler lays out as static data, so start-up
// neither decodes nor allocates them (a gob of the same took ~2.5 ms to decode). Load uses
// it only when the hash it records is the hash of the YAML being loaded: a rule edited
// without regenerating is still read from its YAML (slower, never wrong), and
// TestCompiledIsFresh fails until `make kb` (or `pubdoc kb compile`) rewrites it. When
// rules_gen.go itself no longer compiles (a field of Rule renamed), build with
// -tags pubdoc_nogen, which leaves it out, to regenerate it.
//
// The file holds the rules as decoded, before checkRule: regexes, anchors and fact
// operators are compiled at every load, exactly as from YAML, on a clone of each rule
// (cloneRule), so two bases never share what checkRule fills in.

// compiledFile is the generated file's name in the package's folder.
const compiledFile = "rules_gen.go"

// compiledRules is what rules_gen.go holds.
type compiledRules struct {
	// Hash is sourceHash of the YAML the rules were decoded from.
	Hash  uint64
	Files []string
	Rules []*Rule
	// Regexes are the rules' regexes in anchor order, each with the literals one of which
	// its every match holds (requiredLiterals), so start-up neither parses nor compiles a
	// regex: they are compiled on first use. Every regex here compiled when the file was
	// made.
	Regexes []compiledExpr
}

// compiledExpr is one regex of rules_gen.go and its required literals.
type compiledExpr struct {
	Expr     string
	Required []string
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

// sourceHash hashes every rule file's name and bytes, in load order. It tells stale
// generated rules from fresh ones (nothing adversarial), so a hardware CRC does: ~1 MB in
// well under a millisecond.
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

// cloneGenerated returns the generated rules, each cloned for one base to compile.
func cloneGenerated() *compiledRules {
	c := *generated
	c.Rules = make([]*Rule, len(generated.Rules))
	for i, r := range generated.Rules {
		c.Rules[i] = cloneRule(r)
	}
	return &c
}

// cloneRule copies what checkRule writes into (the file name, the fix's templates, every
// condition's compiled form, the examples' ranks); the rest, strings and read-only slices,
// is shared with the generated data.
func cloneRule(r *Rule) *Rule {
	c := *r
	c.Match = cloneCond(r.Match)
	c.Require = cloneConds(r.Require)
	c.Raise = cloneAdjusts(r.Raise)
	c.Lower = cloneAdjusts(r.Lower)
	c.Examples = slices.Clone(r.Examples)
	c.NearMisses = slices.Clone(r.NearMisses)
	return &c
}

func cloneCond(c Cond) Cond {
	c.All = cloneConds(c.All)
	c.Any = cloneConds(c.Any)
	if c.Not != nil {
		not := cloneCond(*c.Not)
		c.Not = &not
	}
	return c
}

func cloneConds(cs []Cond) []Cond {
	if cs == nil {
		return nil
	}
	out := make([]Cond, len(cs))
	for i, c := range cs {
		out[i] = cloneCond(c)
	}
	return out
}

func cloneAdjusts(as []Adjust) []Adjust {
	if as == nil {
		return nil
	}
	out := make([]Adjust, len(as))
	for i, a := range as {
		out[i] = a
		out[i].If = cloneCond(a.If)
	}
	return out
}

// matches reports whether c was made from the YAML files with that sourceHash.
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

// Compiled returns the content of rules_gen.go for the YAML of the embedded knowledge base.
func Compiled() ([]byte, error) { return CompiledFS(embedded) }

// CompiledFS returns the content of rules_gen.go for the YAML of fsys. The base is loaded
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
	return goSource(&c)
}

// yamlOnly is fsys read from its YAML alone: LoadFS leaves the generated rules aside.
type yamlOnly struct{ fs.FS }

// IsCompiledFresh reports whether the generated rules match the embedded YAML.
func IsCompiledFresh() bool {
	files, err := ruleFiles(embedded)
	if err != nil {
		return false
	}
	hash, err := sourceHash(embedded, files)
	return err == nil && generated.matches(hash, files)
}
