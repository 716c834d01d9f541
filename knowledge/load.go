package knowledge

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"regexp/syntax"
	"runtime"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed tables.yaml patterns.yaml rules
var embedded embed.FS

// Base is the loaded, compiled knowledge base.
type Base struct {
	Rules       []*Rule
	Anchors     []*Anchor
	Thresholds  map[string]Version
	Constraints map[string]Constraint
	NodeNPM     []NodeNPM
	Scoring     Scoring
	// Splits are the questions that divide a family's candidates (tables.yaml splits).
	Splits []Split

	byID    map[string]*Rule
	anchors map[string]*Anchor
	// regexes are the rules' regexes compiled ahead, on every core (precompileRegexes).
	regexes map[string]compiledRegex
}

type compiledRegex struct {
	rx       *regexp.Regexp
	required []string
	err      error
}

// Split is a question that divides the candidates of one family into branches, each with
// the check that separates the candidates within it: "token or trusted publishing?", then
// "which npm, which permissions, which workflow file?". An answer that cannot tell the
// candidates apart is grouped by it.
type Split struct {
	Family string `yaml:"family"`
	// Fact answers the question; when the log states it, the split is not asked.
	Fact     string   `yaml:"fact"`
	Question string   `yaml:"question"`
	Branches []Branch `yaml:"branches"`
}

// Branch is one answer to a Split's question and the rules it leaves.
type Branch struct {
	Answer string   `yaml:"answer"`
	Rules  []string `yaml:"rules"`
	// Check separates the rules of this branch.
	Check string `yaml:"check"`
}

// NodeNPM is one row of the bundled-npm table.
type NodeNPM struct {
	Node   Constraint
	NPMMin Version
	NPMMax Version
}

// Scoring holds the ranking knobs of tables.yaml.
type Scoring struct {
	Diagnosed      float64 `yaml:"diagnosed"`
	InferredWeight float64 `yaml:"inferred_weight"`
	FamilyMargin   float64 `yaml:"family_margin"`
	Floor          float64 `yaml:"floor"`
	Ceiling        float64 `yaml:"ceiling"`
	CandidateMin   float64 `yaml:"candidate_min"`
	// SecondFailure is the confidence from which a candidate of another family, resting on
	// other lines than the leader's, is read as a second failure of the same log.
	SecondFailure float64 `yaml:"second_failure"`
}

// Rule returns the rule with that id, or nil.
func (b *Base) Rule(id string) *Rule { return b.byID[id] }

// Load reads the embedded knowledge base.
func Load() (*Base, error) { return LoadFS(embedded) }

// MustLoad is Load for callers that cannot go on without the knowledge base; the embedded
// data is tested, so a failure here is a build defect.
func MustLoad() *Base {
	b, err := Load()
	if err != nil {
		panic(err)
	}
	return b
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9.]+)*$`)

// LoadTables reads only tables.yaml (thresholds, engines ranges, the Node→npm table), for
// code that reasons about versions without the rules, such as the workflow checks.
func LoadTables() (*Base, error) {
	b := &Base{byID: map[string]*Rule{}, anchors: map[string]*Anchor{}, Thresholds: map[string]Version{}, Constraints: map[string]Constraint{}}
	if err := b.loadTables(embedded); err != nil {
		return nil, err
	}
	return b, nil
}

// LoadFS reads tables.yaml, patterns.yaml and rules/<registry>/<id>.yaml from fsys.
func LoadFS(fsys fs.FS) (*Base, error) {
	b := &Base{byID: map[string]*Rule{}, anchors: map[string]*Anchor{}, Thresholds: map[string]Version{}, Constraints: map[string]Constraint{}}
	files, err := ruleFiles(fsys)
	if err != nil {
		return nil, err
	}
	if _, yamlAlone := fsys.(yamlOnly); !yamlAlone && generated != nil {
		// patterns.yaml's regexes too are in the generated list: their anchors take their
		// required literals from it rather than compiling them now. (A regex's required
		// literals follow from its text, so an entry is right even for stale YAML.)
		b.regexes = generatedRegexes(generated)
	}
	c, err := b.loadShared(fsys, files)
	if err != nil {
		return nil, err
	}
	patterns := c.patterns
	decoded, raws, derrs := b.decodeRules(fsys, files, c.rules)
	if c.rules == nil {
		b.precompileRegexes(decoded)
	}
	var errs []error
	for i, f := range files {
		if derrs[i] != nil {
			errs = append(errs, derrs[i])
			continue
		}
		r, err := b.checkRule(f, raws[i], decoded[i], patterns)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := b.byID[r.ID]; dup {
			errs = append(errs, fmt.Errorf("%s: id %q already defined in %s", f, r.ID, prev.File))
			continue
		}
		b.byID[r.ID] = r
		b.Rules = append(b.Rules, r)
	}
	errs = append(errs, b.checkRefines()...)
	if len(errs) == 0 {
		if err := b.checkSplits(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(b.Rules) == 0 {
		return nil, errors.New("knowledge base has no rules")
	}
	return b, nil
}

// shared is what LoadFS reads besides the rules' YAML: the patterns and the precompiled
// rules when they match the YAML.
type shared struct {
	patterns map[string]*Anchor
	rules    *compiledRules
}

// loadShared reads the tables and patterns while, on another core, the rule files are
// hashed and, when the generated rules match them, those are cloned; it returns the
// patterns and the cloned rules (nil when the YAML must be decoded).
func (b *Base) loadShared(fsys fs.FS, files []string) (shared, error) {
	hashc := make(chan *compiledRules, 1)
	go func() {
		var c *compiledRules
		if _, yamlAlone := fsys.(yamlOnly); !yamlAlone && generated != nil {
			if h, err := sourceHash(fsys, files); err == nil && generated.matches(h, files) {
				c = cloneGenerated()
			}
		}
		hashc <- c
	}()
	defer func() {
		if hashc != nil {
			<-hashc // never leave the hasher behind
		}
	}()
	if err := b.loadTables(fsys); err != nil {
		return shared{}, err
	}
	patterns, err := b.loadPatterns(fsys)
	if err != nil {
		return shared{}, err
	}
	c := <-hashc
	hashc = nil
	return shared{patterns: patterns, rules: c}, nil
}

// decodeRules returns the rules of files, each with its YAML text and decoding error: from
// the precompiled form c when it is given (LoadFS has taken the regexes' required
// literals from it), else decoded from YAML.
func (b *Base) decodeRules(fsys fs.FS, files []string, c *compiledRules) (decoded []*Rule, raws [][]byte, derrs []error) {
	derrs = make([]error, len(files))
	raws = make([][]byte, len(files))
	if c != nil {
		return c.Rules, raws, derrs
	}
	// Decoding YAML is most of start-up; do it on every core, then compile in order
	// (the shared anchors are not safe for concurrent use).
	decoded = make([]*Rule, len(files))
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(files); i += workers {
				raws[i], decoded[i], derrs[i] = decodeRule(fsys, files[i])
			}
		}()
	}
	wg.Wait()
	return decoded, raws, derrs
}

// generatedRegexes returns c's regexes with their required literals, to compile on first
// use.
func generatedRegexes(c *compiledRules) map[string]compiledRegex {
	m := make(map[string]compiledRegex, len(c.Regexes))
	for _, x := range c.Regexes {
		m[x.Expr] = compiledRegex{required: x.Required}
	}
	return m
}

// checkRefines checks that a rule refines a known rule of its own family that is not itself
// a refinement.
func (b *Base) checkRefines() []error {
	var errs []error
	for _, r := range b.Rules {
		if r.Refines == "" {
			continue
		}
		parent := b.byID[r.Refines]
		switch {
		case parent == nil:
			errs = append(errs, fmt.Errorf("%s: refines unknown rule %q", r.File, r.Refines))
		case parent.Family != r.Family || r.Family == "":
			errs = append(errs, fmt.Errorf("%s: refines %s, which is not in its family", r.File, r.Refines))
		case parent.Refines != "":
			errs = append(errs, fmt.Errorf("%s: refines %s, itself a refinement: refine the broadest rule", r.File, r.Refines))
		}
	}
	return errs
}

func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty document")
		}
		return err
	}
	return nil
}

func (b *Base) loadTables(fsys fs.FS) error {
	data, err := fs.ReadFile(fsys, "tables.yaml")
	if err != nil {
		return fmt.Errorf("reading tables.yaml: %w", err)
	}
	var t struct {
		Thresholds  map[string]string `yaml:"thresholds"`
		Constraints map[string]string `yaml:"constraints"`
		NodeNPM     []struct {
			Node   string `yaml:"node"`
			NPMMin string `yaml:"npm_min"`
			NPMMax string `yaml:"npm_max"`
		} `yaml:"node_npm"`
		Scoring Scoring `yaml:"scoring"`
		Splits  []Split `yaml:"splits"`
	}
	if err := decodeStrict(data, &t); err != nil {
		return fmt.Errorf("tables.yaml: %w", err)
	}
	for k, v := range t.Thresholds {
		ver, err := ParseVersion(v)
		if err != nil {
			return fmt.Errorf("tables.yaml: threshold %s: %w", k, err)
		}
		b.Thresholds[k] = ver
	}
	for k, v := range t.Constraints {
		c, err := ParseConstraint(v)
		if err != nil {
			return fmt.Errorf("tables.yaml: constraint %s: %w", k, err)
		}
		b.Constraints[k] = c
	}
	for i, row := range t.NodeNPM {
		c, err := ParseConstraint(row.Node)
		if err != nil {
			return fmt.Errorf("tables.yaml: node_npm[%d]: %w", i, err)
		}
		lo, err1 := ParseVersion(row.NPMMin)
		hi, err2 := ParseVersion(row.NPMMax)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("tables.yaml: node_npm[%d]: %w", i, err)
		}
		b.NodeNPM = append(b.NodeNPM, NodeNPM{Node: c, NPMMin: lo, NPMMax: hi})
	}
	s := t.Scoring
	if s.Diagnosed <= 0 || s.Diagnosed > 1 || s.InferredWeight <= 0 || s.Ceiling <= s.Floor || s.FamilyMargin <= 0 {
		return errors.New("tables.yaml: scoring knobs missing or out of range")
	}
	b.Scoring = s
	b.Splits = t.Splits
	return nil
}

// checkSplits validates tables.yaml's splits once the rules are loaded.
func (b *Base) checkSplits() error {
	var errs []error
	for i, sp := range b.Splits {
		if _, ok := Facts[sp.Fact]; !ok || strings.TrimSpace(sp.Question) == "" || len(sp.Branches) < 2 {
			errs = append(errs, fmt.Errorf("tables.yaml: splits[%d]: needs a known fact, a question and two branches", i))
			continue
		}
		seen := map[string]bool{}
		for _, br := range sp.Branches {
			if strings.TrimSpace(br.Answer) == "" || strings.TrimSpace(br.Check) == "" {
				errs = append(errs, fmt.Errorf("tables.yaml: splits[%d]: a branch needs an answer and a check", i))
			}
			for _, id := range br.Rules {
				r := b.byID[id]
				switch {
				case r == nil:
					errs = append(errs, fmt.Errorf("tables.yaml: splits[%d]: unknown rule %q", i, id))
				case r.Family != sp.Family:
					errs = append(errs, fmt.Errorf("tables.yaml: splits[%d]: rule %s is not in family %s", i, id, sp.Family))
				case seen[id]:
					errs = append(errs, fmt.Errorf("tables.yaml: splits[%d]: rule %s is in two branches", i, id))
				}
				seen[id] = true
			}
		}
	}
	return errors.Join(errs...)
}

func (b *Base) loadPatterns(fsys fs.FS) (map[string]*Anchor, error) {
	data, err := fs.ReadFile(fsys, "patterns.yaml")
	if err != nil {
		return nil, fmt.Errorf("reading patterns.yaml: %w", err)
	}
	raw := map[string]Cond{}
	if err := decodeStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("patterns.yaml: %w", err)
	}
	out := map[string]*Anchor{}
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	slices.Sort(names) // anchor indexes do not depend on map order
	for _, name := range names {
		c := raw[name]
		if (c.Literal == "") == (c.Regex == "") {
			return nil, fmt.Errorf("patterns.yaml:%d: pattern %s needs exactly one of literal or regex", lineOf(data, name+":"), name)
		}
		a, err := b.anchor(c.Literal, c.Regex)
		if err != nil {
			return nil, fmt.Errorf("patterns.yaml:%d: pattern %s: %w", lineOf(data, name+":"), name, err)
		}
		if a.Source == nil {
			a.Source = c.Source
		}
		out[name] = a
	}
	return out, nil
}

// decodeRule reads and strictly decodes one rule file.
func decodeRule(fsys fs.FS, file string) ([]byte, *Rule, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", file, err)
	}
	r := &Rule{}
	if err := decodeStrict(data, r); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	return data, r, nil
}

// checkRule validates a decoded rule and compiles its conditions.
func (b *Base) checkRule(file string, data []byte, r *Rule, patterns map[string]*Anchor) (*Rule, error) {
	r.File = file
	fail := func(needle, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %s", file, lineOf(data, needle), r.ID, fmt.Sprintf(format, args...))
	}
	if err := checkRuleFields(file, r, fail); err != nil {
		return nil, err
	}
	if err := prepareFix(&r.Fix); err != nil {
		return nil, fail("fix:", "%v", err)
	}
	if err := b.compileRule(r, patterns, fail); err != nil {
		return nil, err
	}
	for _, c := range r.Checks {
		if c.Ask == "" {
			return nil, fail("checks:", "a check needs 'ask'")
		}
		if _, ok := Facts[c.Fact]; c.Fact != "" && !ok {
			return nil, fail(c.Fact, "check names unknown fact %q", c.Fact)
		}
	}
	for i, ex := range r.Examples {
		if strings.TrimSpace(ex.Log) == "" {
			return nil, fail("examples:", "example %d has no log", i)
		}
		if ex.Rank == 0 {
			r.Examples[i].Rank = 1
		}
	}
	return r, nil
}

// ruleFail reports a rule's error at the line of the file holding needle.
type ruleFail func(needle, format string, args ...any) error

// checkRuleFields checks what a rule must have: an id matching its file and a registry its
// folder, a title, cause and fix, a base score, references, an example and a match that
// looks for something.
func checkRuleFields(file string, r *Rule, fail ruleFail) error {
	switch {
	case !idPattern.MatchString(r.ID):
		return fail("id:", "id must be lower-case words joined by '-'")
	case path.Base(file) != r.ID+".yaml":
		return fail("id:", "file must be named %s.yaml", r.ID)
	case path.Base(path.Dir(file)) != r.Registry:
		return fail("registry:", "registry %q does not match its folder %s", r.Registry, path.Dir(file))
	case strings.TrimSpace(r.Title) == "":
		return fail("title:", "title is empty")
	case strings.TrimSpace(r.Cause) == "":
		return fail("cause:", "cause is empty")
	case strings.TrimSpace(r.Fix.Summary) == "":
		return fail("fix:", "fix.summary is empty")
	case r.Base <= 0 || r.Base > 1:
		return fail("base:", "base must be in (0, 1]")
	case len(r.Refs) == 0:
		return fail("refs:", "refs are empty: say where this knowledge comes from")
	case len(r.Examples) == 0:
		return fail("examples:", "a rule needs at least one example log")
	}
	if !hasPositiveAnchor(&r.Match) {
		return fail("match:", "match needs at least one literal, regex or pattern anchor outside 'not'")
	}
	return nil
}

// compileRule compiles the rule's match, requirements and raises and lowers, checking that
// each raise or lower has a weight in (0, 1] and a note.
func (b *Base) compileRule(r *Rule, patterns map[string]*Anchor, fail ruleFail) error {
	compile := func(c *Cond, where string) error {
		if err := b.compileCond(c, patterns); err != nil {
			return fail(firstNeedle(c), "%s: %v", where, err)
		}
		return nil
	}
	if err := compile(&r.Match, "match"); err != nil {
		return err
	}
	markInMatch(&r.Match)
	for i := range r.Require {
		if err := compile(&r.Require[i], fmt.Sprintf("require[%d]", i)); err != nil {
			return err
		}
	}
	for _, adj := range [][]Adjust{r.Raise, r.Lower} {
		for i := range adj {
			if adj[i].By <= 0 || adj[i].By > 1 {
				return fail("by:", "raise/lower 'by' must be in (0, 1]")
			}
			if strings.TrimSpace(adj[i].Note) == "" {
				return fail("if:", "every raise/lower needs a note saying why")
			}
			if err := compile(&adj[i].If, "raise/lower"); err != nil {
				return err
			}
		}
	}
	return nil
}

func markInMatch(c *Cond) {
	if c.Anchor != nil {
		c.Anchor.InMatch = true
	}
	for i := range c.All {
		markInMatch(&c.All[i])
	}
	for i := range c.Any {
		markInMatch(&c.Any[i])
	}
	if c.Not != nil {
		markInMatch(c.Not)
	}
}

func hasPositiveAnchor(c *Cond) bool {
	if c.Literal != "" || c.Regex != "" || c.Pattern != "" {
		return true
	}
	for i := range c.All {
		if hasPositiveAnchor(&c.All[i]) {
			return true
		}
	}
	for i := range c.Any {
		if hasPositiveAnchor(&c.Any[i]) {
			return true
		}
	}
	return false
}

func firstNeedle(c *Cond) string {
	for _, s := range []string{c.Literal, c.Regex, c.Pattern, c.Fact, c.Check} {
		if s != "" {
			return s
		}
	}
	for i := range c.All {
		return firstNeedle(&c.All[i])
	}
	for i := range c.Any {
		return firstNeedle(&c.Any[i])
	}
	if c.Not != nil {
		return firstNeedle(c.Not)
	}
	return ""
}

func (b *Base) compileCond(c *Cond, patterns map[string]*Anchor) error {
	kinds := 0
	for _, set := range []bool{c.Literal != "", c.Regex != "", c.Pattern != "", c.Fact != "", c.Check != "", len(c.All) > 0, len(c.Any) > 0, c.Not != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("a condition needs exactly one of literal, regex, pattern, fact, check, all, any, not (has %d)", kinds)
	}
	if c.Source != nil {
		switch {
		case c.Literal == "" && c.Regex == "":
			return fmt.Errorf("source belongs on a literal or regex anchor")
		case strings.TrimSpace(c.Source.Repo) == "" || strings.TrimSpace(c.Source.File) == "" || strings.TrimSpace(c.Source.Versions) == "":
			return fmt.Errorf("source needs repo, file and versions")
		}
	}
	var err error
	switch {
	case c.Literal != "" || c.Regex != "":
		c.Anchor, err = b.anchor(c.Literal, c.Regex)
		if err == nil && c.Anchor.Source == nil {
			c.Anchor.Source = c.Source
		}
		return err
	case c.Pattern != "":
		a, ok := patterns[c.Pattern]
		if !ok {
			return fmt.Errorf("unknown pattern %q (patterns.yaml)", c.Pattern)
		}
		c.Anchor = a
		return nil
	case c.Fact != "":
		return b.compileFact(c)
	case c.Check != "":
		return nil
	case c.Not != nil:
		return b.compileCond(c.Not, patterns)
	}
	for i := range c.All {
		if err := b.compileCond(&c.All[i], patterns); err != nil {
			return err
		}
	}
	for i := range c.Any {
		if err := b.compileCond(&c.Any[i], patterns); err != nil {
			return err
		}
	}
	return nil
}

func (b *Base) compileFact(c *Cond) error {
	kind, ok := Facts[c.Fact]
	if !ok {
		return fmt.Errorf("unknown fact %q", c.Fact)
	}
	ops := map[string]string{"eq": c.Eq, "ne": c.Ne, "lt": c.Lt, "le": c.Le, "gt": c.Gt, "ge": c.Ge, "contains": c.Contains, "satisfies": c.Satisfies}
	n := 0
	for op, v := range ops {
		if v != "" {
			c.Op, c.Value = op, v
			n++
		}
	}
	if len(c.In) > 0 {
		c.Op = "in"
		n++
	}
	if c.Known != FlagUnset {
		c.Op = "known"
		n++
	}
	if n != 1 {
		return fmt.Errorf("fact %s needs exactly one operator (eq ne lt le gt ge in contains satisfies known)", c.Fact)
	}
	switch c.Op {
	case "lt", "le", "gt", "ge":
		if kind != VersionFact {
			return fmt.Errorf("fact %s is not a version; %s needs one", c.Fact, c.Op)
		}
	case "satisfies":
		if kind != VersionFact {
			return fmt.Errorf("fact %s is not a version; satisfies needs one", c.Fact)
		}
		if strings.HasPrefix(c.Value, "$") {
			con, ok := b.Constraints[c.Value[1:]]
			if !ok {
				return fmt.Errorf("unknown constraint %s (tables.yaml)", c.Value)
			}
			c.Constraint = con
			return nil
		}
		con, err := ParseConstraint(c.Value)
		if err != nil {
			return err
		}
		c.Constraint = con
		return nil
	}
	if strings.HasPrefix(c.Value, "$") {
		v, ok := b.Thresholds[c.Value[1:]]
		if !ok {
			return fmt.Errorf("unknown threshold %s (tables.yaml)", c.Value)
		}
		c.Value = v.String()
	}
	if kind == VersionFact && c.Value != "" && c.Op != "contains" {
		v, err := ParseVersion(c.Value)
		if err != nil {
			return fmt.Errorf("fact %s: %w", c.Fact, err)
		}
		c.Version = &v
	}
	return nil
}

// anchor returns the shared compiled anchor for a literal or regex.
func (b *Base) anchor(lit, re string) (*Anchor, error) {
	key := "L:" + lit
	if re != "" {
		key = "R:" + re
	}
	if a, ok := b.anchors[key]; ok {
		return a, nil
	}
	a := &Anchor{Index: len(b.Anchors), Literal: lit}
	if re != "" {
		c, ok := b.regexes[re]
		if !ok {
			c = compileRegex(re)
		}
		if c.err != nil {
			return nil, fmt.Errorf("regex %q: %w", re, c.err)
		}
		a.Expr, a.Required = re, c.required
		if c.rx != nil {
			a.once.Do(func() { a.rx = c.rx })
		}
	}
	b.anchors[key] = a
	b.Anchors = append(b.Anchors, a)
	return a, nil
}

func compileRegex(re string) compiledRegex {
	rx, err := regexp.Compile(re)
	if err != nil {
		return compiledRegex{err: err}
	}
	return compiledRegex{rx: rx, required: requiredLiterals(re)}
}

// precompileRegexes compiles every regex of the rules on every core before the rules are
// checked in order (anchors are shared, so that part stays sequential).
func (b *Base) precompileRegexes(rules []*Rule) {
	seen := map[string]bool{}
	var list []string
	var walk func(c *Cond)
	walk = func(c *Cond) {
		if c.Regex != "" && !seen[c.Regex] {
			seen[c.Regex] = true
			list = append(list, c.Regex)
		}
		for i := range c.All {
			walk(&c.All[i])
		}
		for i := range c.Any {
			walk(&c.Any[i])
		}
		if c.Not != nil {
			walk(c.Not)
		}
	}
	for _, r := range rules {
		if r == nil {
			continue
		}
		walk(&r.Match)
		for i := range r.Require {
			walk(&r.Require[i])
		}
		for _, adj := range [][]Adjust{r.Raise, r.Lower} {
			for i := range adj {
				walk(&adj[i].If)
			}
		}
	}
	out := make([]compiledRegex, len(list))
	var wg sync.WaitGroup
	workers := max(1, min(runtime.GOMAXPROCS(0), 8))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(list); i += workers {
				out[i] = compileRegex(list[i])
			}
		}()
	}
	wg.Wait()
	b.regexes = make(map[string]compiledRegex, len(list))
	for i, re := range list {
		b.regexes[re] = out[i]
	}
}

// requiredLiterals returns literals one of which every match of re contains, or nil.
func requiredLiterals(re string) []string {
	p, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return nil
	}
	set := required(p)
	if set == nil || shortest(set) < 3 {
		return nil
	}
	return set
}

// Prefilter returns literals of two bytes or more one of which every match of re contains, or
// nil when re requires none. A regex anchor without a required literal of three bytes
// (Anchor.Required) is tried on every line; checking for a shorter literal first is still
// far cheaper than running it.
func Prefilter(re string) []string {
	p, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return nil
	}
	return requiredMin(p, 2)
}

// maxExact bounds the finite languages expanded while looking for required literals.
const maxExact = 32

// exact returns every string re can match when that is a small finite set, else nil.
func exact(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText, syntax.OpWordBoundary:
		return []string{""}
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) >= 8 {
					return nil
				}
				out = append(out, string(r))
			}
		}
		return out
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		sub := exact(re.Sub[0])
		if sub == nil {
			return nil
		}
		return append([]string{""}, sub...)
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			e := exact(s)
			if e == nil || len(out)+len(e) > maxExact {
				return nil
			}
			out = append(out, e...)
		}
		return out
	case syntax.OpConcat:
		out := []string{""}
		for _, s := range re.Sub {
			if out = cross(out, exact(s)); out == nil {
				return nil
			}
		}
		return out
	}
	return nil
}

// cross is the concatenation of two finite languages, nil when either is not finite or the
// result would be too large.
func cross(a, b []string) []string {
	if a == nil || b == nil || len(a)*len(b) > maxExact {
		return nil
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// required returns a set of literals one of which every match contains; nil means no such
// set is known.
func required(re *syntax.Regexp) []string { return requiredMin(re, 3) }

// requiredMin is required with literals of at least minLen bytes.
func requiredMin(re *syntax.Regexp, minLen int) []string {
	if e := exact(re); e != nil && shortest(e) >= minLen {
		return e
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return requiredMin(re.Sub[0], minLen)
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredMin(re.Sub[0], minLen)
		}
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			r := requiredMin(s, minLen)
			if r == nil {
				return nil
			}
			out = append(out, r...)
		}
		return out
	case syntax.OpConcat:
		var best []string
		better := func(c []string) {
			if c == nil || shortest(c) < minLen {
				return
			}
			if best == nil || shortest(c) > shortest(best) || shortest(c) == shortest(best) && len(c) < len(best) {
				best = c
			}
		}
		run := []string{""}
		for _, s := range re.Sub {
			if e := exact(s); e != nil {
				if next := cross(run, e); next != nil {
					run = next
				} else {
					better(run)
					run = e
				}
				better(run)
				continue
			}
			better(run)
			run = []string{""}
			better(requiredMin(s, minLen))
		}
		better(run)
		return best
	}
	return nil
}

// lineOf is the 1-based line of the first occurrence of needle in data (1 if absent).
func lineOf(data []byte, needle string) int {
	if needle == "" {
		return 1
	}
	i := bytes.Index(data, []byte(needle))
	if i < 0 {
		return 1
	}
	return bytes.Count(data[:i], []byte("\n")) + 1
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}
