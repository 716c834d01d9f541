package knowledge

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestEmbeddedBaseLoads(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatalf("embedded knowledge base: %v", err)
	}
	if len(b.Rules) == 0 || len(b.Anchors) == 0 {
		t.Fatalf("loaded %d rules and %d anchors", len(b.Rules), len(b.Anchors))
	}
	if b.Rule("oidc-npm-too-old") == nil {
		t.Fatal("oidc-npm-too-old missing")
	}
	if n, err := RuleCount(); err != nil || n != len(b.Rules) {
		t.Fatalf("RuleCount = %d, %v; Load has %d rules", n, err, len(b.Rules))
	}
}

func TestLoadRejectsBadRules(t *testing.T) {
	good, err := embedded.ReadFile("rules/npm/oidc-npm-too-old.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tables, _ := embedded.ReadFile("tables.yaml")
	patterns, _ := embedded.ReadFile("patterns.yaml")
	cases := map[string]struct {
		edit func(string) string
		want string
	}{
		"unknown field":     {func(s string) string { return s + "\nsurprise: 1\n" }, "field surprise not found"},
		"bad regex":         {func(s string) string { return strings.Replace(s, `'lerna ERR! E404'`, `'lerna ERR! (E404'`, 1) }, "missing closing )"},
		"unknown threshold": {func(s string) string { return strings.Replace(s, "$npm_oidc_min}", "$npm_nope}", 1) }, "unknown threshold $npm_nope"},
		"unknown fact": {func(s string) string {
			return strings.Replace(s, "fact: oidc_intended, eq", "fact: oidc_wanted, eq", 1)
		}, `unknown fact "oidc_wanted"`},
		"unknown pattern": {func(s string) string { return strings.Replace(s, "pattern: put_404", "pattern: put_405", 1) }, `unknown pattern "put_405"`},
		"two kinds": {func(s string) string {
			return strings.Replace(s, "- pattern: put_404", "- {pattern: put_404, literal: x}", 1)
		}, "exactly one of"},
		"no examples":     {func(s string) string { return s[:strings.Index(s, "examples:")] }, "at least one example"},
		"wrong file name": {func(s string) string { return strings.Replace(s, "id: oidc-npm-too-old", "id: oidc-npm-ancient", 1) }, "must be named oidc-npm-ancient.yaml"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"tables.yaml":                     {Data: tables},
				"patterns.yaml":                   {Data: patterns},
				"rules/npm/oidc-npm-too-old.yaml": {Data: []byte(tc.edit(string(good)))},
			}
			_, err := LoadFS(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "rules/npm/oidc-npm-too-old.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestRequiredLiterals(t *testing.T) {
	for re, want := range map[string]string{
		`404 Not Found - PUT https?://\S+`:           "404 Not Found - PUT http://,404 Not Found - PUT https://",
		`code ENEEDAUTH|need auth This`:              "code ENEEDAUTH,need auth This",
		`(foo)+barbaz`:                               "barbaz",
		`(npm (ERR!|error) code|lerna ERR!) E400\b`:  "npm ERR! code E400,npm error code E400,lerna ERR! E400",
		`^(> )?@?[^\s@]+@\S+ (prepack|publish)( |$)`: " prepack, publish",
		`(?i)case insensitive`:                       "",
		`You cannot publish over (\S+?)\.?$`:         "You cannot publish over ",
		`a|bc`:                                       "",
	} {
		if got := strings.Join(requiredLiterals(re), ","); got != want {
			t.Errorf("requiredLiterals(%q) = %q, want %q", re, got, want)
		}
	}
}
