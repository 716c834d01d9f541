package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/learn"
	"github.com/pubdoc/pubdoc/internal/config"
	"github.com/pubdoc/pubdoc/internal/lazyre"
	"github.com/pubdoc/pubdoc/store"
)

// The kb commands that read what pubdoc serve learned from its answers (docs/cases.md):
// the cases feedback made, and the unknown failures grouped by fingerprint. They read the
// server's database through store.Reader, beside a running server.

// SchemaUnknown names the JSON answer of `pubdoc kb unknown --format json`
// (docs/schema/unknown.v1.json).
const SchemaUnknown = "pubdoc.unknown/v1"

const envLearn = envCommon + `
  PUBDOC_DATABASE_URL[_FILE]
                            the database pubdoc serve uses: postgres://…;
                            default the SQLite file in PUBDOC_DATA_DIR
  PUBDOC_DATA_DIR           SQLite's directory (default ./data); it is read
                            beside a running pubdoc serve`

// newKBLearnCmds returns kb's cases, unknown and new commands.
func newKBLearnCmds(stdout io.Writer) []*cobra.Command {
	cases := &cobra.Command{
		Use:   "cases COMMAND",
		Short: "the cases feedback made: export them for review and kb eval",
		Long: `Cases are answers of pubdoc serve that got feedback in Slack: "Fixed it"
labels the log with the answer's own cause, "Wrong cause" with the cause the
person picked. Each keeps the answer's log, redacted.`,
		Example:               "  pubdoc kb cases export cases/2026-12",
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envLearn},
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("kb cases: unknown subcommand %q", args[0])
			}
			return nil
		},
		RunE: func(*cobra.Command, []string) error { return usagef("kb cases: want export DIR") },
	}
	var exp exportOptions
	export := &cobra.Command{
		Use:   "export [--since AGE] [--all] [--force] DIR",
		Short: "write the cases as logs and DIR/labels.tsv, the set kb eval reads",
		Long: `Write every case as DIR/<id>-<label>.log and list them in DIR/labels.tsv
(file, root_cause_id, confidence, source, then what the answer said), the
format of the shared case sets: review them, add the good ones to a rule's
fixtures, and score the knowledge base on them with pubdoc kb eval DIR.
A "Wrong cause" without a picked cause has no label and is left out
unless --all (then its root_cause_id is "other").`,
		Example: `  pubdoc kb cases export cases/latest && pubdoc kb eval cases/latest
  pubdoc kb cases export --since 30d --all /tmp/cases`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envLearn},
		RunE: func(_ *cobra.Command, args []string) error {
			return kbCasesExport(exp, args, stdout)
		},
	}
	export.Flags().StringVar(&exp.since, "since", "", "only cases from this age (30d, 72h) or date (2026-11-01) on; default all")
	export.Flags().BoolVar(&exp.all, "all", false, "also the cases without a label")
	export.Flags().BoolVar(&exp.force, "force", false, "write into DIR even when it holds a labels.tsv")
	cases.AddCommand(export)

	var un unknownOptions
	unknown := &cobra.Command{
		Use:   "unknown [--since AGE] [--limit N] [--format text|json]",
		Short: "list the largest groups of failures no rule explains",
		Long: `List the failures pubdoc serve answered with no known cause, or with a
top cause under 0.5, grouped by the fingerprint of their failing lines
(numbers, versions, hashes, paths and names masked): the largest groups of
the window first, each with its example lines, its count per day, and when
it was first and last seen. pubdoc kb new --from GROUP starts a rule from one.`,
		Example: `  pubdoc kb unknown
  pubdoc kb unknown --since 7d --format json | jq -r '.groups[0].id'`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envLearn},
		Args:                  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return kbUnknown(un, stdout)
		},
	}
	unknown.Flags().StringVar(&un.since, "since", "30d", "the window: an age (30d, 72h) or a date (2026-11-01)")
	unknown.Flags().IntVar(&un.limit, "limit", 10, "at most this many groups (1-100)")
	formatFlag(unknown, &un.format, "text", "json")

	var nw newRuleOptions
	newRule := &cobra.Command{
		Use:   "new --from GROUP [--id ID] [--registry REGISTRY] [-o FILE]",
		Short: "scaffold a rule file from a group of unknown failures",
		Long: `Write a rule file (knowledge/rules/<registry>/<id>.yaml by default) whose
first example is the group's failing lines, with a suggested anchor, the
fields to fill marked TODO (kb lint refuses the empty ones until they are
filled) and a near-miss to replace. GROUP is a fingerprint from pubdoc kb
unknown, or its first 4 or more hex digits.`,
		Example: `  pubdoc kb new --from 3f9a2b1c
  pubdoc kb new --from 3f9a2b1c --id changelog-section-missing -o -`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envLearn},
		Args:                  noArgs,
		RunE: func(*cobra.Command, []string) error {
			return kbNew(nw, stdout)
		},
	}
	newRule.Flags().StringVar(&nw.from, "from", "", "the group's fingerprint or its first 4+ hex digits (required)")
	newRule.Flags().StringVar(&nw.id, "id", "", "the rule id (default todo-<fingerprint>)")
	newRule.Flags().StringVar(&nw.registry, "registry", "", "the rule's registry folder (default: guessed from the lines, else npm)")
	newRule.Flags().StringVarP(&nw.out, "output", "o", "", "where to write; - for stdout (default knowledge/rules/<registry>/<id>.yaml)")
	return []*cobra.Command{cases, unknown, newRule}
}

// openLearning opens the server's database for reading, as configured by the environment.
func openLearning(ctx context.Context) (*store.Reader, error) {
	c, err := config.FromEnv(os.Getenv, os.ReadFile)
	if err != nil {
		return nil, usagef("%v", err)
	}
	r, err := store.OpenReader(ctx, store.Config{DataDir: c.DataDir, DatabaseURL: string(c.DatabaseURL)})
	if err != nil {
		return nil, fmt.Errorf("reading what pubdoc serve learned: %w", err)
	}
	return r, nil
}

// parseSince reads an age ("30d", "72h", "90m") or a date ("2026-11-01") as the start of
// a window ending at now; "" is the zero time (no start).
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--since wants an age such as 30d or 72h, or a date such as 2026-11-01, not %q", s)
}

type exportOptions struct {
	since      string
	all, force bool
}

// Label confidences in labels.tsv, in the words of the shared case sets.
const (
	// confirmedLabel: "Fixed it" — the answer's fix worked.
	confirmedLabel = "confirmed"
	// reportedLabel: "Wrong cause" with the right one picked — a person's word.
	reportedLabel = "reported"
	// unlabelled is what --all writes for a case without a label.
	unlabelled = "other"
)

func kbCasesExport(opt exportOptions, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usagef("kb cases export: want one DIR to write the cases to")
	}
	dir := args[0]
	since, err := parseSince(opt.since, time.Now())
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "labels.tsv")); err == nil && !opt.force {
		return usagef("kb cases export: %s already holds a labels.tsv (--force to write over it)", dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r, err := openLearning(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	cases, err := r.Cases(ctx, since)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	var tsv strings.Builder
	tsv.WriteString("file\troot_cause_id\tconfidence\tsource\tanswered\tanswered_confidence\tverdict\tfingerprint\tcreated\n")
	written, skipped := 0, 0
	for _, c := range cases {
		label, conf := c.Label, confirmedLabel
		if c.Source == learn.SourceWrong {
			conf = reportedLabel
		}
		if label == "" {
			if !opt.all {
				skipped++
				continue
			}
			label, conf = unlabelled, "unlabelled"
		}
		name := fmt.Sprintf("%04d-%s.log", c.ID, fileSafe(label))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(c.Log), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		fmt.Fprintf(&tsv, "%s\t%s\t%s\tfeedback:%s\t%s\t%.2f\t%s\t%s\t%s\n", name, tsvSafe(label), conf, tsvSafe(c.Source),
			tsvSafe(c.TopRuleID), c.Confidence, tsvSafe(c.Verdict), tsvSafe(c.Fingerprint), c.CreatedAt.UTC().Format(time.RFC3339))
		written++
	}
	if err := os.WriteFile(filepath.Join(dir, "labels.tsv"), []byte(tsv.String()), 0o644); err != nil {
		return fmt.Errorf("writing labels.tsv: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %d cases to %s", written, dir)
	if skipped > 0 {
		fmt.Fprintf(stdout, " (%d without a label left out; --all includes them)", skipped)
	}
	fmt.Fprintf(stdout, "; score them with: pubdoc kb eval %s\n", dir)
	return nil
}

var reUnsafe = lazyre.New(`[^a-z0-9.-]+`)

// fileSafe makes a label part of a file name.
func fileSafe(s string) string {
	s = strings.Trim(reUnsafe.Get().ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if s == "" || len(s) > 80 {
		return "case"
	}
	return s
}

// tsvSafe keeps a value in its column.
func tsvSafe(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

type unknownOptions struct {
	since, format string
	limit         int
}

// unknownAnswer is `pubdoc kb unknown --format json` (docs/schema/unknown.v1.json).
type unknownAnswer struct {
	Schema string         `json:"schema"`
	Since  time.Time      `json:"since"`
	Groups []unknownGroup `json:"groups"`
}

type unknownGroup struct {
	ID        string     `json:"id"`
	Count     int        `json:"count"`
	Total     int        `json:"total"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	Verdict   string     `json:"verdict"`
	Rule      string     `json:"rule"`
	Lines     []string   `json:"lines"`
	Example   []string   `json:"example"`
	Excerpt   string     `json:"excerpt"`
	Days      []dayCount `json:"days"`
}

type dayCount struct {
	Day   string `json:"day"`
	Count int    `json:"count"`
}

func kbUnknown(opt unknownOptions, stdout io.Writer) (err error) {
	if err := checkFormat("kb unknown", opt.format, "text", "json"); err != nil {
		return err
	}
	defer func() { writeJSONError(stdout, opt.format, err) }()
	if opt.limit < 1 || opt.limit > 100 {
		return usagef("kb unknown: --limit must be 1 to 100, not %d", opt.limit)
	}
	now := time.Now().UTC()
	since, err := parseSince(opt.since, now)
	if err != nil {
		return err
	}
	if since.IsZero() {
		return usagef("kb unknown: --since needs a window, such as 30d")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := openLearning(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	groups, err := r.UnknownGroups(ctx, since, opt.limit)
	if err != nil {
		return err
	}
	if opt.format == "json" {
		return diagnose.WriteJSON(stdout, newUnknownAnswer(since, groups))
	}
	writeUnknownText(stdout, since, now, groups)
	return nil
}

func newUnknownAnswer(since time.Time, groups []learn.Group) unknownAnswer {
	ans := unknownAnswer{Schema: SchemaUnknown, Since: since.UTC().Truncate(time.Second), Groups: []unknownGroup{}}
	for _, g := range groups {
		ug := unknownGroup{
			ID: g.ID, Count: g.Count, Total: g.Total, FirstSeen: g.FirstSeen, LastSeen: g.LastSeen,
			Verdict: g.Verdict, Rule: g.RuleID, Lines: nonNil(g.Lines), Example: nonNil(g.Example),
			Excerpt: g.Excerpt, Days: []dayCount{},
		}
		for _, d := range g.Days {
			ug.Days = append(ug.Days, dayCount{Day: d.Day.Format(time.DateOnly), Count: d.Count})
		}
		ans.Groups = append(ans.Groups, ug)
	}
	return ans
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeUnknownText lists the groups for a terminal: each with its count, when it was
// seen, its example lines and a bar per day of the window.
func writeUnknownText(w io.Writer, since, now time.Time, groups []learn.Group) {
	days := int(now.Sub(since).Hours()/24 + 0.5)
	if len(groups) == 0 {
		fmt.Fprintf(w, "No unknown failures since %s.\n", since.Format(time.DateOnly))
		return
	}
	total := 0
	for _, g := range groups {
		total += g.Count
	}
	fmt.Fprintf(w, "Unknown failures since %s (%d days): the %d largest groups, %s\n", since.Format(time.DateOnly), days, len(groups), answers(total))
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s  %s", g.ID, answers(g.Count))
		if g.Total != g.Count {
			fmt.Fprintf(w, " (%d in all)", g.Total)
		}
		fmt.Fprintf(w, " · first %s · last %s", g.FirstSeen.Format(time.DateOnly), g.LastSeen.Format(time.DateOnly))
		if g.RuleID != "" {
			fmt.Fprintf(w, " · answered %s", g.RuleID)
		}
		fmt.Fprintln(w)
		lines := g.Example
		if len(lines) == 0 {
			lines = g.Lines
		}
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", clipRunes(l, 76))
		}
		fmt.Fprintf(w, "  per day %s %s\n", sparkline(g.Days, since, now), perDay(g.Days))
		fmt.Fprintf(w, "  new rule: pubdoc kb new --from %s\n", g.ID[:min(8, len(g.ID))])
	}
}

func answers(n int) string {
	if n == 1 {
		return "1 answer"
	}
	return fmt.Sprintf("%d answers", n)
}

// sparkline draws one bar per day from since to now (at most the last 60 days).
func sparkline(days []learn.DayCount, since, now time.Time) string {
	start := since.UTC().Truncate(24 * time.Hour)
	end := now.UTC().Truncate(24 * time.Hour)
	if n := end.Sub(start).Hours() / 24; n > 59 {
		start = end.Add(-59 * 24 * time.Hour)
	}
	counts := map[time.Time]int{}
	peak := 0
	for _, d := range days {
		counts[d.Day.UTC()] = d.Count
		peak = max(peak, d.Count)
	}
	bars := []rune("▁▂▃▄▅▆▇█")
	var b strings.Builder
	b.WriteRune('|')
	for d := start; !d.After(end); d = d.Add(24 * time.Hour) {
		if n := counts[d]; n > 0 {
			b.WriteRune(bars[min(len(bars)-1, (n*len(bars)-1)/max(peak, 1))])
		} else {
			b.WriteRune(' ')
		}
	}
	b.WriteRune('|')
	return b.String()
}

// perDay lists the last days with answers: "12-04 1, 12-07 2".
func perDay(days []learn.DayCount) string {
	var parts []string
	for _, d := range days[max(0, len(days)-5):] {
		parts = append(parts, fmt.Sprintf("%s %d", d.Day.Format("01-02"), d.Count))
	}
	return strings.Join(parts, ", ")
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

type newRuleOptions struct {
	from, id, registry, out string
}

var ruleIDRE = lazyre.New(`^[a-z0-9]+(-[a-z0-9.]+)*$`)

func kbNew(opt newRuleOptions, stdout io.Writer) error {
	if opt.from == "" {
		return usagef("kb new: --from GROUP is required (pubdoc kb unknown lists the groups)")
	}
	if opt.id != "" && !ruleIDRE.Get().MatchString(opt.id) {
		return usagef("kb new: --id must be lower-case words joined by '-', not %q", opt.id)
	}
	if opt.registry != "" && !ruleIDRE.Get().MatchString(opt.registry) {
		return usagef("kb new: --registry must name a folder of knowledge/rules, not %q", opt.registry)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := openLearning(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	g, err := r.UnknownGroup(ctx, opt.from, time.Now().Add(-30*24*time.Hour))
	if errors.Is(err, store.ErrNotFound) {
		return usagef("kb new: no unknown group %q (pubdoc kb unknown lists them)", opt.from)
	}
	if err != nil {
		return usagef("kb new: %v", err)
	}
	id := opt.id
	if id == "" {
		id = "todo-" + g.ID[:8]
	}
	registry := opt.registry
	if registry == "" {
		registry = guessRegistry(g)
	}
	text := scaffoldRule(g, id, registry)
	out := opt.out
	if out == "-" {
		_, err := io.WriteString(stdout, text)
		return err
	}
	if out == "" {
		out = filepath.Join("knowledge", "rules", registry, id+".yaml")
	}
	if _, err := os.Stat(out); err == nil {
		return usagef("kb new: %s exists; give another --id or -o", out)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(out), err)
	}
	if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	fmt.Fprintf(stdout, "wrote %s: fill its TODOs, then run pubdoc kb compile, kb docs, kb lint and kb test --rule %s\n", out, id)
	return nil
}

// registryWords guess a group's registry from its lines; npm when none is named.
var registryWords = []struct{ registry, words string }{
	{"pypi", "pypi twine gh-action-pypi-publish uv publish"},
	{"crates", "crates.io cargo"},
	{"rubygems", "rubygems gem push"},
	{"nuget", "nuget dotnet"},
	{"jsr", "jsr.io jsr publish"},
	{"containers", "docker ghcr.io buildx registry-1"},
	{"maven", "maven gradle sonatype"},
}

func guessRegistry(g learn.Group) string {
	text := strings.ToLower(strings.Join(append(append([]string{}, g.Lines...), g.Example...), "\n"))
	for _, r := range registryWords {
		for _, w := range strings.Fields(r.words) {
			if strings.Contains(text, w) {
				return r.registry
			}
		}
	}
	return "npm"
}

var (
	rePlaceholder = lazyre.New(`<[a-z]+>`)
	reLevelWords  = lazyre.New(`^(?:npm (?:error|ERR!)|\[?(?:ERROR|Error|error|FATAL|fatal)\]?:?)\s*`)
)

// suggestAnchor picks a literal for the rule's match: the longest stretch of a
// normalized line that no placeholder interrupts and that its example line holds as is,
// without a level prefix the engine strips before matching. "" when there is none.
func suggestAnchor(g learn.Group) string {
	best := ""
	for i, l := range g.Lines {
		raw := strings.Join(strings.Fields(strings.Join(g.Example, "\n")), " ")
		if i < len(g.Example) {
			raw = strings.Join(strings.Fields(g.Example[i]), " ")
		}
		for _, part := range rePlaceholder.Get().Split(l, -1) {
			part = strings.Trim(reLevelWords.Get().ReplaceAllString(strings.TrimSpace(part), ""), " '\"`(),:;[]{}")
			if len([]rune(part)) > len([]rune(best)) && len(part) >= 8 && strings.ContainsAny(part, "abcdefghijklmnopqrstuvwxyz") && strings.Contains(raw, part) {
				best = part
			}
		}
	}
	return best
}

// scaffoldRule is a rule file for group g: valid YAML in the knowledge/rules format,
// whose empty TODO fields kb lint refuses until they are filled.
func scaffoldRule(g learn.Group, id, registry string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Scaffolded by `pubdoc kb new --from %s` from a group of unknown failures:\n", g.ID)
	fmt.Fprintf(&b, "# %d answers (%d in the last 30 days), first seen %s, last seen %s.\n", g.Total, g.Count,
		g.FirstSeen.Format(time.DateOnly), g.LastSeen.Format(time.DateOnly))
	b.WriteString("# The group's normalized failing lines (its fingerprint):\n")
	for _, l := range g.Lines {
		fmt.Fprintf(&b, "#   %s\n", l)
	}
	b.WriteString("# Fill every TODO (kb lint refuses the empty title, cause, fix.summary and refs\n")
	b.WriteString("# until they are filled), keep the file named <id>.yaml, then run pubdoc kb compile,\n")
	fmt.Fprintf(&b, "# kb docs, kb lint and kb test --rule %s.\n", id)
	fmt.Fprintf(&b, "id: %s\n", id)
	b.WriteString("title: \"\"  # TODO: the cause in one line, as a person would search for it\n")
	fmt.Fprintf(&b, "registry: %s\n", registry)
	b.WriteString("base: 0.7  # TODO: the confidence once the match holds; 0.8 or more only if no other cause prints these lines\n")
	b.WriteString("match:\n  any:\n")
	b.WriteString("    # TODO: the lines that prove this cause, with the code that prints them as source:\n")
	b.WriteString("    # {repo: OWNER/REPO, file: PATH, versions: \"…\"}. Suggested from the group's lines:\n")
	anchor := suggestAnchor(g)
	if anchor == "" {
		anchor = "TODO: a literal the failing line holds"
	}
	fmt.Fprintf(&b, "    - {literal: %s}\n", yamlQuote(anchor))
	b.WriteString("cause: \"\"  # TODO: why it fails, in two or three sentences\n")
	b.WriteString("fix:\n")
	b.WriteString("  summary: \"\"  # TODO: what to do, in one sentence\n")
	b.WriteString("  steps: []  # TODO: the steps, one line each\n")
	b.WriteString("  snippet: \"\"  # TODO: the workflow or config change, when there is one\n")
	b.WriteString("refs: []  # TODO: where this knowledge comes from: issues, docs (URLs)\n")
	b.WriteString("examples:\n")
	fmt.Fprintf(&b, "  - name: unknown group %s, first seen %s\n", g.ID[:min(8, len(g.ID))], g.FirstSeen.Format(time.DateOnly))
	b.WriteString("    log: |\n")
	lines := g.Example
	if len(lines) == 0 {
		lines = strings.Split(g.Excerpt, "\n")
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "      %s\n", yamlBlockLine(l))
	}
	if g.Excerpt != "" {
		b.WriteString("    # The log around them, for context:\n")
		for _, l := range strings.Split(g.Excerpt, "\n") {
			fmt.Fprintf(&b, "    #   %s\n", yamlBlockLine(l))
		}
	}
	b.WriteString("near_misses:\n")
	b.WriteString("  # TODO: logs that look like this failure but are another cause, or none: they must not produce it.\n")
	b.WriteString("  - name: \"TODO: a look-alike with another cause\"\n")
	b.WriteString("    log: |\n")
	b.WriteString("      TODO: paste a log that looks like this failure but must not produce this rule\n")
	return b.String()
}

// yamlQuote writes s as a single-quoted YAML scalar.
func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// yamlBlockLine makes a log line safe inside a literal block: no leading blanks (the
// block's indentation is fixed by its first line), no control characters YAML refuses.
func yamlBlockLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
	return strings.TrimRight(strings.TrimLeft(s, " "), " ")
}
