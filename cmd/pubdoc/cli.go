package main

import (
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// The command tree is spf13/cobra's: per-command help with examples and environment, flags
// before or after the arguments, and generated shell completions (`pubdoc completion
// bash|zsh|fish|powershell`). Each command's RunE calls the cmd* function that does the
// work; the exit codes and one-line errors stay run's.

const rootLong = `pubdoc — why did my package publish fail?

Reads the log of a failed publish job (npm, PyPI, crates.io, RubyGems, NuGet,
JSR, containers, Maven/Gradle), names the root cause with the lines that
prove it, and gives the fix. Exit status: 0 when it ran, 1 on a runtime
failure (and for check and kb, on findings), 2 on a usage error or
unreadable input.`

// Each command's environment, shown under "Environment:" in its --help.
const (
	envCommon = `  NO_COLOR                  no colour, even on a terminal
  PUBDOC_LOG_LEVEL          error (default), warn, info or debug: logs on stderr`
	envGitHub = `  GITHUB_TOKEN[_FILE]       token that reads the repository's Actions runs
  GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY[_FILE]
                            or a GitHub App installed on the repository
  GITHUB_API_URL            GitHub Enterprise Server's API (default GitHub's)
  PUBDOC_NPM_REGISTRY_URL   where the public npm registry is reached (a
                            mirror, a proxy); default registry.npmjs.org
  NPM_TOKEN[_FILE]          adds the package's trusted publishers`
	envDiagnose = envCommon + `
 For a run URL, a pull request or a run id (missing credentials exit 2):
` + envGitHub
	envServe = `  PUBDOC_ADDR               listen address (default :8080)
  PUBDOC_DATABASE_URL[_FILE]
                            postgres://… for several replicas; default a
                            SQLite file in PUBDOC_DATA_DIR (default ./data)
  SLACK_BOT_TOKEN[_FILE], SLACK_SIGNING_SECRET[_FILE]
                            Slack's HTTP Events API mode
  SLACK_APP_TOKEN[_FILE]    Socket Mode (no public URL needed) when set
  PUBDOC_SLACK_API_URL      Slack Web API base URL (tests, proxies)
  GITHUB_WEBHOOK_SECRET[_FILE]
                            required for /github/webhook (401 without a valid
                            X-Hub-Signature-256)
  GITHUB_TOKEN[_FILE], or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY[_FILE]
                            GitHub API auth
  GITHUB_API_URL            GitHub API base URL (default GitHub's)
  PUBDOC_NPM_REGISTRY_URL, NPM_TOKEN[_FILE]
                            registry look-ups, on by default against the
                            public npm registry
  PUBDOC_API_TOKEN[_FILE]   bearer token for POST /api/diagnose (off without)
  PUBDOC_ADMIN_ADDR         second listener for /metrics and /api/diagnose
  PUBDOC_ROUTES             YAML file: which repos post to which channels
  PUBDOC_THREAD_WINDOW      how long repeats join a thread (default 24h)
  PUBDOC_LOG_LEVEL          debug, info (default), warn or error`
	envAction = `  INPUT_*                   the action's inputs, as action.yml passes them
                            (mode, log-file, run-url, path, package, …)
  GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_SERVER_URL
                            the run to diagnose (set by the runner)
  GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE, RUNNER_TEMP
                            where the answers go (set by the runner)
` + envGitHub
)

const usageTemplate = `Usage:{{if .HasAvailableSubCommands}}
  {{.CommandPath}} COMMAND [flags]{{else}}
  {{.UseLine}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsagesWrapped 80 | trimTrailingWhitespaces}}{{end}}{{with index .Annotations "environment"}}

Environment:
{{.}}{{end}}{{if .HasAvailableSubCommands}}

Run '{{.CommandPath}} COMMAND --help' for its flags and examples.{{end}}
`

// dispatch runs one command line. It is also how `pubdoc action` runs diagnose and check
// in this process.
func dispatch(args []string, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) == 0 {
		root := newRoot(stdin, stdout, stderr, logger)
		root.SetOut(stderr)
		_ = root.Usage()
		return usagef("no command given")
	}
	if args[0] == "--version" {
		return cmdVersion(stdout)
	}
	root := newRoot(stdin, stdout, stderr, logger)
	root.SetArgs(goStyleFlags(root, args))
	return root.Execute()
}

// newRoot builds the command tree, its commands writing to stdout and reading stdin.
func newRoot(stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) *cobra.Command {
	root := &cobra.Command{
		Use:                   "pubdoc",
		Short:                 "why did my package publish fail?",
		Long:                  rootLong,
		SilenceErrors:         true,
		SilenceUsage:          true,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envCommon + "\n diagnose with a run, a pull request or a run id reads:\n" + envGitHub},
		// The root runs nothing: a word that is not a command is a usage error (exit 2).
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q (pubdoc --help lists them)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			_ = cmd.Usage()
			return usagef("no command given")
		},
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(flagError)
	root.CompletionOptions.HiddenDefaultCmd = false
	root.AddCommand(
		newDiagnoseCmd(stdin, stdout, stderr, logger),
		newCheckCmd(stdout),
		newKBCmd(stdout, logger),
		newServeCmd(),
		newMCPCmd(stdin, stdout, logger),
		newActionCmd(stdin, stdout, stderr, logger),
		newVersionCmd(stdout),
		newConfigCmd(stdout),
	)
	return root
}

// flagError makes a flag the command does not know, or a bad flag value, a usage error;
// under --format json it also prints the error envelope, like any other failure.
func flagError(cmd *cobra.Command, err error) error {
	uerr := usagef("%s: %v", cmd.Name(), err)
	if f := cmd.Flags().Lookup("format"); f != nil {
		writeJSONError(cmd.OutOrStdout(), f.Value.String(), uerr)
	}
	return uerr
}

// goStyleFlags accepts the single-dash long flags Go's flag package took before the CLI
// moved to cobra (`kb eval -v -windows DIR`, `diagnose -format json`): "-name" or
// "-name=value" naming a long flag of the command becomes "--name…".
func goStyleFlags(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil {
		return args
	}
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if f := cmd.Flags().Lookup(name); f != nil && len(name) > 1 {
			out[i] = "-" + a
		}
	}
	return out
}

// formatFlag declares --format with its choices, completed by the shells.
func formatFlag(cmd *cobra.Command, p *string, choices ...string) {
	cmd.Flags().StringVar(p, "format", choices[0], "output format: "+strings.Join(choices, ", "))
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp))
}

func checkFormat(cmd string, format string, choices ...string) error {
	for _, c := range choices {
		if format == c {
			return nil
		}
	}
	return usagef("%s: --format must be %s, not %q", cmd, orList(choices), format)
}

func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func newDiagnoseCmd(stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) *cobra.Command {
	var opt diagnoseOptions
	cmd := &cobra.Command{
		Use:   "diagnose [--format text|markdown|json] [--explain] [INPUT]",
		Short: "name the cause of a failed publish: a log, a run, a pull request",
		Long: `Diagnose a failed publish. INPUT is one of:
  FILE      a CI log: text, .gz, UTF-16, or the zip of a run's logs
  -         stdin, also when INPUT is left out (on a terminal: paste the
            log, then Ctrl-D, or Ctrl-Z Enter on Windows)
  RUN_URL   a GitHub Actions run or job URL (auto mode: the failed jobs'
            logs, the workflow at that commit, the npm registry)
  PR_URL    a pull request URL: the failed runs of its head commit
  RUN_ID    a run id, of --repo OWNER/REPO or else of the repository the
            current directory's git remote names (as gh reads it)
The text answer fits one screen; --explain (-v) adds the facts, the
reasons and every candidate's cause and fix. Exit 0 when it ran, whatever
the verdict; 1 on a runtime failure; 2 on a usage error or unreadable
input. With --format json a failure is JSON too (pubdoc.error/v1).`,
		Example: `  pubdoc diagnose job.log
  gh run view 123 --log-failed | pubdoc diagnose
  pubdoc diagnose job.log --format json | jq -r .verdict
  pubdoc diagnose https://github.com/acme/widgets/actions/runs/123
  pubdoc diagnose https://github.com/acme/widgets/pull/45
  pubdoc diagnose --repo acme/widgets 123`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envDiagnose},
		RunE: func(_ *cobra.Command, args []string) error {
			return cmdDiagnose(opt, args, stdin, stdout, stderr, logger)
		},
	}
	formatFlag(cmd, &opt.format, "text", "markdown", "json")
	cmd.Flags().BoolVarP(&opt.explain, "explain", "v", false, "add the facts, the reasons and every candidate's cause and fix")
	cmd.Flags().StringVar(&opt.repo, "repo", "", "OWNER/REPO of a run id (default: the current git remote's)")
	return cmd
}

func newCheckCmd(stdout io.Writer) *cobra.Command {
	var opt checkOptions
	cmd := &cobra.Command{
		Use:   "check [--format FORMAT] [--package FILE] [--fix | --diff] [PATH ...]",
		Short: "predict publish failures in workflow files before they run",
		Long: `Check GitHub Actions workflow files, or the directories holding them
(default .github/workflows), for what will fail the publish: npm too old
for trusted publishing, a missing id-token: write, and more. Each finding
names the file as given, the line, the fix and a snippet. Exit 1 on an
error-level finding, so it can gate CI; 2 when a file cannot be read.
--fix edits the files for every finding with a mechanical fix (node-version,
permissions, an npm pin, registry-url, --provenance, publishConfig.access)
and keeps comments, order and indentation; --diff prints the same edits as
a unified diff instead. A second --fix changes nothing.
--format github prints workflow commands (::error file=…,line=…::) that
annotate the lines in a run; sarif is SARIF 2.1.0 for code scanning.`,
		Example: `  pubdoc check
  pubdoc check .github/workflows/release.yml --package packages/cli/package.json
  pubdoc check --diff | git apply --check   # the fixes, as a patch
  pubdoc check --fix                         # or made in place
  pubdoc check --format sarif > pubdoc.sarif
  pubdoc check --format github .github/workflows`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envCommon},
		RunE: func(_ *cobra.Command, args []string) error {
			return cmdCheck(opt, args, stdout)
		},
	}
	formatFlag(cmd, &opt.format, "text", "json", "markdown", "sarif", "github")
	cmd.Flags().StringVar(&opt.pkg, "package", "package.json", "the package.json being published (read when it exists)")
	cmd.Flags().BoolVar(&opt.fix, "fix", false, "edit the files to fix what has a mechanical fix (comments and layout kept), then report what is left")
	cmd.Flags().BoolVar(&opt.diff, "diff", false, "print those fixes as a unified diff (git apply), writing nothing")
	return cmd
}

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "run the Slack bot, the GitHub webhook receiver and the HTTP API",
		Long: `Run the bot until SIGTERM: Slack (HTTP events or Socket Mode), the GitHub
workflow_run webhook, POST /api/diagnose, /healthz, /readyz and /metrics.
It takes no arguments: it is configured by environment, each secret also
as NAME_FILE (a mounted file). docs/deploy.md and docs/slack.md set it up.`,
		Example: `  SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… GITHUB_WEBHOOK_SECRET=… \
  GITHUB_TOKEN=… PUBDOC_ROUTES=routes.yaml pubdoc serve`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envServe},
		RunE: func(_ *cobra.Command, args []string) error {
			return cmdServe(args)
		},
	}
}

func newMCPCmd(stdin io.Reader, stdout io.Writer, logger *slog.Logger) *cobra.Command {
	return &cobra.Command{
		Use:   "mcp",
		Short: "serve the Model Context Protocol on stdio for coding agents",
		Long: `Serve the Model Context Protocol on stdin and stdout, for coding agents: the
tools diagnose_log, diagnose_run, check_workflow and search_causes answer
with the JSON the CLI prints with --format json (docs/mcp.md).`,
		Example:               `  claude mcp add pubdoc -- pubdoc mcp`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envCommon + "\n diagnose_run reads:\n" + envGitHub},
		RunE: func(_ *cobra.Command, args []string) error {
			return cmdMCP(args, stdin, stdout, logger)
		},
	}
}

func newActionCmd(stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) *cobra.Command {
	var mode string
	cmd := &cobra.Command{
		Use:   "action [--mode diagnose|check]",
		Short: "the GitHub Action's entry (action.yml), from INPUT_* variables",
		Long: `The entry of the GitHub Action (action.yml). diagnose reads the current
run's failed jobs (or the log-file input), writes the job summary, puts an
annotation on the workflow line to change and sets the step's outputs;
check checks the workflows under the path input, annotates each finding and
writes a SARIF file.`,
		Example:               `  - uses: pubdoc/pubdoc@v1   # in a job that needs: the publish job`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envAction},
		RunE: func(_ *cobra.Command, args []string) error {
			return cmdAction(mode, args, stdin, stdout, stderr, logger)
		},
	}
	cmd.Flags().StringVar(&mode, "mode", "", "diagnose or check (default: the mode input, else diagnose)")
	return cmd
}

func newConfigCmd(stdout io.Writer) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "config [--format text|json]",
		Short: "print the effective configuration, secrets redacted",
		Long: `Print the configuration every command reads from the environment (serve,
diagnose with a run, mcp, action): each variable's effective value, its
default when unset, and <secret> for a credential that is set (from NAME or
NAME_FILE). An invalid value fails it with one line naming the variable
(exit 2), as it fails serve's start.`,
		Example: `  pubdoc config
  pubdoc config --format json | jq '.variables[] | select(.default | not)'`,
		DisableFlagsInUseLine: true,
		Annotations:           map[string]string{"environment": envServe},
		Args:                  noArgs,
		RunE:                  func(*cobra.Command, []string) error { return cmdConfig(format, stdout) },
	}
	formatFlag(cmd, &format, "text", "json")
	return cmd
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:                   "version",
		Short:                 "print the version, commit, build date and rule count",
		Example:               "  pubdoc version\n  pubdoc --version",
		DisableFlagsInUseLine: true,
		Args:                  noArgs,
		RunE:                  func(*cobra.Command, []string) error { return cmdVersion(stdout) },
	}
}

// noArgs refuses arguments with a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments (got %q)", cmd.CommandPath()[len("pubdoc "):], args[0])
	}
	return nil
}

// visitCommands calls f on cmd and every command under it.
func visitCommands(cmd *cobra.Command, f func(*cobra.Command)) {
	f(cmd)
	for _, c := range cmd.Commands() {
		visitCommands(c, f)
	}
}
