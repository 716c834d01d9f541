package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
	"github.com/pubdoc/pubdoc/mcpserver"
)

func newKBCmd(stdout io.Writer, logger *slog.Logger) *cobra.Command {
	kb := &cobra.Command{
		Use:   "kb COMMAND",
		Short: "knowledge-base tools: lint, test, eval, search, show, docs",
		Long: `Work on the knowledge base (knowledge/rules/<registry>/<id>.yaml): check it,
run every rule's examples, score it against labelled logs, find and show
rules, and regenerate the generated files.`,
		Example: `  pubdoc kb search e404 token expired
  pubdoc kb show oidc-npm-too-old
  pubdoc kb eval -v -windows diagnose/testdata/cases/negative`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envCommon},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("kb: unknown subcommand %q", args[0])
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error {
			return usagef("kb: want one of lint, test, eval DIR..., search WORDS, show ID, docs, compile, cases export DIR, unknown, new --from GROUP")
		},
	}
	kb.AddCommand(&cobra.Command{
		Use:                   "lint",
		Short:                 "check that every rule loads and reads well; exit 1 on a problem",
		Example:               "  pubdoc kb lint",
		DisableFlagsInUseLine: true,
		Args:                  noArgs,
		RunE:                  func(*cobra.Command, []string) error { return kbLint(stdout) },
	})

	var only string
	test := &cobra.Command{
		Use:                   "test [--rule ID]",
		Short:                 "run every rule's examples and near-misses; exit 1 on a failure",
		Example:               "  pubdoc kb test\n  pubdoc kb test --rule oidc-npm-too-old",
		DisableFlagsInUseLine: true,
		Args:                  noArgs,
		RunE:                  func(*cobra.Command, []string) error { return kbTest(only, stdout, logger) },
	}
	test.Flags().StringVar(&only, "rule", "", "test only this rule id")
	_ = test.RegisterFlagCompletionFunc("rule", completeRuleIDs)

	var verbose, windows bool
	eval := &cobra.Command{
		Use:   "eval [-v] [--windows] DIR...",
		Short: "score against DIR/labels.tsv, with a reliability table",
		Long: `Score the knowledge base against the logs of each DIR labelled in
DIR/labels.tsv: top-1, top-3, confident-wrong, per label, and a reliability
table (confidence band -> share right).`,
		Example:               "  pubdoc kb eval diagnose/testdata/cases/negative\n  pubdoc kb eval -v -windows internal/npmfixtures/testdata",
		DisableFlagsInUseLine: true,
		RunE: func(_ *cobra.Command, dirs []string) error {
			return kbEval(dirs, verbose, windows, stdout, logger)
		},
	}
	eval.Flags().BoolVarP(&verbose, "verbose", "v", false, "list every miss")
	eval.Flags().BoolVar(&windows, "windows", false, "also score the 3-10 line pastes a person would cut from each log")

	var searchFormat string
	search := &cobra.Command{
		Use:                   "search [--format text|json] WORDS...",
		Short:                 "find rules by loose words",
		Example:               "  pubdoc kb search e404 put token expired\n  pubdoc kb search --format json token",
		DisableFlagsInUseLine: true,
		RunE: func(_ *cobra.Command, words []string) error {
			return kbSearch(words, searchFormat, stdout)
		},
	}
	formatFlag(search, &searchFormat, "text", "json")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "print a rule: cause, fix, anchors with their sources, refs",
		Example: `  pubdoc kb show oidc-npm-too-old
  pubdoc kb show $(pubdoc kb search --format json eotp | jq -r '.rules[0].id')`,
		DisableFlagsInUseLine: true,
		ValidArgsFunction:     completeRuleIDs,
		RunE: func(_ *cobra.Command, args []string) error {
			return kbShow(args, stdout)
		},
	}

	var docsOut string
	docs := &cobra.Command{
		Use:                   "docs [-o FILE]",
		Short:                 "regenerate docs/rules.md and docs/sources.md beside it",
		Example:               "  pubdoc kb docs\n  pubdoc kb docs -o /tmp/rules.md",
		DisableFlagsInUseLine: true,
		Args:                  noArgs,
		RunE:                  func(*cobra.Command, []string) error { return kbDocs(docsOut, stdout) },
	}
	docs.Flags().StringVarP(&docsOut, "output", "o", filepath.Join("docs", "rules.md"), "where to write the rules (sources.md goes beside it)")

	var gobOut, automataOut string
	compile := &cobra.Command{
		Use:   "compile [-o FILE] [--automata FILE]",
		Short: "regenerate the rules and automata start-up reads",
		Long: "Writes the rules as Go (knowledge/rules_gen.go) and the scanner's two\n" +
			"automata, built (diagnose/automata_gen.bin), from the rule YAML; rebuild\n" +
			"pubdoc to embed them.",
		Example:               "  pubdoc kb compile",
		DisableFlagsInUseLine: true,
		Args:                  noArgs,
		RunE:                  func(*cobra.Command, []string) error { return kbCompile(gobOut, automataOut, stdout) },
	}
	compile.Flags().StringVarP(&gobOut, "output", "o", filepath.Join("knowledge", "rules_gen.go"), "where to write the rules")
	compile.Flags().StringVar(&automataOut, "automata", filepath.Join("diagnose", diagnose.AutomataFile), "where to write the automata")

	kb.AddCommand(test, eval, search, show, docs, compile)
	kb.AddCommand(newKBLearnCmds(stdout)...)
	return kb
}

// completeRuleIDs completes rule ids for the shells.
func completeRuleIDs(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	kb, err := knowledge.Load()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var ids []string
	for _, r := range kb.Rules {
		if strings.HasPrefix(r.ID, prefix) {
			ids = append(ids, r.ID+"\t"+r.Title)
		}
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

func loadKB() (*knowledge.Base, error) {
	kb, err := knowledge.Load()
	if err != nil {
		return nil, fmt.Errorf("loading knowledge base: %w", err)
	}
	return kb, nil
}

func kbEngine(logger *slog.Logger) (*knowledge.Base, *diagnose.Engine, error) {
	kb, err := loadKB()
	if err != nil {
		return nil, nil, err
	}
	eng, err := diagnose.New(kb, logger, diagnose.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("building engine: %w", err)
	}
	return kb, eng, nil
}

func kbLint(stdout io.Writer) error {
	kb, err := knowledge.Load()
	if err != nil {
		return codeError{fmt.Errorf("knowledge base does not load: %w", err), exitRuntime}
	}
	problems := lint(kb)
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		return codeError{fmt.Errorf("kb lint: %d problem(s)", len(problems)), exitRuntime}
	}
	fmt.Fprintf(stdout, "%d rules, %d anchors: OK\n", len(kb.Rules), len(kb.Anchors))
	return nil
}

func kbTest(only string, stdout io.Writer, logger *slog.Logger) error {
	kb, eng, err := kbEngine(logger)
	if err != nil {
		return err
	}
	if only != "" && kb.Rule(only) == nil {
		return usagef("kb test: no rule %q", only)
	}
	n, fails := eng.TestExamples(only)
	for _, f := range fails {
		fmt.Fprintln(stdout, "FAIL", f)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", n-len(fails), len(fails))
	if len(fails) > 0 {
		return codeError{fmt.Errorf("kb test: %d example(s) failed", len(fails)), exitRuntime}
	}
	return nil
}

func kbEval(dirs []string, verbose, windows bool, stdout io.Writer, logger *slog.Logger) error {
	if len(dirs) == 0 {
		return usagef("kb eval: want one or more DIRs holding labels.tsv")
	}
	_, eng, err := kbEngine(logger)
	if err != nil {
		return err
	}
	all := &diagnose.EvalReport{}
	for i, dir := range dirs {
		rep, err := eng.Eval(dir, windows)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return usagef("kb eval: %v", err)
			}
			return err
		}
		if len(dirs) > 1 {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			fmt.Fprintf(stdout, "== %s\n", dir)
		}
		if err := rep.Write(stdout, verbose); err != nil {
			return err
		}
		all.Merge(rep)
	}
	if len(dirs) > 1 {
		top1, top3, cw := all.Totals()
		fmt.Fprintf(stdout, "\n== all %d sets: cases %d  top-1 %d  top-3 %d  confident-wrong %d\n", len(dirs), len(all.Cases), top1, top3, cw)
		return all.WriteReliability(stdout)
	}
	return nil
}

// kbSearch prints the rules loose words find; as JSON, the answer of the MCP tool
// search_causes.
func kbSearch(words []string, format string, stdout io.Writer) (err error) {
	if err := checkFormat("kb search", format, "text", "json"); err != nil {
		return err
	}
	defer func() { writeJSONError(stdout, format, err) }()
	if len(words) == 0 {
		return usagef("kb search: give some words, e.g. pubdoc kb search e404 token expired")
	}
	kb, err := loadKB()
	if err != nil {
		return err
	}
	query := strings.Join(words, " ")
	hits := kb.Search(query, 10)
	if format == "json" {
		ans := mcpserver.SearchAnswer{Query: query, Rules: []mcpserver.FoundRule{}}
		for _, h := range hits {
			r := h.Rule
			ans.Rules = append(ans.Rules, mcpserver.FoundRule{ID: r.ID, Title: r.Title, Registry: r.Registry, Fix: strings.TrimSpace(r.Fix.Summary)})
		}
		return diagnose.WriteJSON(stdout, ans)
	}
	if len(hits) == 0 {
		fmt.Fprintln(stdout, "no rule matches those words")
		return nil
	}
	for _, h := range hits {
		fmt.Fprintf(stdout, "%-44s %s\n", h.Rule.ID, h.Rule.Title)
	}
	return nil
}

func kbCompile(out, automataOut string, stdout io.Writer) error {
	kb, err := loadKB()
	if err != nil {
		return err
	}
	data, err := knowledge.Compiled()
	if err != nil {
		return fmt.Errorf("compiling the knowledge base: %w", err)
	}
	automata, err := diagnose.CompileAutomata(kb)
	if err != nil {
		return fmt.Errorf("building the automata: %w", err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := os.WriteFile(automataOut, automata, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", automataOut, err)
	}
	fmt.Fprintf(stdout, "wrote %s (%d rules, %d bytes) and %s (%d bytes); rebuild pubdoc to embed them\n", out, len(kb.Rules), len(data), automataOut, len(automata))
	return nil
}

func kbDocs(out string, stdout io.Writer) error {
	kb, err := loadKB()
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, []byte(kb.Docs()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	sources := filepath.Join(filepath.Dir(out), "sources.md")
	if err := os.WriteFile(sources, []byte(kb.SourcesDoc()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", sources, err)
	}
	fmt.Fprintf(stdout, "wrote %s and %s (%d rules)\n", out, sources, len(kb.Rules))
	return nil
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
