package diagnose

import (
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// Whatever the chunk and tail sizes, every kept line is the input's line of that number,
// and every line of the last tailBytes (less one line) is kept: the tail's bookkeeping (trimmed inside a
// region or across regions) never shifts a line number.
func TestScannerKeepsNumberedTail(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	kb := knowledge.MustLoad()
	for round := 0; round < 300; round++ {
		var lines []string
		var b strings.Builder
		for i := r.Intn(400); i >= 0; i-- {
			l := strings.Repeat("x", r.Intn(90)) + strconv.Itoa(i)
			if r.Intn(20) == 0 {
				l += " npm error code E404"
			}
			lines = append(lines, l)
			b.WriteString(l + "\n")
		}
		tail := 16 + r.Intn(2000)
		chunk := 128 + r.Intn(4000)
		e, err := New(kb, nil, Options{TailBytes: tail, ChunkBytes: chunk})
		if err != nil {
			t.Fatal(err)
		}
		kept, _, err := scanLines(strings.NewReader(b.String()), e.scan)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]bool{}
		for _, k := range kept {
			if k.n < 1 || k.n > len(lines) || k.text != lines[k.n-1] {
				t.Fatalf("round %d (tail %d, chunk %d): line %d kept as %q", round, tail, chunk, k.n, k.text)
			}
			seen[k.n] = true
		}
		// The trim starts the tail at a line start, so up to one line less than tail bytes.
		for n, size := len(lines), 0; n >= 1 && size+len(lines[n-1])+1 <= tail-120; n-- {
			size += len(lines[n-1]) + 1
			if !seen[n] {
				t.Fatalf("round %d (tail %d, chunk %d): line %d of the last %d bytes not kept", round, tail, chunk, n, tail)
			}
		}
	}
}

// A log read in place (FromBytes, a mapped file) is scanned exactly as the same bytes read
// through a buffer: same lines kept, same numbers, same statistics, for inputs whose sizes
// fall on and around the chunk size, with lines longer than a chunk and without a final
// newline.
func TestScanBytesIsScanLines(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	kb := knowledge.MustLoad()
	for round := 0; round < 400; round++ {
		chunk := 64 + r.Intn(512)
		// A tail longer than a chunk grows over several regions before it is trimmed.
		e, err := New(kb, nil, Options{TailBytes: 16 + r.Intn(3*chunk), ChunkBytes: chunk})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		target := []int{chunk - 1, chunk, chunk + 1, 2 * chunk, r.Intn(8 * chunk)}[r.Intn(5)]
		for b.Len() < target {
			switch r.Intn(30) {
			case 0:
				b.WriteString(strings.Repeat("y", chunk+r.Intn(chunk)) + "\n") // longer than a chunk
			case 1:
				b.WriteString("npm error code E404\n")
			default:
				b.WriteString(strings.Repeat("x", r.Intn(60)) + "\n")
			}
		}
		in := b.String()
		if len(in) > target && target > 0 {
			in = in[:target] // often cuts the last newline off
		}
		if in == "" {
			continue
		}
		want, wstats, werr := scanLines(strings.NewReader(in), e.scan)
		got, gstats, gerr := scanLines(FromBytes([]byte(in)), e.scan)
		if (werr == nil) != (gerr == nil) || gstats != wstats || !slices.Equal(got, want) {
			t.Fatalf("round %d (chunk %d, %d bytes): in place %v %+v, buffered %v %+v", round, chunk, len(in), gerr, gstats, werr, wstats)
		}
	}
}
