package diagnose

import (
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// fakeSecrets are the twelve kinds of internal/secret's samples, as they are written.
func fakeSecrets() map[string]string {
	out := map[string]string{}
	for kind, s := range secret.Samples() {
		out[kind] = s.Text
	}
	return out
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
