package workflow

import (
	"slices"
	"strings"
)

// This file resolves what a publish step runs with, leg by leg of the job's matrix: the
// runner its runs-on names and the Node its setup-node installs. A value the file cannot
// show (vars, secrets, outputs, a matrix written as an expression) is unknown, and the
// checks stay silent or say "cannot tell" (a note) on it.

// stepLegs returns the matrix legs in which a step may run (its and its job's if: are not
// known false there); ok is false when the matrix itself is unknown.
func stepLegs(w *Workflow, j *Job, s *step) (legs []leg, ok bool) {
	all, ok := jobLegs(j)
	if !ok {
		return nil, false
	}
	if s == nil {
		return all, true
	}
	for _, l := range all {
		if runsIn(w, j, s, l) {
			legs = append(legs, l)
		}
	}
	return legs, true
}

// legLabels evaluates runs-on in one leg: its labels, or ok false when an expression hides
// them. A label that comes from the matrix carries the matrix value's line.
func legLabels(w *Workflow, j *Job, l leg) (labels []value, ok bool) {
	r := j.runsOn
	if r == nil {
		return nil, false
	}
	raw := r.labels
	if r.expr.set {
		raw = []value{r.expr}
	}
	for _, lv := range raw {
		if !strings.Contains(lv.s, "${{") {
			labels = append(labels, lv)
			continue
		}
		sc := &scope{w: w, j: j, leg: l}
		v := sc.interpolate(lv.s)
		if !v.known || strings.HasPrefix(strings.TrimSpace(v.s), "[") || strings.TrimSpace(v.s) == "" {
			return nil, false
		}
		out := value{s: v.s, line: lv.line, set: true}
		if m := matrixKey(lv.s); m != "" && l != nil {
			if mv, ok := l[m]; ok && mv.line > 0 {
				out.line = mv.line
			}
		}
		labels = append(labels, out)
	}
	return labels, true
}

// matrixKey returns KEY when s is exactly ${{ matrix.KEY }}.
func matrixKey(s string) string {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "${{") || !strings.HasSuffix(t, "}}") {
		return ""
	}
	inner := strings.TrimSpace(t[3 : len(t)-2])
	k, ok := strings.CutPrefix(strings.ToLower(inner), "matrix.")
	if !ok || strings.ContainsAny(k, " ()=!&|'") {
		return ""
	}
	return k
}

// runnerRank orders runner kinds by how much they say: a self-hosted or third-party leg
// settles a check, an unknown one keeps it silent, a GitHub-hosted one clears it.
var runnerRank = map[string]int{"self-hosted": 3, "third-party": 3, "unknown": 2, "github-hosted": 1}

// resolveRunner classifies the runner a step runs on, over the legs it runs in: the most
// telling kind of any leg (self-hosted or third-party, then unknown, then GitHub-hosted).
func resolveRunner(w *Workflow, j *Job, s *step) setting {
	if j == nil || j.runsOn == nil {
		return setting{}
	}
	legs, ok := stepLegs(w, j, s)
	if !ok || len(legs) == 0 {
		return setting{val: "unknown", line: runsOnLine(j)}
	}
	var best setting
	for _, l := range legs {
		labels, ok := legLabels(w, j, l)
		k := setting{val: "unknown", line: runsOnLine(j)}
		if ok {
			k = classifyRunner(labels, j.runsOn.group.set, runsOnLine(j))
		}
		if runnerRank[k.val] > runnerRank[best.val] {
			best = k
		}
	}
	return best
}

func runsOnLine(j *Job) int {
	r := j.runsOn
	switch {
	case r.expr.set:
		return r.expr.line
	case len(r.labels) > 0:
		return r.labels[0].line
	case r.group.set:
		return r.group.line
	}
	return j.Line
}

// classifyRunner sorts a leg's labels. Only labels GitHub documents are github-hosted; a
// label Pubdoc cannot place (a runner group, a larger runner's custom name) is unknown,
// not self-hosted, so no check fires on a guess.
func classifyRunner(labels []value, group bool, line int) setting {
	kind := ""
	for _, l := range labels {
		s := strings.ToLower(strings.TrimSpace(l.s))
		switch {
		case s == "self-hosted":
			return setting{val: "self-hosted", line: l.line, name: l.s}
		case thirdPartyRunner.Get().MatchString(s):
			return setting{val: "third-party", line: l.line, name: l.s}
		case githubRunner.Get().MatchString(s) && !group:
			if kind == "" {
				kind = "github-hosted"
				line = l.line
			}
		default:
			kind = "unknown"
		}
	}
	if kind == "" {
		kind = "unknown"
	}
	return setting{val: kind, line: line}
}

// runnerOSLeg says which OS a leg's labels certainly name: "macOS" or "Windows" for
// GitHub's hosted labels (macos-15, windows-latest) or a self-hosted runner's OS label,
// with the label. "" for Linux, a runner group or a label it cannot place.
func runnerOSLeg(labels []value, group bool) (string, value) {
	if group {
		return "", value{}
	}
	selfHosted := slices.ContainsFunc(labels, func(l value) bool { return strings.EqualFold(strings.TrimSpace(l.s), "self-hosted") })
	for _, l := range labels {
		s := strings.ToLower(strings.TrimSpace(l.s))
		hosted := !selfHosted && githubRunner.Get().MatchString(s)
		switch {
		case selfHosted && s == "macos", hosted && strings.HasPrefix(s, "macos-"):
			return "macOS", l
		case selfHosted && s == "windows", hosted && strings.HasPrefix(s, "windows-"):
			return "Windows", l
		}
	}
	return "", value{}
}

// stepOS returns the first macOS or Windows leg a step runs in, with its label.
func stepOS(w *Workflow, j *Job, s *step) (string, value) {
	if j.runsOn == nil {
		return "", value{}
	}
	legs, ok := stepLegs(w, j, s)
	if !ok {
		return "", value{}
	}
	for _, l := range legs {
		labels, ok := legLabels(w, j, l)
		if !ok {
			continue
		}
		if os, label := runnerOSLeg(labels, j.runsOn.group.set); os != "" {
			return os, label
		}
	}
	return "", value{}
}

// nodeInput is setup-node's node-version as the publish sees it.
type nodeInput struct {
	spec nodeSpec
	// undefined names the variables node-version reads that nothing defines (GitHub makes
	// them ''), opaque those whose value the file cannot show.
	undefined, opaque []string
	// resolved is the value after expressions were evaluated, when one value holds in every
	// leg the step runs in; it differs from the input as written.
	resolved string
}

// resolveNode evaluates setup-node's node-version over the legs the step at s runs in.
func resolveNode(w *Workflow, j *Job, setup *setupNode, at *step) nodeInput {
	if setup == nil || !setup.nodeVersion.set {
		return nodeInput{}
	}
	raw := setup.nodeVersion.s
	if !strings.Contains(raw, "${{") {
		return nodeInput{spec: parseNode(raw, setup.checkLatest)}
	}
	legs, ok := stepLegs(w, j, at)
	if !ok || len(legs) == 0 {
		return nodeInput{}
	}
	var out nodeInput
	seen := map[string]bool{}
	for _, l := range legs {
		sc := &scope{w: w, j: j, s: setup.step, leg: l}
		v := sc.interpolate(raw)
		out.undefined = appendNew(out.undefined, sc.undefined...)
		out.opaque = appendNew(out.opaque, sc.opaque...)
		if !v.known {
			return nodeInput{undefined: out.undefined, opaque: out.opaque}
		}
		seen[strings.TrimSpace(v.s)] = true
	}
	if len(seen) != 1 {
		return out
	}
	for s := range seen {
		out.resolved = s
		out.spec = parseNode(s, setup.checkLatest)
	}
	return out
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}
