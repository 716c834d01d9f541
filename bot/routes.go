package bot

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	// A route's digest names a time zone; the embedded database resolves it on a host
	// without one (Windows, a scratch image) the same as on any other.
	_ "time/tzdata"

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
	// Digest, when set, posts a weekly digest of these repositories' failures to Channel
	// (issue 15): `digest: {weekday: monday, hour: 9, timezone: Europe/Berlin}`. Unset:
	// no digest.
	Digest *DigestSetting `yaml:"digest"`
}

// DigestSetting is a route's `digest:`, when its weekly digest is posted. Every key is
// optional: weekday monday, hour 9, timezone UTC. ParseRoutes validates it and fills
// Schedule.
type DigestSetting struct {
	// Weekday is a day's English name or its first three letters ("monday", "Mon").
	Weekday string `yaml:"weekday"`
	// Hour is the hour of the day, 0–23, in Timezone.
	Hour string `yaml:"hour"`
	// Timezone is an IANA time zone name ("Europe/Berlin"); empty is UTC.
	Timezone string `yaml:"timezone"`
	// Schedule is the setting parsed.
	Schedule DigestSchedule `yaml:"-"`
}

// DigestSchedule is when a route's digest is posted: every week on Weekday at Hour:00
// in Location.
type DigestSchedule struct {
	Weekday  time.Weekday
	Hour     int
	Location *time.Location
}

// parse validates the setting and fills Schedule.
func (d *DigestSetting) parse() error {
	s := DigestSchedule{Weekday: time.Monday, Hour: 9, Location: time.UTC}
	if strings.TrimSpace(d.Weekday) != "" {
		wd, err := parseWeekday(d.Weekday)
		if err != nil {
			return err
		}
		s.Weekday = wd
	}
	if h := strings.TrimSpace(d.Hour); h != "" {
		n, err := strconv.Atoi(h)
		if err != nil || n < 0 || n > 23 {
			return fmt.Errorf("hour %q is not a whole hour 0–23", d.Hour)
		}
		s.Hour = n
	}
	switch tz := strings.TrimSpace(d.Timezone); tz {
	case "":
	case "Local":
		return fmt.Errorf("timezone %q depends on the server; name a zone such as Europe/Berlin or UTC", tz)
	default:
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return fmt.Errorf("timezone %q is not an IANA time zone name (e.g. Europe/Berlin, UTC)", tz)
		}
		s.Location = loc
	}
	d.Schedule = s
	return nil
}

// parseWeekday reads a weekday's English name or its first three letters, in any case.
func parseWeekday(s string) (time.Weekday, error) {
	w := strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if w == name || (len(w) == 3 && strings.HasPrefix(name, w)) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("weekday %q is not a day of the week (monday … sunday, or mon … sun)", s)
}

func (s DigestSchedule) loc() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// Next is the first time the digest is due strictly after t. Where the hour does not
// exist that day (a daylight-saving gap) it is the time Go normalizes it to.
func (s DigestSchedule) Next(t time.Time) time.Time {
	loc := s.loc()
	day := localMidnight(t, loc)
	for i := 0; ; i++ {
		d := day.AddDate(0, 0, i)
		if d.Weekday() != s.Weekday {
			continue
		}
		// Within eight days the weekday comes round after t.
		if due := time.Date(d.Year(), d.Month(), d.Day(), s.Hour, 0, 0, 0, loc); due.After(t) {
			return due
		}
	}
}

// Window is the week a digest due at due covers, [start, end): the seven whole days, in
// the schedule's location, before the day it is due. A failure on the due day before the
// hour goes in the next week's digest, so consecutive digests neither overlap nor miss.
func (s DigestSchedule) Window(due time.Time) (start, end time.Time) {
	end = localMidnight(due, s.loc())
	return end.AddDate(0, 0, -7), end
}

// String is the schedule as a person reads it: "Monday 09:00 Europe/Berlin".
func (s DigestSchedule) String() string {
	return fmt.Sprintf("%s %02d:00 %s", s.Weekday, s.Hour, s.loc())
}

func localMidnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
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
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, typeError(data, te)
		}
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
		if rt.Digest != nil {
			if err := r.Routes[i].Digest.parse(); err != nil {
				return nil, fmt.Errorf("route %d (%s): digest: %w", n, rt.Channel, err)
			}
		}
	}
	return &r, nil
}

// typeError is te on one line, naming the route its first error is in: the decoder
// reports "line 6: field day not found in type …" for the whole file.
func typeError(data []byte, te *yaml.TypeError) error {
	msg := strings.Join(te.Errors, "; ")
	if len(te.Errors) == 0 {
		return fmt.Errorf("decoding: %w", te)
	}
	var line int
	if _, err := fmt.Sscanf(te.Errors[0], "line %d:", &line); err != nil {
		return fmt.Errorf("decoding: %s", msg)
	}
	if n := routeAt(data, line); n > 0 {
		return fmt.Errorf("route %d: %s", n, msg)
	}
	return fmt.Errorf("decoding: %s", msg)
}

// routeAt is the number (from 1) of the route whose entry holds the file's line, 0 for
// none.
func routeAt(data []byte, line int) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return 0
	}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		if m[i].Value != "routes" || m[i+1].Kind != yaml.SequenceNode {
			continue
		}
		n := 0
		for j, item := range m[i+1].Content {
			if item.Line <= line {
				n = j + 1
			}
		}
		// The line is past the routes' first entry and before the key after them.
		if n > 0 && (i+2 >= len(m) || line < m[i+2].Line) {
			return n
		}
	}
	return 0
}

// Digests are the routes that have a weekly digest, in the file's order.
func (r *Routes) Digests() []Route {
	var out []Route
	for _, rt := range r.Routes {
		if rt.Digest != nil {
			out = append(out, rt)
		}
	}
	return out
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

// RouteFor is the route repo's failures go by: the first route naming it; nil when
// none does (they go to the default channel, if any). A route's digest covers the
// repositories it is the RouteFor.
func (r *Routes) RouteFor(repo string) *Route { return r.route(repo) }

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
