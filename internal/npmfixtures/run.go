package npmfixtures

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/pubdoc/pubdoc/internal/fakenpm"
	"github.com/pubdoc/pubdoc/knowledge"
)

// Recording is what one npm run printed, sanitized, and how it ended.
type Recording struct {
	Scenario Scenario
	NPM      string // npm version
	Level    string // default | verbose
	Output   string // npm's stdout and stderr, interleaved as printed
	ExitCode int
	Node     string // node version that ran it
}

// CLIPath is where `npm install --prefix CACHE/npm/V npm@V` puts npm V's entry point.
func CLIPath(cache, version string) string {
	return filepath.Join(cache, "npm", version, "node_modules", "npm", "bin", "npm-cli.js")
}

// Install puts npm@version into the cache with the machine's npm (a no-op when present).
func Install(ctx context.Context, cache, version string) error {
	if _, err := os.Stat(CLIPath(cache, version)); err == nil {
		return nil
	}
	dir := filepath.Join(cache, "npm", version)
	cmd := exec.CommandContext(ctx, "npm", "install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", "npm@"+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("installing npm@%s: %w: %s", version, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Applies reports whether the scenario means something for that npm version.
func (s Scenario) Applies(version string) bool {
	v := knowledge.MustVersion(version)
	if s.MinVersion != "" && v.Compare(knowledge.MustVersion(s.MinVersion)) < 0 {
		return false
	}
	if s.MaxVersion != "" && v.Compare(knowledge.MustVersion(s.MaxVersion)) > 0 {
		return false
	}
	return true
}

const placeholderToken = "XXXXX-XXXXX-XXXXX-XXXXX"

// Record runs one scenario with one npm and log level against a fresh fake registry.
func Record(ctx context.Context, cache string, s Scenario, version, level string) (*Recording, error) {
	cache, err := filepath.Abs(cache)
	if err != nil {
		return nil, err
	}
	cli := CLIPath(cache, version)
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("npm %s is not installed in %s (run make fixtures): %w", version, cache, err)
	}
	reg, err := fakenpm.Start(0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = reg.Close() }()
	if s.Setup != nil {
		s.Setup(reg)
	}
	reg.SetClaims(s.Claims)
	switch s.Token {
	case Valid:
		reg.AddToken("npm_granularValidToken000000000000000000", "")
	case Expired, Placeholder, NoToken, Empty:
	}

	work, err := os.MkdirTemp("", "npmfixture-*")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }()
	home := filepath.Join(work, "home")
	pkgDir := filepath.Join(work, "widgets")
	for _, d := range []string{home, pkgDir, filepath.Join(work, "global")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if s.Package != "" {
		manifest := fmt.Sprintf(`{"name": %q, "version": %q, "description": "widgets", "main": "index.js", "license": "MIT", "repository": {"type": "git", "url": "git+https://github.com/%s.git"}}`+"\n", s.Package, s.Version, repo)
		files := map[string]string{"package.json": manifest, "index.js": "module.exports = () => 'widget'\n", "README.md": "# widgets\n"}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(pkgDir, name), []byte(body), 0o644); err != nil {
				return nil, err
			}
		}
	}
	// setup-node with registry-url writes this user config and exports NODE_AUTH_TOKEN.
	regHostPath := strings.TrimPrefix(reg.URL, "http:")
	npmrc := filepath.Join(work, "npmrc")
	rc := ""
	if s.Token != NoToken {
		rc = regHostPath + ":_authToken=${NODE_AUTH_TOKEN}\nregistry=" + reg.URL + "\n"
	} else {
		rc = "registry=" + reg.URL + "\n"
	}
	if err := os.WriteFile(npmrc, []byte(rc), 0o644); err != nil {
		return nil, err
	}
	globalrc := filepath.Join(work, "globalnpmrc")
	if err := os.WriteFile(globalrc, nil, 0o644); err != nil {
		return nil, err
	}

	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "LANG=C.UTF-8",
		"CI=true", "GITHUB_ACTIONS=true", "RUNNER_OS=Linux", "GITHUB_REPOSITORY=" + repo,
		"NPM_CONFIG_USERCONFIG=" + npmrc, "NPM_CONFIG_GLOBALCONFIG=" + globalrc,
		"NPM_CONFIG_CACHE=" + filepath.Join(home, ".npm"), "NPM_CONFIG_UPDATE_NOTIFIER=false",
		"NPM_CONFIG_AUDIT=false", "NPM_CONFIG_FUND=false", "NO_COLOR=1",
	}
	switch s.Token {
	case Placeholder:
		env = append(env, "NODE_AUTH_TOKEN="+placeholderToken)
	case Valid:
		env = append(env, "NODE_AUTH_TOKEN=npm_granularValidToken000000000000000000")
	case Expired:
		env = append(env, "NODE_AUTH_TOKEN=npm_expiredToken00000000000000000000000")
	case Empty:
		env = append(env, "NODE_AUTH_TOKEN=")
	}
	if s.IDToken {
		env = append(env, "ACTIONS_ID_TOKEN_REQUEST_URL="+reg.IDTokenURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+reg.IDTokenRequestToken)
	}
	args := []string{cli}
	if len(s.Command) > 0 {
		args = append(args, s.Command...)
		args = append(args, "--prefix", filepath.Join(work, "global"))
	} else {
		args = append(args, "publish")
		args = append(args, s.Args...)
	}
	if level == "verbose" {
		args = append(args, "--loglevel", "verbose")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = pkgDir
	if s.Package == "" {
		cmd.Dir = work
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		return nil, fmt.Errorf("running npm %s: %w", version, err)
	}
	nodeVersion := strings.TrimPrefix(runtime.Version(), "go")
	if v, err := exec.Command("node", "--version").Output(); err == nil {
		nodeVersion = strings.TrimPrefix(strings.TrimSpace(string(v)), "v")
	}
	return &Recording{
		Scenario: s, NPM: version, Level: level, ExitCode: code, Node: nodeVersion,
		Output: Sanitize(out.String(), reg.URL, work, home, cli, nodeVersion),
	}, nil
}

var (
	reDuration = regexp.MustCompile(`\b\d+ms\b`)
	reLogStamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d_\d\d_\d\d_\d{3}Z`)
	reOS       = regexp.MustCompile(`(npm verb(?:ose)? os ).*`)
	reNodePath = regexp.MustCompile(`(npm verb(?:ose)? cli )\S+ \S+`)
	reAudience = regexp.MustCompile(`audience=npm%3A127\.0\.0\.1(?:%3A\d+)?`)
	reTimingMs = regexp.MustCompile(`in \d+ms`)
)

// Sanitize makes a recording reproducible and shaped like a run against the real services:
// the loopback registry becomes https://registry.npmjs.org/, the token service a GitHub-like
// URL, temporary directories and the npm install folder the runner's, and durations and
// log-file stamps fixed values.
// Nothing else of npm's text changes.
func Sanitize(out, registryURL, work, home, cli, node string) string {
	base := strings.TrimSuffix(registryURL, "/")
	tool := "/opt/hostedtoolcache/node/" + node + "/x64"
	r := strings.NewReplacer(
		base+"/_github/idtoken", "https://run-actions-3-azure-eastus.actions.githubusercontent.com/42//idtoken/6b1f0c3a/2c6d",
		base, "https://registry.npmjs.org",
		strings.TrimPrefix(base, "http:"), "//registry.npmjs.org",
		filepath.Dir(filepath.Dir(cli)), tool+"/lib/node_modules/npm", // the npm package (stack traces, cli path)
		filepath.Join(home, ".npm"), "/home/runner/.npm",
		filepath.Join(work, "widgets"), "/home/runner/work/widgets/widgets",
		filepath.Join(work, "global"), tool,
		home, "/home/runner",
		work, "/home/runner/work/_temp",
	)
	out = r.Replace(out)
	out = reAudience.ReplaceAllString(out, "audience=npm%3Aregistry.npmjs.org")
	out = reDuration.ReplaceAllString(out, "100ms")
	out = reTimingMs.ReplaceAllString(out, "in 100ms")
	out = reLogStamp.ReplaceAllString(out, "2026-11-20T10_00_00_000Z")
	out = reOS.ReplaceAllString(out, "${1}Linux 6.11.0-1018-azure")
	out = reNodePath.ReplaceAllString(out, "${1}"+tool+"/bin/node "+tool+"/bin/npm")
	return out
}
