package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// RenderJSON writes the result as the JSON contract.
func RenderJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// TextOptions shape terminal output.
type TextOptions struct {
	Color bool
}

type palette struct{ bold, dim, red, green, yellow, cyan, reset string }

func colors(on bool) palette {
	if !on {
		return palette{}
	}
	return palette{"\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m", "\x1b[0m"}
}

// RenderText writes the result for a terminal: the verdict and cause first, then evidence
// with line numbers, then the fix, then what else it could be.
func RenderText(w io.Writer, r *Result, opt TextOptions) error {
	c := colors(opt.Color)
	var b strings.Builder
	if r.Job != "" {
		fmt.Fprintf(&b, "%s== job: %s ==%s\n", c.bold, r.Job, c.reset)
	}
	full := shownInFull(r)
	switch {
	case r.Verdict == Diagnosed && len(r.Failures) > 1:
		fmt.Fprintf(&b, "%s%sDIAGNOSED%s %s\n", c.bold, c.red, c.reset, r.Summary)
	case r.Verdict == Diagnosed:
		d := r.Diagnoses[0]
		fmt.Fprintf(&b, "%s%sDIAGNOSED%s %s%s%s  [%s] confidence %.2f\n", c.bold, c.red, c.reset, c.bold, d.Title, c.reset, d.ID, d.Confidence)
	case r.Verdict == Inconclusive:
		fmt.Fprintf(&b, "%s%sINCONCLUSIVE%s %s\n", c.bold, c.yellow, c.reset, r.Summary)
	default:
		fmt.Fprintf(&b, "%s%sNO KNOWN CAUSE%s %s\n", c.bold, c.green, c.reset, r.Summary)
	}
	if r.Verdict == Inconclusive {
		writeGroupsText(&b, r, c)
	}
	if r.Verdict == Inconclusive && len(r.NextChecks) > 0 {
		fmt.Fprintf(&b, "\n%sNext check%s\n", c.bold, c.reset)
		for _, q := range r.NextChecks {
			fmt.Fprintf(&b, "  → %s\n", q)
		}
	}
	for i, d := range r.Diagnoses[:full] {
		writeDiagnosisText(&b, d, i, full > 1, c)
	}
	rest := r.Diagnoses[full:]
	if len(rest) > 0 {
		fmt.Fprintf(&b, "\n%sAlso considered%s\n", c.bold, c.reset)
		for _, d := range rest {
			fmt.Fprintf(&b, "  %.2f  %s  %s[%s]%s\n", d.Confidence, d.Title, c.dim, d.ID, c.reset)
		}
	}
	if len(r.Facts) > 0 {
		fmt.Fprintf(&b, "\n%sFacts%s\n", c.bold, c.reset)
		for _, name := range sortedKeys(r.Facts) {
			ref := r.FactEvidence[name]
			where := ""
			if ref.Line > 0 {
				where = fmt.Sprintf(" %s(line %d, %s)%s", c.dim, ref.Line, ref.Kind, c.reset)
			}
			fmt.Fprintf(&b, "  %-26s %s%s\n", name, r.Facts[name], where)
		}
	}
	fmt.Fprintf(&b, "\n%sScanned %d lines (%d bytes), kept %d.%s\n", c.dim, r.Scanned.Lines, r.Scanned.Bytes, r.Scanned.Kept, c.reset)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGroupsText shows the question that splits the candidates, each answer with the
// candidates it leaves and the check that separates them.
func writeGroupsText(b *strings.Builder, r *Result, c palette) {
	byID := map[string]Diagnosis{}
	for _, d := range r.Diagnoses {
		byID[d.ID] = d
	}
	for _, g := range r.Groups {
		fmt.Fprintf(b, "\n%sFirst question%s  %s\n", c.bold, c.reset, g.Question)
		for _, br := range g.Branches {
			fmt.Fprintf(b, "  %sIf %s:%s\n", c.bold, br.Answer, c.reset)
			for _, id := range br.Candidates {
				d := byID[id]
				fmt.Fprintf(b, "    %.2f  %s  %s[%s]%s\n", d.Confidence, d.Title, c.dim, d.ID, c.reset)
			}
			fmt.Fprintf(b, "    → %s\n", br.Check)
		}
	}
}

// shownInFull is how many diagnoses an answer shows whole: the top one when sure, both
// failures of a log that holds two, the first three candidates otherwise.
func shownInFull(r *Result) int {
	n := 1
	switch {
	case r.Verdict == Inconclusive:
		n = 3
	case len(r.Failures) > 1:
		n = len(r.Failures)
	}
	return min(n, len(r.Diagnoses))
}

func writeDiagnosisText(b *strings.Builder, d Diagnosis, i int, numbered bool, c palette) {
	if numbered {
		fmt.Fprintf(b, "\n%s%d. %s%s  [%s] confidence %.2f\n", c.bold, i+1, d.Title, c.reset, d.ID, d.Confidence)
	}
	if d.Cause != "" {
		fmt.Fprintf(b, "\n%sCause%s\n", c.bold, c.reset)
		for _, l := range strings.Split(wrap(d.Cause, 96), "\n") {
			fmt.Fprintf(b, "  %s\n", l)
		}
	}
	fmt.Fprintf(b, "\n%sEvidence%s\n", c.bold, c.reset)
	for _, e := range d.Evidence {
		fmt.Fprintf(b, "  %s%6s%s  %s\n", c.cyan, lineLabel(e.Line), c.reset, clip(e.Text, 200))
	}
	for _, rs := range d.Reasons {
		mark, col := "+", c.green
		if rs.Effect < 0 {
			mark, col = "−", c.red
		}
		where := ""
		if loc := location(rs.Source, rs.File, rs.Line); loc != "" {
			where = fmt.Sprintf(" %s(%s)%s", c.dim, loc, c.reset)
		}
		fmt.Fprintf(b, "  %s%s%.2f%s %s%s\n", col, mark, abs(rs.Effect), c.reset, rs.Note, where)
	}
	fmt.Fprintf(b, "\n%sFix%s\n  %s\n", c.bold, c.reset, d.Fix.Summary)
	for n, s := range d.Fix.Steps {
		fmt.Fprintf(b, "  %d. %s\n", n+1, s)
	}
	if d.Fix.Snippet != "" {
		b.WriteString("\n")
		for _, l := range strings.Split(strings.TrimRight(d.Fix.Snippet, "\n"), "\n") {
			fmt.Fprintf(b, "    %s%s%s\n", c.dim, l, c.reset)
		}
	}
	if len(d.Refs) > 0 {
		fmt.Fprintf(b, "\n%sRefs%s %s\n", c.bold, c.reset, strings.Join(d.Refs, "  "))
	}
}

// RenderMarkdown writes the result as Markdown (GitHub comments, issue bodies, Slack files).
func RenderMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	if r.Job != "" {
		fmt.Fprintf(&b, "## Job: %s\n\n", r.Job)
	}
	full := shownInFull(r)
	switch {
	case r.Verdict == Diagnosed && len(r.Failures) > 1:
		fmt.Fprintf(&b, "**Diagnosed:** %s\n", r.Summary)
	case r.Verdict == Diagnosed:
		d := r.Diagnoses[0]
		fmt.Fprintf(&b, "**Diagnosed:** %s — `%s` (confidence %.2f)\n", d.Title, d.ID, d.Confidence)
	case r.Verdict == Inconclusive:
		fmt.Fprintf(&b, "**Inconclusive:** %s\n", r.Summary)
	default:
		fmt.Fprintf(&b, "**No known cause:** %s\n", r.Summary)
	}
	for _, g := range r.Groups {
		fmt.Fprintf(&b, "\n### First question: %s\n", g.Question)
		for _, br := range g.Branches {
			fmt.Fprintf(&b, "\n**If %s:** %s\n\n", br.Answer, br.Check)
			for _, id := range br.Candidates {
				for _, d := range r.Diagnoses {
					if d.ID == id {
						fmt.Fprintf(&b, "- %.2f %s (`%s`)\n", d.Confidence, d.Title, d.ID)
					}
				}
			}
		}
	}
	if len(r.NextChecks) > 0 {
		b.WriteString("\n### Next check\n")
		for _, q := range r.NextChecks {
			fmt.Fprintf(&b, "- %s\n", q)
		}
	}
	for i, d := range r.Diagnoses[:full] {
		if full > 1 {
			fmt.Fprintf(&b, "\n### %d. %s — `%s` (%.2f)\n", i+1, d.Title, d.ID, d.Confidence)
		}
		if d.Cause != "" {
			fmt.Fprintf(&b, "\n%s\n", d.Cause)
		}
		b.WriteString("\n**Evidence**\n\n```\n")
		for _, e := range d.Evidence {
			fmt.Fprintf(&b, "%6s  %s\n", lineLabel(e.Line), clip(e.Text, 200))
		}
		b.WriteString("```\n")
		for _, rs := range d.Reasons {
			fmt.Fprintf(&b, "- %+.2f %s", rs.Effect, rs.Note)
			if loc := location(rs.Source, rs.File, rs.Line); loc != "" {
				fmt.Fprintf(&b, " (%s)", loc)
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "\n**Fix:** %s\n", d.Fix.Summary)
		for n, s := range d.Fix.Steps {
			fmt.Fprintf(&b, "%d. %s\n", n+1, s)
		}
		if d.Fix.Snippet != "" {
			fmt.Fprintf(&b, "\n```yaml\n%s\n```\n", strings.TrimRight(d.Fix.Snippet, "\n"))
		}
		if len(d.Refs) > 0 {
			b.WriteString("\nRefs: ")
			for n, ref := range d.Refs {
				if n > 0 {
					b.WriteString(" · ")
				}
				fmt.Fprintf(&b, "<%s>", ref)
			}
			b.WriteString("\n")
		}
	}
	shown := full
	if len(r.Diagnoses) > shown {
		b.WriteString("\n<details><summary>Also considered</summary>\n\n")
		for _, d := range r.Diagnoses[shown:] {
			fmt.Fprintf(&b, "- %.2f %s (`%s`)\n", d.Confidence, d.Title, d.ID)
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// location says where a piece of evidence is: "line 12" in the log, "publish.yml:8" in a
// workflow file, or the run or registry it came from.
func location(source, file string, line int) string {
	switch {
	case file != "" && line > 0:
		return fmt.Sprintf("%s:%d", file, line)
	case source == "run" || source == "registry":
		return source
	case line > 0:
		return fmt.Sprintf("line %d", line)
	}
	return ""
}

func lineLabel(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("L%d", n)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wrap breaks text into lines of at most width runes at spaces.
func wrap(text string, width int) string {
	var out []string
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			if line != "" && len(line)+1+len(word) > width {
				out = append(out, line)
				line = word
				continue
			}
			if line != "" {
				line += " "
			}
			line += word
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// RenderJSONList writes several results (one per job of a run) as a JSON array.
func RenderJSONList(w io.Writer, rs []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rs); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
