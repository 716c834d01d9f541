package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/bot/slackbot"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/workflow"
	"github.com/pubdoc/pubdoc/internal/ghaction"
)

// cmdAction is the entry of the repository's GitHub Action (action.yml): the action's
// inputs arrive as INPUT_* variables, the answers go where the runner reads them (the job
// summary, annotations on stdout, the step's outputs). It runs `diagnose` or `check` in
// this process and reads their JSON answers, so it says what the CLI says.
func cmdAction(mode string, args []string, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) error {
	if len(args) > 0 {
		return usagef("action: takes no arguments (its inputs are INPUT_* variables; see action.yml)")
	}
	getenv := os.Getenv
	if mode != "" {
		getenv = func(k string) string {
			if k == "INPUT_MODE" {
				return mode
			}
			return os.Getenv(k)
		}
	}
	env, err := ghaction.FromEnv(getenv)
	if err != nil {
		return usagef("action: %v", err)
	}
	if env.Mode == ghaction.ModeCheck {
		return actionCheck(env, stdout, logger)
	}
	return actionDiagnose(env, stdin, stdout, stderr, logger)
}

// actionDiagnose diagnoses the log file, else the current run's failed jobs through the API.
func actionDiagnose(env ghaction.Env, stdin io.Reader, stdout, stderr io.Writer, logger *slog.Logger) error {
	input, runURL := env.LogFile, ""
	if input == "" {
		input = env.CurrentRunURL()
		runURL = input
	}
	if input == "" {
		return usagef("action: nothing to diagnose: give the log-file input, or run in GitHub Actions (GITHUB_REPOSITORY and GITHUB_RUN_ID name the run)")
	}
	var out bytes.Buffer
	derr := dispatch([]string{"diagnose", "--format", "json", input}, stdin, &out, io.Discard, logger)
	jsonPath := env.JSONFile
	if jsonPath == "" {
		jsonPath = env.TempPath(os.TempDir(), "pubdoc-diagnosis.json")
	}
	if err := os.WriteFile(jsonPath, out.Bytes(), 0o644); err != nil {
		return fmt.Errorf("action: writing the JSON answer: %w", err)
	}
	if derr != nil {
		msg := strings.ReplaceAll(derr.Error(), "\n", "; ")
		_ = ghaction.WriteAnnotations(stdout, []ghaction.Annotation{{Level: ghaction.LevelError, Title: "Pubdoc could not diagnose " + display(input), Message: msg}})
		_ = appendSummary(env, stderr, "### Pubdoc could not diagnose "+mdCode(display(input))+"\n\n"+msg+"\n")
		_ = setOutputs(env, stderr, [][2]string{{"json", jsonPath}})
		return derr
	}
	var ans diagnose.Answer
	if err := json.Unmarshal(out.Bytes(), &ans); err != nil || ans.Result == nil {
		return fmt.Errorf("action: reading the diagnosis: %w", err)
	}
	results := jobResults(&ans)
	lead := ans.Result

	var anns []ghaction.Annotation
	for _, r := range results {
		if r == nil || (r.Job != lead.Job && r.Verdict != diagnose.Diagnosed) {
			continue
		}
		prefix := ""
		if len(results) > 1 {
			prefix = r.Job
		}
		anns = append(anns, ghaction.DiagnosisAnnotations(r, prefix)...)
	}
	if err := ghaction.WriteAnnotations(stdout, anns); err != nil {
		return err
	}
	if err := appendSummary(env, stderr, diagnosisSummary(input, runURL, jsonPath, lead, results)); err != nil {
		return err
	}
	if err := setOutputs(env, stderr, diagnosisOutputs(lead, jsonPath)); err != nil {
		return err
	}
	if err := postToSlack(env, lead, runURL, logger); err != nil {
		// The answer is in the summary already: a Slack failure is a warning, not a
		// failed step.
		_ = ghaction.WriteAnnotations(stdout, []ghaction.Annotation{{Level: ghaction.LevelWarning, Title: "Pubdoc could not post to Slack", Message: err.Error()}})
	}
	return nil
}

// jobResults are the answer's per-job results with their names and URLs restored (JSON
// carries them on the job entry), or the one result of a log.
func jobResults(ans *diagnose.Answer) []*diagnose.Result {
	if len(ans.Jobs) == 0 {
		return []*diagnose.Result{ans.Result}
	}
	out := make([]*diagnose.Result, 0, len(ans.Jobs))
	for _, j := range ans.Jobs {
		if j.Result == nil {
			continue
		}
		j.Result.Job, j.JobURL = j.Job, j.URL
		if j.Job == ans.Job {
			ans.JobURL = j.URL
		}
		out = append(out, j.Result)
	}
	return out
}

func diagnosisSummary(input, runURL, jsonPath string, lead *diagnose.Result, results []*diagnose.Result) string {
	var b strings.Builder
	b.WriteString("# Pubdoc: why the publish failed\n\n")
	if runURL != "" {
		fmt.Fprintf(&b, "Diagnosed from the failed jobs of [this run](%s).\n\n", runURL)
	} else {
		fmt.Fprintf(&b, "Diagnosed from the log %s.\n\n", mdCode(input))
	}
	_ = diagnose.RenderMarkdown(&b, lead)
	for _, r := range results {
		if r == nil || r.Job == lead.Job {
			continue
		}
		b.WriteString("\n---\n\n")
		_ = diagnose.RenderMarkdown(&b, r)
	}
	fmt.Fprintf(&b, "\n<sub>The full answer (JSON) is the step's `json` output: %s.</sub>\n", mdCode(jsonPath))
	return b.String()
}

// diagnosisOutputs are the step's outputs: verdict, the cause's rule id (only when the
// answer stands behind one), the top candidate's confidence, the candidates of an
// inconclusive answer and the JSON file.
func diagnosisOutputs(lead *diagnose.Result, jsonPath string) [][2]string {
	cause, title, confidence := "", "", ""
	var candidates []string
	if len(lead.Diagnoses) > 0 {
		top := lead.Diagnoses[0]
		confidence = strconv.FormatFloat(top.Confidence, 'f', 2, 64)
		if lead.Verdict == diagnose.Diagnosed {
			cause, title = top.ID, top.Title
		}
		if lead.Verdict == diagnose.Inconclusive {
			for _, d := range lead.Diagnoses[:min(len(lead.Diagnoses), 5)] {
				candidates = append(candidates, d.ID)
			}
		}
	}
	return [][2]string{
		{"verdict", lead.Verdict},
		{"cause", cause},
		{"title", title},
		{"confidence", confidence},
		{"candidates", strings.Join(candidates, ",")},
		{"job", lead.Job},
		{"json", jsonPath},
	}
}

// postToSlack posts the lead job's answer with the bot's rendering: through an incoming
// webhook, or as the bot to a channel.
func postToSlack(env ghaction.Env, lead *diagnose.Result, runURL string, logger *slog.Logger) error {
	if env.SlackWebhookURL == "" && env.SlackBotToken == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply := bot.Reply{Result: lead, RunURL: runURL, JobURL: lead.JobURL, Title: slackTitle(env)}
	if env.SlackWebhookURL != "" {
		return slackbot.PostWebhook(ctx, nil, env.SlackWebhookURL, reply)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	c, err := slackbot.New(slackbot.Config{BotToken: slackbot.Secret(env.SlackBotToken), APIURL: cfg.SlackAPIURL}, logger)
	if err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	_, err = c.Post(ctx, bot.Target{Channel: env.SlackChannel}, reply)
	return err
}

// slackTitle heads the Slack message as the bot's auto mode does: "acme/cli · Release
// failed on main".
func slackTitle(env ghaction.Env) string {
	if env.Repository == "" {
		return ""
	}
	s := env.Repository
	if env.Workflow != "" {
		s += " · " + env.Workflow + " failed"
	}
	if env.RefName != "" {
		s += " on " + env.RefName
	}
	return s
}

// actionCheck runs `check` on the workflows and turns its findings into annotations, a
// SARIF file for code scanning and a job summary; an error finding fails the step unless
// fail-on-error is false.
func actionCheck(env ghaction.Env, stdout io.Writer, logger *slog.Logger) error {
	paths := env.Paths
	if len(paths) == 0 {
		paths = []string{filepath.Join(".github", "workflows")}
	}
	files, err := workflowFiles("action", paths)
	if err != nil {
		return err
	}
	args := []string{"check", "--format", "json", "--diff"}
	if env.Package != "" {
		args = append(args, "--package", env.Package)
	}
	var out bytes.Buffer
	cerr := dispatch(append(args, files...), nil, &out, io.Discard, logger)
	var ans checkAnswer
	if err := json.Unmarshal(out.Bytes(), &ans); err != nil || ans.Schema != diagnose.SchemaCheck {
		// No findings to show: the check itself failed (an unreadable file, YAML that
		// does not parse).
		if cerr == nil {
			cerr = fmt.Errorf("action: reading the check's answer: %w", err)
		}
		msg := strings.ReplaceAll(cerr.Error(), "\n", "; ")
		_ = ghaction.WriteAnnotations(stdout, []ghaction.Annotation{{Level: ghaction.LevelError, Title: "Pubdoc could not check the workflows", Message: msg}})
		return cerr
	}
	pathOf := findingPath(env, files)
	sarifPath := env.SARIFFile
	if sarifPath == "" {
		sarifPath = env.TempPath(os.TempDir(), "pubdoc.sarif")
	}
	v, _, _ := buildVersion()
	if err := writeSARIF(sarifPath, ghaction.CheckSARIF(ans.Findings, v, pathOf)); err != nil {
		return err
	}
	if err := ghaction.WriteAnnotations(stdout, ghaction.CheckAnnotations(ans.Findings, pathOf)); err != nil {
		return err
	}
	errs, warns := 0, 0
	for _, f := range ans.Findings {
		if f.Severity == "error" {
			errs++
		} else {
			warns++
		}
	}
	if err := appendSummary(env, io.Discard, checkSummary(ans.Findings, files, pathOf, errs, warns)+ghaction.PatchSummary(ans.Patch, len(ans.Fixed))); err != nil {
		return err
	}
	if err := setOutputs(env, io.Discard, [][2]string{
		{"sarif", sarifPath}, {"errors", strconv.Itoa(errs)}, {"warnings", strconv.Itoa(warns)},
	}); err != nil {
		return err
	}
	if errs > 0 && env.FailOnError {
		return codeError{fmt.Errorf("action: %d error(s) in the workflows: each would fail the publish (see the annotations)", errs), exitRuntime}
	}
	return nil
}

// findingPath maps a finding's file (as given, or its base name) to the path from the
// repository root an annotation and SARIF need.
func findingPath(env ghaction.Env, files []string) func(string) string {
	return func(f string) string {
		if slices.Contains(files, f) {
			return env.RepoPath(f)
		}
		match := ""
		for _, g := range files {
			if filepath.Base(g) == f {
				if match != "" {
					return env.RepoPath(f) // two files of that name: leave it as it is
				}
				match = g
			}
		}
		if match != "" {
			return env.RepoPath(match)
		}
		return env.RepoPath(f)
	}
}

func checkSummary(findings []workflow.Finding, files []string, pathOf func(string) string, errs, warns int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Pubdoc check: %d error(s), %d warning(s) in %d workflow file(s)\n\n", errs, warns, len(files))
	if len(findings) == 0 {
		b.WriteString("Nothing in these workflows is known to fail a publish.\n")
		return b.String()
	}
	b.WriteString("| | Where | What will fail | Fix |\n|---|---|---|---|\n")
	for _, f := range findings {
		icon := "⚠️"
		if f.Severity == "error" {
			icon = "❌"
		}
		fmt.Fprintf(&b, "| %s | `%s:%d` | %s `%s` | %s |\n", icon, pathOf(f.File), f.Line, mdCell(f.Message), f.ID, mdCell(f.Fix))
	}
	return b.String()
}

func writeSARIF(path string, s *ghaction.SARIF) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("action: writing the SARIF file: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("action: writing the SARIF file: %w", cerr)
		}
	}()
	return s.Write(f)
}

// appendSummary writes the job summary; outside Actions (no GITHUB_STEP_SUMMARY) it says
// so on w and goes on.
func appendSummary(env ghaction.Env, w io.Writer, md string) error {
	if env.Summary == "" {
		fmt.Fprintln(w, "pubdoc: GITHUB_STEP_SUMMARY is not set; no job summary written")
		return nil
	}
	if err := ghaction.AppendSummary(env.Summary, md); err != nil {
		return fmt.Errorf("action: %w", err)
	}
	return nil
}

// setOutputs sets the step's outputs; outside Actions (no GITHUB_OUTPUT) it says so on w.
func setOutputs(env ghaction.Env, w io.Writer, pairs [][2]string) error {
	if env.OutputFile == "" {
		fmt.Fprintln(w, "pubdoc: GITHUB_OUTPUT is not set; no outputs set")
		return nil
	}
	if err := ghaction.SetOutputs(env.OutputFile, pairs); err != nil {
		return fmt.Errorf("action: %w", err)
	}
	return nil
}

func mdCode(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }

// mdCell keeps text inside one Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\r\n", "<br>", "\n", "<br>").Replace(s)
}
