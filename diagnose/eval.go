package diagnose

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// NoCauseLabel is the label of logs whose right answer is "no known cause".
const NoCauseLabel = "none"

// EvalCase is one labelled log and what the engine said.
type EvalCase struct {
	File       string
	Label      string
	Top        string
	Confidence float64
	Verdict    string
	Rank       int // 1-based rank of the label among the candidates; 0 if absent
	Err        string
}

// Correct reports whether the top answer is the label (a rule that splits a catalogue id
// keeps it as prefix, so "x-sub" answers "x"). For "none" the right answer is no cause.
func (c EvalCase) Correct() bool { return c.within(1) }

// InTop3 reports whether the label is among the first three candidates.
func (c EvalCase) InTop3() bool { return c.within(3) }

// ConfidentWrong is the worst defect: a wrong top answer at a confidence we would bet on.
func (c EvalCase) ConfidentWrong() bool { return c.Verdict == Diagnosed && !c.Correct() }

func (c EvalCase) within(n int) bool {
	if c.Label == NoCauseLabel {
		return c.Verdict == NoKnownCause
	}
	return c.Rank > 0 && c.Rank <= n
}

// EvalReport is the scoring of a labelled set.
type EvalReport struct {
	Cases []EvalCase
}

// Eval diagnoses every file listed in dir/labels.tsv (first column the file, a column named
// root_cause_id or label the expected id; "none" for logs without a publish cause).
func (e *Engine) Eval(dir string) (*EvalReport, error) {
	f, err := os.Open(filepath.Join(dir, "labels.tsv"))
	if err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	labelCol := -1
	rep := &EvalReport{}
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			for i, c := range cols {
				if c == "root_cause_id" || c == "label" {
					labelCol = i
					break
				}
			}
			if labelCol < 0 {
				return nil, errors.New("labels.tsv: no root_cause_id or label column in the header")
			}
			continue
		}
		if len(cols) <= labelCol || strings.TrimSpace(cols[0]) == "" {
			continue
		}
		rep.Cases = append(rep.Cases, e.evalOne(filepath.Join(dir, cols[0]), cols[0], strings.TrimSpace(cols[labelCol])))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	return rep, nil
}

func (e *Engine) evalOne(path, name, label string) EvalCase {
	c := EvalCase{File: name, Label: label}
	f, err := os.Open(path)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	defer func() { _ = f.Close() }() // read-only
	text, _, err := TextReader(f)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	res, err := e.Diagnose(text)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	c.Verdict = res.Verdict
	if len(res.Diagnoses) > 0 {
		c.Top, c.Confidence = res.Diagnoses[0].ID, res.Diagnoses[0].Confidence
	}
	for i, d := range res.Diagnoses {
		if d.ID == label || strings.HasPrefix(d.ID, label+"-") {
			c.Rank = i + 1
			break
		}
	}
	return c
}

// Totals returns top-1, top-3 and confident-wrong counts.
func (r *EvalReport) Totals() (top1, top3, confWrong int) {
	for _, c := range r.Cases {
		if c.Correct() {
			top1++
		}
		if c.InTop3() {
			top3++
		}
		if c.ConfidentWrong() {
			confWrong++
		}
	}
	return
}

// Write prints the figures and a per-label table; verbose adds every miss.
func (r *EvalReport) Write(w io.Writer, verbose bool) error {
	n := len(r.Cases)
	top1, top3, cw := r.Totals()
	pct := func(k int) float64 {
		if n == 0 {
			return 0
		}
		return 100 * float64(k) / float64(n)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cases %d  top-1 %d/%d (%.1f%%)  top-3 %d/%d (%.1f%%)  confident-wrong %d\n\n", n, top1, n, pct(top1), top3, n, pct(top3), cw)
	type agg struct{ n, top1, top3, cw int }
	per := map[string]*agg{}
	for _, c := range r.Cases {
		a := per[c.Label]
		if a == nil {
			a = &agg{}
			per[c.Label] = a
		}
		a.n++
		if c.Correct() {
			a.top1++
		}
		if c.InTop3() {
			a.top3++
		}
		if c.ConfidentWrong() {
			a.cw++
		}
	}
	labels := make([]string, 0, len(per))
	for l := range per {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	fmt.Fprintf(&b, "%-44s %5s %6s %6s %6s\n", "label", "cases", "top-1", "top-3", "c-wrong")
	for _, l := range labels {
		a := per[l]
		fmt.Fprintf(&b, "%-44s %5d %6d %6d %6d\n", l, a.n, a.top1, a.top3, a.cw)
	}
	misses := 0
	for _, c := range r.Cases {
		if !c.Correct() {
			misses++
		}
	}
	if verbose && misses > 0 {
		b.WriteString("\nmisses:\n")
		for _, c := range r.Cases {
			if c.Correct() {
				continue
			}
			flag := ""
			if c.ConfidentWrong() {
				flag = "  CONFIDENT-WRONG"
			}
			if c.Err != "" {
				fmt.Fprintf(&b, "  %s: error %s\n", c.File, c.Err)
				continue
			}
			fmt.Fprintf(&b, "  %s: want %s, got %s %s %.2f (label rank %d)%s\n", c.File, c.Label, c.Verdict, c.Top, c.Confidence, c.Rank, flag)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
