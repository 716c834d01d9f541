package workflow

import "strings"

// Fact is one thing a workflow file says, with where it says it. Names are the engine's fact
// vocabulary (knowledge.Facts) plus the workflow-only ones listed in doc.go, so log facts and
// workflow facts join by name.
type Fact struct {
	Name  string
	Value string
	File  string // the workflow's base name, e.g. publish.yml
	Line  int    // 1-based
	Text  string // the source line, trimmed, to quote as evidence
}

// Workflow is a parsed workflow file.
type Workflow struct {
	Path     string   // as given to Parse
	File     string   // base name, e.g. publish.yml: what a trusted publisher names
	Name     string   // the workflow's name:, if any
	Jobs     []*Job   // in source order
	Triggers []string // event names under on:, in source order
	// Repo is the repository the file belongs to ("owner/name"), when the caller knows it
	// (the bot, the Action, GITHUB_REPOSITORY): GitHub Packages needs a package's scope to
	// be its owner. Parse leaves it empty.
	Repo string

	onLine   int // the on: key
	callLine int // the workflow_call event, 0 when the workflow cannot be called
	events   map[string]*event
	// cargoKeys are the CARGO_REGISTRY_TOKEN: keys outside any env: block, which the runner
	// never turns into a variable (check_registries.go).
	cargoKeys []value
	perms     *permissions
	env       env
	lines     []string
	// inputs are the inputs workflow_dispatch and workflow_call declare, by lower-case name,
	// with their defaults (set false when there is none).
	inputs map[string]value
	// callerInputs are, when the files checked together call this workflow, what each call
	// passes for each input (a call that does not pass one gets the default): filled by
	// CheckAll, nil when no caller is known.
	callerInputs map[string][]value
}

// Job is one job of a workflow.
type Job struct {
	ID   string
	Name string
	Line int // the job's key under jobs:
	// Uses is the reusable workflow the job calls ("./.github/workflows/release.yml" or
	// "owner/repo/.github/workflows/release.yml@v1"); empty for a job with steps.
	Uses string

	usesLine    int
	callWith    map[string]value // with: of a reusable-workflow call, by lower-case input
	cond        value            // if:
	perms       *permissions
	env         env
	environment value
	runsOn      *runsOn
	matrix      *matrix // strategy.matrix, nil without one
	steps       []*step
}

// matrix is a job's strategy.matrix expanded into its legs (parse.go convMatrix).
type matrix struct {
	line    int
	unknown bool // an expression, or more legs than maxLegs: the legs are not known
	legs    []leg
}

// leg is one combination of a matrix: values by lower-case key, objects flattened into
// dotted keys.
type leg map[string]value

func (l leg) clone() leg {
	out := make(leg, len(l))
	for k, v := range l {
		out[k] = v
	}
	return out
}

// matches reports whether every key of c that l has (or, with only set, that is an
// original row) holds the same value in l; an exclude entry matches on all its keys.
func (l leg) matches(c leg, only map[string]bool) bool {
	for k, v := range c {
		if only != nil && !only[strings.SplitN(k, ".", 2)[0]] {
			continue
		}
		lv, ok := l[k]
		if !ok || lv.s != v.s {
			return false
		}
	}
	return true
}

// Job returns the job with that id, or nil.
func (w *Workflow) Job(id string) *Job {
	for _, j := range w.Jobs {
		if j.ID == id {
			return j
		}
	}
	return nil
}

// IsCallee reports whether the workflow can be called by another (on: workflow_call).
func (w *Workflow) IsCallee() bool { return w.callLine > 0 }

// event is one trigger under on:, with the ref filters of a push or pull_request.
type event struct {
	line                                       int
	branches, branchesIgnore, tags, tagsIgnore refFilter
}

// refFilter is a branches/tags filter of an event; set is false when it is not written.
type refFilter struct {
	set      bool
	patterns []string
}

// triggerLine returns the line of the event under on:, 0 when the workflow has no such trigger.
func (w *Workflow) triggerLine(name string) int {
	if e := w.events[name]; e != nil {
		return e.line
	}
	return 0
}

// value is a scalar as written, with its line; set distinguishes "absent" from "empty".
type value struct {
	s    string
	line int
	set  bool
}

type permissions struct {
	line   int   // the permissions: key
	all    value // read-all, write-all or {} written as a scalar
	scopes map[string]value
}

type env struct {
	vars map[string]value // by upper-case name
	expr value            // env: ${{ fromJSON(...) }}: unknown contents
}

type runsOn struct {
	labels []value
	expr   value
	group  value
}

type step struct {
	line        int
	name        string
	id          value
	cond        value // if:
	uses        value // owner/repo@ref of an action step
	usesComment string
	with        map[string]value // inputs by lower-case name
	env         env
	script      []value // the run: script, line by line
	folded      bool    // the script's lines were joined: find commands in src
	src         []string
}

// commands returns the simple commands of the step's run: script. In a folded scalar the
// script's lines are not the file's, so each command is looked up in the source, in order.
func (s *step) commands() []command {
	cs := commands(s.script)
	if !s.folded || len(cs) == 0 {
		return cs
	}
	cursor := cs[0].line
	for i := range cs {
		key := strings.Join(firstN(cs[i].words, 2), " ")
		for n := cursor; n <= len(s.src) && n < cs[0].line+500; n++ {
			if strings.Contains(strings.Join(strings.Fields(s.src[n-1]), " "), key) {
				cs[i].line, cursor = n, n
				break
			}
		}
	}
	return cs
}

func firstN(words []string, n int) []string {
	if len(words) > n {
		return words[:n]
	}
	return words
}

// action returns the step's action without its ref, lower-cased ("actions/setup-node").
func (s *step) action() string {
	a, _, _ := strings.Cut(s.uses.s, "@")
	return strings.ToLower(a)
}

// ref returns what follows @ in uses:.
func (s *step) ref() string {
	_, r, _ := strings.Cut(s.uses.s, "@")
	return r
}

// text returns the trimmed source line, for Fact.Text.
func (w *Workflow) text(line int) string {
	if line < 1 || line > len(w.lines) {
		return ""
	}
	return strings.TrimSpace(w.lines[line-1])
}
