package patch

import (
	"encoding/json"
	"fmt"
	"strings"
)

// maxJSONDepth bounds the nesting the JSON reader follows (a package.json is shallow).
const maxJSONDepth = 200

// jsonValue is one value of a JSON document with where it is written.
type jsonValue struct {
	start, end int  // the value's bytes
	kind       byte // '{', '[', '"', or 0 for a number, true, false or null
	members    []jsonMember
}

// jsonMember is one "key": value of an object.
type jsonMember struct {
	key      string
	keyStart int
	value    *jsonValue
}

// member returns the value of key in object v, or nil.
func (v *jsonValue) member(key string) *jsonValue {
	if v == nil || v.kind != '{' {
		return nil
	}
	for _, m := range v.members {
		if m.key == key {
			return m.value
		}
	}
	return nil
}

// jsonFile is a JSON document with its source, edited in place like yamlFile.
type jsonFile struct {
	src  []byte
	root *jsonValue
}

func parseJSON(src []byte) (*jsonFile, error) {
	p := &jsonReader{src: src}
	p.pos = len(src) - len(strings.TrimPrefix(string(src), "\ufeff"))
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(src) {
		return nil, fmt.Errorf("parse JSON: unexpected %q at offset %d", src[p.pos], p.pos)
	}
	return &jsonFile{src: src, root: v}, nil
}

// jsonReader is a small recursive reader that keeps every value's offsets, which
// encoding/json's Decoder gives only for tokens.
type jsonReader struct {
	src []byte
	pos int
}

func (p *jsonReader) space() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *jsonReader) fail(what string) error {
	if p.pos >= len(p.src) {
		return fmt.Errorf("parse JSON: %s, got the end of the file", what)
	}
	return fmt.Errorf("parse JSON: %s at offset %d", what, p.pos)
}

func (p *jsonReader) value(depth int) (*jsonValue, error) {
	if depth > maxJSONDepth {
		return nil, p.fail("nested too deeply")
	}
	p.space()
	if p.pos >= len(p.src) {
		return nil, p.fail("want a value")
	}
	v := &jsonValue{start: p.pos}
	switch c := p.src[p.pos]; c {
	case '{':
		v.kind = '{'
		if err := p.object(v, depth); err != nil {
			return nil, err
		}
	case '[':
		v.kind = '['
		if err := p.array(depth); err != nil {
			return nil, err
		}
	case '"':
		v.kind = '"'
		if _, err := p.str(); err != nil {
			return nil, err
		}
	default:
		for p.pos < len(p.src) && strings.IndexByte(",]} \t\r\n", p.src[p.pos]) < 0 {
			p.pos++
		}
		var x any
		if err := json.Unmarshal(p.src[v.start:p.pos], &x); err != nil {
			return nil, fmt.Errorf("parse JSON: bad literal at offset %d: %w", v.start, err)
		}
	}
	v.end = p.pos
	return v, nil
}

func (p *jsonReader) object(v *jsonValue, depth int) error {
	p.pos++ // {
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		p.space()
		keyStart := p.pos
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return p.fail("want a key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.fail("want ':'")
		}
		p.pos++
		val, err := p.value(depth + 1)
		if err != nil {
			return err
		}
		v.members = append(v.members, jsonMember{key: key, keyStart: keyStart, value: val})
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == '}' {
			p.pos++
			return nil
		}
		return p.fail("want ',' or '}'")
	}
}

func (p *jsonReader) array(depth int) error {
	p.pos++ // [
	p.space()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		if _, err := p.value(depth + 1); err != nil {
			return err
		}
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == ',' {
			p.pos++
			continue
		}
		if p.pos < len(p.src) && p.src[p.pos] == ']' {
			p.pos++
			return nil
		}
		return p.fail("want ',' or ']'")
	}
}

// str reads a string and returns it decoded.
func (p *jsonReader) str() (string, error) {
	start := p.pos
	for p.pos++; p.pos < len(p.src); p.pos++ {
		switch p.src[p.pos] {
		case '\\':
			p.pos++
		case '"':
			p.pos++
			var s string
			if err := json.Unmarshal(p.src[start:p.pos], &s); err != nil {
				return "", fmt.Errorf("parse JSON: bad string at offset %d: %w", start, err)
			}
			return s, nil
		}
	}
	return "", p.fail("unterminated string")
}

// quoteJSON writes s as a JSON string without HTML escaping.
func quoteJSON(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// lineIndent is the indentation of the line holding offset at.
func (f *jsonFile) lineIndent(at int) string {
	start := strings.LastIndexByte(string(f.src[:at]), '\n') + 1
	end := start
	for end < len(f.src) && (f.src[end] == ' ' || f.src[end] == '\t') {
		end++
	}
	return string(f.src[start:end])
}

// set makes keys (a path of object keys from the top) hold value (JSON text): an existing
// value is replaced, a missing member is added at the end of the deepest object that
// exists, holding the rest of the path as nested objects, written in the file's style.
func (f *jsonFile) set(keys []string, value string) (Edit, error) {
	obj := f.root
	if obj.kind != '{' {
		return Edit{}, errCannotEdit
	}
	for i, k := range keys {
		next := obj.member(k)
		if next == nil {
			return f.addMember(obj, keys[i:], value)
		}
		if i == len(keys)-1 {
			return Edit{Start: next.start, End: next.end, Text: value}, nil
		}
		if next.kind != '{' {
			indent := f.lineIndent(next.start)
			return Edit{Start: next.start, End: next.end, Text: nested(keys[i+1:], value, indent, f.unit(), true)}, nil
		}
		obj = next
	}
	return Edit{}, errCannotEdit
}

// unit is the file's indentation step: that of the top object's first member, else two
// spaces.
func (f *jsonFile) unit() string {
	if f.root.kind == '{' && len(f.root.members) > 0 {
		if u := f.lineIndent(f.root.members[0].keyStart); u != "" && strings.Contains(string(f.src[f.root.start:f.root.members[0].keyStart]), "\n") {
			return u
		}
	}
	return "  "
}

// addMember adds "keys[0]": (keys[1:] nested around value) at the end of object obj.
func (f *jsonFile) addMember(obj *jsonValue, keys []string, value string) (Edit, error) {
	outer := f.lineIndent(obj.start)
	unit := f.unit()
	if len(obj.members) == 0 {
		inner := outer + unit
		text := "\n" + inner + quoteJSON(keys[0]) + ": " + nested(keys[1:], value, inner, unit, true) + "\n" + outer
		return Edit{Start: obj.start + 1, End: obj.end - 1, Text: text}, nil
	}
	first := obj.members[0]
	lead := string(f.src[obj.start+1 : first.keyStart]) // "\n    ", " " or ""
	multi := strings.Contains(lead, "\n")
	indent := f.lineIndent(first.keyStart)
	sep := ": "
	between := string(f.src[first.keyStart:first.value.start])
	if q := strings.LastIndex(between, `"`); q >= 0 {
		sep = between[q+1:]
	}
	joiner := "," + lead
	switch {
	case multi:
	case len(obj.members) > 1:
		joiner = string(f.src[first.value.end:obj.members[1].keyStart]) // ", " or ","
	case strings.HasSuffix(sep, " "):
		joiner = ", "
	}
	last := obj.members[len(obj.members)-1].value
	return Edit{Start: last.end, End: last.end, Text: joiner + quoteJSON(keys[0]) + sep + nested(keys[1:], value, indent, unit, multi)}, nil
}

// nested writes value inside objects for keys: over several lines, each object's members
// one unit further in than indent, or on one line.
func nested(keys []string, value, indent, unit string, multi bool) string {
	if len(keys) == 0 {
		return value
	}
	if !multi {
		return "{" + quoteJSON(keys[0]) + ": " + nested(keys[1:], value, indent, unit, false) + "}"
	}
	inner := indent + unit
	return "{\n" + inner + quoteJSON(keys[0]) + ": " + nested(keys[1:], value, inner, unit, true) + "\n" + indent + "}"
}
