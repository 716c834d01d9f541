package registry

import (
	"context"
	"reflect"
	"testing"
)

func gh(repo, file, env string) TrustedPublisher {
	return TrustedPublisher{Type: "github", Repository: repo, WorkflowFile: file, Environment: env}
}

func TestCompare(t *testing.T) {
	run := RunIdentity{Repository: "acme/widgets", WorkflowFile: ".github/workflows/publish.yml", Environment: "npm"}
	cases := []struct {
		name    string
		tps     []TrustedPublisher
		run     RunIdentity
		match   bool
		closest int // index into tps; -1 for none
		want    []string
	}{
		{
			name: "exact match", tps: []TrustedPublisher{gh("acme/widgets", "publish.yml", "npm")}, run: run,
			match: true,
		},
		{
			name: "entry without environment accepts any", tps: []TrustedPublisher{gh("acme/widgets", "publish.yml", "")}, run: run,
			match: true,
		},
		{
			name: "run identified by workflow_ref",
			tps:  []TrustedPublisher{gh("acme/widgets", "publish.yml", "")},
			run:  RunIdentity{Repository: "acme/widgets", WorkflowFile: "acme/widgets/.github/workflows/publish.yml@refs/tags/v1.2.3"},
			// The type is optional: older or flattened entries may not say.
			match: true,
		},
		{
			name: "case difference in file name", tps: []TrustedPublisher{gh("acme/widgets", "Publish.yml", "npm")}, run: run,
			want: []string{"workflow file differs only in letter case (the registry compares it exactly): trusted: `Publish.yml`; this run: `publish.yml`"},
		},
		{
			name: ".yaml vs .yml", tps: []TrustedPublisher{gh("acme/widgets", "publish.yaml", "npm")}, run: run,
			want: []string{"workflow file ends in .yaml where this run's ends in .yml: trusted: `publish.yaml`; this run: `publish.yml`"},
		},
		{
			name: "case and extension", tps: []TrustedPublisher{gh("acme/widgets", "Publish.YAML", "npm")}, run: run,
			want: []string{"workflow file differs in letter case and ends in .YAML where this run's ends in .yml: trusted: `Publish.YAML`; this run: `publish.yml`"},
		},
		{
			name: "path instead of bare file name", tps: []TrustedPublisher{gh("acme/widgets", ".github/workflows/publish.yml", "npm")}, run: run,
			want: []string{"workflow file is a path where npm expects the bare file name: trusted: `.github/workflows/publish.yml`; this run: `publish.yml`"},
		},
		{
			name: "path and case", tps: []TrustedPublisher{gh("acme/widgets", ".github/workflows/Publish.yml", "npm")}, run: run,
			want: []string{"workflow file is a path where npm expects the bare file name and differs in letter case: trusted: `.github/workflows/Publish.yml`; this run: `publish.yml`"},
		},
		{
			name: "another workflow file", tps: []TrustedPublisher{gh("acme/widgets", "release.yml", "")}, run: run,
			want: []string{"workflow file names another workflow: trusted: `release.yml`; this run: `publish.yml`"},
		},
		{
			name: "other repository", tps: []TrustedPublisher{gh("acme/widgets", "publish.yml", "npm")},
			run:  RunIdentity{Repository: "octo-fork/widgets", WorkflowFile: "publish.yml", Environment: "npm"},
			want: []string{"repository differs: trusted: `acme/widgets`; this run: `octo-fork/widgets`"},
		},
		{
			name: "repository case", tps: []TrustedPublisher{gh("Acme/Widgets", "publish.yml", "")}, run: run,
			want: []string{"repository differs only in letter case (the registry compares it exactly): trusted: `Acme/Widgets`; this run: `acme/widgets`"},
		},
		{
			name: "environment differs", tps: []TrustedPublisher{gh("acme/widgets", "publish.yml", "production")}, run: run,
			want: []string{"environment differs: trusted: `production`; this run: `npm`"},
		},
		{
			name: "environment missing in the run", tps: []TrustedPublisher{gh("acme/widgets", "publish.yml", "npm")},
			run:  RunIdentity{Repository: "acme/widgets", WorkflowFile: "publish.yml"},
			want: []string{"environment differs: the entry requires one and this run's job has none: trusted: `npm`; this run: none"},
		},
		{
			name: "several fields differ", tps: []TrustedPublisher{gh("acme/gadgets", "release.yaml", "prod")}, run: run,
			want: []string{
				"repository differs: trusted: `acme/gadgets`; this run: `acme/widgets`",
				"workflow file names another workflow: trusted: `release.yaml`; this run: `publish.yml`",
				"environment differs: trusted: `prod`; this run: `npm`",
			},
		},
		{
			name: "another CI provider", tps: []TrustedPublisher{{Type: "gitlab", Repository: "acme/widgets", WorkflowFile: ".gitlab-ci.yml"}}, run: run,
			want: []string{"CI provider differs: the entry is for gitlab, this run is GitHub Actions: trusted: `gitlab`; this run: `github`"},
		},
		{
			name: "run's workflow file unknown", tps: []TrustedPublisher{gh("acme/widgets", "publish.yml", "")},
			run:  RunIdentity{Repository: "acme/widgets"},
			want: []string{"workflow file of this run is not known: trusted: `publish.yml`; this run: none"},
		},
		{
			name: "no trusted publisher", run: run, closest: -1,
			want: []string{"the package lists no trusted publisher: every OIDC exchange for it fails"},
		},
		{
			name: "closest of several: same repository beats same file",
			tps: []TrustedPublisher{
				gh("someone/else", "publish.yml", "npm"),
				{Type: "gitlab", Repository: "acme/widgets", WorkflowFile: "publish.yml"},
				gh("acme/widgets", "Publish.yml", "npm"),
				gh("acme/widgets", "deploy.yml", "npm"),
			},
			run: run, closest: 2,
			want: []string{"workflow file differs only in letter case (the registry compares it exactly): trusted: `Publish.yml`; this run: `publish.yml`"},
		},
		{
			name: "closest of several: the fuzzy near miss",
			tps: []TrustedPublisher{
				gh("acme/widgets", "ci.yml", ""),
				gh("acme/widgets", "npm-publish.yml", ""),
				gh("acme/widgets", "docs.yml", ""),
			},
			run: run, closest: 1,
			want: []string{"workflow file names another workflow: trusted: `npm-publish.yml`; this run: `publish.yml`"},
		},
		{
			name: "the matching entry among others",
			tps:  []TrustedPublisher{gh("acme/widgets", "release.yml", ""), gh("acme/widgets", "publish.yml", "npm")},
			run:  run, match: true, closest: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(tc.tps, tc.run)
			if got.Match != tc.match || !reflect.DeepEqual(got.Mismatches, tc.want) {
				t.Errorf("match %v, mismatches:\n%q\nwant match %v:\n%q", got.Match, got.Mismatches, tc.match, tc.want)
			}
			switch {
			case tc.closest < 0 && got.Closest != nil:
				t.Errorf("closest %+v, want none", got.Closest)
			case tc.closest >= 0 && (got.Closest == nil || !reflect.DeepEqual(*got.Closest, tc.tps[tc.closest])):
				t.Errorf("closest %+v, want %+v", got.Closest, tc.tps[tc.closest])
			}
		})
	}
}

// Compare on what the registry really lists: the case, where the trusted publisher
// names release.yml and the run came from publish.yml.
func TestCompareWithRegistry(t *testing.T) {
	c, _, _ := setup(t, testToken)
	tps, err := c.TrustedPublishers(context.Background(), "@acme/widgets")
	if err != nil {
		t.Fatal(err)
	}
	got := Compare(tps, RunIdentity{Repository: "acme/widgets", WorkflowFile: ".github/workflows/publish.yml", Environment: "npm"})
	want := []string{"workflow file names another workflow: trusted: `release.yml`; this run: `publish.yml`"}
	if got.Match || !reflect.DeepEqual(got.Mismatches, want) || got.Closest == nil || got.Closest.WorkflowFile != "release.yml" {
		t.Errorf("%+v", got)
	}
	if got := Compare(tps, RunIdentity{Repository: "acme/widgets", WorkflowFile: ".github/workflows/release.yml", Environment: "npm"}); !got.Match {
		t.Errorf("%+v", got)
	}
}
