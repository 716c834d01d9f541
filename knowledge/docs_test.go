package knowledge

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// docs/rules.md and docs/sources.md are generated; they must match the rules they describe.
func TestDocsAreFresh(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"rules.md": b.Docs(), "sources.md": b.SourcesDoc()} {
		t.Run(name, func(t *testing.T) { checkFresh(t, filepath.Join("..", "docs", name), want) })
	}
}

func checkFresh(t *testing.T, path, want string) {
	t.Helper()
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run `make docs`)", err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run `make docs` (or `go run ./cmd/pubdoc kb docs`)", path)
	}
}

func TestSearchFindsRulesByLooseWords(t *testing.T) {
	b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for query, want := range map[string]string{
		"e404 put token expired":  "token-expired-or-revoked",
		"payment required scoped": "scoped-package-default-restricted",
		"otp one-time password":   "token-eotp-otp-required",
		"prerelease tag":          "prerelease-requires-tag",
		"npm too old oidc":        "oidc-npm-too-old",
		"id-token permission":     "oidc-missing-id-token-permission",
	} {
		hits := b.Search(query, 5)
		found := false
		for _, h := range hits {
			found = found || h.Rule.ID == want
		}
		if !found {
			ids := []string{}
			for _, h := range hits {
				ids = append(ids, h.Rule.ID)
			}
			t.Errorf("Search(%q) = %v, want %s in the first 5", query, ids, want)
		}
	}
	if hits := b.Search("   ", 5); hits != nil {
		t.Errorf("blank query found %d rules", len(hits))
	}
}

// rules.gob must match the YAML it was decoded from, or every start-up decodes the YAML
// again (correct, but ~25 ms slower).
func TestCompiledIsFresh(t *testing.T) {
	want, err := Compiled()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("rules.gob")
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !IsCompiledFresh() {
		t.Fatal("knowledge/rules.gob does not match the rule YAML: run `make kb` (or `UPDATE=1 go test ./knowledge`)")
	}
	// The gob is deterministic, so the checked-in file is byte for byte what `make kb` writes.
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("knowledge/rules.gob differs from what `make kb` writes (%v): regenerate it", err)
	}
}

// A base loaded from rules.gob is the base loaded from YAML: same rules, same anchors, same
// compiled conditions.
func TestCompiledLoadsTheSameBase(t *testing.T) {
	if !IsCompiledFresh() {
		t.Skip("rules.gob is stale (TestCompiledIsFresh says so)")
	}
	fromGob, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := LoadFS(yamlOnly{embedded})
	if err != nil {
		t.Fatal(err)
	}
	if len(fromGob.Rules) != len(fromYAML.Rules) || len(fromGob.Anchors) != len(fromYAML.Anchors) {
		t.Fatalf("gob: %d rules, %d anchors; YAML: %d rules, %d anchors", len(fromGob.Rules), len(fromGob.Anchors), len(fromYAML.Rules), len(fromYAML.Anchors))
	}
	for i, a := range fromGob.Anchors {
		if a.Text() != fromYAML.Anchors[i].Text() || a.InMatch != fromYAML.Anchors[i].InMatch {
			t.Fatalf("anchor %d: gob %q, YAML %q", i, a.Text(), fromYAML.Anchors[i].Text())
		}
	}
	if fromGob.Docs() != fromYAML.Docs() || fromGob.SourcesDoc() != fromYAML.SourcesDoc() {
		t.Fatal("the docs generated from the gob and from the YAML differ")
	}
	for i, r := range fromGob.Rules {
		y := fromYAML.Rules[i]
		if r.ID != y.ID || len(r.Examples) != len(y.Examples) || len(r.NearMisses) != len(y.NearMisses) || r.Cause != y.Cause || r.Base != y.Base || len(r.Raise) != len(y.Raise) || len(r.Lower) != len(y.Lower) {
			t.Fatalf("rule %d differs: gob %s, YAML %s", i, r.ID, y.ID)
		}
	}
}
