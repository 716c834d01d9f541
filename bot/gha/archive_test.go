package gha

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

func makeZip(t *testing.T, files [][2]string) *zip.Reader {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(f[0])
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f[1]))
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

func TestArchiveJobLog(t *testing.T) {
	zr := makeZip(t, [][2]string{
		{"0_build  npm.txt", "whole build log\n"},
		{"build  npm/1_Set up job.txt", "step 1\n"},
		{"publish/10_Complete job.txt", "step 10\n"},
		{"publish/2_Run npm publish.txt", "step 2\n"},
		{"publish/1_Set up job.txt", "step 1\n"},
		{"publish/", ""},
		{"publish/notes.json", "{}"},
	})
	tests := []struct {
		job, want string
		limit     int64
		truncated bool
	}{
		// Reusable-workflow jobs are named "caller / callee"; the archive drops the slash.
		{job: "build / npm", want: "whole build log\n", limit: 1 << 20},
		{job: "Build / NPM", want: "whole build log\n", limit: 1 << 20},
		// No whole-job file: the step files, in step order (10 after 2).
		{job: "publish", want: "step 1\nstep 2\nstep 10\n", limit: 1 << 20},
		{job: "publish", want: "step 1\nste", limit: 10, truncated: true},
	}
	for _, tt := range tests {
		got, truncated, err := archiveJobLog(zr, tt.job, tt.limit)
		if err != nil || string(got) != tt.want || truncated != tt.truncated {
			t.Errorf("archiveJobLog(%q, %d) = %q, %v, %v; want %q, %v", tt.job, tt.limit, got, truncated, err, tt.want, tt.truncated)
		}
	}
	if _, _, err := archiveJobLog(zr, "deploy", 1<<20); err == nil || !strings.Contains(err.Error(), `no log for job "deploy"`) {
		t.Errorf("missing job: err = %v", err)
	}
}
