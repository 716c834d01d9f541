package bot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Routes says which Slack channel hears about which repository's failures, and which
// channels may ask about which repositories (PUBDOC_ROUTES). The second part is an
// authorization: without it, anyone in any channel could have a private repository's run
// log diagnosed into their channel.
type Routes struct {
	Routes []Route `yaml:"routes"`
	// DefaultChannel hears about failures of repositories no route names. Empty: those
	// failures are not posted.
	DefaultChannel string `yaml:"default_channel"`
}

// Route is one entry of the routes file.
type Route struct {
	// Repos are globs over owner/repo ("acme/*"), matched without regard to case.
	Repos []string `yaml:"repos"`
	// Channel gets the failures of these repositories and may ask about them.
	Channel string `yaml:"channel"`
	// AllowChannels may also ask about these repositories (run URLs).
	AllowChannels []string `yaml:"allow_channels"`
	// Workflows are globs over workflow file names ("ci.yml") whose failures are posted
	// even when the workflow does not publish; by default only publishing workflows are.
	Workflows []string `yaml:"workflows"`
}

// LoadRoutes reads a routes file. An empty path means no routes: nothing is posted
// unprompted and no channel may ask about a run.
func LoadRoutes(file string) (*Routes, error) {
	if file == "" {
		return &Routes{}, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading routes: %w", err)
	}
	r, err := ParseRoutes(data)
	if err != nil {
		return nil, fmt.Errorf("routes %s: %w", file, err)
	}
	return r, nil
}

// ParseRoutes decodes a routes file strictly: unknown keys, bad globs, a route without
// repos or channel are errors naming the route.
func ParseRoutes(data []byte) (*Routes, error) {
	var r Routes
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	for i, rt := range r.Routes {
		n := i + 1
		if len(rt.Repos) == 0 {
			return nil, fmt.Errorf("route %d: no repos", n)
		}
		if strings.TrimSpace(rt.Channel) == "" {
			return nil, fmt.Errorf("route %d: no channel", n)
		}
		for _, g := range append(append([]string{}, rt.Repos...), rt.Workflows...) {
			if _, err := path.Match(strings.ToLower(g), ""); err != nil {
				return nil, fmt.Errorf("route %d: bad glob %q: %w", n, g, err)
			}
		}
		for _, g := range rt.Repos {
			if !strings.Contains(g, "/") {
				return nil, fmt.Errorf("route %d: repo glob %q has no owner/ part (want e.g. \"acme/*\")", n, g)
			}
		}
	}
	return &r, nil
}

func globMatch(globs []string, s string) bool {
	s = strings.ToLower(s)
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), s); ok {
			return true
		}
	}
	return false
}

// route is the first route naming repo.
func (r *Routes) route(repo string) *Route {
	for i := range r.Routes {
		if globMatch(r.Routes[i].Repos, repo) {
			return &r.Routes[i]
		}
	}
	return nil
}

// ChannelFor is where repo's failures are posted: the first route naming it, else the
// default channel; "" when neither.
func (r *Routes) ChannelFor(repo string) string {
	if rt := r.route(repo); rt != nil {
		return rt.Channel
	}
	return r.DefaultChannel
}

// Watches reports whether a failure of workflowPath in repo is posted even though the
// workflow does not publish: a route names the workflow.
func (r *Routes) Watches(repo, workflowPath string) bool {
	rt := r.route(repo)
	return rt != nil && globMatch(rt.Workflows, path.Base(workflowPath))
}

// Allowed reports whether channel may ask about repo: a route naming the repo has the
// channel as its channel or in allow_channels. The default channel asks about nothing by
// being the default.
func (r *Routes) Allowed(channel, repo string) bool {
	for _, rt := range r.Routes {
		if !globMatch(rt.Repos, repo) {
			continue
		}
		if rt.Channel == channel {
			return true
		}
		for _, c := range rt.AllowChannels {
			if c == channel {
				return true
			}
		}
	}
	return false
}
