package diagnose

import (
	"fmt"
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

// A long log is normalized in two halves on two cores; a private key that starts in the
// first half and ends in the second is still redacted line by line, and every line keeps
// its number and step.
func TestNormalizeRedactsAKeyAcrossHalves(t *testing.T) {
	e := testEngine(t)
	var raw []rawLine
	add := func(text string) { raw = append(raw, rawLine{n: len(raw) + 1, text: text}) }
	add("##[group]Run npm publish")
	for len(raw) < 2*parallelLines {
		n := len(raw) + 1
		switch {
		case n == parallelLines-3:
			add("-----BEGIN RSA PRIVATE KEY-----")
		case n > parallelLines-3 && n < parallelLines+5:
			add(fmt.Sprintf("MIIEowIBAAKCAQEAsecretkeybody%03dABCDEFGHIJKLMNOP", n))
		case n == parallelLines+5:
			add("-----END RSA PRIVATE KEY----- after")
		default:
			add(fmt.Sprintf("line %d of the test output", n))
		}
	}
	lines := e.normalize(raw)
	if len(lines) != len(raw) {
		t.Fatalf("%d lines in, %d out", len(raw), len(lines))
	}
	for i, l := range lines {
		if strings.Contains(l.Text, "secretkeybody") || strings.Contains(l.Match, "secretkeybody") {
			t.Fatalf("line %d kept the key: %q", l.N, l.Text)
		}
		if l.N != i+1 || l.Step != "npm publish" {
			t.Fatalf("line %d: number %d, step %q", i+1, l.N, l.Step)
		}
	}
	if got := lines[parallelLines+4].Text; !strings.Contains(got, "after") {
		t.Fatalf("the key's last line lost what follows it: %q", got)
	}
}
