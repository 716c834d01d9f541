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
	File  string
	Label string
	// Accept is another answer that is fair for a log whose label is "none" (a negative
	// whose real failure is, say, a build script run by the publish).
	Accept string
	// Window names the cut when the case is a paste window of the log, not the log.
	Window     string
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
		return c.Verdict == NoKnownCause || c.Accept != "" && (c.Top == c.Accept || strings.HasPrefix(c.Top, c.Accept+"-"))
	}
	return c.Rank > 0 && c.Rank <= n
}

// EvalReport is the scoring of a labelled set.
type EvalReport struct {
	Cases []EvalCase
}

// Eval diagnoses every file listed in dir/labels.tsv (first column the file, a column named
// root_cause_id or label the expected id; "none" for logs without a publish cause; an
// optional accept column names another fair answer). With windows, the paste windows cut
// from each log (PasteWindows) are scored too, as cases of their own.
func (e *Engine) Eval(dir string, windows bool) (*EvalReport, error) {
	rows, err := ReadLabels(dir)
	if err != nil {
		return nil, err
	}
	rep := &EvalReport{}
	for _, r := range rows {
		rep.Cases = append(rep.Cases, e.evalOne(filepath.Join(dir, r.File), r.File, r.Label, r.Accept, windows)...)
	}
	return rep, nil
}

// LabelRow is one line of a labels.tsv: the log's file name, the expected id ("none" for a
// log without a publish cause) and, optionally, another answer that is fair.
type LabelRow struct {
	File, Label, Accept string
}

// ReadLabels reads dir/labels.tsv: the first column is the file, the column named
// root_cause_id or label the expected id, an optional column named accept another fair
// answer.
func ReadLabels(dir string) ([]LabelRow, error) {
	f, err := os.Open(filepath.Join(dir, "labels.tsv"))
	if err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	defer func() { _ = f.Close() }() // read-only
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	labelCol, acceptCol := -1, -1
	var rows []LabelRow
	for line := 0; sc.Scan(); line++ {
		cols := strings.Split(sc.Text(), "\t")
		if line == 0 {
			for i, c := range cols {
				switch c {
				case "root_cause_id", "label":
					if labelCol < 0 {
						labelCol = i
					}
				case "accept":
					acceptCol = i
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
		r := LabelRow{File: cols[0], Label: strings.TrimSpace(cols[labelCol])}
		if acceptCol >= 0 && acceptCol < len(cols) {
			r.Accept = strings.TrimSpace(cols[acceptCol])
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	return rows, nil
}

func (e *Engine) evalOne(path, name, label, accept string, windows bool) []EvalCase {
	c := EvalCase{File: name, Label: label, Accept: accept}
	f, err := os.Open(path)
	if err != nil {
		c.Err = err.Error()
		return []EvalCase{c}
	}
	defer func() { _ = f.Close() }() // read-only
	text, _, err := TextReader(f)
	if err != nil {
		c.Err = err.Error()
		return []EvalCase{c}
	}
	data, err := io.ReadAll(io.LimitReader(text, 64<<20))
	if err != nil {
		c.Err = err.Error()
		return []EvalCase{c}
	}
	out := []EvalCase{e.score(c, string(data))}
	if windows {
		for _, w := range PasteWindows(string(data)) {
			wc := c
			wc.Window = w.Name
			out = append(out, e.score(wc, w.Text))
		}
	}
	return out
}

// score diagnoses text and records the answer in c.
func (e *Engine) score(c EvalCase, text string) EvalCase {
	res, err := e.DiagnoseText(text)
	if err != nil {
		c.Err = err.Error()
		return c
	}
	c.Verdict = res.Verdict
	if len(res.Diagnoses) > 0 {
		c.Top, c.Confidence = res.Diagnoses[0].ID, res.Diagnoses[0].Confidence
	}
	for i, d := range res.Diagnoses {
		if d.ID == c.Label || strings.HasPrefix(d.ID, c.Label+"-") {
			c.Rank = i + 1
			break
		}
	}
	return c
}

// Merge adds the cases of other reports to r.
func (r *EvalReport) Merge(others ...*EvalReport) {
	for _, o := range others {
		r.Cases = append(r.Cases, o.Cases...)
	}
}

// Band is one row of the reliability table: answers whose top confidence falls in
// [Lo, Hi), and how many of them were right.
type Band struct {
	Name       string
	Lo, Hi     float64
	N, Right   int
	NoCause    bool
	Confidents bool
}

// Reliability groups the answers by the confidence of their top candidate and counts the
// right ones: a calibrated engine is right about as often as it says, and at 0.8 and above
// (a "diagnosed" verdict) nearly always.
func (r *EvalReport) Reliability() []Band {
	bands := []Band{
		{Name: "no known cause", NoCause: true},
		{Name: "0.00-0.40", Lo: 0, Hi: 0.4},
		{Name: "0.40-0.60", Lo: 0.4, Hi: 0.6},
		{Name: "0.60-0.80", Lo: 0.6, Hi: 0.8},
		{Name: "0.80-0.90", Lo: 0.8, Hi: 0.9, Confidents: true},
		{Name: "0.90-1.00", Lo: 0.9, Hi: 1.01, Confidents: true},
	}
	for _, c := range r.Cases {
		if c.Err != "" {
			continue
		}
		for i := range bands {
			b := &bands[i]
			in := b.NoCause && c.Verdict == NoKnownCause || !b.NoCause && c.Verdict != NoKnownCause && c.Confidence >= b.Lo && c.Confidence < b.Hi
			if in {
				b.N++
				if c.Correct() {
					b.Right++
				}
				break
			}
		}
	}
	return bands
}

// WriteReliability prints the reliability table.
func (r *EvalReport) WriteReliability(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %7s %7s %7s\n", "top confidence", "answers", "right", "share")
	conf, confRight := 0, 0
	for _, band := range r.Reliability() {
		share := "-"
		if band.N > 0 {
			share = fmt.Sprintf("%.1f%%", 100*float64(band.Right)/float64(band.N))
		}
		fmt.Fprintf(&b, "%-16s %7d %7d %7s\n", band.Name, band.N, band.Right, share)
		if band.Confidents {
			conf += band.N
			confRight += band.Right
		}
	}
	if conf > 0 {
		fmt.Fprintf(&b, "at >= 0.80: %d/%d right (%.1f%%)\n", confRight, conf, 100*float64(confRight)/float64(conf))
	}
	_, err := io.WriteString(w, b.String())
	return err
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
	r.writeLabels(&b)
	b.WriteString("\n")
	if err := r.WriteReliability(&b); err != nil {
		return err
	}
	if verbose {
		r.writeMisses(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeLabels prints the figures of each label, by label.
func (r *EvalReport) writeLabels(b *strings.Builder) {
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
	fmt.Fprintf(b, "%-44s %5s %6s %6s %6s\n", "label", "cases", "top-1", "top-3", "c-wrong")
	for _, l := range labels {
		a := per[l]
		fmt.Fprintf(b, "%-44s %5d %6d %6d %6d\n", l, a.n, a.top1, a.top3, a.cw)
	}
}

// writeMisses lists every case whose top diagnosis is not its label, if any.
func (r *EvalReport) writeMisses(b *strings.Builder) {
	header := false
	for _, c := range r.Cases {
		if c.Correct() {
			continue
		}
		if !header {
			b.WriteString("\nmisses:\n")
			header = true
		}
		flag := ""
		if c.ConfidentWrong() {
			flag = "  CONFIDENT-WRONG"
		}
		if c.Err != "" {
			fmt.Fprintf(b, "  %s: error %s\n", c.File, c.Err)
			continue
		}
		file := c.File
		if c.Window != "" {
			file += " [" + c.Window + "]"
		}
		fmt.Fprintf(b, "  %s: want %s, got %s %s %.2f (label rank %d)%s\n", file, c.Label, c.Verdict, c.Top, c.Confidence, c.Rank, flag)
	}
}
