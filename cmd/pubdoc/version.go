package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/pubdoc/pubdoc/knowledge"
)

// Set at link time by release builds (.goreleaser.yaml):
//
//	-ldflags "-X main.version=1.2.3 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// Left empty, they are read from the build information the go command records (a module
// version under `go install …@v1.2.3`, the VCS revision and time in a checkout).
var (
	version string
	commit  string
	date    string
)

// buildVersion is the version, commit and build date of this binary, each "" when unknown
// (version "(devel)" for a build from a checkout).
func buildVersion() (v, c, d string) {
	v, c, d = version, commit, date
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return orDevel(v), c, d
	}
	if v == "" && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if c == "" {
				c = s.Value
			}
		case "vcs.time":
			if d == "" {
				d = s.Value
			}
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && c != "" && c == readSetting(bi, "vcs.revision") {
		c += "-dirty"
	}
	return orDevel(v), c, d
}

func readSetting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func orDevel(v string) string {
	if v == "" {
		return "(devel)"
	}
	return v
}

// versionLine is `pubdoc version`'s first words: "pubdoc 1.2.3 (commit 9f2c4e1, built
// 2026-12-07T15:04:05Z)".
func versionLine() string {
	v, c, d := buildVersion()
	var extra []string
	if c != "" {
		extra = append(extra, "commit "+shortCommit(c))
	}
	if d != "" {
		extra = append(extra, "built "+d)
	}
	s := "pubdoc " + v
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func shortCommit(c string) string {
	base, dirty := strings.CutSuffix(c, "-dirty")
	if len(base) > 12 {
		base = base[:12]
	}
	if dirty {
		base += "-dirty"
	}
	return base
}

// cmdVersion prints the version and the number of embedded rules, counted from the rule
// files without loading them: `pubdoc version` is what people time to see start-up.
func cmdVersion(stdout io.Writer) error {
	n, err := knowledge.RuleCount()
	if err != nil {
		return fmt.Errorf("counting rules: %w", err)
	}
	fmt.Fprintf(stdout, "%s, %d rules\n", versionLine(), n)
	return nil
}
