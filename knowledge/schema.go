package knowledge

import (
	"regexp"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Flag is a YAML boolean that remembers whether it was given at all. (A *bool would do in
// YAML, but a Flag is also a plain constant in rules_gen.go.)
type Flag int8

// The values of a Flag.
const (
	FlagUnset Flag = iota
	FlagTrue
	FlagFalse
)

// UnmarshalYAML reads true or false.
func (f *Flag) UnmarshalYAML(n *yaml.Node) error {
	var b bool
	if err := n.Decode(&b); err != nil {
		return err
	}
	*f = FlagFalse
	if b {
		*f = FlagTrue
	}
	return nil
}

// Rule is one failure cause of the catalogue. The YAML field names are the schema; every
// field is documented in docs/rules.md's preamble and checked by Load.
type Rule struct {
	// ID is the catalogue id (shared/knowledge/*.md); a rule that splits one keeps it as prefix.
	ID       string `yaml:"id"`
	Title    string `yaml:"title"`
	Registry string `yaml:"registry"`
	// Family names the symptom this rule shares with others ("npm-auth-e404"). Candidates of
	// one family are ranked against each other and the runner-up caps the leader's confidence.
	Family string `yaml:"family"`
	// Refines names a broader rule of the same family that this one narrows ("the trusted
	// publisher names another workflow file" narrows "the trusted publisher does not match").
	// A refinement and its parent do not cap each other: one is a more precise reading of
	// the other, not a rival explanation.
	Refines string `yaml:"refines"`
	// Base is the confidence once Match holds and no Require condition is false.
	Base float64 `yaml:"base"`
	// Generic marks catch-all rules ("exchange failed, no discriminator"): they rank below any
	// specific rule of the same family at equal confidence.
	Generic bool `yaml:"generic"`
	// Match is the set of anchors on log lines: all/any/not of literal or regex anchors.
	Match Cond `yaml:"match"`
	// Require are conditions on facts; a condition known to be false drops the rule, an
	// unknown one does not.
	Require []Cond `yaml:"require"`
	// Raise and Lower adjust the confidence when their condition holds, and say why.
	Raise []Adjust `yaml:"raise"`
	Lower []Adjust `yaml:"lower"`
	// Checks are questions that separate this rule from its siblings, asked when the fact
	// they name is unknown.
	Checks []Check  `yaml:"checks"`
	Cause  string   `yaml:"cause"`
	Fix    Fix      `yaml:"fix"`
	Refs   []string `yaml:"refs"`
	// Examples must produce this rule (ranked first unless Rank says otherwise); NearMisses
	// must not produce it at all.
	Examples   []Example `yaml:"examples"`
	NearMisses []Example `yaml:"near_misses"`

	// File is the embedded path the rule came from, for messages.
	File string `yaml:"-"`
}

// Cond is one condition. Exactly one of its kinds is set: an anchor on log lines (Literal,
// Regex, Pattern), a test of a fact (Fact with one operator), a named Go check (Check), or a
// combination (All, Any, Not).
type Cond struct {
	Literal string `yaml:"literal"`
	Regex   string `yaml:"regex"`
	// Pattern names an anchor of patterns.yaml.
	Pattern string `yaml:"pattern"`
	// Source says which code prints the text a literal or regex anchor looks for, and since
	// (and until) which versions; docs/sources.md is generated from it.
	Source *Source `yaml:"source"`

	Fact string `yaml:"fact"`
	// Operators on Fact. Version facts compare as versions and their bounds are honoured
	// (a fact known only as "<= 10.5.99" is "lt 11.5.1" for sure); other facts compare as
	// strings. A value starting with "$" names a threshold of tables.yaml.
	Eq       string   `yaml:"eq"`
	Ne       string   `yaml:"ne"`
	Lt       string   `yaml:"lt"`
	Le       string   `yaml:"le"`
	Gt       string   `yaml:"gt"`
	Ge       string   `yaml:"ge"`
	In       []string `yaml:"in"`
	Contains string   `yaml:"contains"`
	// Satisfies tests a version fact against an npm engines range ("^22.22.2 || >=26").
	Satisfies string `yaml:"satisfies"`
	// Known is true to test that the fact was found, false that it was not.
	Known Flag `yaml:"known"`

	// Check names a condition registered in Go (package diagnose) for what YAML cannot say.
	Check string `yaml:"check"`

	All []Cond `yaml:"all"`
	Any []Cond `yaml:"any"`
	Not *Cond  `yaml:"not"`

	// Compiled at load.
	Anchor     *Anchor    `yaml:"-"`
	Op         string     `yaml:"-"`
	Value      string     `yaml:"-"`
	Version    *Version   `yaml:"-"`
	Constraint Constraint `yaml:"-"`
}

// Source names the code that prints an anchor's text: the repository, the file, and the
// versions of the tool that print it ("6.0.0 - 10.5.2", ">= 11.5.0", "all").
type Source struct {
	Repo     string `yaml:"repo"`
	File     string `yaml:"file"`
	Versions string `yaml:"versions"`
	// Note says what differs between wordings, when several anchors cover one message.
	Note string `yaml:"note"`
}

// Anchor is a compiled literal or regex matched against normalized log lines. Identical
// anchors of different rules share one Anchor so each is searched once per line.
type Anchor struct {
	Index   int
	Literal string
	// Expr is the regex's source; empty for a literal anchor.
	Expr string
	// Required are literals one of which every match of the regex contains (nil if none
	// could be derived); the engine runs the regex only on lines that contain one of them.
	Required []string
	// Source is where the anchor's text comes from, when a rule or patterns.yaml says.
	Source *Source
	// InMatch is true when some rule's match (not only a raise or lower) uses the anchor:
	// only those decide which lines of a huge log are worth keeping.
	InMatch bool

	// The regex is compiled on first use when the base came from rules_gen.go (its syntax
	// was checked when the file was made), at load when it came from YAML.
	once sync.Once
	rx   *regexp.Regexp
}

// IsRegex reports whether the anchor is a regex (else a literal).
func (a *Anchor) IsRegex() bool { return a.Expr != "" }

// Regex returns the compiled regex of a regex anchor.
func (a *Anchor) Regex() *regexp.Regexp {
	a.once.Do(func() {
		if a.rx == nil {
			a.rx = regexp.MustCompile(a.Expr)
		}
	})
	return a.rx
}

// Text is the anchor's source form.
func (a *Anchor) Text() string {
	if a.Expr != "" {
		return a.Expr
	}
	return a.Literal
}

// Adjust raises or lowers a rule's confidence by By when If holds; Note says why, and may
// name facts in braces ("npm {npm_version} has no OIDC exchange").
type Adjust struct {
	If   Cond    `yaml:"if"`
	By   float64 `yaml:"by"`
	Note string  `yaml:"note"`
}

// Check is a question for the user. It is asked when Fact is unknown (or always, if Fact is
// empty) and the rule is among the remaining candidates.
type Check struct {
	Fact string `yaml:"fact"`
	Ask  string `yaml:"ask"`
}

// Fix is what to do.
type Fix struct {
	Summary string   `yaml:"summary" json:"summary"`
	Steps   []string `yaml:"steps" json:"steps"`
	Snippet string   `yaml:"snippet" json:"snippet"`
	// Vars are the defaults of the {{name}} placeholders Summary and Snippet may hold
	// (fixtemplate.go); at load Summary and Snippet get the defaults filled in and the texts
	// as written move to the templates, which Render fills with a workflow's own values.
	Vars            FixVars `yaml:"vars" json:"-"`
	SummaryTemplate string  `yaml:"-" json:"-"`
	SnippetTemplate string  `yaml:"-" json:"-"`
}

// Example is a log excerpt the rule must (or, as a near-miss, must not) produce.
type Example struct {
	Name string `yaml:"name"`
	Log  string `yaml:"log"`
	// Rank is the worst acceptable position for an example: 1 (the default) means first,
	// 3 means within the first three. Unused for near-misses.
	Rank int `yaml:"rank"`
}
