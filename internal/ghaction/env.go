package ghaction

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Modes of the action.
const (
	ModeDiagnose = "diagnose"
	ModeCheck    = "check"
)

// Env is what the action was asked to do and where the runner wants the answers: the
// action's inputs (INPUT_*, as action.yml passes them) and the runner's GITHUB_* and
// RUNNER_* variables.
type Env struct {
	// Mode is diagnose (the default) or check.
	Mode string

	// LogFile (diagnose) is a captured log to read instead of the run's jobs through the
	// API: a job cannot read its own log until it has ended.
	LogFile string
	// RunURL (diagnose) is the run to read; RunURL() builds the current run's when empty.
	RunURL string
	// JSONFile is where the diagnosis' JSON answer is written (output json).
	JSONFile string

	// Paths (check) are workflow files or directories; .github/workflows when empty.
	Paths []string
	// Package (check) is the package.json being published, when not the root one.
	Package string
	// SARIFFile (check) is where the SARIF log is written (output sarif).
	SARIFFile string
	// FailOnError (check) makes an error finding fail the step; true unless the input says
	// false.
	FailOnError bool

	// SlackWebhookURL, or SlackBotToken with SlackChannel, posts the diagnosis to Slack.
	SlackWebhookURL string
	SlackBotToken   string
	SlackChannel    string

	// The runner's variables.
	ServerURL  string // GITHUB_SERVER_URL
	Repository string // GITHUB_REPOSITORY, owner/name
	RunID      string // GITHUB_RUN_ID
	RunAttempt int    // GITHUB_RUN_ATTEMPT
	Workspace  string // GITHUB_WORKSPACE: file paths of annotations are relative to it
	OutputFile string // GITHUB_OUTPUT
	Summary    string // GITHUB_STEP_SUMMARY
	Temp       string // RUNNER_TEMP
	Workflow   string // GITHUB_WORKFLOW, the workflow's name
	RefName    string // GITHUB_REF_NAME, the branch or tag
}

// Input reads an action input: INPUT_NAME with '-' and ' ' as '_' (what action.yml
// passes), else INPUT_NAME as the runner itself names a JavaScript action's inputs (with
// the hyphen kept). Surrounding space is trimmed.
func Input(getenv func(string) string, name string) string {
	upper := strings.ToUpper(strings.ReplaceAll(name, " ", "_"))
	if v := getenv("INPUT_" + strings.ReplaceAll(upper, "-", "_")); v != "" {
		return strings.TrimSpace(v)
	}
	return strings.TrimSpace(getenv("INPUT_" + upper))
}

// FromEnv reads Env; an input that is not one of its documented values is an error.
func FromEnv(getenv func(string) string) (Env, error) {
	e := Env{
		Mode:            strings.ToLower(Input(getenv, "mode")),
		LogFile:         Input(getenv, "log-file"),
		RunURL:          Input(getenv, "run-url"),
		JSONFile:        Input(getenv, "json-file"),
		Paths:           strings.Fields(Input(getenv, "path")),
		Package:         Input(getenv, "package"),
		SARIFFile:       Input(getenv, "sarif-file"),
		FailOnError:     true,
		SlackWebhookURL: Input(getenv, "slack-webhook-url"),
		SlackBotToken:   Input(getenv, "slack-bot-token"),
		SlackChannel:    Input(getenv, "slack-channel"),
		ServerURL:       strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"),
		Repository:      getenv("GITHUB_REPOSITORY"),
		RunID:           getenv("GITHUB_RUN_ID"),
		Workspace:       getenv("GITHUB_WORKSPACE"),
		OutputFile:      getenv("GITHUB_OUTPUT"),
		Summary:         getenv("GITHUB_STEP_SUMMARY"),
		Temp:            getenv("RUNNER_TEMP"),
		Workflow:        getenv("GITHUB_WORKFLOW"),
		RefName:         getenv("GITHUB_REF_NAME"),
	}
	if e.Mode == "" {
		e.Mode = ModeDiagnose
	}
	if e.Mode != ModeDiagnose && e.Mode != ModeCheck {
		return Env{}, fmt.Errorf("input mode: want diagnose or check, not %q", e.Mode)
	}
	if v := strings.ToLower(Input(getenv, "fail-on-error")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return Env{}, fmt.Errorf("input fail-on-error: want true or false, not %q", v)
		}
		e.FailOnError = b
	}
	if (e.SlackBotToken == "") != (e.SlackChannel == "") {
		return Env{}, fmt.Errorf("inputs slack-bot-token and slack-channel go together: give both or neither")
	}
	if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 {
			return Env{}, fmt.Errorf("GITHUB_RUN_ATTEMPT: want a positive number, not %q", a)
		}
		e.RunAttempt = n
	}
	if e.ServerURL == "" {
		e.ServerURL = "https://github.com"
	}
	return e, nil
}

// CurrentRunURL is the run to diagnose: the run-url input, else the run this job is part
// of (its attempt when it is a re-run), else "" outside GitHub Actions.
func (e Env) CurrentRunURL() string {
	if e.RunURL != "" {
		return e.RunURL
	}
	if e.Repository == "" || e.RunID == "" {
		return ""
	}
	u := e.ServerURL + "/" + e.Repository + "/actions/runs/" + e.RunID
	if e.RunAttempt > 1 {
		u += "/attempts/" + strconv.Itoa(e.RunAttempt)
	}
	return u
}

// TempPath is a file in the runner's temporary directory (RUNNER_TEMP, emptied after each
// job), or in dir when the runner gave none.
func (e Env) TempPath(dir, name string) string {
	if e.Temp != "" {
		return filepath.Join(e.Temp, name)
	}
	return filepath.Join(dir, name)
}

// RepoPath is path as an annotation names it: relative to the workspace, with forward
// slashes. A path outside the workspace is returned as it is.
func (e Env) RepoPath(path string) string {
	if path == "" {
		return ""
	}
	if e.Workspace != "" && filepath.IsAbs(path) {
		if rel, err := filepath.Rel(e.Workspace, path); err == nil && !strings.HasPrefix(rel, "..") {
			path = rel
		}
	}
	return strings.TrimPrefix(filepath.ToSlash(path), "./")
}
