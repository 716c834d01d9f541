package ghaction

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
)

// maxCandidates bounds the candidates an inconclusive answer's annotation names.
const maxCandidates = 3

// DiagnosisAnnotations are the annotations of a diagnosis: for each cause it names (the
// top one, or each independent failure), an ::error:: at every workflow line its evidence
// says to change (the file and line the run's own workflow has), else one ::error:: of the
// run; an inconclusive answer is a ::warning:: with its candidates and the check that
// separates them, no known cause a ::notice::. prefix heads each title (the job's name).
func DiagnosisAnnotations(res *diagnose.Result, prefix string) []Annotation {
	if res == nil {
		return nil
	}
	switch {
	case len(causes(res)) > 0:
		var out []Annotation
		for _, d := range causes(res) {
			out = append(out, causeAnnotations(d, prefix)...)
		}
		return out
	case res.Verdict == diagnose.Inconclusive && len(res.Diagnoses) > 0:
		var names []string
		for _, d := range res.Diagnoses[:min(len(res.Diagnoses), maxCandidates)] {
			names = append(names, fmt.Sprintf("%s (%.2f)", d.Title, d.Confidence))
		}
		msg := "Candidates: " + strings.Join(names, "; ") + "."
		if len(res.NextChecks) > 0 {
			msg += "\nNext check: " + res.NextChecks[0]
		}
		return []Annotation{{Level: LevelWarning, Title: title(prefix, "Pubdoc: inconclusive"), Message: msg}}
	default:
		msg := res.Summary
		if msg == "" {
			msg = "No known publish failure in this log."
		}
		return []Annotation{{Level: LevelNotice, Title: title(prefix, "Pubdoc: no known cause"), Message: msg}}
	}
}

// causes are the diagnoses an answer stands behind: each independent failure, else the
// top diagnosis of a diagnosed answer.
func causes(res *diagnose.Result) []diagnose.Diagnosis {
	if res.Verdict != diagnose.Diagnosed || len(res.Diagnoses) == 0 {
		return nil
	}
	if out := res.FailureDiagnoses(); len(out) > 0 {
		return out
	}
	return res.Diagnoses[:1]
}

// causeAnnotations puts one cause at the lines to change, or on the run when its evidence
// names no file line.
func causeAnnotations(d diagnose.Diagnosis, prefix string) []Annotation {
	t := title(prefix, fmt.Sprintf("Pubdoc: %s (%.2f)", d.Title, d.Confidence))
	msg := d.Fix.Summary
	if msg == "" {
		msg = d.Title
	}
	msg += " [" + d.ID + "]"
	var out []Annotation
	seen := map[string]bool{}
	for _, e := range d.Evidence {
		if e.File == "" || e.Line <= 0 || e.Source == "log" {
			continue
		}
		key := e.File + ":" + strconv.Itoa(e.Line)
		if seen[key] {
			continue
		}
		seen[key] = true
		m := msg
		if e.Text != "" {
			m = "This line: " + strings.TrimSpace(e.Text) + "\n" + msg
		}
		out = append(out, Annotation{Level: LevelError, File: RepoFile(e.File), Line: e.Line, Title: t, Message: m})
	}
	if len(out) == 0 {
		out = append(out, Annotation{Level: LevelError, Title: t, Message: msg + "\nThe evidence and the fix are in the job summary."})
	}
	return out
}

// RepoFile is an evidence file as a path from the repository root: a workflow named by
// its base name (release.yml) lives in .github/workflows, where GitHub runs workflows from.
func RepoFile(name string) string {
	name = strings.TrimPrefix(filepath.ToSlash(name), "./")
	if !strings.Contains(name, "/") && (strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")) {
		return ".github/workflows/" + name
	}
	return name
}

func title(prefix, s string) string {
	if prefix == "" {
		return s
	}
	return prefix + ": " + s
}
