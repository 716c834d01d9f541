package knowledge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A rule's fix.summary and fix.snippet may hold {{name}} placeholders for what only the
// workflow being checked knows (the job's id, the setup-node it uses, the repository's
// owner). fix.vars gives each a default: the diagnosis of a log, which has no workflow in
// hand, shows the fix with the defaults filled in, and `pubdoc check` fills in the file's
// own values (Fix.Render). One text, in the rule, serves both.

// FixVar is a placeholder of a fix and its default.
type FixVar struct {
	Name    string
	Default string
}

// FixVars are a fix's placeholders, sorted by name (a slice, so rules_gen.go is the same bytes
// each time it is written).
type FixVars []FixVar

// UnmarshalYAML reads a mapping of placeholder names to defaults.
func (v *FixVars) UnmarshalYAML(n *yaml.Node) error {
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return fmt.Errorf("fix.vars: %w", err)
	}
	out := make(FixVars, 0, len(m))
	for name, def := range m {
		out = append(out, FixVar{Name: name, Default: def})
	}
	slices.SortFunc(out, func(a, b FixVar) int { return strings.Compare(a.Name, b.Name) })
	*v = out
	return nil
}

// placeholder is {{name}}; ${{ … }} (a GitHub expression) is not one.
var placeholder = regexp.MustCompile(`\{\{([a-z][a-z0-9_]*)\}\}`)

// expand replaces the placeholders of s with vars, then with the defaults.
func (v FixVars) expand(s string, vars map[string]string) string {
	return replacePlaceholders(s, func(name string) (string, bool) {
		if val, ok := vars[name]; ok && val != "" {
			return val, true
		}
		for _, d := range v {
			if d.Name == name {
				return d.Default, true
			}
		}
		return "", false
	})
}

// replacePlaceholders calls get for each {{name}} not preceded by '$'; a name get does not
// know is left as written.
func replacePlaceholders(s string, get func(string) (string, bool)) string {
	locs := placeholder.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		if l[0] > 0 && s[l[0]-1] == '$' {
			continue
		}
		val, ok := get(s[l[2]:l[3]])
		if !ok {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(val)
		last = l[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// Placeholders lists the names a text uses, in order of first use.
func Placeholders(s string) []string {
	var out []string
	replacePlaceholders(s, func(name string) (string, bool) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
		return "", false
	})
	return out
}

// Render returns the fix's summary and snippet with the placeholders filled from vars,
// and from the rule's defaults where vars has no (or an empty) value.
func (f Fix) Render(vars map[string]string) (summary, snippet string) {
	sum, snip := f.SummaryTemplate, f.SnippetTemplate
	if sum == "" && snip == "" {
		sum, snip = f.Summary, f.Snippet
	}
	return f.Vars.expand(sum, vars), f.Vars.expand(snip, vars)
}

// prepareFix keeps the summary and snippet as written in the templates and fills the
// defaults in, so every reader of Summary and Snippet sees a finished text. A placeholder
// without a default, or a default no text uses, is an error.
func prepareFix(f *Fix) error {
	used := append(Placeholders(f.Summary), Placeholders(f.Snippet)...)
	for _, name := range used {
		if !slices.ContainsFunc(f.Vars, func(v FixVar) bool { return v.Name == name }) {
			return fmt.Errorf("fix uses {{%s}} but fix.vars gives it no default", name)
		}
	}
	for _, v := range f.Vars {
		if !slices.Contains(used, v.Name) {
			return fmt.Errorf("fix.vars names %s, which neither fix.summary nor fix.snippet uses", v.Name)
		}
	}
	f.SummaryTemplate, f.SnippetTemplate = f.Summary, f.Snippet
	f.Summary, f.Snippet = f.Render(nil)
	return nil
}
