package main

import (
	"regexp"
	"testing"
)

// A release build stamps version, commit and date with -ldflags -X (.goreleaser.yaml);
// `pubdoc version` prints them.
func TestVersionStamped(t *testing.T) {
	saved := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = saved[0], saved[1], saved[2] })
	version, commit, date = "1.2.3", "9f2c4e1d7a3b5c6e8f0a1b2c3d4e5f60718293a4", "2026-12-07T15:04:05Z"
	code, out, _ := runCLI(t, "", "version")
	if code != exitOK || !regexp.MustCompile(`^pubdoc 1\.2\.3 \(commit 9f2c4e1d7a3b, built 2026-12-07T15:04:05Z\), \d+ rules\n$`).MatchString(out) {
		t.Fatalf("version (exit %d): %q", code, out)
	}
	// Unstamped (go build in a checkout): the build information's, else (devel).
	version, commit, date = "", "", ""
	if v, _, _ := buildVersion(); v == "" {
		t.Fatal("no version at all")
	}
	if got := shortCommit("0123456789abcdef0123-dirty"); got != "0123456789ab-dirty" {
		t.Errorf("shortCommit %s", got)
	}
}
