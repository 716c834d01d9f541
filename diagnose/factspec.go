package diagnose

import (
	"github.com/pubdoc/pubdoc/internal/lazyre"
	"github.com/pubdoc/pubdoc/knowledge"
)

// factSpec describes a fact that one line of a log states outright: which fact, the literals
// every such line contains (hints), the pattern that reads the value, and what kind of value
// it is. The scanner keeps every line holding a hint however deep in a huge log it is, so
// what a 4-line paste shows is also seen at line 40,000 of a 7 MB log: the scanner's
// triggers are derived from this table (scanTriggers), not kept by hand beside it.
//
// Facts that need several lines (the GITHUB_TOKEN Permissions group, an env dump, the
// packument a GET answered) are read in code (extractor.line) and list their literals in
// stateTriggers.
type factSpec struct {
	// fact is the fact set, or for kind "tool-version" the tool whose version the first
	// group is, with the fact named by the group named "tool" when the pattern has one.
	fact    string
	hints   []string
	hintIDs []hint // hints as hints of the extractor (init)
	re      *lazyre.Regexp
	kind    factKind
	// value is what the fact is set to for kind flagFact; for other kinds the first
	// submatch is the value.
	value string
	// once: a later line does not replace what an earlier one set (the tool cache path
	// is seen in many lines; the first is the setup).
	once bool
	// example is a line the spec must read, and want the value it must give; the table's
	// test plants every example deep in a large log.
	example, want string
}

type factKind int

const (
	// versionFact: the submatch is a version ("22.14.0"); text that does not parse (a
	// 20-digit major) is ignored, never trusted.
	versionFact factKind = iota
	// toolVersionFact: submatch 1 names the tool (node, npm, yarn, pnpm), submatch 2 its
	// version; npm's goes through the npm-version reasoning of extractor.finish.
	toolVersionFact
	// valueFact: the submatch is the value, set once (the first line wins).
	valueFact
	// flagFact: the line's presence sets the fact to value.
	flagFact
)

// factSpecs are the one-line facts. Order matters only where two specs set one fact: the
// first to match a line wins for that line.
var factSpecs = []factSpec{
	{fact: "npm", hints: []string{"using npm@", "npm v", "npm  v"}, kind: toolVersionFact,
		re:      lazyre.New(`npm (?:info|verb|verbose) (?:using (npm)@|(npm) +v)(\d+\.\d+\.\d+\S*)`),
		example: "npm info using npm@10.9.2", want: "10.9.2"},
	{fact: "node", hints: []string{"using node@", "node v", "node  v"}, kind: toolVersionFact,
		re:      lazyre.New(`npm (?:info|verb|verbose) (?:using (node)@|(node) +)v(\d+\.\d+\.\d+)`),
		example: "npm info using node@v22.14.0", want: "22.14.0"},
	{fact: "tool", hints: []string{"node: ", "npm: ", "yarn: ", "pnpm: "}, kind: toolVersionFact,
		re:      lazyre.New(`(?:^|\s)(node|npm|yarn|pnpm): v?(\d+\.\d+\.\d+)\s*$`),
		example: "pnpm: 9.15.4", want: "9.15.4"},
	{fact: "node", hints: []string{"hostedtoolcache/node/", "_tool/node/"}, kind: toolVersionFact, once: true,
		re:      lazyre.New(`(?:hostedtoolcache|_tool)/(node)/(\d+\.\d+\.\d+)/`),
		example: "/opt/hostedtoolcache/node/20.19.5/x64/bin/npm publish", want: "20.19.5"},
	{fact: "lerna_version", hints: []string{"lerna notice cli", "lerna info cli"}, kind: versionFact,
		re:      lazyre.New(`lerna (?:notice|info) cli v(\d+\.\d+\.\d+)`),
		example: "lerna notice cli v8.1.9", want: "8.1.9"},
	{fact: "semantic_release_version", hints: []string{"semantic-release version"}, kind: versionFact,
		re:      lazyre.New(`Running semantic-release version (\d+\.\d+\.\d+)`),
		example: "[3:04:05 PM] [semantic-release] › ℹ  Running semantic-release version 24.2.3", want: "24.2.3"},
	{fact: "yarn_version", hints: []string{"Yarn "}, kind: versionFact,
		re:      lazyre.New(`YN0000: .{0,4}Yarn (\d+\.\d+\.\d+)`),
		example: "➤ YN0000: · Yarn 4.6.0", want: "4.6.0"},
	{fact: "yarn_version", hints: []string{"yarn publish v", "yarn install v", "yarn run v"}, kind: versionFact,
		re:      lazyre.New(`yarn (?:publish|install|run) v(\d+\.\d+\.\d+)`),
		example: "yarn publish v1.22.22", want: "1.22.22"},
	{fact: "changesets_version", hints: []string{"@changesets/cli@"}, kind: versionFact,
		re:      lazyre.New(`@changesets/cli@(\d+\.\d+\.\d+)`),
		example: "+ @changesets/cli@2.27.12", want: "2.27.12"},
	{fact: "pnpm_version", hints: []string{"pnpm@", "pnpm v", "pnpm version "}, kind: versionFact,
		re:      lazyre.New(`pnpm(?:@| v| version )(\d+\.\d+\.\d+)`),
		example: "pnpm version 8.6.0", want: "8.6.0"},
	{fact: "runner", hints: []string{`runner environment: "self-hosted"`}, kind: flagFact, value: "self-hosted",
		re:      lazyre.New(`runner environment: "self-hosted"`),
		example: `npm error provenance generation in GitHub Actions requires "public" runners, but runner environment: "self-hosted"`, want: "self-hosted"},
}

func init() {
	for i := range factSpecs {
		factSpecs[i].hintIDs = words(factSpecs[i].hints)
	}
}

// applySpecs reads the one-line facts of factSpecs from l.
func (x *extractor) applySpecs(t string, l *Line) {
	for i := range factSpecs {
		s := &factSpecs[i]
		if !x.hints.hasAny(s.hintIDs) {
			continue
		}
		m := s.re.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		switch s.kind {
		case flagFact:
			x.facts.set(s.fact, s.value, l, "exact")
		case valueFact:
			x.facts.setOnce(s.fact, m[1], l)
		case versionFact:
			x.version(s.fact, m[1], l)
		case toolVersionFact:
			tool, ver := "", m[len(m)-1]
			for _, g := range m[1 : len(m)-1] {
				if g != "" {
					tool = g
				}
			}
			if s.once && x.facts[tool+"_version"] != nil {
				continue
			}
			if v, err := knowledge.ParseVersion(ver); err == nil && tool != "" {
				x.exactVersion(tool, v, l)
			}
		}
	}
}

// specTriggers are the hints of every factSpec, for the scanner.
func specTriggers() map[string]int {
	out := map[string]int{}
	for _, s := range factSpecs {
		for _, h := range s.hints {
			out[h] = 0
		}
	}
	return out
}
