package diagnose

import (
	"fmt"
	"strings"
)

// ExampleFailure is a rule example that did not come out as the rule promised.
type ExampleFailure struct {
	RuleID  string
	Example string
	Problem string
}

func (f ExampleFailure) String() string {
	return fmt.Sprintf("%s: %s: %s", f.RuleID, f.Example, f.Problem)
}

// TestExamples runs every rule's examples (the rule must rank within the example's Rank)
// and near-misses (the rule must not be a candidate) through the whole knowledge base.
// only limits it to one rule id when not empty. It returns the number of checks and the
// failures.
func (e *Engine) TestExamples(only string) (int, []ExampleFailure) {
	var fails []ExampleFailure
	n := 0
	for _, r := range e.kb.Rules {
		if only != "" && r.ID != only {
			continue
		}
		for i, ex := range r.Examples {
			n++
			name := exampleName(ex.Name, "example", i)
			res, err := e.DiagnoseText(ex.Log)
			if err != nil {
				fails = append(fails, ExampleFailure{r.ID, name, err.Error()})
				continue
			}
			pos := position(res, r.ID)
			if pos == 0 || pos > ex.Rank {
				fails = append(fails, ExampleFailure{r.ID, name, fmt.Sprintf("ranked %s, want within %d (got %s)", ordinal(pos), ex.Rank, ranking(res))})
			}
		}
		for i, ex := range r.NearMisses {
			n++
			name := exampleName(ex.Name, "near-miss", i)
			res, err := e.DiagnoseText(ex.Log)
			if err != nil {
				fails = append(fails, ExampleFailure{r.ID, name, err.Error()})
				continue
			}
			if pos := position(res, r.ID); pos > 0 {
				fails = append(fails, ExampleFailure{r.ID, name, fmt.Sprintf("near-miss produced the rule at rank %d (got %s)", pos, ranking(res))})
			}
		}
	}
	return n, fails
}

func exampleName(name, kind string, i int) string {
	if name != "" {
		return fmt.Sprintf("%s %q", kind, name)
	}
	return fmt.Sprintf("%s %d", kind, i+1)
}

// position is the 1-based rank of id in the result, 0 if absent.
func position(r *Result, id string) int {
	for i, d := range r.Diagnoses {
		if d.ID == id {
			return i + 1
		}
	}
	return 0
}

func ordinal(pos int) string {
	if pos == 0 {
		return "absent"
	}
	return fmt.Sprintf("#%d", pos)
}

func ranking(r *Result) string {
	if len(r.Diagnoses) == 0 {
		return r.Verdict
	}
	var parts []string
	for _, d := range r.Diagnoses[:min(4, len(r.Diagnoses))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", d.ID, d.Confidence))
	}
	return r.Verdict + ": " + strings.Join(parts, ", ")
}
