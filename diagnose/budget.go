package diagnose

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
)

// DiagnoseContext is DiagnoseWith that stops when ctx ends: the input is read in chunks
// and ctx is checked before each, so a cancelled or timed-out request stops scanning
// within one chunk. The error then wraps ctx's cause (context.Canceled,
// context.DeadlineExceeded). out may be nil.
func (e *Engine) DiagnoseContext(ctx context.Context, r io.Reader, out *Outside) (*Result, error) {
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("diagnosis stopped: %w", err)
	}
	return e.DiagnoseWith(&ctxReader{ctx: ctx, r: r}, out)
}

// ctxReader fails once its context has ended.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := context.Cause(c.ctx); err != nil {
		return 0, fmt.Errorf("diagnosis stopped: %w", err)
	}
	return c.r.Read(p)
}

// Budget bounds what one request may cost the engine across all its inputs (every file of
// a chat message, every job of a run-log zip): the text read once decompressed, and the
// job results a zip yields. Reading stops where the bytes end, as if the input ended
// there, and the diagnosis is of what was read; the caller says so (Cut, ZipReport). The
// zero Budget is unlimited. A Budget is not safe for concurrent use.
type Budget struct {
	// MaxBytes is the text read in all; zero or less is no cap.
	MaxBytes int64
	// MaxJobs is the job results DiagnoseZipBudget returns in all; zero or less is no cap.
	MaxJobs int

	read int64
	jobs int
}

// Read is the text read so far.
func (b *Budget) Read() int64 { return b.read }

// Spent reports whether no byte is left.
func (b *Budget) Spent() bool { return b.MaxBytes > 0 && b.read >= b.MaxBytes }

// JobsLeft is how many more job results may be returned; -1 for no cap.
func (b *Budget) JobsLeft() int {
	if b.MaxJobs <= 0 {
		return -1
	}
	return max(b.MaxJobs-b.jobs, 0)
}

// Reader returns r cut where the budget's bytes end. Cut on the returned reader reports
// whether the input went on past that point.
func (b *Budget) Reader(r io.Reader) *BudgetReader { return &BudgetReader{b: b, r: r} }

// BudgetReader is a reader that spends a Budget.
type BudgetReader struct {
	b   *Budget
	r   io.Reader
	cut bool
}

// Cut reports whether the input was longer than the budget let be read.
func (br *BudgetReader) Cut() bool { return br.cut }

func (br *BudgetReader) Read(p []byte) (int, error) {
	if br.b.MaxBytes > 0 {
		left := br.b.MaxBytes - br.b.read
		if left <= 0 {
			if !br.cut {
				// Is there more? One byte says so.
				var one [1]byte
				n, err := io.ReadFull(br.r, one[:])
				if n == 0 && err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					return 0, err
				}
				br.cut = n > 0
			}
			return 0, io.EOF
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := br.r.Read(p)
	br.b.read += int64(n)
	return n, err
}

// ZipReport says how much of a run-log zip DiagnoseZipBudget read.
type ZipReport struct {
	// Jobs is the number of job logs in the zip; Read how many of them were read (whole or
	// in part); Returned how many results came back.
	Jobs, Read, Returned int
	// Cut is true when the budget's bytes ended inside the zip: the last job read was cut
	// short, or jobs after it were left unread.
	Cut bool
	// JobCapped is true when the budget's job count ended the reading.
	JobCapped bool
}

// Complete reports whether every job was read whole.
func (z ZipReport) Complete() bool { return !z.Cut && !z.JobCapped && z.Read == z.Jobs }

// DiagnoseZipBudget is DiagnoseZip within a budget and ctx: jobs are read in order until
// the budget's bytes or job results run out (failed jobs count; when none failed, the
// jobs read are returned, up to the job budget). The report says what was left out. A
// nil budget is unlimited.
func (e *Engine) DiagnoseZipBudget(ctx context.Context, zr *zip.Reader, b *Budget) ([]*Result, ZipReport, error) {
	return e.DiagnoseZipKeep(ctx, zr, b, nil)
}

// DiagnoseZipKeep is DiagnoseZipBudget that also copies each job's text, as it is read, to
// keep(job) when that returns a writer: for a caller that stores the logs it diagnosed
// without decompressing them a second time.
func (e *Engine) DiagnoseZipKeep(ctx context.Context, zr *zip.Reader, b *Budget, keep func(job string) io.Writer) ([]*Result, ZipReport, error) {
	if b == nil {
		b = &Budget{}
	}
	jobs, err := Jobs(zr)
	if err != nil {
		return nil, ZipReport{}, err
	}
	rep := ZipReport{Jobs: len(jobs)}
	want := b.JobsLeft()
	var all, failed []*Result
	for _, j := range jobs {
		if want >= 0 && len(failed) >= want {
			rep.JobCapped = true
			break
		}
		if b.Spent() {
			rep.Cut = true
			break
		}
		rc, err := j.Open()
		if err != nil {
			return nil, rep, err
		}
		br := b.Reader(rc)
		var text io.Reader = br
		if keep != nil {
			if w := keep(j.Name); w != nil {
				text = io.TeeReader(br, w)
			}
		}
		res, err := e.DiagnoseContext(ctx, text, nil)
		_ = rc.Close() // read-only
		rep.Read++
		if br.Cut() {
			rep.Cut = true
		}
		if errors.Is(err, ErrEmpty) {
			continue
		}
		if err != nil {
			return nil, rep, fmt.Errorf("job %s: %w", j.Name, err)
		}
		res.Job = j.Name
		all = append(all, res)
		if res.JobFailed {
			failed = append(failed, res)
		}
	}
	out := failed
	if len(out) == 0 {
		out = all
	}
	if want >= 0 && len(out) > want {
		out = out[:want]
		rep.JobCapped = true
	}
	if len(out) == 0 {
		return nil, rep, ErrNoJobs
	}
	b.jobs += len(out)
	rep.Returned = len(out)
	return out, rep, nil
}
