package patch

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDiffHunks(t *testing.T) {
	cases := []struct {
		name, before, after, want string
	}{
		{"equal", "a\n", "a\n", ""},
		{"insert at start", "a\nb\n", "x\na\nb\n", "--- a/f.yml\n+++ b/f.yml\n@@ -1,2 +1,3 @@\n+x\n a\n b\n"},
		{"into an empty file", "", "x\n", "--- a/f.yml\n+++ b/f.yml\n@@ -0,0 +1,1 @@\n+x\n"},
		{"change a middle line", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nV\n6\n7\n8\n9\n",
			"--- a/f.yml\n+++ b/f.yml\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+V\n 6\n 7\n 8\n"},
		{"no newline at the end", "a\nb", "a\nc", "--- a/f.yml\n+++ b/f.yml\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"delete the last line", "a\nb\n", "a\n", "--- a/f.yml\n+++ b/f.yml\n@@ -1,2 +1,1 @@\n a\n-b\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
			"--- a/f.yml\n+++ b/f.yml\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Diff("f.yml", []byte(c.before), []byte(c.after))
			if got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			if got != "" {
				applies(t, map[string]string{"f.yml": c.before}, got, map[string]string{"f.yml": c.after})
			}
		})
	}
}

// TestFixtureDiffsApply: every fix of check's fixtures is a diff that git apply and
// patch -p1 take, giving the fixed file.
func TestFixtureDiffsApply(t *testing.T) {
	n := 0
	for _, in := range fixtures(t) {
		res, err := Fix(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Changes {
			rel := filepath.Base(c.Path)
			d := Diff(rel, c.Before, c.After)
			applies(t, map[string]string{rel: string(c.Before)}, d, map[string]string{rel: string(c.After)})
			n++
		}
	}
	if n < 20 {
		t.Errorf("only %d fixture diffs", n)
	}
}

// applies writes files to a temporary git repository, checks and applies diff with
// `git apply` and with `patch -p1`, and compares the result with want. It skips the tool
// that is not installed.
func applies(t *testing.T, files map[string]string, diff string, want map[string]string) {
	t.Helper()
	write := func(dir string) {
		for p, s := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "fix.patch"), []byte(diff), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(dir, tool string) {
		for p, s := range want {
			got, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil || string(got) != s {
				t.Errorf("%s: %s after the patch:\n%s\nwant\n%s", tool, p, got, s)
			}
		}
	}
	if _, err := exec.LookPath("git"); err == nil {
		dir := t.TempDir()
		write(dir)
		run := func(args ...string) {
			cmd := exec.Command("git", args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %s: %v\n%s\n%s", strings.Join(args, " "), err, out, diff)
			}
		}
		run("init", "-q")
		run("apply", "--check", "fix.patch")
		run("apply", "fix.patch")
		check(dir, "git apply")
	}
	if _, err := exec.LookPath("patch"); err == nil {
		dir := t.TempDir()
		write(dir)
		cmd := exec.Command("patch", "-p1", "--batch", "-i", "fix.patch")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("patch -p1: %v\n%s\n%s", err, out, diff)
		}
		check(dir, "patch -p1")
	}
}

// TestDiffRoundTrip: on random files and random edits of them, the diff turns one into
// the other and shows no line twice.
func TestDiffRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a\n", "b\n", "c\n", "  - run: x\n", "\n", "d"}
	gen := func(n int) []byte {
		var b strings.Builder
		for range n {
			b.WriteString(words[r.IntN(len(words)-1)])
		}
		if r.IntN(4) == 0 {
			b.WriteString(words[len(words)-1]) // no final newline
		}
		return []byte(b.String())
	}
	for i := range 2000 {
		before, after := gen(r.IntN(30)), gen(r.IntN(30))
		if i%2 == 0 { // a few edits of before, like a fix
			lines := splitLines(before)
			for range 1 + r.IntN(3) {
				at := r.IntN(len(lines) + 1)
				lines = append(lines[:at], append([]string{"inserted\n"}, lines[at:]...)...)
			}
			after = []byte(strings.Join(lines, ""))
		}
		d := Diff("f", before, after)
		got, err := applyDiff(before, d)
		if err != nil || string(got) != string(after) {
			t.Fatalf("round trip %d (%v):\nbefore %q\nafter  %q\ngot    %q\n%s", i, err, before, after, got, d)
		}
	}
}
