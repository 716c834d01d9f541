package diagnose

import (
	"fmt"
	"io"
	"strings"
)

// RenderMarkdown writes the result as Markdown (GitHub comments, issue bodies, Slack
// files) in the order of the terminal's first screen: the verdict and title, the cause in
// brief, the evidence, the fix with its snippet or the candidates grouped by the check that
// splits them. The rest (full causes, steps, reasons, the other candidates, the facts) is
// folded into a <details> block.
func RenderMarkdown(w io.Writer, r *Result) error {
	var b strings.Builder
	if r.Job != "" {
		fmt.Fprintf(&b, "## Job: %s\n\n", r.Job)
	}
	b.WriteString(markdownHeadline(r) + "\n")
	fail := r.FailureDiagnoses()
	switch {
	case len(fail) > 1:
		for i, d := range fail {
			fmt.Fprintf(&b, "\n### %d. %s (confidence %.2f)\n", i+1, d.Title, d.Confidence)
			markdownBrief(&b, d)
		}
	case r.Verdict == Diagnosed && len(r.Diagnoses) > 0:
		markdownBrief(&b, r.Diagnoses[0])
	case r.Verdict == Inconclusive && len(r.Diagnoses) > 0:
		markdownEvidence(&b, "Evidence", pickEvidence(r.Diagnoses[0].Evidence, briefEvidence), len(r.Diagnoses[0].Evidence))
		if len(r.Groups) > 0 {
			markdownGroups(&b, r)
		} else {
			b.WriteString("\n**Candidates**\n\n")
			for _, d := range r.Diagnoses[:min(len(r.Diagnoses), briefCandidates)] {
				fmt.Fprintf(&b, "- %.2f %s\n", d.Confidence, d.Title)
			}
			markdownChecks(&b, r.NextChecks[:min(len(r.NextChecks), briefNextChecks)])
		}
	default:
		if r.Failure != nil {
			markdownEvidence(&b, "Where it failed", []Evidence{*r.Failure}, 1)
		}
		markdownChecks(&b, r.NextChecks)
	}
	markdownDetails(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func markdownHeadline(r *Result) string {
	fail := r.FailureDiagnoses()
	label := map[string]string{Diagnosed: "Diagnosed", Inconclusive: "Inconclusive"}[r.Verdict]
	if label == "" {
		label = "No known cause"
	}
	switch {
	case len(fail) > 1:
		titles := make([]string, len(fail))
		for i, d := range fail {
			titles[i] = d.Title
		}
		return fmt.Sprintf("**%s:** %d failures: %s.", label, len(fail), strings.Join(titles, "; "))
	case r.Verdict == Diagnosed && len(r.Diagnoses) > 0:
		d := r.Diagnoses[0]
		return fmt.Sprintf("**%s:** %s (`%s`, confidence %.2f)", label, d.Title, d.ID, d.Confidence)
	case r.Verdict == Inconclusive && len(r.Diagnoses) > 0:
		d := r.Diagnoses[0]
		return fmt.Sprintf("**%s:** most likely: %s (%.2f), one of %d candidates", label, d.Title, d.Confidence, len(r.Diagnoses))
	}
	return fmt.Sprintf("**%s:** %s", label, r.Summary)
}

// markdownBrief is one cause as the first screen shows it.
func markdownBrief(b *strings.Builder, d Diagnosis) {
	if c := BriefCause(d.Cause); c != "" {
		fmt.Fprintf(b, "\n%s\n", c)
	}
	markdownEvidence(b, "Evidence", pickEvidence(d.Evidence, briefEvidence), len(d.Evidence))
	if d.Fix.Summary != "" {
		fmt.Fprintf(b, "\n**Fix:** %s\n", d.Fix.Summary)
	}
	if strings.TrimSpace(d.Fix.Snippet) == "" {
		markdownSteps(b, d.Fix.Steps)
	}
	markdownSnippet(b, d.Fix.Snippet)
	markdownPatch(b, d)
}

// markdownPatch writes the fix as the answer made it for this run: the patch of its files
// and the commands of a fix outside the repository.
func markdownPatch(b *strings.Builder, d Diagnosis) {
	if strings.TrimSpace(d.Fix.Patch) != "" {
		fmt.Fprintf(b, "\n**Patch** (`git apply`, or `pubdoc check --fix`):\n\n```diff\n%s\n```\n", strings.TrimRight(fence(d.Fix.Patch), "\n"))
	}
	if strings.TrimSpace(d.Fix.Command) != "" {
		fmt.Fprintf(b, "\n**Run** (outside the repository):\n\n```sh\n%s\n```\n", strings.TrimRight(fence(d.Fix.Command), "\n"))
	}
}

func markdownEvidence(b *strings.Builder, title string, ev []Evidence, total int) {
	if len(ev) == 0 {
		return
	}
	fmt.Fprintf(b, "\n**%s**", title)
	if total > len(ev) {
		fmt.Fprintf(b, " (%d of %d lines)", len(ev), total)
	}
	b.WriteString("\n\n```\n")
	for _, e := range ev {
		fmt.Fprintf(b, "%6s  %s\n", evidenceLabel(e), clip(fence(e.Text), 200))
	}
	b.WriteString("```\n")
}

// fence keeps a log line from closing the code block it is shown in.
func fence(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "```", "'''") }

func markdownSteps(b *strings.Builder, steps []string) {
	if len(steps) == 0 {
		return
	}
	b.WriteString("\n")
	for n, s := range steps {
		fmt.Fprintf(b, "%d. %s\n", n+1, s)
	}
}

func markdownSnippet(b *strings.Builder, snippet string) {
	if strings.TrimSpace(snippet) != "" {
		fmt.Fprintf(b, "\n```yaml\n%s\n```\n", strings.TrimRight(snippet, "\n"))
	}
}

func markdownGroups(b *strings.Builder, r *Result) {
	for _, g := range r.Groups {
		fmt.Fprintf(b, "\n### First question: %s\n", g.Question)
		for _, br := range g.Branches {
			fmt.Fprintf(b, "\n**If %s:**\n\n", br.Answer)
			for i, id := range br.Candidates {
				if i == briefBranchCands {
					fmt.Fprintf(b, "- … and %d more (details below)\n", len(br.Candidates)-i)
					break
				}
				if d, ok := find(r, id); ok {
					fmt.Fprintf(b, "- %.2f %s\n", d.Confidence, d.Title)
				}
			}
			if br.Check != "" {
				fmt.Fprintf(b, "\n→ %s\n", br.Check)
			}
		}
	}
}

func markdownChecks(b *strings.Builder, qs []string) {
	if len(qs) == 0 {
		return
	}
	b.WriteString("\n**Next check**\n\n")
	for _, q := range qs {
		fmt.Fprintf(b, "- %s\n", q)
	}
}

// markdownDetails folds away what --explain adds on a terminal.
func markdownDetails(b *strings.Builder, r *Result) {
	var inner strings.Builder
	shown := shownAbove(r)
	if r.Verdict == Inconclusive && len(r.NextChecks) > 0 {
		markdownChecks(&inner, r.NextChecks)
	}
	for i, d := range r.Diagnoses {
		markdownCandidate(&inner, i+1, d, shown[d.ID])
	}
	markdownFacts(&inner, r)
	if inner.Len() == 0 {
		return
	}
	b.WriteString("\n<details><summary>Details: causes, fixes, reasons and facts</summary>\n")
	b.WriteString(inner.String())
	b.WriteString("\n</details>\n")
}

// shownAbove names the diagnoses whose fix the answer above the details already shows:
// every failure of a two-failure answer, or the diagnosed one.
func shownAbove(r *Result) map[string]bool {
	shown := map[string]bool{}
	if fail := r.FailureDiagnoses(); len(fail) > 1 {
		for _, d := range fail {
			shown[d.ID] = true
		}
	} else if r.Verdict == Diagnosed && len(r.Diagnoses) > 0 {
		shown[r.Diagnoses[0].ID] = true
	}
	return shown
}

// markdownCandidate writes the n-th candidate: its cause, the reasons with their weights,
// the fix (only its steps when the answer above showed the rest) and its references.
func markdownCandidate(b *strings.Builder, n int, d Diagnosis, shown bool) {
	fmt.Fprintf(b, "\n#### %d. %s — `%s` (%.2f)\n", n, d.Title, d.ID, d.Confidence)
	if d.Cause != "" {
		fmt.Fprintf(b, "\n%s\n", strings.Join(strings.Fields(d.Cause), " "))
	}
	if len(d.Reasons) > 0 {
		b.WriteString("\n")
		for _, rs := range d.Reasons {
			fmt.Fprintf(b, "- %+.2f %s", rs.Effect, rs.Note)
			if loc := location(rs.Source, rs.File, rs.Line); loc != "" {
				fmt.Fprintf(b, " (%s)", loc)
			}
			b.WriteString("\n")
		}
	}
	switch {
	case shown && len(d.Fix.Steps) > 0:
		b.WriteString("\n**Fix, step by step:**\n")
	case !shown && d.Fix.Summary != "":
		fmt.Fprintf(b, "\n**Fix:** %s\n", d.Fix.Summary)
	}
	markdownSteps(b, d.Fix.Steps)
	if !shown {
		markdownSnippet(b, d.Fix.Snippet)
		markdownPatch(b, d)
	}
	if len(d.Refs) > 0 {
		b.WriteString("\nRefs: ")
		for i, ref := range d.Refs {
			if i > 0 {
				b.WriteString(" · ")
			}
			fmt.Fprintf(b, "<%s>", ref)
		}
		b.WriteString("\n")
	}
}

// markdownFacts writes the facts as a table with the line each came from.
func markdownFacts(b *strings.Builder, r *Result) {
	if len(r.Facts) == 0 {
		return
	}
	b.WriteString("\n**Facts**\n\n| fact | value | where |\n|---|---|---|\n")
	for _, name := range sortedKeys(r.Facts) {
		where := ""
		if ref := r.FactEvidence[name]; ref.Line > 0 {
			where = fmt.Sprintf("line %d, %s", ref.Line, ref.Kind)
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", name, cell(r.Facts[name]), where)
	}
}

// cell keeps a fact's value inside its table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
