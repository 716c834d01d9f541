package diagnose

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestBadInputGetsAClearError(t *testing.T) {
	e := testEngine(t)
	for name, c := range map[string]struct {
		in   string
		want error
	}{
		"empty":      {"", ErrEmpty},
		"whitespace": {" \n\t\n\r\n", ErrEmpty},
		"binary":     {"\x7fELF\x02\x01\x01\x00\x00\x00\x00", ErrBinary},
	} {
		_, err := e.DiagnoseText(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error is not one line: %q", name, err)
		}
	}
}

func TestTruncatedLogStillDiagnoses(t *testing.T) {
	e := testEngine(t)
	// Case 016 ends mid-line ("npm error 404 Not Found -"); cut a real log mid-byte too.
	data, err := os.ReadFile(filepath.Join("testdata", "cases", "real", "028-e402-scoped-first-release-flowfuse.log"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.DiagnoseText(string(data[:len(data)-3]))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != "scoped-package-default-restricted" {
		t.Fatalf("truncated E402 log: %s", ranking(res))
	}
}

func TestTextReaderDecodesGzipAndUTF16(t *testing.T) {
	e := testEngine(t)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	io.WriteString(w, e402Tail)
	w.Close()

	u16 := []byte{0xff, 0xfe}
	for _, r := range utf16.Encode([]rune(e402Tail)) {
		u16 = append(u16, byte(r), byte(r>>8))
	}
	for name, in := range map[string][]byte{"gzip": gz.Bytes(), "utf16le": u16} {
		r, _, err := TextReader(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		res, err := e.Diagnose(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != "scoped-package-default-restricted" {
			t.Errorf("%s: %s", name, ranking(res))
		}
	}
	// A truncated gzip stream is an error, not a silent partial answer.
	r, _, err := TextReader(bytes.NewReader(gz.Bytes()[:gz.Len()-8]))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Error("truncated gzip read without error")
	}
}

func writeZip(t *testing.T, files map[string]string) *zip.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

func TestRunZipJobs(t *testing.T) {
	e := testEngine(t)
	zr := writeZip(t, map[string]string{
		"0_lint.txt":                    "2025-01-01T00:00:00.0000000Z eslint ok\n",
		"lint/1_Set up job.txt":         "2025-01-01T00:00:00.0000000Z Current runner version: '2.329.0'\n",
		"publish/1_Set up job.txt":      "2025-01-01T00:00:00.0000000Z Current runner version: '2.329.0'\n",
		"publish/3_Run npm publish.txt": e402Tail + "\n##[error]Process completed with exit code 1.\n",
		"publish/2_Run npm ci.txt":      "2025-01-01T00:00:01.0000000Z added 12 packages\n",
	})
	jobs, err := Jobs(zr)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 || jobs[0].Name != "lint" || jobs[1].Name != "publish" {
		t.Fatalf("jobs: %+v", jobs)
	}
	rc, err := jobs[1].Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	res, err := e.Diagnose(rc)
	if err != nil {
		t.Fatal(err)
	}
	if !res.JobFailed || res.Diagnoses[0].ID != "scoped-package-default-restricted" {
		t.Fatalf("publish job: failed=%v %s", res.JobFailed, ranking(res))
	}
	// Step files come in step order: set up job's line first.
	if res.Diagnoses[0].Evidence[0].Line != 6 {
		t.Errorf("E402 evidence at line %d, want 6 (after set-up and npm ci)", res.Diagnoses[0].Evidence[0].Line)
	}
}

func TestZipBombIsRefused(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("job/1_step.txt")
	chunk := bytes.Repeat([]byte("a"), 1<<20)
	for i := 0; i < 64; i++ { // 64 MiB of one byte compresses to ~64 KiB
		w.Write(chunk)
	}
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Jobs(zr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs[0].Open(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a 1000:1 entry opened: %v", err)
	}
	if _, err := Jobs(writeZip(t, map[string]string{"readme.md": "x"})); err == nil {
		t.Fatal("a zip without job logs was accepted")
	}
}
