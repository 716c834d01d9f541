package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzFix: whatever the workflow, Fix does not panic, a changed file still parses as YAML,
// a second Fix changes nothing, and the diff turns the old file into the new one.
func FuzzFix(f *testing.F) {
	for _, in := range fixturesOf(f) {
		f.Add(in.Workflows[0].Src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in := Input{Workflows: []File{{Path: "w.yml", Src: src}}}
		res, err := Fix(in)
		if err != nil {
			return // not a workflow
		}
		for _, c := range res.Changes {
			var n yaml.Node
			if err := yaml.Unmarshal(c.After, &n); err != nil {
				t.Fatalf("fixed file does not parse: %v\n%s", err, c.After)
			}
			if got, err := applyDiff(c.Before, c.Diff()); err != nil || !bytes.Equal(got, c.After) {
				t.Fatalf("diff does not apply (%v):\n%s", err, c.Diff())
			}
			again, err := Fix(replaced(in, c))
			if err != nil || len(again.Changes) != 0 {
				t.Fatalf("second fix (%v): %s", err, again.Diff())
			}
		}
	})
}

// FuzzYAMLEdits: inserting an entry into any block or flow mapping of a document, or
// setting a scalar, either refuses or leaves a document whose data is the old data with
// exactly that change.
func FuzzYAMLEdits(f *testing.F) {
	for _, in := range fixturesOf(f) {
		f.Add(in.Workflows[0].Src, uint8(3))
	}
	f.Add([]byte("a: {b: 1, c: [x, y]}\nd:\n  e: 'q' # c\n"), uint8(1))
	f.Fuzz(func(t *testing.T, src []byte, pick uint8) {
		y, err := parseYAML(src)
		if err != nil || bytes.ContainsAny(src, "&*!\t") || len(src) > 1<<16 {
			return // anchors, aliases and tags make one edit show in several places
		}
		var probe any
		if yaml.Unmarshal(src, &probe) != nil {
			return
		}
		var maps, scalars []located
		walk(y.root, nil, &maps, &scalars)
		if len(maps) > 0 {
			m := maps[int(pick)%len(maps)]
			if e, err := y.insertEntry(m.n, nil, []string{"pubdoc-fuzz: inserted"}); err == nil {
				expect(t, src, e, func(d any) bool { return setAt(d, m.path, "pubdoc-fuzz", "inserted") })
			}
		}
		if len(scalars) > 0 {
			s := scalars[int(pick)%len(scalars)]
			if e, err := y.setScalar(s.n, "24"); err == nil {
				expect(t, src, e, func(d any) bool {
					key, _ := s.path[len(s.path)-1].(string)
					return setAt(d, s.path[:len(s.path)-1], key, scalarAs(s.n, "24"))
				})
			}
		}
	})
}

// FuzzJSONSet: setting publishConfig.access in any JSON object keeps it JSON, with every
// other member as it was.
func FuzzJSONSet(f *testing.F) {
	f.Add([]byte("{\n  \"name\": \"@a/b\",\n  \"publishConfig\": {\"tag\": \"next\"}\n}\n"))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"publishConfig": 1}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		var before map[string]any
		if json.Unmarshal(src, &before) != nil || before == nil || hasDuplicateKeys(src) {
			return
		}
		jf, err := parseJSON(src)
		if err != nil {
			t.Fatalf("encoding/json reads it, parseJSON does not: %v", err)
		}
		e, err := jf.set([]string{"publishConfig", "access"}, `"public"`)
		if err != nil {
			return
		}
		out, err := Apply(src, []Edit{e})
		if err != nil {
			t.Fatal(err)
		}
		var after map[string]any
		if err := json.Unmarshal(out, &after); err != nil {
			t.Fatalf("not JSON after the edit: %v\n%s", err, out)
		}
		pc, _ := before["publishConfig"].(map[string]any)
		if pc == nil {
			pc = map[string]any{}
		}
		pc["access"] = "public"
		before["publishConfig"] = pc
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("got %v, want %v\n%s", after, before, out)
		}
	})
}

func fixturesOf(f *testing.F) []Input {
	var out []Input
	m, _ := filepath.Glob(filepath.Join("..", "workflow", "testdata", "*.yml"))
	for _, p := range m {
		src, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, Input{Workflows: []File{{Path: p, Src: src}}})
	}
	return out
}

// located is a node and its path of keys (strings) and indexes (ints) from the root.
type located struct {
	n    *yaml.Node
	path []any
}

func walk(n *yaml.Node, p []any, maps, scalars *[]located) {
	switch n.Kind {
	case yaml.MappingNode:
		*maps = append(*maps, located{n, p})
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				continue
			}
			walk(n.Content[i+1], append(append([]any{}, p...), k.Value), maps, scalars)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			walk(c, append(append([]any{}, p...), i), maps, scalars)
		}
	case yaml.ScalarNode:
		if len(p) > 0 {
			if _, ok := p[len(p)-1].(string); ok {
				*scalars = append(*scalars, located{n, p})
			}
		}
	}
}

// scalarAs is how value reads back where n was: a string when n was quoted.
func scalarAs(n *yaml.Node, value string) any {
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		return value
	}
	i, _ := strconv.Atoi(value)
	return i
}

// setAt sets key in the mapping at path p of decoded YAML data.
func setAt(d any, p []any, key string, value any) bool {
	for _, step := range p {
		switch s := step.(type) {
		case string:
			m, ok := d.(map[string]any)
			if !ok {
				return false
			}
			d = m[s]
		case int:
			l, ok := d.([]any)
			if !ok || s >= len(l) {
				return false
			}
			d = l[s]
		}
	}
	m, ok := d.(map[string]any)
	if !ok {
		return false
	}
	m[key] = value
	return true
}

// expect applies e to src and checks the data is before changed by change.
func expect(t *testing.T, src []byte, e Edit, change func(any) bool) {
	t.Helper()
	var before any
	if err := yaml.Unmarshal(src, &before); err != nil {
		t.Fatal(err)
	}
	out, err := Apply(src, []Edit{e})
	if err != nil {
		t.Fatal(err)
	}
	var after any
	if err := yaml.Unmarshal(out, &after); err != nil {
		t.Fatalf("edit %+v breaks the document: %v\n%s", e, err, out)
	}
	if !change(before) {
		return // keys that decode to something else (a number as a key)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("edit %+v:\n%s\ngot  %v\nwant %v", e, out, after, before)
	}
}

func hasDuplicateKeys(src []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(src))
	type frame struct {
		seen map[string]bool
		key  bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.key {
			if top.seen[s] {
				return true
			}
			top.seen[s] = true
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{seen: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				top = stack[len(stack)-1]
			} else {
				top = nil
			}
		}
		if top != nil && top.seen != nil {
			top.key = true
		}
	}
}

// applyDiff applies a unified diff of one file, as patch does without fuzz: every hunk at
// its line, every context and removed line as the diff says.
func applyDiff(src []byte, diff string) ([]byte, error) {
	a := splitLines(src)
	lines := strings.SplitAfter(diff, "\n")
	var out []string
	at := 0 // next line of a to copy
	i := 2  // past ---/+++
	for i < len(lines) && lines[i] != "" {
		var as, ac, bs, bc int
		if _, err := fmt.Sscanf(lines[i], "@@ -%d,%d +%d,%d @@", &as, &ac, &bs, &bc); err != nil {
			return nil, fmt.Errorf("hunk header %q: %w", lines[i], err)
		}
		start := as - 1
		if ac == 0 {
			start = as
		}
		if start < at || start > len(a) {
			return nil, fmt.Errorf("hunk at %d out of order", as)
		}
		out = append(out, a[at:start]...)
		at = start
		i++
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			body := l[1:]
			if i+1 < len(lines) && strings.HasPrefix(lines[i+1], `\ No newline`) {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if at >= len(a) || a[at] != body {
					return nil, fmt.Errorf("line %d is %q, the diff says %q", at+1, a[min(at, len(a)-1)], body)
				}
				if l[0] == ' ' {
					out = append(out, body)
				}
				at++
			case '+':
				out = append(out, body)
			}
			i++
		}
	}
	out = append(out, a[at:]...)
	return []byte(strings.Join(out, "")), nil
}
