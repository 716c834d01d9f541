package diagnose

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pubdoc/pubdoc/internal/synth"
	"github.com/pubdoc/pubdoc/knowledge"
)

// The scanner keeps only trigger lines outside the tail. Forcing a tiny tail on every real
// case must not change the answer: the prefilter may drop lines, never evidence.
func TestPrefilterKeepsTheEvidence(t *testing.T) {
	whole := testEngine(t)
	tiny, err := New(knowledge.MustLoad(), nil, Options{TailBytes: 64, ChunkBytes: 512})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*", "*.log"))
	seeds, _ := filepath.Glob(filepath.Join("testdata", "seed", "*.log"))
	for _, f := range append(files, seeds...) {
		a, b := diagnoseFile(t, whole, f), diagnoseFile(t, tiny, f)
		if a.Verdict != b.Verdict || ranking(a) != ranking(b) {
			t.Errorf("%s: whole %s, streamed %s", filepath.Base(f), ranking(a), ranking(b))
		}
	}
}

// A 64 MiB log streams through with a bounded number of kept lines and the failure at its
// end is still found.
func TestLargeLogKeepsBoundedLines(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 64 MiB")
	}
	e := testEngine(t)
	pr, pw := io.Pipe()
	go func() {
		_, err := synth.WriteJobLog(pw, 64<<20)
		pw.CloseWithError(err)
	}()
	res, err := e.Diagnose(pr)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scanned.Bytes < 64<<20 || res.Scanned.Kept > 60000 {
		t.Fatalf("read %d bytes, kept %d lines", res.Scanned.Bytes, res.Scanned.Kept)
	}
	if res.Verdict != Diagnosed || res.Diagnoses[0].ID != "oidc-npm-too-old" {
		t.Fatalf("the failure at the end was lost: %s", ranking(res))
	}
	if res.Facts["id_token_permission"] != "granted" || res.Facts["node_version"] != "22.16.0" {
		t.Fatalf("set-up facts from the head were lost: %v", res.Facts)
	}
}

func BenchmarkDiagnose(b *testing.B) {
	e := testEngine(b)
	path := filepath.Join(b.TempDir(), "job.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	n, err := synth.WriteJobLog(f, 100<<20)
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.Diagnose(f)
		f.Close()
		if err != nil || res.Verdict != Diagnosed {
			b.Fatalf("%v %v", err, res)
		}
	}
}
