package diagnose

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

func addCaseSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "real", "*.log"))
	for _, p := range files[:min(len(files), 20)] {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(e402Tail))
	f.Add([]byte("\ufeff2025-01-01T00:00:00.0000000Z ##[group]GITHUB_TOKEN Permissions\nIdToken: write\n##[endgroup]\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nabc\n"))
	f.Add([]byte("> ```\n> npm ERR! code E404\n"))
}

// FuzzDiagnose drives normalize → facts → rules → rank with arbitrary bytes: no panic, and a
// well-formed result whose evidence points at lines that exist.
func FuzzDiagnose(f *testing.F) {
	addCaseSeeds(f)
	e := testEngine(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := e.DiagnoseText(string(data))
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrBinary) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		switch res.Verdict {
		case Diagnosed, Inconclusive, NoKnownCause:
		default:
			t.Fatalf("verdict %q", res.Verdict)
		}
		if (res.Verdict == NoKnownCause) != (len(res.Diagnoses) == 0) {
			t.Fatalf("verdict %s with %d diagnoses", res.Verdict, len(res.Diagnoses))
		}
		for i, d := range res.Diagnoses {
			if d.Confidence < 0 || d.Confidence > 1 || i > 0 && d.Confidence > res.Diagnoses[i-1].Confidence {
				t.Fatalf("confidence order broken: %s", ranking(res))
			}
			for _, ev := range d.Evidence {
				if ev.Line < 1 || ev.Line > res.Scanned.Lines || !utf8.ValidString(ev.Text) {
					t.Fatalf("evidence %+v outside 1..%d or not UTF-8", ev, res.Scanned.Lines)
				}
			}
		}
	})
}

// FuzzNormalize: one line in, one clean line out, whose hints the automaton finds exactly.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"2025-08-14T17:32:21.8216220Z ##[error]x", "\x1b[31mred\x1b[0m", "> ```npm error```", "a\rb", "12 error code E404"} {
		f.Add(s, false, false)
	}
	f.Fuzz(func(t *testing.T, s string, quoted, debug bool) {
		l := normalizeLine(s, docStyle{quoted: quoted, debugLog: debug})
		if !utf8.ValidString(l.Text) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if strings.ContainsRune(l.Text, '\r') {
			t.Fatalf("carriage return survived in %q", l.Text)
		}
		// The extractor's hints: one automaton pass finds what testing each literal finds.
		if got, want := hintsIn(l.Text, hintMatcher()), hintsIn(l.Text, nil); got != want {
			t.Fatalf("hints of %q: automaton %v, literal by literal %v", l.Text, got, want)
		}
	})
}

// FuzzRunZip: arbitrary bytes as a run-log archive never panic, and a zip that opens yields
// jobs whose logs read within the limits.
func FuzzRunZip(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("publish/1_Run npm publish.txt")
	w.Write([]byte(e402Tail))
	zw.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		jobs, err := Jobs(zr)
		if err != nil {
			return
		}
		for _, j := range jobs {
			rc, err := j.Open()
			if err != nil {
				continue
			}
			n, _ := io.Copy(io.Discard, rc)
			rc.Close()
			if n > MaxZipTotalBytes {
				t.Fatalf("job %s read %d bytes past the limit", j.Name, n)
			}
		}
	})
}
