package gha

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRunURL(t *testing.T) {
	ok := []struct {
		in   string
		want RunRef
	}{
		{"https://github.com/octo-org/octo-repo/actions/runs/289782451", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 289782451}},
		{"https://github.com/octo-org/octo-repo/actions/runs/289782451/", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 289782451}},
		{"https://github.com/octo-org/octo-repo/actions/runs/289782451/job/55501234003", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 289782451, JobID: 55501234003}},
		{"https://github.com/octo-org/octo-repo/actions/runs/289782451/job/55501234003?pr=42#step:6:12", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 289782451, JobID: 55501234003}},
		{"https://github.com/octo-org/octo-repo/actions/runs/289782451/attempts/2", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 289782451, Attempt: 2}},
		{"https://github.com/octo-org/octo-repo/actions/runs/289782451/attempts/2/job/7", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 289782451, Attempt: 2, JobID: 7}},
		{"https://github.com/octo-org/octo-repo/runs/55501234003", RunRef{Owner: "octo-org", Repo: "octo-repo", JobID: 55501234003}},
		{"https://github.com/octo-org/octo-repo/runs/55501234003?check_suite_focus=true", RunRef{Owner: "octo-org", Repo: "octo-repo", JobID: 55501234003}},
		{"  https://github.com/Octo_Org/octo.repo.js/actions/runs/1  ", RunRef{Owner: "Octo_Org", Repo: "octo.repo.js", RunID: 1}},
		{"github.com/octo-org/octo-repo/actions/runs/5", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 5}},
		{"https://ghes.example.com/octo-org/octo-repo/actions/runs/17/job/18", RunRef{Owner: "octo-org", Repo: "octo-repo", RunID: 17, JobID: 18}},
		{"http://ghes.internal:8080/team/app/actions/runs/17", RunRef{Owner: "team", Repo: "app", RunID: 17}},
	}
	for _, tt := range ok {
		got, err := ParseRunURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRunURL(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}

	bad := []struct{ in, why string }{
		{"", "is empty"},
		{"run 289782451", "not an http(s) URL"},
		{"ftp://github.com/octo-org/octo-repo/actions/runs/1", "not an http(s) URL"},
		{"https://github.com/octo-org/octo-repo", "not a run's page"},
		{"https://github.com/octo-org/octo-repo/actions", "not a run's page"},
		{"https://github.com/octo-org/octo-repo/actions/runs", "not a run's page"},
		{"https://github.com/octo-org/octo-repo/pull/12", "not a run's page"},
		{"https://github.com/octo-org/octo-repo/actions/workflows/release.yml", "not a run's page"},
		{"https://github.com/octo-org/octo-repo/actions/runs/latest", "no numeric run id"},
		{"https://github.com/octo-org/octo-repo/actions/runs/-4", "no numeric run id"},
		{"https://github.com/octo-org/octo-repo/actions/runs/99999999999999999999", "no numeric run id"},
		{"https://github.com/octo-org/octo-repo/actions/runs/1/job/abc", "unexpected part"},
		{"https://github.com/octo-org/octo-repo/actions/runs/1/job", "unexpected part"},
		{"https://github.com/octo-org/octo-repo/actions/runs/1/job/2/job/3", "unexpected part"},
		{"https://github.com/octo-org/octo-repo/actions/runs/1/usage", "unexpected part"},
		{"https://github.com/octo-org/octo-repo/runs/1/jobs", "not a run's page"},
		{"https://github.com/-octo/octo-repo/actions/runs/1", "does not name a repository"},
		{"https://github.com/octo-org/../actions/runs/1", "does not name a repository"},
		{"https://user:ghp_x@github.com/octo-org/octo-repo/actions/runs/1", "carries credentials"},
		{"https:///octo-org/octo-repo/actions/runs/1", "has no host"},
	}
	for _, tt := range bad {
		_, err := ParseRunURL(tt.in)
		if !errors.Is(err, ErrInvalidRunURL) {
			t.Errorf("ParseRunURL(%q): err = %v, want ErrInvalidRunURL", tt.in, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.why) || !strings.Contains(msg, "/actions/runs/RUN_ID") {
			t.Errorf("ParseRunURL(%q): message %q should say %q and show the expected form", tt.in, msg, tt.why)
		}
	}
	if _, err := ParseRunURL("https://user:ghp_x@github.com/o/r/actions/runs/1"); err == nil || strings.Contains(err.Error(), "ghp_x") {
		t.Errorf("credentials in a URL are echoed: %v", err)
	}
}

func FuzzParseRunURL(f *testing.F) {
	f.Add("https://github.com/octo-org/octo-repo/actions/runs/289782451/job/55501234003")
	f.Add("https://github.com/o/r/runs/1")
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseRunURL(s)
		if err != nil {
			return
		}
		if validRef(ref) != nil {
			t.Errorf("ParseRunURL(%q) = %+v, which FetchRun would refuse", s, ref)
		}
	})
}

func TestWebHostAndRunURLHost(t *testing.T) {
	for api, want := range map[string]string{
		"":                                "github.com",
		"https://api.github.com/":         "github.com",
		"https://API.GitHub.com":          "github.com",
		"https://ghes.example.com/api/v3": "ghes.example.com",
		"http://127.0.0.1:8080/":          "127.0.0.1:8080",
	} {
		if got := WebHost(api); got != want {
			t.Errorf("WebHost(%q) = %q, want %q", api, got, want)
		}
	}
	for u, want := range map[string]string{
		"https://github.com/a/b/actions/runs/1":                   "github.com",
		"https://www.GitHub.com/a/b/actions/runs/1":               "github.com",
		"github.com/a/b/actions/runs/1":                           "github.com",
		"https://github.evil.example/acme/widgets/actions/runs/5": "github.evil.example",
		"http://ghes.internal:8080/team/app/actions/runs/17":      "ghes.internal:8080",
	} {
		if got := RunURLHost(u); got != want {
			t.Errorf("RunURLHost(%q) = %q, want %q", u, got, want)
		}
	}
	c, err := New(Config{Token: "t", APIURL: "https://ghes.example.com/api/v3/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.WebHost() != "ghes.example.com" {
		t.Errorf("Client.WebHost() = %q, want ghes.example.com", c.WebHost())
	}
}
