package diagnose

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits on archives, so a zip bomb costs a clear error instead of the disk or the heap.
const (
	MaxZipEntries       = 10000
	MaxZipEntryBytes    = 1 << 30
	MaxZipTotalBytes    = 4 << 30
	MaxGzipBytes        = 4 << 30
	maxCompressionRatio = 1000
)

// ErrTooLarge is returned when an archive expands past its limits.
var ErrTooLarge = errors.New("archive expands beyond the size limit")

// Kind is what an input's first bytes say it is.
type Kind int

// Input kinds.
const (
	KindText Kind = iota
	KindZip
	KindGzip
	KindUTF16LE
	KindUTF16BE
)

// Sniff tells zip, gzip and UTF-16 text from plain text by the first bytes.
func Sniff(head []byte) Kind {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return KindZip
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return KindGzip
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		return KindUTF16LE
	case bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return KindUTF16BE
	}
	return KindText
}

// TextReader turns gzip and UTF-16 input into a stream of UTF-8 text; plain text passes
// through. Zip archives are not streams: use Jobs.
func TextReader(r io.Reader) (io.Reader, Kind, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, KindText, fmt.Errorf("reading input: %w", err)
	}
	kind := Sniff(head)
	switch kind {
	case KindGzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, kind, fmt.Errorf("reading gzip input: %w", err)
		}
		return &capReader{r: zr, left: MaxGzipBytes}, kind, nil
	case KindUTF16LE, KindUTF16BE:
		if _, err := br.Discard(2); err != nil {
			return nil, kind, fmt.Errorf("reading input: %w", err)
		}
		return &utf16Reader{r: br, big: kind == KindUTF16BE}, kind, nil
	}
	return br, kind, nil
}

// capReader fails with ErrTooLarge once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, ErrTooLarge
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// utf16Reader decodes UTF-16 (as PowerShell writes logs) to UTF-8.
type utf16Reader struct {
	r       *bufio.Reader
	big     bool
	pending []byte
	high    uint16
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.pending) == 0 {
		var pair [2]byte
		if _, err := io.ReadFull(u.r, pair[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, io.EOF
			}
			return 0, err
		}
		c := uint16(pair[0]) | uint16(pair[1])<<8
		if u.big {
			c = uint16(pair[1]) | uint16(pair[0])<<8
		}
		var r rune
		switch {
		case utf16.IsSurrogate(rune(c)) && c < 0xdc00:
			u.high = c
			continue
		case utf16.IsSurrogate(rune(c)):
			r = utf16.DecodeRune(rune(u.high), rune(c))
			u.high = 0
		default:
			r = rune(c)
		}
		u.pending = utf8.AppendRune(u.pending[:0], r)
	}
	n := copy(p, u.pending)
	u.pending = u.pending[n:]
	return n, nil
}

// Job is one job's log inside a run's log zip.
type Job struct {
	Name  string
	files []*zip.File
}

// Open returns the job's log: the whole-job file when the zip has one, else its step files
// in order.
func (j *Job) Open() (io.ReadCloser, error) {
	readers := make([]io.Reader, 0, 2*len(j.files))
	closers := []io.Closer{}
	var total int64
	for _, f := range j.files {
		if f.UncompressedSize64 > MaxZipEntryBytes || f.CompressedSize64 > 0 && f.UncompressedSize64/f.CompressedSize64 > maxCompressionRatio && f.UncompressedSize64 > 1<<20 {
			return nil, fmt.Errorf("%s: %w (%d bytes declared)", f.Name, ErrTooLarge, f.UncompressedSize64)
		}
		total += int64(f.UncompressedSize64)
		rc, err := f.Open()
		if err != nil {
			for _, c := range closers {
				_ = c.Close()
			}
			return nil, fmt.Errorf("opening %s in zip: %w", f.Name, err)
		}
		closers = append(closers, rc)
		readers = append(readers, &capReader{r: rc, left: MaxZipEntryBytes}, strings.NewReader("\n"))
	}
	if total > MaxZipTotalBytes {
		return nil, fmt.Errorf("job %s: %w", j.Name, ErrTooLarge)
	}
	return multiCloser{io.MultiReader(readers...), closers}, nil
}

type multiCloser struct {
	io.Reader
	closers []io.Closer
}

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Jobs lists the jobs of a GitHub Actions run-log zip. GitHub serves one file per job at the
// root ("0_build.txt") and a folder per job with one file per step ("build/1_Set up
// job.txt"); the whole-job file is preferred because its line numbers are the ones GitHub
// shows.
func Jobs(zr *zip.Reader) ([]*Job, error) {
	if len(zr.File) > MaxZipEntries {
		return nil, fmt.Errorf("zip has %d entries (limit %d): %w", len(zr.File), MaxZipEntries, ErrTooLarge)
	}
	root := map[string]*zip.File{}
	dirs := map[string][]*zip.File{}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
		if f.FileInfo().IsDir() || !strings.HasSuffix(f.Name, ".txt") {
			continue
		}
		dir, base := path.Split(strings.TrimPrefix(f.Name, "/"))
		if dir == "" {
			root[stripOrder(strings.TrimSuffix(base, ".txt"))] = f
		} else {
			dirs[strings.TrimSuffix(dir, "/")] = append(dirs[strings.TrimSuffix(dir, "/")], f)
		}
	}
	if declared > MaxZipTotalBytes {
		return nil, fmt.Errorf("zip declares %d bytes: %w", declared, ErrTooLarge)
	}
	var jobs []*Job
	for name, f := range root {
		jobs = append(jobs, &Job{Name: name, files: []*zip.File{f}})
	}
	for name, files := range dirs {
		if _, ok := root[name]; ok {
			continue
		}
		sort.Slice(files, func(i, j int) bool { return order(files[i].Name) < order(files[j].Name) })
		jobs = append(jobs, &Job{Name: name, files: files})
	}
	if len(jobs) == 0 {
		return nil, errors.New("zip holds no .txt job logs: is this a GitHub Actions run log archive?")
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].Name < jobs[j].Name })
	return jobs, nil
}

func stripOrder(s string) string {
	if i := strings.IndexByte(s, '_'); i > 0 {
		if _, err := strconv.Atoi(s[:i]); err == nil {
			return s[i+1:]
		}
	}
	return s
}

func order(name string) int {
	base := path.Base(name)
	if i := strings.IndexByte(base, '_'); i > 0 {
		if n, err := strconv.Atoi(base[:i]); err == nil {
			return n
		}
	}
	return 1 << 30
}

// ErrNoJobs is returned by DiagnoseZip when every job log in the archive is empty.
var ErrNoJobs = errors.New("every job log in the zip is empty")

// DiagnoseZip diagnoses each job of a GitHub Actions run-log zip: the jobs whose logs carry
// the runner's failure marker, or every job with a log when none does. A job's own error
// names the job.
func (e *Engine) DiagnoseZip(zr *zip.Reader) ([]*Result, error) {
	res, _, err := e.DiagnoseZipBudget(context.Background(), zr, nil)
	return res, err
}
