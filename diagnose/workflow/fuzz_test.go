package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: any bytes give a workflow or a one-line error, never a panic, and everything
// downstream of a workflow (PublishJob, Facts, Check) runs on whatever Parse accepted.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata", "testdata/reusable"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
		for _, p := range files {
			if src, err := os.ReadFile(p); err == nil {
				f.Add(src)
			}
		}
	}
	f.Add([]byte("on: push\njobs:\n  a:\n    runs-on: [self-hosted, ${{ x }}]\n    steps:\n      - run: \"npm publish \\\\\"\n"))
	f.Add([]byte("on: push\njobs:\n  a: &a\n    steps: *a\n"))
	f.Add([]byte("on: push\njobs:\n  a:\n    permissions: write-all\n    uses: ./x.yml\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		w, err := Parse(".github/workflows/fuzz.yml", src)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		_ = w.PublishJob()
		for _, j := range append([]*Job{nil}, w.Jobs...) {
			for _, fa := range w.Facts(j) {
				if fa.Line < 1 || fa.File != "fuzz.yml" {
					t.Errorf("fact %+v", fa)
				}
			}
		}
		for _, fi := range CheckAll([]*Workflow{w, w}, &Package{Name: "@a/b", Version: "1.0.0-rc.1"}) {
			if fi.Line < 1 {
				t.Errorf("finding without a line: %+v", fi)
			}
		}
	})
}
