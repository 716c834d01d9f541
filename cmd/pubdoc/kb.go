package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
)

func cmdKB(args []string, stdout io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		return usagef("kb: want one of lint, test, eval DIR..., search WORDS, docs, compile")
	}
	kb, err := knowledge.Load()
	if err != nil {
		if args[0] == "lint" {
			return codeError{fmt.Errorf("knowledge base does not load: %w", err), exitRuntime}
		}
		return fmt.Errorf("loading knowledge base: %w", err)
	}
	eng, err := diagnose.New(kb, logger, diagnose.Options{})
	if err != nil {
		return fmt.Errorf("building engine: %w", err)
	}
	switch args[0] {
	case "lint":
		problems := lint(kb)
		for _, p := range problems {
			fmt.Fprintln(stdout, p)
		}
		if len(problems) > 0 {
			return codeError{fmt.Errorf("kb lint: %d problem(s)", len(problems)), exitRuntime}
		}
		fmt.Fprintf(stdout, "%d rules, %d anchors: OK\n", len(kb.Rules), len(kb.Anchors))
		return nil
	case "test":
		fs := flag.NewFlagSet("kb test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		only := fs.String("rule", "", "test only this rule id")
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("kb test: %v", err)
		}
		if *only != "" && kb.Rule(*only) == nil {
			return usagef("kb test: no rule %q", *only)
		}
		n, fails := eng.TestExamples(*only)
		for _, f := range fails {
			fmt.Fprintln(stdout, "FAIL", f)
		}
		fmt.Fprintf(stdout, "%d passed, %d failed\n", n-len(fails), len(fails))
		if len(fails) > 0 {
			return codeError{fmt.Errorf("kb test: %d example(s) failed", len(fails)), exitRuntime}
		}
		return nil
	case "eval":
		fs := flag.NewFlagSet("kb eval", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		verbose := fs.Bool("v", false, "list every miss")
		windows := fs.Bool("windows", false, "also score the paste windows cut from each log")
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("kb eval: %v", err)
		}
		if fs.NArg() == 0 {
			return usagef("kb eval: want one or more DIRs holding labels.tsv")
		}
		all := &diagnose.EvalReport{}
		for i, dir := range fs.Args() {
			rep, err := eng.Eval(dir, *windows)
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return usagef("kb eval: %v", err)
				}
				return err
			}
			if fs.NArg() > 1 {
				if i > 0 {
					fmt.Fprintln(stdout)
				}
				fmt.Fprintf(stdout, "== %s\n", dir)
			}
			if err := rep.Write(stdout, *verbose); err != nil {
				return err
			}
			all.Merge(rep)
		}
		if fs.NArg() > 1 {
			top1, top3, cw := all.Totals()
			n := len(all.Cases)
			fmt.Fprintf(stdout, "\n== all %d sets: cases %d  top-1 %d  top-3 %d  confident-wrong %d\n", fs.NArg(), n, top1, top3, cw)
			return all.WriteReliability(stdout)
		}
		return nil
	case "search":
		if len(args) < 2 {
			return usagef("kb search: give some words, e.g. pubdoc kb search e404 token expired")
		}
		hits := kb.Search(strings.Join(args[1:], " "), 10)
		if len(hits) == 0 {
			fmt.Fprintln(stdout, "no rule matches those words")
			return nil
		}
		for _, h := range hits {
			fmt.Fprintf(stdout, "%-44s %s\n", h.Rule.ID, h.Rule.Title)
		}
		return nil
	case "compile":
		fs := flag.NewFlagSet("kb compile", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("o", filepath.Join("knowledge", "rules.gob"), "where to write")
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("kb compile: %v", err)
		}
		data, err := knowledge.Compiled()
		if err != nil {
			return fmt.Errorf("compiling the knowledge base: %w", err)
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
		fmt.Fprintf(stdout, "wrote %s (%d rules, %d bytes); rebuild pubdoc to embed it\n", *out, len(kb.Rules), len(data))
		return nil
	case "docs":
		fs := flag.NewFlagSet("kb docs", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("o", filepath.Join("docs", "rules.md"), "where to write")
		if err := fs.Parse(args[1:]); err != nil {
			return usagef("kb docs: %v", err)
		}
		if err := os.WriteFile(*out, []byte(kb.Docs()), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", *out, err)
		}
		sources := filepath.Join(filepath.Dir(*out), "sources.md")
		if err := os.WriteFile(sources, []byte(kb.SourcesDoc()), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", sources, err)
		}
		fmt.Fprintf(stdout, "wrote %s and %s (%d rules)\n", *out, sources, len(kb.Rules))
		return nil
	}
	return usagef("kb: unknown subcommand %q", args[0])
}

// lint finds what loads but is still wrong: duplicate titles, refs that are not URLs, rules
// whose match is nothing but a negation-free single short literal.
func lint(kb *knowledge.Base) []string {
	var out []string
	titles := map[string]string{}
	for _, r := range kb.Rules {
		if prev, ok := titles[r.Title]; ok {
			out = append(out, fmt.Sprintf("%s: title %q also used by %s", r.File, r.Title, prev))
		}
		titles[r.Title] = r.ID
		for _, ref := range r.Refs {
			if !strings.HasPrefix(ref, "https://") && !strings.HasPrefix(ref, "http://") {
				out = append(out, fmt.Sprintf("%s: ref %q is not a URL", r.File, ref))
			}
		}
		if r.Base >= 0.8 && r.Family == "npm-auth-failure" {
			out = append(out, fmt.Sprintf("%s: base %.2f is a confident answer for an ambiguous symptom family", r.File, r.Base))
		}
		if len(r.NearMisses) == 0 {
			out = append(out, fmt.Sprintf("%s: no near_misses: say what must not produce this rule", r.File))
		}
	}
	return out
}
