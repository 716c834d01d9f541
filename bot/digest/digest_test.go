package digest_test

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot/digest"
)

var update = flag.Bool("update", os.Getenv("UPDATE") != "", "rewrite the golden files")

func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// fixedWeek is a week of one route: Monday 30 November to Sunday 6 December 2026 in
// Berlin, made on Monday 7 December at 09:00.
func fixedWeek(t *testing.T) digest.Week {
	t.Helper()
	loc := berlin(t)
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 11, 30+day, hour, minute, 0, 0, loc) }
	run := func(repo string, id int64) string {
		return "https://github.com/" + repo + "/actions/runs/" + strconv.FormatInt(id, 10)
	}
	f := func(when time.Time, repo, wf, branch string, id int64, rule string, fixed time.Time) digest.Failure {
		verdict := "diagnosed"
		if rule == "" {
			verdict = "no-known-cause"
		}
		return digest.Failure{At: when, Repo: repo, Workflow: wf, Branch: branch, RunID: id, RunURL: run(repo, id),
			RuleID: rule, Verdict: verdict, FixedAt: fixed}
	}
	none := time.Time{}
	fails := []digest.Failure{
		// acme/cli release.yml on main: three failures from an old npm, fixed Tuesday 16:30.
		f(at(0, 10, 0), "acme/cli", "release.yml", "main", 101, "oidc-npm-too-old", at(1, 16, 30)),
		f(at(0, 11, 15), "acme/cli", "release.yml", "main", 102, "oidc-npm-too-old", at(1, 16, 30)),
		f(at(1, 9, 0), "acme/cli", "release.yml", "main", 103, "oidc-npm-too-old", at(1, 16, 30)),
		// The same run again (a second failed job): counted once.
		f(at(1, 9, 1), "acme/cli", "release.yml", "main", 103, "oidc-npm-too-old", at(1, 16, 30)),
		// acme/web publish.yml: missing id-token, fixed after 45 minutes.
		f(at(1, 14, 0), "acme/web", "publish.yml", "main", 201, "oidc-missing-id-token", at(1, 14, 45)),
		// acme/web again on Thursday, fixed after 2 hours.
		f(at(3, 8, 0), "acme/web", "publish.yml", "main", 202, "oidc-missing-id-token", at(3, 10, 0)),
		// acme/lib: placeholder token from registry-url, fixed the next day.
		f(at(2, 13, 0), "acme/lib", "npm-publish.yml", "v2", 301, "npm-placeholder-token", at(3, 13, 20)),
		f(at(2, 15, 0), "acme/lib", "npm-publish.yml", "v2", 302, "npm-placeholder-token", at(3, 13, 20)),
		// acme/py: PyPI trusted publisher mismatch, still red since Wednesday (the
		// workflow as the store keeps it, a path: the message shows its file name).
		f(at(2, 17, 5), "acme/py", ".github/workflows/pypi.yml", "main", 401, "pypi-tp-mismatch", none),
		f(at(3, 9, 30), "acme/py", ".github/workflows/pypi.yml", "main", 402, "pypi-tp-mismatch", none),
		f(at(4, 9, 30), "acme/py", ".github/workflows/pypi.yml", "main", 403, "pypi-tp-mismatch", none),
		// acme-labs/cli: no known cause, still red since Friday.
		f(at(4, 22, 10), "acme-labs/cli", "release.yml", "main", 501, "", none),
		f(at(5, 11, 0), "acme-labs/cli", "release.yml", "main", 502, "", none),
		// acme/crate: crates.io token expired, fixed in under a minute of a re-run.
		f(at(5, 12, 0), "acme/crate", "cargo.yml", "main", 601, "crates-token-expired", at(5, 12, 0).Add(30*time.Second)),
		// acme/gem: RubyGems OTP, failing again on Sunday in a thread that began on
		// Friday of the week before: still red since then.
		f(at(6, 20, 0), "acme/gem", "gem.yml", "main", 701, "rubygems-otp-required", none),
		// acme/docker: a seventh cause, fixed Sunday 08:00 in a thread that began on
		// Saturday 08:00 (RedSince below): 24 hours to fix.
		f(at(6, 7, 0), "acme/docker", "image.yml", "main", 801, "ghcr-permission-denied", at(6, 8, 0)),
		// Outside the week: ignored.
		f(at(-1, 12, 0), "acme/old", "release.yml", "main", 901, "oidc-npm-too-old", none),
		f(at(7, 0, 0), "acme/next", "release.yml", "main", 902, "oidc-npm-too-old", none),
	}
	for i := range fails {
		switch fails[i].RunID {
		case 701:
			fails[i].RedSince = at(-3, 10, 0)
		case 801:
			fails[i].RedSince = at(5, 8, 0)
		}
	}
	return digest.Week{
		Name:     "acme/*, acme-labs/cli",
		Start:    at(0, 0, 0),
		End:      at(7, 0, 0),
		Location: loc,
		Now:      at(7, 9, 0),
		Failures: fails,
		Feedback: []digest.RuleFeedback{
			{RuleID: "oidc-npm-too-old", Right: 3},
			{RuleID: "pypi-tp-mismatch", Right: 1, Wrong: 2},
			{RuleID: "npm-placeholder-token", Wrong: 1},
			{RuleID: "pypi-tp-mismatch", Wrong: 1},
		},
		Unknown: []digest.UnknownGroup{
			{ID: "3f9a1c2e5b7d9010", Count: 2, Example: "Error: `twine upload` failed: <HTTP 400> Bad Request & retry"},
			{ID: "77aa0f01c3d2e4b5", Count: 5, Example: "npm error code E413 request entity too large for /@acme%2fhuge"},
			{ID: "0a1b2c3d4e5f6071", Count: 1, Example: "fatal: unable to access 'https://github.com/acme/x/'"},
			{ID: "1234567890abcdef", Count: 2, Example: strings.Repeat("very long line ", 20)},
		},
		Titles: map[string]string{
			"oidc-npm-too-old":      "npm is too old for trusted publishing",
			"oidc-missing-id-token": "The job lacks permissions: id-token: write",
			"npm-placeholder-token": "setup-node's placeholder token reached the registry",
			"pypi-tp-mismatch":      "PyPI trusted publisher does not match the workflow",
		},
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (UPDATE=1 go test ./bot/digest writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (UPDATE=1 go test ./bot/digest rewrites it; review the diff)\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

func TestFixedWeekGolden(t *testing.T) {
	d := digest.Compute(fixedWeek(t))
	m := digest.Render(d)
	golden(t, "week.golden.md", m.Markdown())

	var kinds []string
	for _, b := range m.Blocks {
		kinds = append(kinds, string(b.Kind))
		if b.Kind == digest.BlockHeader && len([]rune(b.Text)) > 150 {
			t.Errorf("header over Slack's 150 characters: %q", b.Text)
		}
		if len([]rune(b.Text)) > 3000 {
			t.Errorf("%s block over Slack's 3000 characters", b.Kind)
		}
	}
	want := "header section section image section section section context"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("blocks = %s, want %s", got, want)
	}
	if want := "Publish digest 30 Nov – 6 Dec 2026: 15 failed runs, 6 of 9 incidents fixed, 3 still red"; m.Text != want {
		t.Errorf("Text = %q, want %q", m.Text, want)
	}
}

func TestComputeFixedWeek(t *testing.T) {
	d := digest.Compute(fixedWeek(t))
	// 18 records: one repeats run 103, two are outside the week.
	if d.Failures != 15 || d.Repos != 8 {
		t.Errorf("failures, repos = %d, %d; want 15, 8", d.Failures, d.Repos)
	}
	if d.Incidents != 9 || d.Fixed != 6 {
		t.Errorf("incidents, fixed = %d, %d; want 9, 6", d.Incidents, d.Fixed)
	}
	// Fixed incidents take 30s, 45m, 2h, 24h (from RedSince), 24h20m and 30h30m: the
	// median is between 2h and 24h.
	if want := 13 * time.Hour; d.MedianTimeToFix != want {
		t.Errorf("median time to fix = %v, want %v", d.MedianTimeToFix, want)
	}
	var causes []string
	for _, c := range d.Causes {
		causes = append(causes, c.ID+"="+strconv.Itoa(c.Count))
	}
	wantCauses := "oidc-npm-too-old=3 pypi-tp-mismatch=3 no-known-cause=2 npm-placeholder-token=2 oidc-missing-id-token=2 " +
		"crates-token-expired=1 ghcr-permission-denied=1 rubygems-otp-required=1"
	if got := strings.Join(causes, " "); got != wantCauses {
		t.Errorf("causes = %s\nwant     %s", got, wantCauses)
	}
	if d.Causes[0].Share != 0.2 {
		t.Errorf("top share = %v, want 0.2", d.Causes[0].Share)
	}
	var red []string
	for _, r := range d.StillRed {
		red = append(red, r.Repo+"#"+strconv.FormatInt(r.RunID, 10)+"×"+strconv.Itoa(r.Runs)+" "+r.Age.String())
	}
	// acme/gem's thread began before the week: it is the oldest.
	wantRed := "acme/gem#701×1 239h0m0s acme/py#401×3 111h55m0s acme-labs/cli#501×2 58h50m0s"
	if got := strings.Join(red, " "); got != wantRed {
		t.Errorf("still red = %s, want %s", got, wantRed)
	}
	if len(d.Wrong) != 2 || d.Wrong[0] != (digest.RuleFeedback{RuleID: "pypi-tp-mismatch", Right: 1, Wrong: 3}) {
		t.Errorf("wrong = %+v", d.Wrong)
	}
	if d.UnknownGroups != 4 || d.UnknownAnswers != 10 || len(d.Unknown) != digest.MaxUnknown || d.Unknown[0].ID != "77aa0f01c3d2e4b5" {
		t.Errorf("unknown = %d groups, %d answers, %+v", d.UnknownGroups, d.UnknownAnswers, d.Unknown)
	}
	wantSeries := "oidc-npm-too-old pypi-tp-mismatch no-known-cause npm-placeholder-token oidc-missing-id-token other"
	if got := strings.Join(d.Series, " "); got != wantSeries {
		t.Errorf("series = %s, want %s", got, wantSeries)
	}
	if len(d.Days) != 7 {
		t.Fatalf("%d days, want 7", len(d.Days))
	}
	total := 0
	for i, day := range d.Days {
		if day.Date.Day() != []int{30, 1, 2, 3, 4, 5, 6}[i] || day.Date.Hour() != 0 {
			t.Errorf("day %d is %v", i, day.Date)
		}
		for _, n := range day.Counts {
			total += n
		}
	}
	if total != d.Failures {
		t.Errorf("the days count %d failures, want %d", total, d.Failures)
	}
	// Sunday: rubygems (other) at 20:00 and ghcr (other) at 07:00.
	if sun := d.Days[6].Counts; sun[len(sun)-1] != 2 {
		t.Errorf("Sunday's other = %v, want 2", sun)
	}
}

// TestMedianTimeToFix checks the median through Compute: each incident's time runs from
// its first failure to the fix, on odd and even numbers of fixed incidents.
func TestMedianTimeToFix(t *testing.T) {
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	incident := func(i int, took time.Duration) []digest.Failure {
		at := start.Add(time.Duration(i) * time.Hour)
		repo := "acme/r" + strconv.Itoa(i)
		return []digest.Failure{
			{At: at, Repo: repo, Workflow: "release.yml", RunID: 1, RuleID: "x", FixedAt: at.Add(took)},
			// A later failure of the same incident does not shorten its time to fix.
			{At: at.Add(took / 2), Repo: repo, Workflow: "release.yml", RunID: 2, RuleID: "x", FixedAt: at.Add(took)},
		}
	}
	for _, tc := range []struct {
		took []time.Duration
		want time.Duration
	}{
		{[]time.Duration{time.Hour, 10 * time.Hour, 2 * time.Hour}, 2 * time.Hour},
		{[]time.Duration{time.Hour, 10 * time.Hour, 2 * time.Hour, 4 * time.Hour}, 3 * time.Hour},
	} {
		w := digest.Week{Start: start, End: start.AddDate(0, 0, 7)}
		for i, d := range tc.took {
			w.Failures = append(w.Failures, incident(i, d)...)
		}
		d := digest.Compute(w)
		if d.Fixed != len(tc.took) || d.MedianTimeToFix != tc.want {
			t.Errorf("%v: fixed %d, median %v; want %d, %v", tc.took, d.Fixed, d.MedianTimeToFix, len(tc.took), tc.want)
		}
	}
}

func TestQuietWeek(t *testing.T) {
	w := fixedWeek(t)
	w.Failures = nil
	w.Feedback, w.Unknown = nil, nil
	d := digest.Compute(w)
	if !d.Quiet() {
		t.Fatal("a week without failures is not quiet")
	}
	m := digest.Render(d)
	golden(t, "quiet.golden.md", m.Markdown())
	if len(m.Blocks) != 2 || len(m.Markdown()) > 300 {
		t.Errorf("a quiet week's message is not short: %d blocks, %d bytes", len(m.Blocks), len(m.Markdown()))
	}
	if !strings.Contains(m.Markdown(), "Quiet week") || !strings.Contains(m.Text, "quiet week") {
		t.Errorf("no quiet-week message: %q / %q", m.Markdown(), m.Text)
	}
	png, err := digest.Chart(d)
	if png != nil || err != nil {
		t.Errorf("a quiet week has a chart: %d bytes, %v", len(png), err)
	}

	// Feedback and unknown failures of a quiet week get one clause, not sections.
	w = fixedWeek(t)
	w.Failures = nil
	m = digest.Render(digest.Compute(w))
	want := "Elsewhere: 4 answers marked wrong, 4 groups of unknown failures (`/pubdoc stats`)."
	if len(m.Blocks) != 2 || !strings.Contains(m.Blocks[1].Text, want) {
		t.Errorf("quiet week with feedback: %q, want it to hold %q", m.Markdown(), want)
	}
}

func TestChartPNG(t *testing.T) {
	d := digest.Compute(fixedWeek(t))
	b, err := digest.Chart(d)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the chart is not a PNG: %v", err)
	}
	if got := img.Bounds(); got != image.Rect(0, 0, digest.ChartWidth, digest.ChartHeight) {
		t.Errorf("chart is %v, want %dx%d", got, digest.ChartWidth, digest.ChartHeight)
	}
	colours := map[[4]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 2 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 2 {
			r, g, b, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, b, a}] = true
		}
	}
	if len(colours) <= 2 {
		t.Errorf("the chart has %d colours: blank", len(colours))
	}
	// Each series' colour is there: the five causes' and the grey of "other".
	for _, c := range [][3]uint32{{84, 112, 198}, {238, 102, 102}, {250, 200, 88}, {145, 204, 117}, {154, 96, 180}, {170, 170, 170}} {
		if !colours[[4]uint32{c[0] * 0x101, c[1] * 0x101, c[2] * 0x101, 0xffff}] {
			t.Errorf("no pixel of series colour %v", c)
		}
	}
	again, err := digest.Chart(digest.Compute(fixedWeek(t)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Error("the same week drew different bytes")
	}
	if *update {
		_ = os.WriteFile(filepath.Join(t.TempDir(), "chart.png"), b, 0o644)
	}
}

func TestChartFewCauses(t *testing.T) {
	// Two causes: no "other" series; one day with many failures gets a round axis.
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	w := digest.Week{Start: start, End: start.AddDate(0, 0, 7)}
	for i := range 12 {
		rule := "a"
		if i%3 == 0 {
			rule = "b"
		}
		w.Failures = append(w.Failures, digest.Failure{At: start.Add(30 * time.Hour), Repo: "acme/x", RunID: int64(i + 1), RuleID: rule})
	}
	d := digest.Compute(w)
	if strings.Join(d.Series, " ") != "a b" {
		t.Errorf("series = %v", d.Series)
	}
	b, err := digest.Chart(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
}

func TestRenderLimitsAndEscapes(t *testing.T) {
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	w := digest.Week{Name: "acme/<all>", Start: start, End: start.AddDate(0, 0, 7)}
	for i := range 14 {
		repo := "acme/r" + strconv.Itoa(i)
		w.Failures = append(w.Failures, digest.Failure{At: start.Add(time.Duration(14-i) * time.Hour), Repo: repo,
			Workflow: "a&b.yml", Branch: "feat/<x>", RunID: int64(i + 1), RunURL: "https://ghe.example/" + repo + "/actions/runs/1?a=1|2",
			RuleID: "rule-" + strconv.Itoa(i%7)})
	}
	for i := range 7 {
		w.Feedback = append(w.Feedback, digest.RuleFeedback{RuleID: "rule-" + strconv.Itoa(i), Wrong: 1})
	}
	m := digest.Render(digest.Compute(w))
	md := m.Markdown()
	for _, want := range []string{
		"… and 4 more\n",                       // 14 still red, 10 listed
		"… and 2 more rules",                   // 7 rules marked wrong, 5 listed
		"… and 2 other causes with 4 failures", // 7 causes, 5 listed
		"14 incidents, none fixed yet.",
		"acme/r13 · a&amp;b.yml #14",
		"on feat/&lt;x&gt;",
		"<https://ghe.example/acme/r13/actions/runs/1?a=1%7C2|",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("message lacks %q:\n%s", want, md)
		}
	}
	// The oldest still-red run comes first: r13 failed first.
	if i, j := strings.Index(md, "acme/r13 "), strings.Index(md, "acme/r12 "); i < 0 || j < 0 || i > j {
		t.Errorf("still red is not oldest first:\n%s", md)
	}
	if strings.Contains(md, "<all>") {
		t.Errorf("unescaped < in %q", md)
	}
}
