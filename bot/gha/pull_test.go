package gha

import (
	"context"
	"errors"
	"testing"
)

func TestParsePullURL(t *testing.T) {
	for in, want := range map[string]PullRef{
		"https://github.com/acme/widgets/pull/12":                {"acme", "widgets", 12},
		"https://github.com/acme/widgets/pull/12/checks?x=1#a":   {"acme", "widgets", 12},
		"github.com/acme/widgets/pull/3/files":                   {"acme", "widgets", 3},
		"https://ghe.example.com/acme/widgets.js/pull/7/commits": {"acme", "widgets.js", 7},
	} {
		got, err := ParsePullURL(in)
		if err != nil || got != want {
			t.Errorf("ParsePullURL(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if !IsPullURL(in) {
			t.Errorf("IsPullURL(%q) = false", in)
		}
	}
	for _, in := range []string{
		"", "release.log", "https://github.com/acme/widgets/actions/runs/42",
		"https://github.com/acme/widgets/pull/", "https://github.com/acme/widgets/pull/0",
		"https://github.com/acme/widgets/pull/x", "https://tok@github.com/acme/widgets/pull/1",
		"ftp://github.com/acme/widgets/pull/1", "https://github.com/acme/widgets/pulls/1",
	} {
		if _, err := ParsePullURL(in); !errors.Is(err, ErrInvalidPullURL) {
			t.Errorf("ParsePullURL(%q) = %v, want ErrInvalidPullURL", in, err)
		}
		if IsPullURL(in) {
			t.Errorf("IsPullURL(%q) = true", in)
		}
	}
}

func TestPullFailedRuns(t *testing.T) {
	f := setupFake(t)
	c := f.newClient(f.env(), nil, nil)
	refs, sha, err := c.PullFailedRuns(context.Background(), PullRef{fakeOwner, fakeRepo, fakePull})
	if err != nil {
		t.Fatal(err)
	}
	if sha != fakeHeadSHA || len(refs) != 1 || refs[0] != (RunRef{Owner: fakeOwner, Repo: fakeRepo, RunID: fakeRunID}) {
		t.Fatalf("got %+v at %q; want the one failed run %d at %s", refs, sha, fakeRunID, fakeHeadSHA)
	}
	list := f.requests("runs-list")
	if len(list) != 1 || list[0].Query != "head_sha="+fakeHeadSHA+"&per_page=100" {
		t.Errorf("runs listed with %+v", list)
	}
	// The run it names is one FetchRun reads.
	run, err := c.FetchRun(context.Background(), refs[0])
	if err != nil || len(run.FailedJobs) == 0 {
		t.Fatalf("FetchRun of the PR's failed run: %v", err)
	}

	if _, _, err := c.PullFailedRuns(context.Background(), PullRef{fakeOwner, fakeRepo, 99}); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing pull request: %v, want ErrNotFound", err)
	}
	bad := f.newClient(map[string]string{"GITHUB_API_URL": f.apiURL(), "GITHUB_TOKEN": "ghp_wrongwrongwrongwrong"}, nil, nil)
	if _, _, err := bad.PullFailedRuns(context.Background(), PullRef{fakeOwner, fakeRepo, fakePull}); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("bad token: %v, want ErrUnauthorized", err)
	}
}
