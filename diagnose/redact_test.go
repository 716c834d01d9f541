package diagnose

import (
	"strings"
	"testing"
)

// Fake secrets of the right shapes, built at run time so no scanner mistakes them for real.
func fakeSecrets() map[string]string {
	r := func(s string, n int) string { return strings.Repeat(s, n) }
	return map[string]string{
		"npm":       "npm_" + r("a1B2", 9),
		"ghp":       "ghp_" + r("Z9y8", 9),
		"gho":       "gho_" + r("Q1w2", 9),
		"ghs":       "ghs_" + r("E3r4", 9),
		"ghu":       "ghu_" + r("T5y6", 9),
		"pat":       "github_pat_" + r("11AB", 6) + "_" + r("cdEF", 10),
		"slack":     "xoxb-" + r("1234", 3) + "-" + r("abcd", 6),
		"jwt":       "eyJ" + r("hbGc", 5) + ".eyJ" + r("zdWI", 8) + "." + r("SflK", 8),
		"aws":       "AKIA" + r("ABCD", 4),
		"pypi":      "pypi-AgEIcHlwaS5vcmc" + r("xYz1", 15),
		"rubygems":  "rubygems_" + r("0af1", 12),
		"authToken": "//registry.npmjs.org/:_authToken=" + r("s3cr", 6),
	}
}

func TestRedactEveryKind(t *testing.T) {
	for name, secret := range fakeSecrets() {
		line := "2024-01-01T00:00:00.0000000Z npm error using " + secret + " here"
		got := Redact(line)
		value := secret
		if name == "authToken" {
			value = secret[strings.Index(secret, "=")+1:]
		}
		if strings.Contains(got, value) {
			t.Errorf("%s: secret survived: %q", name, got)
		}
		if !strings.Contains(got, "[REDACTED") || !strings.Contains(got, "npm error using") {
			t.Errorf("%s: want a marker and the surrounding text kept, got %q", name, got)
		}
	}
}

func TestRedactPEMAcrossLines(t *testing.T) {
	in := "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7\nabcdef\n-----END RSA PRIVATE KEY-----\nafter"
	got := Redact(in)
	for _, leaked := range []string{"MIIEpAIBAAKCAQEA7", "abcdef"} {
		if strings.Contains(got, leaked) {
			t.Fatalf("PEM body leaked: %q", got)
		}
	}
	if !strings.HasPrefix(got, "before\n") || !strings.HasSuffix(got, "\nafter") {
		t.Fatalf("text around the key was lost: %q", got)
	}
}

func TestRedactLeavesOrdinaryTextAlone(t *testing.T) {
	for _, s := range []string{
		"npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fcore - Not found",
		"//registry.npmjs.org/:_authToken=${NODE_AUTH_TOKEN}",
		"NODE_AUTH_TOKEN: XXXXX-XXXXX-XXXXX-XXXXX",
		"Uploading distributions to https://upload.pypi.org/legacy/",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}
