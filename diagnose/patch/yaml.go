package patch

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// errCannotEdit says an edit would need more than a change at known positions (a flow
// collection spanning lines, an alias, a block scalar): the fix gets no patch rather than
// a guess.
var errCannotEdit = errors.New("cannot edit this construct in place")

// yamlFile is a YAML document with its source: the parsed node tree gives each node's line
// and column, and edits are made to the source bytes at those positions, so everything
// else (comments, order, quoting, indentation) stays as written.
type yamlFile struct {
	src    []byte
	root   *yaml.Node // the top-level mapping
	starts []int      // starts[i] is the offset of line i+1
	eol    string
}

// parses returns e when the file with e applied is still a YAML document, else refuses
// it: yaml.v3 reads some odd documents (a flow mapping followed by text on its line) that
// an edit in place turns into ones it rejects, and no patch is better than a broken file.
func (f *yamlFile) parses(e Edit) (Edit, error) {
	out, err := Apply(f.src, []Edit{e})
	if err != nil {
		return Edit{}, err
	}
	var probe any
	if err := yaml.Unmarshal(out, &probe); err != nil {
		return Edit{}, fmt.Errorf("%w: the edit would leave no YAML document: %w", errCannotEdit, err)
	}
	return e, nil
}

func parseYAML(src []byte) (*yamlFile, error) {
	// Lines are split at "\n"; yaml also breaks them at a lone "\r" and at NEL, LS and PS,
	// which would put nodes on lines this file does not count.
	if !utf8.Valid(src) || bytes.Contains(bytes.ReplaceAll(src, []byte("\r\n"), nil), []byte("\r")) ||
		bytes.Contains(src, []byte("\u0085")) || bytes.Contains(src, []byte("\u2028")) || bytes.Contains(src, []byte("\u2029")) {
		return nil, fmt.Errorf("parse YAML: %w: not UTF-8, or line breaks other than \\n and \\r\\n", errCannotEdit)
	}
	// YAML allows no control character but tab and line breaks; yaml.v3 stops reading at a
	// NUL instead of refusing it, so an edit before one can turn the rest into text it
	// then refuses.
	if bytes.ContainsFunc(src, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f }) {
		return nil, fmt.Errorf("parse YAML: %w: a control character", errCannotEdit)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse YAML: %w: the document is not a mapping", errCannotEdit)
	}
	f := &yamlFile{src: src, root: doc.Content[0], starts: []int{0}, eol: "\n"}
	for i, c := range src {
		if c == '\n' {
			f.starts = append(f.starts, i+1)
		}
	}
	if bytes.Contains(src, []byte("\r\n")) {
		f.eol = "\r\n"
	}
	return f, nil
}

// lines is the number of lines (a last line without a newline counts).
func (f *yamlFile) lines() int {
	n := len(f.starts)
	if f.starts[n-1] == len(f.src) {
		n--
	}
	return n
}

// lineStart is the offset of line l; the file's end for a line past it (a node yaml
// places after the last line).
func (f *yamlFile) lineStart(l int) int {
	if l < 1 || l > len(f.starts) {
		return len(f.src)
	}
	return f.starts[l-1]
}

// lineEnd is the offset after line l's newline (the file's end for the last line).
func (f *yamlFile) lineEnd(l int) int {
	if l < len(f.starts) {
		return f.starts[l]
	}
	return len(f.src)
}

// text is line l without its line break.
func (f *yamlFile) text(l int) string {
	if l < 1 || l > f.lines() {
		return ""
	}
	return strings.TrimRight(string(f.src[f.lineStart(l):f.lineEnd(l)]), "\r\n")
}

func (f *yamlFile) indent(l int) int {
	t := f.text(l)
	return len(t) - len(strings.TrimLeft(t, " "))
}

func (f *yamlFile) blank(l int) bool { return strings.TrimSpace(f.text(l)) == "" }

// off is the byte offset of a node: yaml counts columns in characters.
func (f *yamlFile) off(n *yaml.Node) int {
	if n.Line < 1 || n.Line > f.lines() {
		return len(f.src)
	}
	start := f.lineStart(n.Line)
	line := f.src[start:f.lineEnd(n.Line)]
	i := 0
	for c := 1; c < n.Column && i < len(line); c++ {
		_, size := utf8.DecodeRune(line[i:])
		i += size
	}
	return start + i
}

// col is a node's column in bytes from its line's start, 0-based.
func (f *yamlFile) col(n *yaml.Node) int {
	if n.Line < 1 || n.Line > f.lines() {
		return 0
	}
	return f.off(n) - f.lineStart(n.Line)
}

// get returns the key and value nodes of key in mapping m, or nils.
func get(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// at follows keys through nested mappings.
func at(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		_, m = get(m, k)
	}
	return m
}

// endLine is the last line a node or any node under it is written on, as far as its
// start and, for a flow collection or a quoted scalar, its closing bracket or quote say
// (a block scalar's lines are found by their indentation).
func (f *yamlFile) endLine(n *yaml.Node) int {
	l := n.Line
	switch {
	case (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && !block(n):
		if end, err := f.matchBracket(f.off(n)); err == nil {
			return max(l, f.lineOf(end))
		}
	case n.Kind == yaml.ScalarNode && n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0:
		if end, ok := f.quoteEnd(f.off(n)); ok {
			l = max(l, f.lineOf(end))
		}
	}
	for _, c := range n.Content {
		l = max(l, f.endLine(c))
	}
	return l
}

// lineOf is the line holding offset at.
func (f *yamlFile) lineOf(at int) int {
	l, _ := slices.BinarySearch(f.starts, at+1)
	return l
}

// quoteEnd is the offset of the quote closing the quoted scalar that starts at start.
func (f *yamlFile) quoteEnd(start int) (int, bool) {
	if start >= len(f.src) {
		return 0, false
	}
	q := f.src[start]
	for i := start + 1; i < len(f.src); i++ {
		switch {
		case q == '"' && f.src[i] == '\\':
			i++
		case f.src[i] == q && q == '\'' && i+1 < len(f.src) && f.src[i+1] == '\'':
			i++
		case f.src[i] == q:
			return i, true
		}
	}
	return 0, false
}

// extent is the last line of the block that starts at line with indentation col: the
// lines after it that are more indented (blank lines do not end it, and are not counted
// at its end), and at least through the last line a node under it starts on.
func (f *yamlFile) extent(line, col int, under *yaml.Node) int {
	last := line
	if under != nil {
		last = max(last, f.endLine(under))
	}
	scalar := endsInBlockScalar(under)
	for l := last + 1; l <= f.lines(); l++ {
		if f.blank(l) {
			if scalar && f.indent(l) > col {
				last = l // spaces past the indentation are a block scalar's content
			}
			continue
		}
		if f.indent(l) <= col {
			break
		}
		last = l
	}
	return last
}

// entryEnd is the offset after the last line of the mapping entry whose key is k.
func (f *yamlFile) entryEnd(k, v *yaml.Node) int {
	return f.lineEnd(f.extent(k.Line, f.col(k), v))
}

// block reports whether a collection is written in block style.
func block(n *yaml.Node) bool { return n.Style&yaml.FlowStyle == 0 }

// scalarEnd is the offset after a one-line scalar as written.
func (f *yamlFile) scalarEnd(v *yaml.Node) (int, error) {
	if v.Kind != yaml.ScalarNode || v.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) != 0 {
		return 0, errCannotEdit
	}
	if v.Line < 1 || v.Line > f.lines() {
		return 0, errCannotEdit
	}
	start := f.off(v)
	line := f.text(v.Line)
	rest := line[min(start-f.lineStart(v.Line), len(line)):]
	switch {
	case v.Style&yaml.SingleQuotedStyle != 0:
		for i := 1; i < len(rest); i++ {
			if rest[i] == '\'' {
				if i+1 < len(rest) && rest[i+1] == '\'' {
					i++
					continue
				}
				return start + i + 1, nil
			}
		}
	case v.Style&yaml.DoubleQuotedStyle != 0:
		for i := 1; i < len(rest); i++ {
			switch rest[i] {
			case '\\':
				i++
			case '"':
				return start + i + 1, nil
			}
		}
	default:
		// A plain scalar ends where its value does: before a comment, or a "," "]" "}" in a
		// flow collection. One folded over several lines is not its line's prefix.
		n := len(v.Value)
		if n > 0 && strings.HasPrefix(rest, v.Value) && (n == len(rest) || strings.ContainsRune(" \t,]}", rune(rest[n]))) {
			return start + n, nil
		}
	}
	return 0, errCannotEdit
}

// setScalar replaces a one-line scalar's value, keeping its quoting.
func (f *yamlFile) setScalar(v *yaml.Node, value string) (Edit, error) {
	e, err := f.setScalarUnchecked(v, value)
	if err != nil {
		return e, err
	}
	return f.parses(e)
}

func (f *yamlFile) setScalarUnchecked(v *yaml.Node, value string) (Edit, error) {
	end, err := f.scalarEnd(v)
	if err != nil {
		return Edit{}, err
	}
	text := value
	switch {
	case v.Style&yaml.SingleQuotedStyle != 0:
		text = "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case v.Style&yaml.DoubleQuotedStyle != 0:
		text = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
	}
	return Edit{Start: f.off(v), End: end, Text: text}, nil
}

// unit is the file's indentation step: how much further in a mapping's keys are than the
// key holding it; 2 when the file does not show it.
func (f *yamlFile) unit() int {
	for i := 0; i+1 < len(f.root.Content); i += 2 {
		v := f.root.Content[i+1]
		if v.Kind == yaml.MappingNode && block(v) && len(v.Content) > 0 && v.Line > f.root.Content[i].Line {
			if u := f.col(v.Content[0]) - f.col(f.root.Content[i]); u > 0 {
				return u
			}
		}
	}
	return 2
}

// block renders lines at an indentation, each ending with the file's line break.
func (f *yamlFile) block(col int, lines []string) string {
	var b strings.Builder
	pad := strings.Repeat(" ", col)
	for _, l := range lines {
		b.WriteString(pad + l + f.eol)
	}
	return b.String()
}

// insertAt makes an insertion of whole lines at offset at (a line's start, or the file's
// end, which may lack a final line break) after the node before: a block scalar ending the
// file without a line break would gain one, changing its value, so that is refused.
func (f *yamlFile) insertAt(at int, text string, before *yaml.Node) (Edit, error) {
	if f.keeps(before) {
		return Edit{}, errCannotEdit // |+ keeps the empty lines after it, which would move
	}
	if at == len(f.src) && len(f.src) > 0 && f.src[len(f.src)-1] != '\n' {
		if endsInBlockScalar(before) {
			return Edit{}, errCannotEdit
		}
		text = f.eol + strings.TrimSuffix(text, f.eol)
	}
	return Edit{Start: at, End: at, Text: text}, nil
}

// endsInBlockScalar reports whether the last node under n is a literal or folded scalar.
func endsInBlockScalar(n *yaml.Node) bool {
	n = lastLeaf(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0
}

func lastLeaf(n *yaml.Node) *yaml.Node {
	for n != nil && len(n.Content) > 0 {
		n = n.Content[len(n.Content)-1]
	}
	return n
}

// keeps reports whether the last node under n is a block scalar with keep chomping
// ("|+", ">+"), whose value includes the empty lines after it.
func (f *yamlFile) keeps(n *yaml.Node) bool {
	if !endsInBlockScalar(n) {
		return false
	}
	n = lastLeaf(n)
	ind := strings.TrimLeft(f.text(n.Line)[min(f.col(n), len(f.text(n.Line))):], " ")
	head, _, _ := strings.Cut(ind, " ")
	return strings.Contains(head, "+")
}

// insertEntry adds "lines" as a new entry of mapping m: in a block mapping after the entry
// whose key is after (the last one when nil), each line indented as m's keys and the
// lines after the first relative to it; in a flow mapping on one line, before its "}".
func (f *yamlFile) insertEntry(m *yaml.Node, after *yaml.Node, lines []string) (Edit, error) {
	e, err := f.insertEntryUnchecked(m, after, lines)
	if err != nil {
		return e, err
	}
	return f.parses(e)
}

func (f *yamlFile) insertEntryUnchecked(m *yaml.Node, after *yaml.Node, lines []string) (Edit, error) {
	if m.Kind != yaml.MappingNode {
		return Edit{}, errCannotEdit
	}
	if !block(m) {
		if len(lines) != 1 {
			return Edit{}, errCannotEdit
		}
		open := f.off(m)
		closeAt, err := f.matchBracket(open)
		if err != nil {
			return Edit{}, err
		}
		inner := strings.TrimSpace(string(f.src[open+1 : closeAt]))
		if strings.Contains(inner, "#") {
			// A comment inside the braces ("c: [x]# c" reads as one to yaml.v3 even
			// without a space) could swallow the new entry: no patch rather than a
			// silent no-op.
			return Edit{}, errCannotEdit
		}
		if inner == "" {
			return Edit{Start: closeAt, End: closeAt, Text: lines[0]}, nil
		}
		body := strings.TrimRight(string(f.src[open+1:closeAt]), " \t\r\n")
		at := open + 1 + len(body)
		switch {
		case strings.HasSuffix(body, ","): // a trailing comma is allowed
			return Edit{Start: at, End: at, Text: " " + lines[0]}, nil
		case strings.HasSuffix(body, ":"): // "{a:}": a key "a:", or a with no value
			return Edit{}, errCannotEdit
		}
		return Edit{Start: at, End: at, Text: ", " + lines[0]}, nil
	}
	if len(m.Content) < 2 || !f.plainKeys(m) {
		return Edit{}, errCannotEdit
	}
	k, v := m.Content[len(m.Content)-2], m.Content[len(m.Content)-1]
	if after != nil {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i] == after {
				k, v = m.Content[i], m.Content[i+1]
			}
		}
	}
	col := f.col(m.Content[0])
	return f.insertAt(f.entryEnd(k, v), f.block(col, lines), v)
}

// plainKeys reports whether block mapping m's keys are scalars each written first on its
// line (after indentation, or after the "- " of the sequence item holding m): no "? "
// explicit keys, no key on its value's line.
func (f *yamlFile) plainKeys(m *yaml.Node) bool {
	if len(m.Content) == 0 || m.Line != m.Content[0].Line || m.Column != m.Content[0].Column {
		return false // the mapping starts before its first key: "? key"
	}
	for i := 0; i < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind != yaml.ScalarNode || k.Line < 1 || k.Line > f.lines() || k.Column != m.Column {
			return false
		}
		prefix := strings.TrimSpace(f.text(k.Line)[:min(f.col(k), len(f.text(k.Line)))])
		if strings.Trim(prefix, "- ") != "" {
			return false
		}
	}
	return true
}

// deleteEntry removes the entry of key from block mapping m, whole lines: the key's line
// through the last line of its value. The comment lines before it stay.
func (f *yamlFile) deleteEntry(m *yaml.Node, key string) (Edit, error) {
	k, v := get(m, key)
	if k == nil || !block(m) || f.indent(k.Line) != f.col(k) {
		return Edit{}, errCannotEdit // flow style, or the key shares its line with a "- "
	}
	return Edit{Start: f.lineStart(k.Line), End: f.entryEnd(k, v)}, nil
}

// dashCol is the column of the "- " that starts sequence item n.
func (f *yamlFile) dashCol(n *yaml.Node) (int, error) {
	line := f.text(n.Line)
	i := f.col(n) - 1
	for i >= 0 && line[i] == ' ' {
		i--
	}
	if i < 0 || line[i] != '-' {
		return 0, errCannotEdit
	}
	return i, nil
}

// itemEnd is the offset after the last line of sequence item n.
func (f *yamlFile) itemEnd(n *yaml.Node) (int, error) {
	dash, err := f.dashCol(n)
	if err != nil {
		return 0, err
	}
	return f.lineEnd(f.extent(n.Line, dash, n)), nil
}

// insertItemAfter adds a sequence item after item n of a block sequence; lines[0] follows
// the "- ", the others are indented as the item's keys (plus their own indentation).
func (f *yamlFile) insertItemAfter(n *yaml.Node, lines []string) (Edit, error) {
	dash, err := f.dashCol(n)
	if err != nil {
		return Edit{}, err
	}
	end, err := f.itemEnd(n)
	if err != nil {
		return Edit{}, err
	}
	out := []string{"- " + lines[0]}
	for _, l := range lines[1:] {
		out = append(out, "  "+l)
	}
	return f.insertAt(end, f.block(dash, out), n)
}

// insertItemBefore adds a sequence item before item n of a block sequence, as
// insertItemAfter writes it.
func (f *yamlFile) insertItemBefore(n *yaml.Node, lines []string) (Edit, error) {
	dash, err := f.dashCol(n)
	if err != nil || f.indent(n.Line) != dash {
		return Edit{}, errCannotEdit
	}
	out := []string{"- " + lines[0]}
	for _, l := range lines[1:] {
		out = append(out, "  "+l)
	}
	// Above the comment lines that lead the item: they are about it.
	first := n.Line
	for first > 1 && f.indent(first-1) == dash && strings.HasPrefix(strings.TrimSpace(f.text(first-1)), "#") {
		first--
	}
	at := f.lineStart(first)
	return Edit{Start: at, End: at, Text: f.block(dash, out)}, nil
}

// deleteItem removes sequence item n, whole lines.
func (f *yamlFile) deleteItem(n *yaml.Node) (Edit, error) {
	dash, err := f.dashCol(n)
	if err != nil || f.indent(n.Line) != dash {
		return Edit{}, errCannotEdit
	}
	end, err := f.itemEnd(n)
	if err != nil {
		return Edit{}, err
	}
	return Edit{Start: f.lineStart(n.Line), End: end}, nil
}

// replaceValue replaces the value of the entry k: v with text written after "k: ": a
// one-line scalar or flow collection in place, a block collection with its lines.
func (f *yamlFile) replaceValue(k, v *yaml.Node, text string) (Edit, error) {
	switch {
	case v.Kind == yaml.ScalarNode:
		end, err := f.scalarEnd(v)
		if err != nil {
			return Edit{}, err
		}
		return Edit{Start: f.off(v), End: end, Text: text}, nil
	case !block(v):
		open := f.off(v)
		closeAt, err := f.matchBracket(open)
		if err != nil {
			return Edit{}, err
		}
		return Edit{Start: open, End: closeAt + 1, Text: text}, nil
	}
	colon := strings.IndexByte(f.text(k.Line)[f.col(k):], ':')
	if colon < 0 || v.Line == k.Line {
		return Edit{}, errCannotEdit
	}
	start := f.off(k) + colon + 1
	last := f.extent(k.Line, f.col(k), v)
	end := f.lineStart(last) + len(f.text(last))
	return Edit{Start: start, End: end, Text: " " + text}, nil
}

// matchBracket returns the offset of the bracket closing the flow collection opening at
// open, skipping quoted scalars (a quote that starts a node) and comments.
func (f *yamlFile) matchBracket(open int) (int, error) {
	if open >= len(f.src) || f.src[open] != '{' && f.src[open] != '[' {
		return 0, errCannotEdit
	}
	depth := 0
	prev := byte(' ') // the last byte that is not white space
	for i := open; i < len(f.src); i++ {
		c := f.src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '#' && strings.IndexByte(" \t\r\n", f.src[i-1]) >= 0:
			for i < len(f.src) && f.src[i] != '\n' {
				i++
			}
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return i, nil
			}
		case (c == '\'' || c == '"') && strings.IndexByte("[{,:?", prev) >= 0:
			end, ok := f.quoteEnd(i)
			if !ok {
				return 0, errCannotEdit
			}
			i = end
		}
		prev = c
	}
	return 0, errCannotEdit
}
