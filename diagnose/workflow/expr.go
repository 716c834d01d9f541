package workflow

import (
	"strconv"
	"strings"
)

// This file evaluates the ${{ }} expressions a publish depends on (runs-on, node-version,
// if:) as far as the file allows: matrix values leg by leg, env: at the step, job and
// workflow levels, inputs that are not declared (they are empty), literals, the comparison
// and logical operators and startsWith/endsWith/contains. Everything else (secrets, vars,
// github, steps and needs outputs, fromJSON) is unknown, and unknown propagates, so a check
// says "cannot tell" instead of guessing.

// ev is an evaluated expression: a string (GitHub compares loosely, as strings), or unknown.
type ev struct {
	s     string
	known bool
}

func knownStr(s string) ev { return ev{s: s, known: true} }

var unknownEv = ev{}

// truthy follows GitHub: false, 0, ” and null are false.
func (e ev) truthy() bool {
	s := strings.ToLower(e.s)
	return s != "" && s != "false" && s != "0" && s != "null"
}

// scope is what an expression can see.
type scope struct {
	w   *Workflow
	j   *Job
	s   *step // nil at job level
	leg leg   // nil outside a matrix
	// undefined collects the references that GitHub evaluates to '' because nothing defines
	// them (matrix.x with no such key, env.X set nowhere, inputs.x not declared).
	undefined []string
	// opaque collects the references whose value the file cannot show (vars, secrets,
	// outputs, inputs without a default).
	opaque []string
	depth  int
}

// interpolate evaluates every ${{ }} in s and splices the values in; unknown if any is.
func (sc *scope) interpolate(s string) ev {
	var b strings.Builder
	rest := s
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			b.WriteString(rest)
			return knownStr(b.String())
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return unknownEv
		}
		b.WriteString(rest[:i])
		v := sc.eval(rest[i+3 : i+j])
		if !v.known {
			return unknownEv
		}
		b.WriteString(v.s)
		rest = rest[i+j+2:]
	}
}

// cond evaluates an if: condition (with or without ${{ }}): true, false, or unknown.
func (sc *scope) cond(s string) ev {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "${{") && strings.HasSuffix(t, "}}") && strings.Count(t, "${{") == 1 {
		t = t[3 : len(t)-2]
	} else if strings.Contains(t, "${{") {
		return sc.interpolate(t)
	}
	return sc.eval(t)
}

func (sc *scope) eval(src string) ev {
	p := &exprParser{toks: tokenize(src), sc: sc}
	v := p.or()
	if p.pos != len(p.toks) {
		return unknownEv
	}
	return v
}

type exprToken struct {
	kind byte // 's' string, 'n' number, 'i' identifier path, 'o' operator, '(' ')' ','
	text string
}

func tokenize(s string) []exprToken {
	var out []exprToken
	for i := 0; i < len(s); {
		tok, n := nextToken(s[i:])
		if n == 0 {
			return append(out, exprToken{'?', s[i:]})
		}
		if tok.kind != 0 {
			out = append(out, tok)
		}
		i += n
	}
	return out
}

// twoCharOps are the operators of two characters.
var twoCharOps = []string{"==", "!=", "&&", "||", "<=", ">="}

// nextToken reads one token at the start of s and how many bytes it took; kind 0 is
// whitespace, n 0 a character no token starts with.
func nextToken(s string) (exprToken, int) {
	c := s[0]
	switch c {
	case ' ', '\t', '\n', '\r':
		return exprToken{}, 1
	case '\'':
		return stringToken(s)
	case '(', ')', ',':
		return exprToken{c, string(c)}, 1
	}
	for _, op := range twoCharOps {
		if strings.HasPrefix(s, op) {
			return exprToken{'o', op}, 2
		}
	}
	switch {
	case c == '!' || c == '<' || c == '>':
		return exprToken{'o', string(c)}, 1
	case c >= '0' && c <= '9' || c == '-' || c == '.':
		j := 1
		for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.' || s[j] == 'x' || s[j] >= 'a' && s[j] <= 'f') {
			j++
		}
		return exprToken{'n', s[:j]}, j
	}
	j := 0
	for j < len(s) && (isIdent(s[j]) || s[j] == '.' || s[j] == '*' || s[j] == '[' || s[j] == ']') {
		j++
	}
	return exprToken{'i', s[:j]}, j
}

// stringToken reads a '…' literal (” is a quote inside it).
func stringToken(s string) (exprToken, int) {
	var b strings.Builder
	j := 1
	for ; j < len(s); j++ {
		if s[j] == '\'' {
			if j+1 < len(s) && s[j+1] == '\'' {
				b.WriteByte('\'')
				j++
				continue
			}
			break
		}
		b.WriteByte(s[j])
	}
	return exprToken{'s', b.String()}, j + 1
}

func isIdent(c byte) bool {
	return c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

type exprParser struct {
	toks []exprToken
	pos  int
	sc   *scope
}

func (p *exprParser) peek() exprToken {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return exprToken{}
}

func (p *exprParser) or() ev {
	l := p.and()
	for p.peek().text == "||" {
		p.pos++
		l = shortCircuit(l, p.and(), true)
	}
	return l
}

func (p *exprParser) and() ev {
	l := p.cmp()
	for p.peek().text == "&&" {
		p.pos++
		l = shortCircuit(l, p.cmp(), false)
	}
	return l
}

// shortCircuit is l || r (decisive true) or l && r (decisive false) with unknowns: a known
// decisive side decides, two known sides give r, anything else is unknown.
func shortCircuit(l, r ev, decisive bool) ev {
	switch {
	case l.known && l.truthy() == decisive:
		return l
	case r.known && r.truthy() == decisive:
		return r
	case l.known && r.known:
		return r
	}
	return unknownEv
}

func (p *exprParser) cmp() ev {
	l := p.unary()
	for {
		op := p.peek().text
		if p.peek().kind != 'o' || op == "!" || op == "&&" || op == "||" {
			return l
		}
		p.pos++
		r := p.unary()
		if !l.known || !r.known {
			l = unknownEv
			continue
		}
		a, b := strings.ToLower(l.s), strings.ToLower(r.s)
		var res bool
		switch op {
		case "==":
			res = a == b
		case "!=":
			res = a != b
		default:
			fa, ea := strconv.ParseFloat(a, 64)
			fb, eb := strconv.ParseFloat(b, 64)
			if ea != nil || eb != nil {
				l = unknownEv
				continue
			}
			res = op == "<" && fa < fb || op == "<=" && fa <= fb || op == ">" && fa > fb || op == ">=" && fa >= fb
		}
		l = knownStr(boolString(res))
	}
}

func (p *exprParser) unary() ev {
	if p.peek().text == "!" {
		p.pos++
		v := p.unary()
		if !v.known {
			return unknownEv
		}
		return knownStr(boolString(!v.truthy()))
	}
	return p.primary()
}

func (p *exprParser) primary() ev {
	t := p.peek()
	p.pos++
	switch t.kind {
	case 's', 'n':
		return knownStr(t.text)
	case '(':
		v := p.or()
		if p.peek().kind == ')' {
			p.pos++
		}
		return v
	case 'i':
		if p.peek().kind == '(' {
			return p.call(strings.ToLower(t.text))
		}
		return p.sc.ref(t.text)
	}
	return unknownEv
}

func (p *exprParser) call(name string) ev {
	p.pos++ // (
	var args []ev
	for p.pos < len(p.toks) && p.peek().kind != ')' {
		args = append(args, p.or())
		if p.peek().kind == ',' {
			p.pos++
		}
	}
	p.pos++ // )
	switch name {
	case "success", "always":
		return knownStr("true")
	case "failure", "cancelled":
		return knownStr("false")
	case "startswith", "endswith", "contains":
		if len(args) != 2 || !args[0].known || !args[1].known {
			return unknownEv
		}
		a, b := strings.ToLower(args[0].s), strings.ToLower(args[1].s)
		res := name == "startswith" && strings.HasPrefix(a, b) || name == "endswith" && strings.HasSuffix(a, b) ||
			name == "contains" && strings.Contains(a, b)
		return knownStr(boolString(res))
	}
	return unknownEv
}

// ref resolves a context reference.
func (sc *scope) ref(path string) ev {
	lower := strings.ToLower(path)
	if r, ok := strings.CutPrefix(lower, "github.event.inputs."); ok {
		lower, path = "inputs."+r, "inputs."+r
	}
	ctxName, rest, _ := strings.Cut(lower, ".")
	switch ctxName {
	case "true", "false":
		return knownStr(ctxName)
	case "null":
		return knownStr("")
	case "matrix":
		return sc.matrixRef(path, rest)
	case "env":
		v, ok := lookupEnv(sc.w, sc.j, sc.s, nil, 0, strings.ToUpper(rest))
		switch {
		case ok:
			return sc.nested(v.s)
		case envUnknown(sc.w, sc.j, sc.s):
			return unknownEv
		}
		sc.undefined = append(sc.undefined, path)
		return knownStr("")
	case "inputs":
		return sc.inputRef(path, rest)
	case "runner":
		return unknownEv
	}
	// secrets, vars, github, steps and needs outputs, declared inputs (a default a caller or
	// a dispatch may override): the file does not show the value.
	sc.opaque = append(sc.opaque, path)
	return unknownEv
}

// inputRef resolves an input: what the known callers pass (or the default where a call
// passes nothing); with no caller known, the default the file declares. A value the file
// cannot show (a dispatch without a default, a caller's expression) is opaque.
func (sc *scope) inputRef(path, name string) ev {
	decl, ok := sc.w.inputs[name]
	if !ok {
		sc.undefined = append(sc.undefined, path)
		return knownStr("")
	}
	vals := sc.w.callerInputs[name]
	if sc.w.callerInputs == nil {
		vals = []value{decl}
	}
	out, first := unknownEv, true
	for _, v := range vals {
		if !v.set || strings.Contains(v.s, "${{") {
			sc.opaque = append(sc.opaque, path)
			return unknownEv
		}
		if !first && !strings.EqualFold(v.s, out.s) {
			return unknownEv // callers pass different values: one check per value is not made
		}
		out, first = knownStr(v.s), false
	}
	if first {
		sc.opaque = append(sc.opaque, path)
	}
	return out
}

func (sc *scope) matrixRef(path, key string) ev {
	switch {
	case sc.j == nil:
		return unknownEv
	case sc.j.matrix == nil:
		sc.undefined = append(sc.undefined, path)
		return knownStr("")
	case sc.j.matrix.unknown || sc.leg == nil:
		return unknownEv
	}
	if v, ok := sc.leg[key]; ok {
		return sc.nested(v.s)
	}
	sc.undefined = append(sc.undefined, path)
	return knownStr("")
}

// nested evaluates a value that may itself hold an expression (env: X: ${{ matrix.node }}).
func (sc *scope) nested(s string) ev {
	if !strings.Contains(s, "${{") {
		return knownStr(s)
	}
	if sc.depth > 4 {
		return unknownEv
	}
	sc.depth++
	defer func() { sc.depth-- }()
	return sc.interpolate(s)
}

// legs returns the matrix legs of a job: nil (one run, no matrix) as a single nil leg, or
// none when the matrix is unknown.
func jobLegs(j *Job) (legs []leg, known bool) {
	if j == nil || j.matrix == nil {
		return []leg{nil}, true
	}
	if j.matrix.unknown {
		return nil, false
	}
	if len(j.matrix.legs) == 0 {
		return []leg{nil}, true
	}
	return j.matrix.legs, true
}

// runsIn reports whether a step (with the job's if:) may run in a leg: false only when a
// condition is known to be false there.
func runsIn(w *Workflow, j *Job, s *step, l leg) bool {
	for _, c := range []value{j.cond, s.cond} {
		if !c.set {
			continue
		}
		sc := &scope{w: w, j: j, s: s, leg: l}
		if v := sc.cond(c.s); v.known && !v.truthy() {
			return false
		}
	}
	return true
}
