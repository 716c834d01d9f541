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

// rules_gen.go must match the YAML it was decoded from, or every start-up decodes the YAML
// again (correct, but ~25 ms slower).
func TestCompiledIsFresh(t *testing.T) {
	want, err := Compiled()
	if err != nil {
		t.Fatal(err)
	}
	path := compiledFile
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if generated == nil {
		t.Skip("built with -tags pubdoc_nogen: rules_gen.go is left out")
	}
	if !IsCompiledFresh() {
		t.Fatal("knowledge/rules_gen.go does not match the rule YAML: run `make kb` (or `UPDATE=1 go test -tags pubdoc_nogen ./knowledge -run TestCompiledIsFresh`)")
	}
	// The output is deterministic, so the checked-in file is byte for byte what `make kb` writes.
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("knowledge/rules_gen.go differs from what `make kb` writes (%v): regenerate it", err)
	}
}

// A base loaded from rules_gen.go is the base loaded from YAML: same rules, same anchors, same
// compiled conditions.
func TestCompiledLoadsTheSameBase(t *testing.T) {
	if !IsCompiledFresh() {
		t.Skip("rules_gen.go is stale (TestCompiledIsFresh says so)")
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

// Load compiles a clone of each generated rule: the generated data stays as decoded, and
// two bases loaded at once (as parallel tests do) share none of what checkRule fills in.
func TestGeneratedRulesStayAsDecoded(t *testing.T) {
	if generated == nil || !IsCompiledFresh() {
		t.Skip("no fresh rules_gen.go in this build")
	}
	bases := make([]*Base, 2)
	done := make(chan int)
	for i := range bases {
		go func() {
			b, err := Load()
			if err != nil {
				t.Error(err)
			}
			bases[i] = b
			done <- i
		}()
	}
	<-done
	<-done
	if t.Failed() {
		return
	}
	for i, r := range generated.Rules {
		var compiled []string
		walkCond(&r.Match, func(c *Cond) {
			if c.Anchor != nil || c.Op != "" || c.Version != nil {
				compiled = append(compiled, "a condition")
			}
		})
		if r.File != "" || r.Fix.SummaryTemplate != "" {
			compiled = append(compiled, "the file or fix")
		}
		if len(compiled) > 0 {
			t.Fatalf("generated rule %s was written into by a load: %v", r.ID, compiled)
		}
		a, b := bases[0].Rules[i], bases[1].Rules[i]
		if a == b || a.Match.Anchor != nil && a.Match.Anchor == b.Match.Anchor {
			t.Fatalf("rule %s: the two bases share a compiled rule", r.ID)
		}
	}
}

func walkCond(c *Cond, f func(*Cond)) {
	f(c)
	for i := range c.All {
		walkCond(&c.All[i], f)
	}
	for i := range c.Any {
		walkCond(&c.Any[i], f)
	}
	if c.Not != nil {
		walkCond(c.Not, f)
	}
}
