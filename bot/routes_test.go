package bot

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestRoutesDigest(t *testing.T) {
	r, err := ParseRoutes([]byte(`
routes:
  - repos: ["acme/*"]
    channel: C0PUBDOC1
    digest: {weekday: monday, hour: 9, timezone: Europe/Berlin}
  - repos: ["acme-labs/*"]
    channel: C0LABS001
  - repos: ["acme-ops/*"]
    channel: C0OPS0001
    digest: {}
  - repos: ["acme-web/*"]
    channel: C0WEB0001
    digest:
      weekday: Fri
      hour: "17"
`))
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if r.Routes[1].Digest != nil {
		t.Errorf("a route without digest: has one: %+v", r.Routes[1].Digest)
	}
	for i, want := range map[int]DigestSchedule{
		0: {time.Monday, 9, berlin},
		2: {time.Monday, 9, time.UTC}, // digest: {} is the defaults
		3: {time.Friday, 17, time.UTC},
	} {
		d := r.Routes[i].Digest
		if d == nil {
			t.Errorf("route %d: no digest", i+1)
			continue
		}
		if got := d.Schedule; got.Weekday != want.Weekday || got.Hour != want.Hour || got.Location.String() != want.Location.String() {
			t.Errorf("route %d: schedule %v, want %v", i+1, got, want)
		}
	}
	var channels []string
	for _, rt := range r.Digests() {
		channels = append(channels, rt.Channel)
	}
	if got := strings.Join(channels, " "); got != "C0PUBDOC1 C0OPS0001 C0WEB0001" {
		t.Errorf("Digests() = %s", got)
	}
	if rt := r.RouteFor("ACME-WEB/site"); rt == nil || rt.Channel != "C0WEB0001" || rt.Digest.Schedule.Weekday != time.Friday {
		t.Errorf("RouteFor(ACME-WEB/site) = %+v", rt)
	}
	if rt := r.RouteFor("other/x"); rt != nil {
		t.Errorf("RouteFor(other/x) = %+v, want none", rt)
	}
	if got := r.Routes[0].Digest.Schedule.String(); got != "Monday 09:00 Europe/Berlin" {
		t.Errorf("String() = %q", got)
	}
}

func TestRoutesDigestErrors(t *testing.T) {
	for _, tc := range []struct{ digest, want string }{
		{`{weekday: mondays}`, `route 2 (C0LABS001): digest: weekday "mondays" is not a day of the week`},
		{`{weekday: mo}`, `route 2 (C0LABS001): digest: weekday "mo" is not a day of the week`},
		{`{hour: 24}`, `route 2 (C0LABS001): digest: hour "24" is not a whole hour 0–23`},
		{`{hour: -1}`, `route 2 (C0LABS001): digest: hour "-1" is not a whole hour 0–23`},
		{`{hour: 9am}`, `route 2 (C0LABS001): digest: hour "9am" is not a whole hour 0–23`},
		{`{hour: "9:30"}`, `route 2 (C0LABS001): digest: hour "9:30" is not a whole hour 0–23`},
		{`{timezone: Europe/Berln}`, `route 2 (C0LABS001): digest: timezone "Europe/Berln" is not an IANA time zone name`},
		{`{timezone: Local}`, `route 2 (C0LABS001): digest: timezone "Local" depends on the server`},
		{`{day: monday}`, `route 2: line 6: field day not found in type bot.DigestSetting`},
		{`monday`, `route 2: line 6: cannot unmarshal !!str ` + "`monday`" + ` into bot.DigestSetting`},
	} {
		_, err := ParseRoutes([]byte("routes:\n  - repos: [acme/*]\n    channel: C0PUBDOC1\n" +
			"  - repos: [acme-labs/*]\n    channel: C0LABS001\n    digest: " + tc.digest + "\n"))
		if err == nil {
			t.Errorf("digest: %s was taken", tc.digest)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("digest: %s: error %q, want one line holding %q", tc.digest, err, tc.want)
		}
	}
}

func TestRouteDigestSchedule(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	s := DigestSchedule{Weekday: time.Monday, Hour: 9, Location: loc}
	for _, tc := range []struct {
		after, want time.Time
	}{
		// Sunday evening: the next morning.
		{time.Date(2026, 12, 6, 20, 0, 0, 0, loc), time.Date(2026, 12, 7, 9, 0, 0, 0, loc)},
		// Monday before nine: the same day.
		{time.Date(2026, 12, 7, 8, 59, 0, 0, loc), time.Date(2026, 12, 7, 9, 0, 0, 0, loc)},
		// Exactly at nine: a week later (strictly after).
		{time.Date(2026, 12, 7, 9, 0, 0, 0, loc), time.Date(2026, 12, 14, 9, 0, 0, 0, loc)},
		// Given in UTC: Monday 08:30 UTC is 09:30 in Berlin, past the hour.
		{time.Date(2026, 12, 7, 8, 30, 0, 0, time.UTC), time.Date(2026, 12, 14, 9, 0, 0, 0, loc)},
		// Across the spring change (29 March 2026): still 09:00 local.
		{time.Date(2026, 3, 27, 12, 0, 0, 0, loc), time.Date(2026, 3, 30, 9, 0, 0, 0, loc)},
	} {
		if got := s.Next(tc.after); !got.Equal(tc.want) {
			t.Errorf("Next(%v) = %v, want %v", tc.after, got, tc.want)
		}
	}
	start, end := s.Window(time.Date(2026, 12, 7, 9, 0, 0, 0, loc))
	if !start.Equal(time.Date(2026, 11, 30, 0, 0, 0, 0, loc)) || !end.Equal(time.Date(2026, 12, 7, 0, 0, 0, 0, loc)) {
		t.Errorf("Window = %v – %v", start, end)
	}
	// The week of the spring change has 167 hours and is still seven days.
	start, end = s.Window(time.Date(2026, 3, 30, 9, 0, 0, 0, loc))
	if end.Sub(start) != 167*time.Hour || start.Weekday() != time.Monday {
		t.Errorf("spring week = %v from %v", end.Sub(start), start)
	}
	// The zero Location is UTC.
	utc := DigestSchedule{Weekday: time.Sunday, Hour: 0}
	if got := utc.Next(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(2026, 12, 13, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("UTC Next = %v", got)
	}
}

func TestRoutesUnknownKeyNamesRoute(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"routes:\n  - repos: [acme/*]\n    channel: C0PUBDOC1\n  - repos: [b/*]\n    chanel: C0LABS001\n",
			"route 2: line 5: field chanel not found in type bot.Route"},
		{"routes:\n  - repos: [acme/*]\n    channel: C0PUBDOC1\ndefault_chanel: C0TRIAGE1\n",
			"decoding: line 4: field default_chanel not found in type bot.Routes"},
		{"default_channel: C0TRIAGE1\nroutes:\n  - repos: [acme/*]\n    channel: C0PUBDOC1\n    digest: {hour: 9, tz: UTC}\n",
			"route 1: line 5: field tz not found in type bot.DigestSetting"},
	} {
		_, err := ParseRoutes([]byte(tc.file))
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseRoutes(%q) = %v, want %s", tc.file, err, tc.want)
		}
	}
}

// The example routes file shows digest: as a comment; uncommented, it parses.
func TestRoutesExampleDigest(t *testing.T) {
	data, err := os.ReadFile("../deploy/routes.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const commented = "    # digest: {"
	if !strings.Contains(string(data), commented) {
		t.Fatalf("deploy/routes.example.yaml has no %q line", commented)
	}
	r, err := ParseRoutes([]byte(strings.Replace(string(data), commented, "    digest: {", 1)))
	if err != nil {
		t.Fatal(err)
	}
	ds := r.Digests()
	if len(ds) != 1 || ds[0].Digest.Schedule.String() != "Monday 09:00 Europe/Berlin" {
		t.Errorf("digests of the example: %+v", ds)
	}
}
