package diagnose

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/internal/lazyre"
	"github.com/pubdoc/pubdoc/knowledge"
)

// ErrEmpty is returned for input with nothing but whitespace.
var ErrEmpty = errors.New("empty input: nothing to diagnose")

// ErrBinary is returned for input that is not text.
var ErrBinary = errBinary

// CheckFunc is a condition written in Go, for what a rule's YAML cannot say.
type CheckFunc func(c *evalContext) knowledge.Tri

// Engine diagnoses logs against a knowledge base. It is safe for concurrent use.
type Engine struct {
	kb     *knowledge.Base
	log    *slog.Logger
	checks map[string]CheckFunc

	// keys finds the anchors' literal keys in kept lines. It is built on first need: a
	// few lines are searched key by key instead (see keyHits), so a pasted excerpt never
	// pays for the automaton.
	keys      func() *keyMatcher
	keysBuilt atomic.Bool
	// keysReady is the keys' automaton of automata_gen.bin when it fits the key list
	// (nil otherwise): ready without building, so even a paste uses it.
	keysReady func() *keyMatcher
	keyList   []string
	keyLits   ragged     // per key: literal anchors equal to it
	keyRegex  ragged     // per key: regex anchors that need it
	freeRegex []int      // regex anchors with no required literal of three bytes
	freePre   [][]string // per free regex: shorter literals one of which it needs, or nil
	scan      *scanConfig
}

// Options tune an Engine; the zero value is what the CLI uses.
type Options struct {
	// TailBytes is how much of the end of a log is kept whole (default 512 KiB).
	TailBytes int
	// ChunkBytes is the read size (default 1 MiB).
	ChunkBytes int
	// Eager builds the automata in New instead of on first need: for a long-running
	// server, whose first request should not pay for them. One-shot commands leave it off,
	// so a paste that needs neither never builds them.
	Eager bool
}

// defaultScanSettings are an engine's scan settings unless its Options say otherwise.
var defaultScanSettings = scanSettings{
	before: 2, afterDefault: 2,
	chunkBytes: 1 << 20, tailBytes: 512 << 10, maxLineBytes: 16 << 10,
	headKeep: 1000, recentKeep: 4000,
}

// New builds an engine. It fails if a rule names a Go check that does not exist.
func New(kb *knowledge.Base, logger *slog.Logger, opt Options) (*Engine, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{kb: kb, log: logger, checks: builtinChecks()}
	for _, r := range kb.Rules {
		if err := e.validateChecks(r); err != nil {
			return nil, err
		}
	}
	e.keyList = e.indexAnchors()
	e.keysReady = sync.OnceValue(func() *keyMatcher { return prebuiltKeys(e.keyList) })
	e.keys = sync.OnceValue(func() *keyMatcher {
		km := e.keysReady()
		if km == nil {
			km = newKeyMatcher(e.keyList)
		}
		e.keysBuilt.Store(true)
		return km
	})
	e.scan = &scanConfig{
		triggers: sync.OnceValue(func() *triggerSet {
			trig := scanTriggers(kb)
			if ts := prebuiltTriggers(trig); ts != nil {
				return ts
			}
			pats, after, m := minimalTriggers(trig)
			return &triggerSet{patterns: pats, after: after, m: m}
		}),
		scanSettings: defaultScanSettings,
	}
	if opt.TailBytes > 0 {
		e.scan.tailBytes = opt.TailBytes
	}
	if opt.ChunkBytes > 0 {
		e.scan.chunkBytes = opt.ChunkBytes
	}
	if opt.Eager {
		e.Prepare() // a server builds both automata now rather than in its first request
	}
	return e, nil
}

// Prepare makes ready the automata a large input needs (the scanner's triggers and the
// anchors' keys, read from automata_gen.bin or built on two cores; the fact extractor's
// hints, built in the background), if they are not ready yet. Diagnose makes them on first
// need; a caller with other work to overlap (mapping a big file) calls Prepare meanwhile.
// It is safe to call from several goroutines.
func (e *Engine) Prepare() {
	go hintMatcher() // the fact extractor's, needed after the scan: built meanwhile
	var wg sync.WaitGroup
	wg.Go(func() { e.keys() })
	e.scan.triggers()
	wg.Wait()
}

// indexAnchors files each anchor under the literal keys that find it: a literal anchor under
// its text (keyLits), a regex under the literals it requires (keyRegex), a regex that
// requires none in freeRegex. It returns the keys, indexed as keyLits and keyRegex are.
func (e *Engine) indexAnchors() []string {
	keyIndex := make(map[string]int32, len(e.kb.Anchors))
	var keys []string
	// Each anchor's (key, anchor) pairs, then laid out flat per key: a list per key was
	// ~1,600 small allocations at every start.
	type pair struct{ k, a int32 }
	var lits, regexes []pair
	addKey := func(k string) int32 {
		if i, ok := keyIndex[k]; ok {
			return i
		}
		keyIndex[k] = int32(len(keys))
		keys = append(keys, k)
		return int32(len(keys) - 1)
	}
	for _, a := range e.kb.Anchors {
		switch {
		case !a.IsRegex():
			lits = append(lits, pair{addKey(a.Literal), int32(a.Index)})
		case len(a.Required) == 0:
			e.freeRegex = append(e.freeRegex, a.Index)
			e.freePre = append(e.freePre, knowledge.Prefilter(a.Expr))
		default:
			for _, req := range a.Required {
				regexes = append(regexes, pair{addKey(req), int32(a.Index)})
			}
		}
	}
	byKey := func(pairs []pair) ragged {
		r := ragged{start: make([]int32, len(keys)+1), items: make([]int32, len(pairs))}
		for _, p := range pairs {
			r.start[p.k+1]++
		}
		for k := range keys {
			r.start[k+1] += r.start[k]
		}
		next := slices.Clone(r.start[:len(keys)])
		for _, p := range pairs { // in anchor order within each key, as appended before
			r.items[next[p.k]] = p.a
			next[p.k]++
		}
		return r
	}
	e.keyLits, e.keyRegex = byKey(lits), byKey(regexes)
	return keys
}

// scanTriggers are the scanner's triggers, each with how many lines after it to keep: the
// keys of anchors some rule's match uses (cut to a prefix), long keys of the anchors that
// raise or lower confidence, the facts' literals and the failure markers. Short support
// anchors are looked for in lines kept for other reasons.
func scanTriggers(kb *knowledge.Base) map[string]int {
	trig := map[string]int{}
	for _, a := range kb.Anchors {
		lits := a.Required
		if !a.IsRegex() {
			lits = []string{a.Literal}
		}
		if !a.InMatch && (len(lits) == 0 || shortestLen(lits) < minSupportTrigger) {
			continue // a short, common word would keep half of a big log
		}
		for _, k := range lits {
			p := triggerPrefix(k)
			trig[p] = max(trig[p], 0)
		}
	}
	for _, set := range []map[string]int{factTriggers, ecosystemTriggers, specTriggers()} {
		for k, after := range set {
			trig[k] = max(trig[k], after)
		}
	}
	return trig
}

// triggerPrefix cuts a long key to a prefix, enough to decide a line is worth keeping, and
// not inside a character: the list is also ripgrep's.
func triggerPrefix(k string) string {
	if len(k) > prefixLen {
		k = k[:prefixLen]
		for !utf8.ValidString(k) {
			k = k[:len(k)-1]
		}
	}
	return k
}

// minimalTriggers drops every trigger that contains another one: a line holding it holds
// the other, so it is kept anyway (its after-context moves to the trigger it contains).
// Fewer, shorter patterns make a smaller automaton, which scans a big log faster. It
// returns the triggers, their after-context and their automaton.
func minimalTriggers(trig map[string]int) ([]string, []int, *matcher) {
	all := make([]string, 0, len(trig))
	for k := range trig {
		all = append(all, k)
	}
	sort.Strings(all)
	// A trigger can only contain a shorter one, and most are cut to prefixLen: an automaton
	// of the short ones finds every containment at a fraction of the cost of one of all.
	var short []int // indexes into all
	var shortPats []string
	for i, k := range all {
		if len(k) < prefixLen {
			short = append(short, i)
			shortPats = append(shortPats, k)
		}
	}
	sm := newMatcher(shortPats)
	inner := make([]int32, len(all)) // index+1 of a trigger found inside, or 0
	for i, k := range all {
		sm.each(k, func(pid int32, _ int) {
			if j := short[pid]; j != i && inner[i] == 0 {
				inner[i] = int32(j) + 1
			}
		})
	}
	keep := map[string]int{}
	for i, k := range all {
		if inner[i] == 0 {
			keep[k] = max(keep[k], trig[k])
		}
	}
	for i, k := range all {
		if inner[i] != 0 {
			// The contained trigger may itself contain another: follow to a kept one.
			j := int(inner[i] - 1)
			for inner[j] != 0 {
				j = int(inner[j] - 1)
			}
			keep[all[j]] = max(keep[all[j]], trig[k])
		}
	}
	list := make([]string, 0, len(keep))
	for k := range keep {
		list = append(list, k)
	}
	sort.Strings(list)
	after := make([]int, len(list))
	for i, k := range list {
		after[i] = keep[k]
	}
	return list, after, newMatcher(list)
}

// minSupportTrigger is the shortest literal of a raise/lower anchor that still makes the
// scanner keep a line: long ones are specific, short ones ("test") are everywhere.
const minSupportTrigger = 10

func shortestLen(set []string) int {
	n := len(set[0])
	for _, s := range set[1:] {
		n = min(n, len(s))
	}
	return n
}

// Knowledge returns the engine's knowledge base.
func (e *Engine) Knowledge() *knowledge.Base { return e.kb }

func (e *Engine) validateChecks(r *knowledge.Rule) error {
	var walk func(c *knowledge.Cond) error
	walk = func(c *knowledge.Cond) error {
		if c.Check != "" {
			if _, ok := e.checks[c.Check]; !ok {
				return fmt.Errorf("%s: rule %s names unknown check %q", r.File, r.ID, c.Check)
			}
		}
		for i := range c.All {
			if err := walk(&c.All[i]); err != nil {
				return err
			}
		}
		for i := range c.Any {
			if err := walk(&c.Any[i]); err != nil {
				return err
			}
		}
		if c.Not != nil {
			return walk(c.Not)
		}
		return nil
	}
	conds := []*knowledge.Cond{&r.Match}
	for i := range r.Require {
		conds = append(conds, &r.Require[i])
	}
	for _, adj := range [][]knowledge.Adjust{r.Raise, r.Lower} {
		for i := range adj {
			conds = append(conds, &adj[i].If)
		}
	}
	for _, c := range conds {
		if err := walk(c); err != nil {
			return err
		}
	}
	return nil
}

// DiagnoseText is Diagnose over a string.
func (e *Engine) DiagnoseText(text string) (*Result, error) {
	return e.Diagnose(strings.NewReader(text))
}

// Diagnose reads a log and names its cause. Memory stays bounded whatever the log's size:
// see scanConfig.
func (e *Engine) Diagnose(r io.Reader) (*Result, error) {
	res, err := e.DiagnoseWith(r, nil)
	if err == nil {
		e.log.Debug("diagnosed", "verdict", res.Verdict, "lines", res.Scanned.Lines, "kept", res.Scanned.Kept, "candidates", len(res.Diagnoses))
	}
	return res, err
}

func (e *Engine) normalize(raw []rawLine) []Line {
	style := detectStyle(raw)
	norm := make([]Line, len(raw))
	if len(raw) < parallelLines {
		normalizeRange(raw, norm, style, false)
	} else {
		// Each line is normalized on its own, so the halves go to two cores; only the
		// redactor carries a state, inside a private key. If the first half ends inside
		// one, the second half is done again knowing it.
		mid := len(raw) / 2
		var wg sync.WaitGroup
		wg.Go(func() { normalizeRange(raw[mid:], norm[mid:], style, false) })
		inPEM := normalizeRange(raw[:mid], norm[:mid], style, false)
		wg.Wait()
		if inPEM {
			normalizeRange(raw[mid:], norm[mid:], style, true)
		}
	}
	lines := make([]Line, 0, len(raw))
	step := ""
	for _, l := range norm {
		if l.Step == "" {
			if l.Marker == "group" && strings.HasPrefix(l.Text, "Run ") {
				step = strings.TrimPrefix(l.Text, "Run ")
			}
			l.Step = step
		}
		if l.Marker != "" && strings.Contains(l.Text, "%0A") {
			// A workflow command (::error::) carries its newlines escaped, as
			// gh-action-pypi-publish prints its explanation: match each part as a line of
			// its own, all under the command's line number.
			for part := range strings.SplitSeq(l.Text, "%0A") {
				p := l
				p.Text, p.Match = part, matchText(part)
				lines = append(lines, p)
			}
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

// normalizeRange normalizes and redacts raw into out, the redactor starting inside a
// private key when inPEM; it returns whether the range ends inside one.
func normalizeRange(raw []rawLine, out []Line, style docStyle, inPEM bool) bool {
	red := redactor{inPEM: inPEM}
	for i, r := range raw {
		l := normalizeLine(r.text, style)
		l.N, l.End = r.n, r.end
		l.Text = red.line(l.Text)
		l.Match = matchText(l.Text)
		out[i] = l
	}
	return red.inPEM
}

// evalContext is everything a rule's conditions can look at.
type evalContext struct {
	kb     *knowledge.Base
	checks map[string]CheckFunc
	lines  []Line
	facts  Facts
	hits   [][]int // per anchor: indexes into lines
	fail   *Line
}

const maxHitsPerAnchor = 16

// analyze reads the facts of the lines and which anchors each line matches.
func (e *Engine) analyze(lines []Line) *evalContext {
	ctx := &evalContext{kb: e.kb, checks: e.checks, lines: lines, hits: make([][]int, len(e.kb.Anchors))}
	var joined []joinedHit
	if len(lines) < parallelLines {
		ctx.facts = e.extract(ctx, lines)
		e.anchorHits(ctx, lines)
		joined = e.joinedHits(lines)
	} else {
		// Facts (ctx.facts, ctx.fail), anchor hits (ctx.hits) and the hits of wrapped
		// lines are read from the same lines and written to different places: on a long
		// log they are found side by side, on two cores.
		var wg sync.WaitGroup
		wg.Go(func() { e.anchorHits(ctx, lines) })
		wg.Go(func() { joined = e.joinedHits(lines) })
		ctx.facts = e.extract(ctx, lines)
		wg.Wait()
	}
	for _, h := range joined {
		// A regex anchor that already matched this line or a later one is not recorded
		// again for a join of this line.
		if h.regex && len(ctx.hits[h.a]) > 0 && ctx.hits[h.a][len(ctx.hits[h.a])-1] >= h.i {
			continue
		}
		ctx.addHit(h.a, h.i)
	}
	return ctx
}

// joinedHit is an anchor that matched across the boundary of line i joined to the next.
type joinedHit struct {
	a, i  int
	regex bool
}

// parallelLines is the number of kept lines from which analyze uses two goroutines.
const parallelLines = 512

// extract reads the facts of every line and finds the failing line: the runner's error
// marker, else the last error-looking line.
func (e *Engine) extract(ctx *evalContext, lines []Line) Facts {
	x := newExtractor(e.kb)
	if len(lines) >= hintAutomatonLines {
		x.hm = hintMatcher()
	}
	for i := range lines {
		l := &lines[i]
		x.line(l)
		x.noteOIDCSignal(l)
		if l.Marker == "error" && ctx.fail == nil {
			ctx.fail = l
		}
	}
	for i := len(lines) - 1; ctx.fail == nil && i >= max(0, len(lines)-5000); i-- {
		if reErrorish.MatchString(lines[i].Text) {
			ctx.fail = &lines[i]
		}
	}
	return x.finish()
}

// addHit records that anchor a matched line i, once per line and at most maxHitsPerAnchor
// times.
func (c *evalContext) addHit(a, i int) {
	h := c.hits[a]
	if len(h) < maxHitsPerAnchor && (len(h) == 0 || h[len(h)-1] != i) {
		c.hits[a] = append(h, i)
	}
}

// anchorHits finds the anchors each line matches: the literal keys found in one automaton
// pass hit their literal anchors outright and select the regex anchors worth trying; the
// regexes with no key are tried on every line.
func (e *Engine) anchorHits(ctx *evalContext, lines []Line) {
	seenKey := make([]bool, len(e.keyList))
	seenAnchor := make([]bool, len(e.kb.Anchors))
	var found, tried []int
	each := e.keyFinder(lines)
	for i := range lines {
		t := lines[i].Match
		found = found[:0]
		each(t, func(k int32, _ int) {
			if !seenKey[k] {
				seenKey[k] = true
				found = append(found, int(k))
			}
		})
		tried = tried[:0]
		for _, k := range found {
			seenKey[k] = false
			for _, a := range e.keyLits.at(k) {
				ctx.addHit(int(a), i)
			}
			tried = e.tryKeyRegexes(ctx, k, i, t, seenAnchor, tried)
		}
		for _, a := range tried {
			seenAnchor[a] = false
		}
		for j, a := range e.freeRegex {
			if pre := e.freePre[j]; pre != nil && !containsAny(t, pre) {
				continue
			}
			if e.kb.Anchors[a].Regex().MatchString(t) {
				ctx.addHit(a, i)
			}
		}
	}
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// keyFinder returns how this diagnosis finds the keys in a line: the automaton, unless it
// must be built and the lines are a few short ones (a pasted excerpt), for which one
// substring search per key costs less. Both report every occurrence of every key.
func (e *Engine) keyFinder(lines []Line) func(s string, fn func(k int32, end int)) {
	if e.keyAutomaton(lines) {
		return e.keys().each
	}
	return e.eachKeySearched
}

// keyAutomaton reports whether keys are found in these lines with the keys' automaton
// (built now if it is not yet) rather than key by key.
func (e *Engine) keyAutomaton(lines []Line) bool {
	if e.keysBuilt.Load() || len(lines) > smallKeyLines || e.keysReady() != nil {
		return true
	}
	size := 0
	for i := range lines {
		size += len(lines[i].Match)
	}
	return size > smallKeyBytes
}

// A diagnosis of at most smallKeyLines lines of at most smallKeyBytes in all searches
// keys one by one until the automaton exists, when it is not prebuilt (about 1,600 keys:
// a few hundred microseconds for a 3-line paste against a few milliseconds to build it).
const (
	smallKeyLines = 24
	smallKeyBytes = 4 << 10
)

// eachKeySearched calls fn for every occurrence of every key in s, key by key.
func (e *Engine) eachKeySearched(s string, fn func(k int32, end int)) {
	for k, key := range e.keyList {
		for off := 0; ; {
			i := strings.Index(s[off:], key)
			if i < 0 {
				break
			}
			fn(int32(k), off+i+len(key))
			off += i + 1
		}
	}
}

// tryKeyRegexes tries, on line i, the regex anchors key k selects that no other key of the
// line selected already (seenAnchor), appending them to tried.
func (e *Engine) tryKeyRegexes(ctx *evalContext, k, i int, t string, seenAnchor []bool, tried []int) []int {
	for _, a32 := range e.keyRegex.at(k) {
		a := int(a32)
		if seenAnchor[a] {
			continue
		}
		seenAnchor[a] = true
		tried = append(tried, a)
		if e.kb.Anchors[a].Regex().MatchString(t) {
			ctx.addHit(a, i)
		}
	}
	return tried
}

var reErrorish = lazyre.New(`(?i)(?:^|[\s:\[])(?:error|err!|failed|fatal)(?:$|[\s:\]!])`)

// minColumnWrap is the narrowest line taken for one a terminal or paste cut inside a word.
const minColumnWrap = 40

// maxJoinedLines bounds the wrapped-line search to the last lines kept.
const maxJoinedLines = 4000

// eval answers a condition: its truth, whether it rests on an inferred fact, and the line
// that supports it.
func (c *evalContext) eval(cond *knowledge.Cond) (knowledge.Tri, bool, *Evidence) {
	switch {
	case cond.Anchor != nil:
		if h := c.hits[cond.Anchor.Index]; len(h) > 0 {
			l := &c.lines[h[0]]
			return knowledge.Yes, false, &Evidence{Line: l.N, Text: l.Text, Source: "log", Step: l.Step}
		}
		return knowledge.No, false, nil
	case cond.Fact != "":
		return c.evalFact(cond)
	case cond.Check != "":
		return c.checks[cond.Check](c), false, nil
	case cond.Not != nil:
		t, inf, _ := c.eval(cond.Not)
		return 2 - t, inf, nil
	case len(cond.All) > 0:
		out, inferred := knowledge.Yes, false
		var ev *Evidence
		for i := range cond.All {
			t, inf, e := c.eval(&cond.All[i])
			if t < out {
				out = t
			}
			inferred = inferred || inf
			if ev == nil {
				ev = e
			}
		}
		return out, inferred && out == knowledge.Yes, ev
	case len(cond.Any) > 0:
		out, inferred := knowledge.No, false
		var ev *Evidence
		for i := range cond.Any {
			t, inf, e := c.eval(&cond.Any[i])
			if t > out {
				out, inferred, ev = t, inf, e
			}
		}
		return out, inferred, ev
	}
	return knowledge.Unknown, false, nil
}

func (c *evalContext) evalFact(cond *knowledge.Cond) (knowledge.Tri, bool, *Evidence) {
	f := c.facts[cond.Fact]
	if cond.Op == "known" {
		t := knowledge.No
		if (f != nil) == (cond.Known == knowledge.FlagTrue) {
			t = knowledge.Yes
		}
		return t, false, factEvidence(f)
	}
	if f == nil {
		return knowledge.Unknown, false, nil
	}
	inferred := f.Kind == "inferred"
	ev := factEvidence(f)
	var t knowledge.Tri
	switch {
	case cond.Version != nil && knowledge.Facts[cond.Fact] == knowledge.VersionFact:
		t = knowledge.CompareRange(f.Range, cond.Op, *cond.Version)
	case cond.Op == "satisfies":
		t = knowledge.Unknown
		if f.Range.IsExact() {
			t = triOf(cond.Constraint.Allows(f.Range.Min))
		}
	case cond.Op == "eq":
		t = triOf(f.Value == cond.Value)
	case cond.Op == "ne":
		t = triOf(f.Value != cond.Value)
	case cond.Op == "in":
		t = knowledge.No
		for _, v := range cond.In {
			if f.Value == v {
				t = knowledge.Yes
			}
		}
	case cond.Op == "contains":
		t = triOf(strings.Contains(f.Value, cond.Value))
	default:
		t = knowledge.Unknown
	}
	return t, inferred, ev
}

func factEvidence(f *Fact) *Evidence {
	if f == nil {
		return nil
	}
	return &Evidence{Line: f.Line, Text: f.Text, Source: f.Source, File: f.File}
}

func triOf(b bool) knowledge.Tri {
	if b {
		return knowledge.Yes
	}
	return knowledge.No
}

// candidate is a rule that matched, with its score before family capping.
type candidate struct {
	rule    *knowledge.Rule
	score   float64
	conf    float64
	reasons []Reason
	ev      []Evidence
}

// rank scores every rule against the log, caps each family by its runner-up, puts a
// second failure next to the first and concludes.
func (e *Engine) rank(ctx *evalContext) *Result {
	s := e.kb.Scoring
	var cands []*candidate
	for _, r := range e.kb.Rules {
		if c := e.weigh(ctx, r); c != nil && c.score >= s.CandidateMin {
			cands = append(cands, c)
		}
	}
	byConfidence(cands)
	e.capFamilies(cands)
	byConfidence(cands)

	second := secondFailure(cands, s.SecondFailure)
	if second != nil {
		// The second failure follows the first: the rivals of the first come after both.
		rest := []*candidate{cands[0], second}
		for _, c := range cands[1:] {
			if c != second {
				rest = append(rest, c)
			}
		}
		cands = rest
	}
	res := newResult(ctx, cands)
	e.conclude(ctx, res, cands, second)
	return res
}

// weigh scores one rule against the log: nil when its match does not hold or a requirement
// fails, else a candidate with its score clamped and the reasons that moved it.
func (e *Engine) weigh(ctx *evalContext, r *knowledge.Rule) *candidate {
	s := e.kb.Scoring
	if t, _, _ := ctx.eval(&r.Match); t != knowledge.Yes {
		return nil
	}
	for i := range r.Require {
		if t, _, _ := ctx.eval(&r.Require[i]); t == knowledge.No {
			return nil
		}
	}
	c := &candidate{rule: r, score: r.Base}
	e.adjust(ctx, c, 1, r.Raise)
	e.adjust(ctx, c, -1, r.Lower)
	sort.SliceStable(c.reasons, func(i, j int) bool { return c.reasons[i].Effect > c.reasons[j].Effect })
	// Rounded so that equal evidence gives equal scores whatever the summing order.
	c.score = math.Round(math.Min(s.Ceiling, math.Max(s.Floor, c.score))*1e6) / 1e6
	c.conf = c.score
	c.ev = ctx.matchEvidence(&r.Match)
	return c
}

// adjust applies a rule's raises (sign 1) or lowers (sign -1) whose condition holds, an
// inferred fact counting for less, and records each as a reason.
func (e *Engine) adjust(ctx *evalContext, c *candidate, sign float64, adjs []knowledge.Adjust) {
	for i := range adjs {
		t, inferred, ev := ctx.eval(&adjs[i].If)
		if t != knowledge.Yes {
			continue
		}
		by := adjs[i].By
		if inferred {
			by *= e.kb.Scoring.InferredWeight
		}
		c.score += sign * by
		rs := Reason{Effect: round2(sign * by), Note: ctx.fill(adjs[i].Note)}
		if ev != nil {
			rs.Line, rs.Source, rs.File = ev.Line, ev.Source, ev.File
		}
		c.reasons = append(c.reasons, rs)
	}
}

// capFamilies holds each family to its runner-up: two causes that explain one symptom
// almost equally well must not produce a confident answer. Every member is held to the cap,
// so the ranking by raw score survives it. cands are sorted by raw score.
func (e *Engine) capFamilies(cands []*candidate) {
	type pair struct{ lead, second *candidate }
	tops := map[string]*pair{}
	for _, c := range cands {
		if fam := c.rule.Family; fam != "" {
			if t := tops[fam]; t == nil {
				tops[fam] = &pair{lead: c}
			} else if t.second == nil && !related(t.lead.rule, c.rule) && !c.rule.Generic {
				// A catch-all ("the log does not say why") is the complement of the
				// specific explanations, not a rival of one: it never caps them.
				t.second = c
			}
		}
	}
	for _, c := range cands {
		t := tops[c.rule.Family]
		if t == nil || t.second == nil {
			continue
		}
		if limit := e.kb.Scoring.FamilyMargin + t.lead.score - t.second.score; limit < c.conf {
			c.conf = limit
			if c == t.lead {
				c.reasons = append(c.reasons, Reason{Effect: round2(limit - c.score), Note: fmt.Sprintf("%s explains the same symptom almost as well (%.2f)", t.second.rule.ID, t.second.score)})
			}
		}
	}
}

// newResult holds the facts, the ranked diagnoses and the failing line, before a verdict.
func newResult(ctx *evalContext, cands []*candidate) *Result {
	res := &Result{Facts: map[string]string{}, FactEvidence: map[string]FactRef{}, Diagnoses: []Diagnosis{}, NextChecks: []string{}}
	for name, f := range ctx.facts {
		res.Facts[name] = f.Value
		res.FactEvidence[name] = FactRef{Line: f.Line, Text: f.Text, Kind: f.Kind, Source: f.Source, File: f.File}
	}
	for _, c := range cands {
		r := c.rule
		fix := r.Fix
		if fix.Steps == nil {
			fix.Steps = []string{}
		}
		res.Diagnoses = append(res.Diagnoses, Diagnosis{
			ID: r.ID, Title: r.Title, Registry: r.Registry, Confidence: round2(c.conf),
			Evidence: c.ev, Fix: AnswerFix{Fix: fix}, Refs: r.Refs, Cause: strings.TrimSpace(r.Cause), Reasons: c.reasons, Family: r.Family,
		})
	}
	if ctx.fail != nil {
		res.Failure = &Evidence{Line: ctx.fail.N, Text: ctx.fail.Text, Source: "log", Step: ctx.fail.Step}
		res.JobFailed = ctx.fail.Marker == "error"
	}
	return res
}

// conclude sets the verdict, the summary and, when unsure, the checks that would settle it.
func (e *Engine) conclude(ctx *evalContext, res *Result, cands []*candidate, second *candidate) {
	s := e.kb.Scoring
	switch {
	case second != nil:
		// Two failures, each with its own evidence: both are named, and the answer is sure
		// only if each is.
		a, b := cands[0], second
		res.Failures = []string{a.rule.ID, b.rule.ID}
		res.Verdict = Inconclusive
		if b.conf >= s.Diagnosed {
			res.Verdict = Diagnosed
		} else {
			res.NextChecks = e.nextChecks(ctx, cands, "")
		}
		res.Summary = fmt.Sprintf("Two failures: %s (%s, confidence %.2f) and %s (%s, confidence %.2f).",
			a.rule.Title, a.rule.ID, round2(a.conf), b.rule.Title, b.rule.ID, round2(b.conf))
	case len(cands) > 0 && cands[0].conf >= s.Diagnosed:
		res.Verdict = Diagnosed
		res.Summary = fmt.Sprintf("%s (%s, confidence %.2f).", r0(cands).Title, r0(cands).ID, round2(cands[0].conf))
	case len(cands) > 0:
		res.Verdict = Inconclusive
		var asked string
		if g, fact := e.group(ctx, cands); g != nil {
			res.Groups = []Group{*g}
			asked = fact
		}
		res.NextChecks = e.nextChecks(ctx, cands, asked)
		likely := []string{}
		for _, c := range cands[:min(3, len(cands))] {
			likely = append(likely, fmt.Sprintf("%s (%s, %.2f)", c.rule.Title, c.rule.ID, round2(c.conf)))
		}
		res.Summary = fmt.Sprintf("Not sure yet: %d candidate cause(s), most likely %s.", len(cands), strings.Join(likely, "; "))
	default:
		res.Verdict = NoKnownCause
		res.Summary = noCauseSummary(ctx, len(ctx.lines))
	}
}

// secondFailure finds, after the leader, a candidate that is a failure of its own: of
// another family and registry-or-family than the leader and every candidate ranked between,
// not a refinement of it, at least minConf sure, and resting on log lines the leader does
// not cite. Rival readings of one symptom share their lines (or their family); two failures
// do not.
func secondFailure(cands []*candidate, minConf float64) *candidate {
	if len(cands) < 2 || minConf <= 0 || cands[0].conf < minConf {
		return nil
	}
	lead := cands[0]
	leadLines := map[int]bool{}
	for _, ev := range lead.ev {
		leadLines[ev.Line] = true
	}
	for _, c := range cands[1:] {
		if c.conf < minConf {
			return nil
		}
		if c.rule.Generic || related(lead.rule, c.rule) || c.rule.Family != "" && c.rule.Family == lead.rule.Family || len(c.ev) == 0 {
			continue
		}
		disjoint := true
		for _, ev := range c.ev {
			if leadLines[ev.Line] || ev.Source != "log" {
				disjoint = false
				break
			}
		}
		if disjoint {
			return c
		}
	}
	return nil
}

// byConfidence orders candidates most likely first: confidence, then raw score, then a
// specific rule before a generic one.
func byConfidence(cands []*candidate) {
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.conf != b.conf {
			return a.conf > b.conf
		}
		if a.score != b.score {
			return a.score > b.score
		}
		if a.rule.Generic != b.rule.Generic {
			return !a.rule.Generic
		}
		if b.rule.Refines == a.rule.ID || a.rule.Refines == b.rule.ID {
			return b.rule.Refines == a.rule.ID // no evidence for the narrower reading: parent first
		}
		return a.rule.ID < b.rule.ID
	})
}

// related reports whether one rule refines the other: then they are one explanation read
// at two precisions, not rivals.
func related(a, b *knowledge.Rule) bool {
	return a.Refines == b.ID || b.Refines == a.ID
}

func r0(c []*candidate) *knowledge.Rule { return c[0].rule }

func noCauseSummary(ctx *evalContext, kept int) string {
	s := fmt.Sprintf("No known publish failure: no rule matched the %d line(s) looked at.", kept)
	if p := ctx.facts["published"]; p != nil {
		s += fmt.Sprintf(" The publish succeeded (line %d: %s).", p.Line, clip(p.Text, 120))
	}
	if ctx.fail != nil {
		where := fmt.Sprintf(" The job failed at line %d: %s", ctx.fail.N, clip(ctx.fail.Text, 160))
		if ctx.fail.Step != "" {
			where += fmt.Sprintf(" (step %q)", ctx.fail.Step)
		}
		s = strings.TrimRight(s+where, ".") + "."
	}
	return s
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// nextChecks lists the questions that would separate the remaining candidates, asked only
// about facts the log did not settle.
func (e *Engine) nextChecks(ctx *evalContext, cands []*candidate, already string) []string {
	var out []string
	asked := map[string]bool{} // one question per fact, from the most likely candidate asking
	if already != "" {
		asked[already] = true // the grouping question asks it
	}
	for _, c := range cands[:min(len(cands), 8)] {
		for _, ch := range c.rule.Checks {
			if ch.Fact != "" {
				if f := ctx.facts[ch.Fact]; f != nil && f.Kind == "exact" {
					continue
				}
			}
			key := ch.Fact
			if key == "" {
				key = ch.Ask
			}
			if !asked[key] {
				asked[key] = true
				out = append(out, ch.Ask)
			}
		}
	}
	return out[:min(len(out), 4)]
}

// group divides the candidates by the split of the leader's family (tables.yaml splits)
// when the log does not answer its question and the candidates fall on both sides of it. It
// returns the group and the fact the question asks about.
func (e *Engine) group(ctx *evalContext, cands []*candidate) (*Group, string) {
	fam := cands[0].rule.Family
	for _, sp := range e.kb.Splits {
		if sp.Family != fam || fam == "" {
			continue
		}
		if f := ctx.facts[sp.Fact]; f != nil && f.Kind == "exact" {
			return nil, ""
		}
		g := &Group{Question: sp.Question}
		sides := 0
		for _, br := range sp.Branches {
			in := map[string]bool{}
			for _, id := range br.Rules {
				in[id] = true
			}
			gb := GroupBranch{Answer: br.Answer, Check: br.Check, Candidates: []string{}}
			for _, c := range cands {
				if in[c.rule.ID] {
					gb.Candidates = append(gb.Candidates, c.rule.ID)
				}
			}
			if len(gb.Candidates) > 0 {
				sides++
				g.Branches = append(g.Branches, gb)
			}
		}
		if sides >= 2 {
			return g, sp.Fact
		}
	}
	return nil, ""
}

// matchEvidence lists the lines that satisfied a rule's positive anchors.
func (c *evalContext) matchEvidence(m *knowledge.Cond) []Evidence {
	var out []Evidence
	seen := map[int]bool{}
	var walk func(*knowledge.Cond)
	walk = func(cond *knowledge.Cond) {
		if cond.Anchor != nil {
			for _, i := range c.hits[cond.Anchor.Index] {
				if l := &c.lines[i]; !seen[l.N] && len(seen) < 8 {
					seen[l.N] = true
					out = append(out, Evidence{Line: l.N, Text: l.Text, Source: "log", Step: l.Step})
				}
			}
		}
		for i := range cond.All {
			walk(&cond.All[i])
		}
		for i := range cond.Any {
			walk(&cond.Any[i])
		}
	}
	walk(m)
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

var reFactRef = lazyre.New(`\{([a-z_]+)\}`)

// fill replaces {fact} in a note with the fact's value.
func (c *evalContext) fill(note string) string {
	return reFactRef.ReplaceAllStringFunc(note, func(m string) string {
		if v := c.facts.value(m[1 : len(m)-1]); v != "" {
			return v
		}
		return "unknown"
	})
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// TriggerLiterals are the literals the scanner looks for in raw input: every anchor literal
// (cut to its prefix) and what the fact extractor needs. Benchmarks hand the same list to
// ripgrep.
func (e *Engine) TriggerLiterals() []string {
	return append([]string(nil), e.scan.triggers().patterns...)
}
