package knowledge

import (
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
