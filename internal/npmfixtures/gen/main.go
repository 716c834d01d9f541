// Command gen records every npm fixture: each scenario × npm version × log level, run with
// the real npm against the loopback fake registry, wrapped as an Actions job log, written
// with a manifest (labels.tsv) that `pubdoc kb eval` reads. `make fixtures` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pubdoc/pubdoc/internal/npmfixtures"
)

func main() {
	cache := flag.String("cache", ".cache", "where npm versions are installed (npm/<version>)")
	out := flag.String("out", filepath.Join("internal", "npmfixtures", "testdata"), "where fixtures go")
	flag.Parse()
	if err := run(*cache, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(cache, out string) error {
	ctx := context.Background()
	for _, v := range npmfixtures.Versions {
		fmt.Fprintf(os.Stderr, "npm %s: installing into %s\n", v, cache)
		if err := npmfixtures.Install(ctx, cache, v); err != nil {
			return err
		}
	}
	old, _ := filepath.Glob(filepath.Join(out, "*.log"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	rows := []string{}
	total := 0
	for _, s := range npmfixtures.Scenarios {
		for _, v := range npmfixtures.Versions {
			if !s.Applies(v) {
				continue
			}
			for _, level := range npmfixtures.Levels {
				rec, err := npmfixtures.Record(ctx, cache, s, v, level)
				if err != nil {
					return fmt.Errorf("%s npm %s %s: %w", s.Name, v, level, err)
				}
				name := npmfixtures.FileName(rec)
				if err := os.WriteFile(filepath.Join(out, name), []byte(npmfixtures.JobLog(rec)), 0o644); err != nil {
					return err
				}
				rows = append(rows, strings.Join([]string{name, s.Expect, s.Name, v, level, fmt.Sprint(rec.ExitCode), npmfixtures.Note(rec)}, "\t"))
				total++
				fmt.Fprintf(os.Stderr, "  %-44s npm %-8s %-8s exit %d\n", s.Name, v, level, rec.ExitCode)
			}
		}
	}
	sort.Strings(rows)
	manifest := "file\troot_cause_id\tscenario\tnpm_version\tlog_level\texit_code\tnotes\n" + strings.Join(rows, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(out, "labels.tsv"), []byte(manifest), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d fixtures and labels.tsv to %s\n", total, out)
	return nil
}
