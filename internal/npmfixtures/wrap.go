package npmfixtures

import (
	"fmt"
	"strings"
)

// JobLog wraps a recording into a full GitHub Actions job log, as the runner writes it.
func JobLog(r *Recording) string {
	s := r.Scenario
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	add("Current runner version: '2.329.0'")
	add("##[group]Runner Image Provisioner")
	add("Hosted Compute Agent")
	add("Version: 20251016.436")
	add("##[endgroup]")
	add("##[group]Operating System")
	add("Ubuntu")
	add("24.04.3")
	add("LTS")
	add("##[endgroup]")
	add("##[group]Runner Image")
	add("Image: ubuntu-24.04")
	add("Version: 20251112.124.1")
	add("##[endgroup]")
	add("##[group]GITHUB_TOKEN Permissions")
	add("Contents: read")
	if s.IDToken {
		add("IdToken: write")
	}
	add("Metadata: read")
	add("##[endgroup]")
	add("Secret source: Actions")
	add("Prepare workflow directory")
	add("Prepare all required actions")
	add("Getting action download info")
	add("Download action repository 'actions/checkout@v5' (SHA:08c6903cd8c0fde910a37f88322edcfb5dd907a8)")
	add("Download action repository 'actions/setup-node@v5' (SHA:a0853c24544627f65ddf259abe73b1d18a591444)")
	add("Complete job name: publish")
	add("##[group]Run actions/checkout@v5")
	add("with:")
	add("  repository: %s", repo)
	add("  token: ***")
	add("##[endgroup]")
	add("##[group]Run actions/setup-node@v5")
	add("with:")
	add("  node-version: %s", strings.SplitN(r.Node, ".", 2)[0])
	if s.Token != NoToken {
		add("  registry-url: https://registry.npmjs.org")
	}
	add("  token: ***")
	add("##[endgroup]")
	add("Found in cache @ /opt/hostedtoolcache/node/%s/x64", r.Node)
	add("##[group]Environment details")
	add("node: v%s", r.Node)
	add("npm: %s", r.NPM)
	add("yarn: 1.22.22")
	add("##[endgroup]")
	cmd := "npm publish"
	if len(s.Args) > 0 {
		cmd += " " + strings.Join(s.Args, " ")
	}
	if s.Step != "" {
		cmd = s.Step
	}
	if r.Level == "verbose" {
		cmd += " --loglevel verbose"
	}
	add("##[group]Run %s", cmd)
	add("%s", cmd)
	add("shell: /usr/bin/bash -e {0}")
	if s.Token != NoToken {
		add("env:")
		add("  NPM_CONFIG_USERCONFIG: /home/runner/work/_temp/.npmrc")
		switch s.Token {
		case Placeholder:
			add("  NODE_AUTH_TOKEN: %s", placeholderToken)
		case Empty:
			add("  NODE_AUTH_TOKEN: ") // a secret that is not set expands to nothing
		default:
			add("  NODE_AUTH_TOKEN: ***") // a secret: the runner masks it
		}
	}
	add("##[endgroup]")
	for _, l := range strings.Split(strings.TrimRight(r.Output, "\n"), "\n") {
		add("%s", l)
	}
	if r.ExitCode != 0 {
		add("##[error]Process completed with exit code %d.", r.ExitCode)
	}
	var b strings.Builder
	b.WriteString("\ufeff")
	for i, l := range lines {
		ms := i * 37
		fmt.Fprintf(&b, "2025-11-20T10:%02d:%02d.%03d0000Z %s\n", ms/60000%60, ms/1000%60, ms%1000, l)
	}
	return b.String()
}

// FileName is the fixture's file name.
func FileName(r *Recording) string {
	return fmt.Sprintf("%s--npm-%s--%s.log", r.Scenario.Name, r.NPM, r.Level)
}

// Note says what a reader of the manifest should know about a recording.
func Note(r *Recording) string {
	var notes []string
	if strings.HasPrefix(r.NPM, "12.") && strings.Contains(r.Output, "does not support Node.js") {
		notes = append(notes, "npm "+r.NPM+" warns it does not support Node "+r.Node+" and runs anyway")
	}
	if r.Scenario.Name == "npm-latest-ebadengine" {
		notes = append(notes, "npm@latest pinned to 12.2.1, what latest resolves to today")
	}
	if r.ExitCode == 0 {
		notes = append(notes, "publish succeeded")
	}
	return strings.Join(notes, "; ")
}
