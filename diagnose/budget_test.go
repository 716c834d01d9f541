package diagnose

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// endless is a log that never ends; it calls onRead before every read.
type endless struct {
	line   []byte
	read   int64
	onRead func(read int64)
}

func (e *endless) Read(p []byte) (int, error) {
	if e.onRead != nil {
		e.onRead(e.read)
	}
	n := 0
	for n < len(p) {
		n += copy(p[n:], e.line[(e.read+int64(n))%int64(len(e.line)):])
	}
	e.read += int64(n)
	return n, nil
}

func TestDiagnoseContextStopsScanning(t *testing.T) {
	e := testEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	src := &endless{line: []byte("2025-01-01T00:00:00Z compiling widgets\n")}
	src.onRead = func(read int64) {
		if read > 8<<20 {
			cancel()
		}
	}
	_, err := e.DiagnoseContext(ctx, src, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want one wrapping context.Canceled", err)
	}
	if src.read > 16<<20 {
		t.Errorf("read %d MB after the cancel at 8 MB, want it to stop within a chunk or two", src.read>>20)
	}
	// Already over: nothing is read.
	done, stop := context.WithTimeout(context.Background(), 0)
	defer stop()
	src = &endless{line: []byte("x\n")}
	if _, err := e.DiagnoseContext(done, src, nil); !errors.Is(err, context.DeadlineExceeded) || src.read != 0 {
		t.Errorf("expired context: err = %v, read %d bytes; want DeadlineExceeded and nothing read", err, src.read)
	}
	// A live context changes nothing.
	res, err := e.DiagnoseContext(context.Background(), strings.NewReader(e402Tail), nil)
	if err != nil || res.Diagnoses[0].ID != "scoped-package-default-restricted" {
		t.Fatalf("live context: %v %v", err, res)
	}
}

func TestBudgetCutsAGzipAndSaysSo(t *testing.T) {
	e := testEngine(t)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = io.WriteString(w, e402Tail+"\n")
	for range 200_000 { // ~8 MB of text after the cause
		_, _ = io.WriteString(w, "2025-01-01T00:00:02Z cleaning up the workspace and caches\n")
	}
	_ = w.Close()
	text, kind, err := TextReader(bytes.NewReader(gz.Bytes()))
	if err != nil || kind != KindGzip {
		t.Fatal(kind, err)
	}
	b := &Budget{MaxBytes: 1 << 20}
	br := b.Reader(text)
	res, err := e.DiagnoseContext(context.Background(), br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !br.Cut() || b.Read() != 1<<20 || !b.Spent() {
		t.Errorf("cut=%v read=%d spent=%v, want cut after exactly 1 MB", br.Cut(), b.Read(), b.Spent())
	}
	if res.Diagnoses[0].ID != "scoped-package-default-restricted" {
		t.Errorf("the first MB holds the cause: %s", ranking(res))
	}
	// A second input of the same budget reads nothing and is cut.
	br2 := b.Reader(strings.NewReader("more"))
	if n, _ := br2.Read(make([]byte, 10)); n != 0 || !br2.Cut() {
		t.Errorf("spent budget read %d bytes, cut=%v; want 0 and cut", n, br2.Cut())
	}
	// An input that ends exactly at the budget is not cut.
	exact := &Budget{MaxBytes: 4}
	br3 := exact.Reader(strings.NewReader("abcd"))
	if got, _ := io.ReadAll(br3); string(got) != "abcd" || br3.Cut() {
		t.Errorf("input as long as the budget: %q cut=%v, want abcd not cut", got, br3.Cut())
	}
}

func TestDiagnoseZipBudget(t *testing.T) {
	e := testEngine(t)
	files := map[string]string{}
	for i := range 30 {
		files[fmt.Sprintf("%d_publish-%02d.txt", i, i)] = e402Tail + "\n##[error]Process completed with exit code 1.\n"
	}
	zr := writeZip(t, files)
	b := &Budget{MaxJobs: 8}
	res, rep, err := e.DiagnoseZipBudget(context.Background(), zr, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 8 || rep.Jobs != 30 || rep.Read != 8 || rep.Returned != 8 || !rep.JobCapped || rep.Complete() {
		t.Errorf("%d results, report %+v; want 8 of 30 jobs read, capped", len(res), rep)
	}
	if b.JobsLeft() != 0 {
		t.Errorf("jobs left %d, want 0", b.JobsLeft())
	}
	// A spent job budget leaves the next zip unread.
	if _, rep, err := e.DiagnoseZipBudget(context.Background(), zr, b); !errors.Is(err, ErrNoJobs) || rep.Read != 0 || !rep.JobCapped {
		t.Errorf("second zip over a spent budget: %+v %v", rep, err)
	}

	// Bytes: the budget ends inside the jobs.
	one := int64(len(e402Tail) + len("\n##[error]Process completed with exit code 1.\n") + 1)
	b = &Budget{MaxBytes: 3*one + one/2}
	res, rep, err = e.DiagnoseZipBudget(context.Background(), zr, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Read != 4 || !rep.Cut || rep.Complete() || b.Read() != b.MaxBytes || len(res) != 3 {
		t.Errorf("%d results, report %+v, read %d of %d; want 4 jobs read, the 4th cut (no failure marker read), 3 results", len(res), rep, b.Read(), b.MaxBytes)
	}

	// Unlimited: DiagnoseZip as before.
	all, rep, err := e.DiagnoseZipBudget(context.Background(), zr, nil)
	if err != nil || len(all) != 30 || !rep.Complete() {
		t.Errorf("no budget: %d results, %+v, %v; want 30, complete", len(all), rep, err)
	}
}

// DiagnoseZipKeep hands each job's text, as read for the diagnosis, to the caller's writer.
func TestDiagnoseZipKeepCopiesEachJobsText(t *testing.T) {
	e := testEngine(t)
	files := map[string]string{
		"0_publish.txt": e402Tail + "\n##[error]Process completed with exit code 1.\n",
		"1_test.txt":    "ok 1 - passes\n",
	}
	zr := writeZip(t, files)
	kept := map[string]*strings.Builder{}
	res, _, err := e.DiagnoseZipKeep(context.Background(), zr, nil, func(job string) io.Writer {
		kept[job] = &strings.Builder{}
		return kept[job]
	})
	if err != nil || len(res) == 0 {
		t.Fatalf("%d results, %v", len(res), err)
	}
	jobs, err := Jobs(zr)
	if err != nil || len(kept) != len(jobs) {
		t.Fatalf("kept %d logs of %d jobs (%v)", len(kept), len(jobs), err)
	}
	for _, j := range jobs {
		rc, err := j.Open()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := io.ReadAll(rc)
		_ = rc.Close()
		if got := kept[j.Name]; got == nil || got.String() != string(want) || !strings.Contains(string(want), "ok 1") && !strings.Contains(string(want), "E402") {
			t.Errorf("job %s: kept %q, read %q", j.Name, got, want)
		}
	}
}
