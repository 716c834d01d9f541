package diagnose

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pubdoc/pubdoc/knowledge"
)

// Outside is evidence from outside the log: the workflow file at the failing commit, the
// run's metadata, the registry. Auto mode (a run URL) and `pubdoc check` fill it; the
// engine joins it with what the log says.
type Outside struct {
	Facts []OutsideFact
	// Sites are places in the run's files that a fix may change but no rule reads, such as
	// package.json's repository (SiteNames). They are only cited as evidence.
	Sites []OutsideFact
}

// OutsideFact is one such fact and where it was read.
type OutsideFact struct {
	Name, Value string
	// Source is workflow, run or registry.
	Source string
	// File and Line locate a workflow fact (publish.yml:8); Text is shown as evidence.
	File string
	Line int
	Text string
}

// Add appends a fact.
func (o *Outside) Add(f OutsideFact) { o.Facts = append(o.Facts, f) }

// DiagnoseWith is Diagnose with outside evidence. What the log shows of the run wins over
// what the workflow file configures (the log is what happened), except where the log is
// silent; registry and run facts fill gaps the log cannot.
func (e *Engine) DiagnoseWith(r io.Reader, out *Outside) (*Result, error) {
	raw, stats, err := scanLines(r, e.scan)
	if err != nil {
		return nil, err
	}
	return e.diagnoseScanned(raw, stats, out)
}

// diagnoseScanned diagnoses the lines a scan kept.
func (e *Engine) diagnoseScanned(raw []rawLine, stats ScanStats, out *Outside) (*Result, error) {
	if stats.Blank {
		return nil, ErrEmpty
	}
	lines := e.normalize(unwrapColumns(raw))
	ctx := e.analyze(lines)
	if out != nil {
		if err := e.join(ctx, out); err != nil {
			return nil, err
		}
	}
	res := e.rank(ctx)
	locate(res, out)
	res.Scanned = stats
	return res, nil
}

// join merges outside facts into the log's facts.
func (e *Engine) join(ctx *evalContext, out *Outside) error {
	for _, s := range out.Sites {
		if !slices.Contains(SiteNames, s.Name) {
			return fmt.Errorf("outside site %q is not one of %v", s.Name, SiteNames)
		}
	}
	for _, of := range out.Facts {
		kind, ok := knowledge.Facts[of.Name]
		if !ok {
			return fmt.Errorf("outside fact %q is not in the fact vocabulary", of.Name)
		}
		if cur := ctx.facts[of.Name]; cur != nil && cur.Source == "log" && cur.Kind == "exact" {
			continue // the log saw what happened
		}
		if f := outsideFact(of, kind); f != nil {
			ctx.facts[of.Name] = f
		}
	}
	e.npmFromWorkflow(ctx)
	return nil
}

// outsideFact turns an outside fact into a fact, nil for a version the engine cannot
// compare ("22", "lts/*").
func outsideFact(of OutsideFact, kind knowledge.FactKind) *Fact {
	text := of.Text
	if text == "" {
		text = of.Name + ": " + of.Value
	}
	f := &Fact{Name: of.Name, Value: of.Value, Line: of.Line, Text: text, Kind: "exact", Source: of.Source, File: of.File}
	if kind == knowledge.VersionFact {
		v, err := knowledge.ParseVersion(strings.TrimPrefix(of.Value, "v"))
		if err != nil {
			return nil
		}
		f.Range = knowledge.Exact(v)
	}
	return f
}

// npmFromWorkflow reads which npm runs from a workflow's node-version when the log did not
// say: the workflow was read whole, so with no npm upgrade step in it, the bundled npm is
// what ran.
func (e *Engine) npmFromWorkflow(ctx *evalContext) {
	nv := ctx.facts["node_version"]
	if nv == nil || nv.Source != "workflow" || ctx.facts["npm_upgrade"] != nil {
		return
	}
	r, ok := bundledNPM(e.kb, nv.Range.Min)
	if !ok {
		return
	}
	cur := ctx.facts["npm_version"]
	if cur != nil && cur.Range.IsExact() {
		return
	}
	if cur != nil {
		if nr, ok := cur.Range.Intersect(r); ok {
			r = nr
		}
	}
	text := fmt.Sprintf("node-version %s bundles npm %s and no step upgrades npm", nv.Value, rangeText(r))
	ctx.facts["npm_version"] = &Fact{Name: "npm_version", Value: rangeText(r), Line: nv.Line, Text: text, Kind: "bounded", Source: "workflow", File: nv.File, Range: r}
}

// bundledNPM is the npm range a Node release bundles (tables.yaml node_npm).
func bundledNPM(kb *knowledge.Base, node knowledge.Version) (knowledge.Range, bool) {
	for _, row := range kb.NodeNPM {
		if row.Node.Allows(node) {
			return knowledge.Range{Min: row.NPMMin, HasMin: true, Max: row.NPMMax, HasMax: true}, true
		}
	}
	return knowledge.Range{}, false
}
