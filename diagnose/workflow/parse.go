package workflow

// This is the only file in Pubdoc that imports rhysd/actionlint (and the YAML library it
// parses with, to bound alias expansion before actionlint sees the bytes). It turns actionlint's
// syntax tree into this package's small model (model.go) and keeps nothing of actionlint
// visible outside it, so a change of actionlint's AST (it is not semver-stable) touches one
// file.

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"
)

// MaxSize is the largest workflow file Parse accepts. Real workflows are a few kilobytes;
// the cap bounds the memory an untrusted input can take.
const MaxSize = 1 << 20

// MaxNodes bounds the YAML tree once aliases are expanded. actionlint walks an alias's
// target again at every use, so nested aliases cost exponential time (a 1 KB file of 24
// levels took 40 s); real workflows with anchors stay in the hundreds.
const MaxNodes = 100_000

// ErrInvalid is wrapped by every error Parse returns: the input is not a workflow it can read.
var ErrInvalid = errors.New("not a valid workflow file")

// Parse reads one GitHub Actions workflow file. filePath is kept as given (Workflow.Path)
// and its base name becomes Workflow.File, the name a trusted publisher must match. Only a file that is not YAML, not a mapping, or has
// neither "on" nor "jobs" is an error; schema problems actionlint reports (an unknown key, a
// missing runs-on) are tolerated, because a workflow GitHub refuses to run still says what
// it meant to do.
func Parse(filePath string, src []byte) (*Workflow, error) {
	file := path.Base(strings.ReplaceAll(filePath, `\`, "/"))
	if len(src) > MaxSize {
		return nil, fmt.Errorf("%s: %w: %d bytes is larger than %d", filePath, ErrInvalid, len(src), MaxSize)
	}
	if n := expandedNodes(src); n > MaxNodes {
		return nil, fmt.Errorf("%s: %w: its YAML aliases expand to more than %d nodes", filePath, ErrInvalid, MaxNodes)
	}
	aw, errs := parseActionlint(src)
	if aw == nil {
		line, msg := 0, "could not parse as YAML"
		if len(errs) > 0 {
			line, msg = errs[0].Line, errs[0].Message
		}
		return nil, parseError(filePath, line, msg)
	}
	if aw.On == nil && aw.Jobs == nil {
		line, msg := 1, `neither "on" nor "jobs" is set`
		for _, e := range errs {
			if strings.Contains(e.Message, "empty") || strings.Contains(e.Message, "mapping node is expected") {
				line, msg = e.Line, e.Message
				break
			}
		}
		return nil, parseError(filePath, line, msg)
	}

	lines := strings.Split(strings.TrimPrefix(string(src), "\ufeff"), "\n")
	w := &Workflow{Path: filePath, File: file, lines: lines, events: map[string]*event{}}
	if aw.Name != nil {
		w.Name = aw.Name.Value
	}
	w.perms = convPermissions(aw.Permissions)
	w.env = convEnv(aw.Env)

	events := slices.Clone(aw.On)
	slices.SortStableFunc(events, func(a, b actionlint.Event) int { return cmp.Compare(eventLine(a), eventLine(b)) })
	for _, e := range events {
		name := e.EventName()
		if name == "" || slices.Contains(w.Triggers, name) {
			continue
		}
		w.Triggers = append(w.Triggers, name)
		w.events[name] = convEvent(e)
		if _, ok := e.(*actionlint.WorkflowCallEvent); ok {
			w.callLine = eventLine(e)
		}
	}
	w.inputs = convInputs(events)
	w.onLine = topLevelKeyLine(lines, "on")
	if w.onLine == 0 && len(events) > 0 {
		w.onLine = eventLine(events[0])
	}

	for _, aj := range aw.Jobs {
		if aj == nil || aj.ID == nil {
			continue
		}
		w.Jobs = append(w.Jobs, convJob(aj, lines))
	}
	slices.SortFunc(w.Jobs, func(a, b *Job) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID)) })
	w.cargoKeys = findCargoKeys(w)
	return w, nil
}

// parseActionlint calls actionlint.Parse. actionlint is fuzzed upstream, but a panic on an
// input nobody foresaw must not take down the bot that handed it a stranger's file.
func parseActionlint(src []byte) (w *actionlint.Workflow, errs []*actionlint.Error) {
	defer func() {
		if r := recover(); r != nil {
			w, errs = nil, []*actionlint.Error{{Message: fmt.Sprintf("the workflow parser failed: %v", r)}}
		}
	}()
	return actionlint.Parse(src)
}

// expandedNodes counts the nodes of src's YAML tree with every alias expanded, in linear
// time (each anchor's size is computed once), stopping past MaxNodes. Input that is not YAML
// counts 0: actionlint reports it.
func expandedNodes(src []byte) int {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return 0
	}
	memo := map[*yaml.Node]int{}
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		if v, ok := memo[n]; ok {
			return v
		}
		memo[n] = 1 // an alias inside its own anchor counts once; actionlint refuses it
		total := 1
		for _, c := range n.Content {
			if c == nil {
				continue
			}
			if total += size(c); total > MaxNodes {
				break
			}
		}
		memo[n] = total
		return total
	}
	return size(&root)
}

func convEvent(e actionlint.Event) *event {
	out := &event{line: eventLine(e)}
	if h, ok := e.(*actionlint.WebhookEvent); ok {
		out.branches = convFilter(h.Branches)
		out.branchesIgnore = convFilter(h.BranchesIgnore)
		out.tags = convFilter(h.Tags)
		out.tagsIgnore = convFilter(h.TagsIgnore)
	}
	return out
}

func convFilter(f *actionlint.WebhookEventFilter) refFilter {
	if f == nil {
		return refFilter{}
	}
	out := refFilter{set: true}
	for _, v := range f.Values {
		if v != nil {
			out.patterns = append(out.patterns, v.Value)
		}
	}
	return out
}

func parseError(filePath string, line int, msg string) error {
	msg = strings.Join(strings.Fields(msg), " ")
	if line > 0 {
		return fmt.Errorf("%s:%d: %w: %s", filePath, line, ErrInvalid, msg)
	}
	return fmt.Errorf("%s: %w: %s", filePath, ErrInvalid, msg)
}

func eventLine(e actionlint.Event) int {
	var p *actionlint.Pos
	switch e := e.(type) {
	case *actionlint.WebhookEvent:
		p = e.Pos
	case *actionlint.ScheduledEvent:
		p = e.Pos
	case *actionlint.WorkflowDispatchEvent:
		p = e.Pos
	case *actionlint.RepositoryDispatchEvent:
		p = e.Pos
	case *actionlint.WorkflowCallEvent:
		p = e.Pos
	case *actionlint.ImageVersionEvent:
		p = e.Pos
	}
	return posLine(p)
}

// topLevelKeyLine finds the line of a top-level key. actionlint keeps the position of each
// event under "on" but not of "on" itself, which is where a reader looks.
func topLevelKeyLine(lines []string, key string) int {
	for i, l := range lines {
		for _, k := range []string{key, `"` + key + `"`, "'" + key + "'"} {
			if rest, ok := strings.CutPrefix(l, k); ok && strings.HasPrefix(strings.TrimLeft(rest, " \t"), ":") {
				return i + 1
			}
		}
	}
	return 0
}

func posLine(p *actionlint.Pos) int {
	if p == nil {
		return 0
	}
	return p.Line
}

func str(s *actionlint.String) value {
	if s == nil {
		return value{}
	}
	return value{s: s.Value, line: posLine(s.Pos), set: true}
}

func convPermissions(p *actionlint.Permissions) *permissions {
	if p == nil {
		return nil
	}
	out := &permissions{line: posLine(p.Pos), all: str(p.All), scopes: map[string]value{}}
	for id, sc := range p.Scopes {
		if sc == nil {
			continue
		}
		out.scopes[strings.ToLower(id)] = str(sc.Value)
	}
	return out
}

func convEnv(e *actionlint.Env) env {
	out := env{vars: map[string]value{}}
	if e == nil {
		return out
	}
	if e.Expression != nil {
		out.expr = str(e.Expression)
	}
	for _, v := range e.Vars {
		if v == nil || v.Name == nil {
			continue
		}
		val := str(v.Value)
		val.line = posLine(v.Name.Pos) // the line a reader finds the variable on
		val.set = true
		out.vars[strings.ToUpper(v.Name.Value)] = val
	}
	return out
}

func convJob(aj *actionlint.Job, lines []string) *Job {
	j := &Job{ID: aj.ID.Value, Line: posLine(aj.ID.Pos)}
	if aj.Name != nil {
		j.Name = aj.Name.Value
	}
	if c := aj.WorkflowCall; c != nil && c.Uses != nil {
		j.Uses = c.Uses.Value
		j.usesLine = posLine(c.Uses.Pos)
		j.callWith = map[string]value{}
		for id, in := range c.Inputs {
			if in != nil {
				j.callWith[strings.ToLower(id)] = str(in.Value)
			}
		}
	}
	j.cond = str(aj.If)
	j.perms = convPermissions(aj.Permissions)
	j.env = convEnv(aj.Env)
	j.matrix = convMatrix(aj.Strategy)
	if e := aj.Environment; e != nil && e.Name != nil {
		j.environment = str(e.Name)
	}
	if r := aj.RunsOn; r != nil {
		j.runsOn = &runsOn{expr: str(r.LabelsExpr), group: str(r.Group)}
		for _, l := range r.Labels {
			j.runsOn.labels = append(j.runsOn.labels, str(l))
		}
	}
	for _, as := range aj.Steps {
		if as == nil {
			continue
		}
		j.steps = append(j.steps, convStep(as, lines))
	}
	return j
}

func convStep(as *actionlint.Step, lines []string) *step {
	s := &step{line: posLine(as.Pos), env: convEnv(as.Env), with: map[string]value{}, id: str(as.ID), cond: str(as.If)}
	if as.Name != nil {
		s.name = as.Name.Value
	}
	switch ex := as.Exec.(type) {
	case *actionlint.ExecAction:
		s.uses = str(ex.Uses)
		s.usesComment = trailingComment(lines, s.uses.line)
		for id, in := range ex.Inputs {
			if in == nil {
				continue
			}
			s.with[strings.ToLower(id)] = str(in.Value)
		}
	case *actionlint.ExecRun:
		if ex.Run != nil {
			s.script, s.folded = scriptLines(ex.Run, lines)
			s.src = lines
		}
	}
	return s
}

// scriptLines splits a run: script into its lines, each with the line of the file it is on,
// so a finding can point at "npm publish" inside a twenty-line block. folded is true when the
// scalar's lines were joined (> blocks, multi-line quoted or plain scalars): then every part
// carries the scalar's first line and step.commands finds each command's own.
func scriptLines(run *actionlint.String, lines []string) (out []value, folded bool) {
	start := posLine(run.Pos)
	parts := strings.Split(strings.TrimRight(run.Value, "\n"), "\n")
	first := start
	switch blockIndicator(lines, run.Pos) {
	case '|':
		// A literal block keeps every line as written, one to one, from the line after "|".
		for i, p := range parts {
			out = append(out, value{s: p, line: start + 1 + i, set: true})
		}
		return out, false
	case '>':
		first = start + 1
	}
	for _, p := range parts {
		out = append(out, value{s: p, line: first, set: true})
	}
	return out, first != start || len(parts) > 1 || !strings.Contains(lineAt(lines, start), strings.TrimSpace(run.Value))
}

func lineAt(lines []string, n int) string {
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

func blockIndicator(lines []string, p *actionlint.Pos) byte {
	if p == nil || p.Line < 1 || p.Line > len(lines) || p.Col < 1 {
		return 0
	}
	l := lines[p.Line-1]
	if p.Col-1 >= len(l) {
		return 0
	}
	return l[p.Col-1]
}

// trailingComment returns the "# v4.2.0" after a SHA-pinned uses:, which says the version
// the SHA stands for.
func trailingComment(lines []string, line int) string {
	if line < 1 || line > len(lines) {
		return ""
	}
	_, c, ok := strings.Cut(lines[line-1], " #")
	if !ok {
		return ""
	}
	return strings.TrimSpace(c)
}

// maxLegs bounds the combinations a matrix is expanded to; past it the matrix is read as
// unknown, as an expression is.
const maxLegs = 256

// convMatrix expands strategy.matrix into its legs the way GitHub does: the product of the
// rows, minus every combination an exclude entry matches, then each include entry either
// extends the combinations whose original values it matches (without overwriting them) or,
// matching none, adds a leg of its own. An object value is flattened into dotted keys
// (matrix.config.os). A matrix, row or include written as an expression is unknown.
func convMatrix(s *actionlint.Strategy) *matrix {
	if s == nil || s.Matrix == nil {
		return nil
	}
	m := s.Matrix
	out := &matrix{line: posLine(m.Pos), unknown: true}
	if m.Expression != nil || m.Include != nil && m.Include.ContainsExpression() || m.Exclude != nil && m.Exclude.ContainsExpression() {
		return out
	}
	legs, original, ok := matrixProduct(m.Rows)
	if !ok {
		return out
	}
	if m.Exclude != nil {
		for _, c := range m.Exclude.Combinations {
			ex := combination(c)
			legs = slices.DeleteFunc(legs, func(l leg) bool { return l.matches(ex, nil) })
		}
	}
	if m.Include != nil {
		n := len(legs) // the combinations of the rows; include's own legs are not extended
		for _, c := range m.Include.Combinations {
			legs = include(legs, n, combination(c), original)
		}
	}
	out.legs, out.unknown = legs, false
	return out
}

// matrixProduct is the product of a matrix's rows, with the names of the rows; ok is false
// for a row written as an expression or more than maxLegs combinations.
func matrixProduct(rows map[string]*actionlint.MatrixRow) (legs []leg, original map[string]bool, ok bool) {
	names := make([]string, 0, len(rows))
	for n, r := range rows {
		if r == nil || r.Expression != nil {
			return nil, nil, false
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil, map[string]bool{}, true
	}
	slices.Sort(names)
	legs, original = []leg{{}}, map[string]bool{}
	for _, n := range names {
		if len(rows[n].Values) == 0 {
			continue
		}
		var next []leg
		for _, l := range legs {
			for _, v := range rows[n].Values {
				nl := l.clone()
				flattenInto(nl, n, v)
				next = append(next, nl)
			}
		}
		legs = next
		original[n] = true
		if len(legs) > maxLegs {
			return nil, nil, false
		}
	}
	return legs, original, true
}

// include applies one include entry: it extends every one of the first n legs (the rows'
// combinations) whose original values it matches, without overwriting those, or, matching
// none, becomes a leg of its own.
func include(legs []leg, n int, in leg, original map[string]bool) []leg {
	matched := false
	for i := range legs[:n] {
		if !legs[i].matches(in, original) {
			continue
		}
		matched = true
		for k, v := range in {
			if !original[strings.SplitN(k, ".", 2)[0]] {
				legs[i][k] = v
			}
		}
	}
	if !matched {
		legs = append(legs, in)
	}
	return legs
}

// combination flattens an include or exclude entry.
func combination(c *actionlint.MatrixCombination) leg {
	out := leg{}
	if c == nil {
		return out
	}
	for k, a := range c.Assigns {
		if a != nil && a.Value != nil {
			flattenInto(out, k, a.Value)
		}
	}
	return out
}

// flattenInto stores a matrix value under its key, an object's properties under key.prop.
func flattenInto(l leg, key string, v actionlint.RawYAMLValue) {
	key = strings.ToLower(key)
	switch v := v.(type) {
	case *actionlint.RawYAMLString:
		l[key] = value{s: v.Value, line: posLine(v.Pos()), set: true}
	case *actionlint.RawYAMLObject:
		l[key] = value{s: v.String(), line: posLine(v.Pos()), set: true}
		for p, pv := range v.Props {
			flattenInto(l, key+"."+p, pv)
		}
	case nil:
	default:
		l[key] = value{s: v.String(), line: posLine(v.Pos()), set: true}
	}
}

// convInputs keeps the inputs a workflow_dispatch or workflow_call declares, with their
// defaults.
func convInputs(events []actionlint.Event) map[string]value {
	out := map[string]value{}
	for _, e := range events {
		switch e := e.(type) {
		case *actionlint.WorkflowDispatchEvent:
			for id, in := range e.Inputs {
				if in == nil || in.Name == nil {
					continue
				}
				v := str(in.Default)
				v.line = posLine(in.Name.Pos)
				if _, dup := out[strings.ToLower(id)]; !dup {
					out[strings.ToLower(id)] = v
				}
			}
		case *actionlint.WorkflowCallEvent:
			for _, in := range e.Inputs {
				if in == nil {
					continue
				}
				v := str(in.Default)
				if in.Name != nil {
					v.line = posLine(in.Name.Pos)
				}
				if _, dup := out[strings.ToLower(in.ID)]; !dup {
					out[strings.ToLower(in.ID)] = v
				}
			}
		}
	}
	return out
}
