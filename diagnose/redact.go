package diagnose

import (
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// secretKinds are the token shapes Pubdoc redacts before anything is shown, stored or
// posted. Each is anchored on a vendor prefix so ordinary log text is left alone.
var secretKinds = []struct {
	name string
	hint string // a literal every match contains: lines without any hint skip the regexes
	re   *lazyre.Regexp
}{
	{"npm token", "npm_", lazyre.New(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"GitHub token", "_", lazyre.New(`\bgh[pousr]_[A-Za-z0-9]{36,}\b`)},
	{"GitHub token", "github_pat_", lazyre.New(`\bgithub_pat_[A-Za-z0-9_]{22,}\b`)},
	{"Slack token", "xox", lazyre.New(`\bxox[abposre]-[A-Za-z0-9-]{10,}`)},
	{"Slack token", "xapp-", lazyre.New(`\bxapp-[A-Za-z0-9-]{10,}`)},
	{"JWT", "eyJ", lazyre.New(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{"AWS key id", "A", lazyre.New(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b`)},
	{"AWS secret", "ws_secret", lazyre.New(`(?i)(aws_secret_access_key\s*[=:]\s*)[A-Za-z0-9/+=]{40}`)},
	{"PyPI token", "pypi-", lazyre.New(`\bpypi-[A-Za-z0-9_-]{50,}`)},
	{"RubyGems key", "rubygems_", lazyre.New(`\brubygems_[a-f0-9]{48}\b`)},
	{"NuGet key", "oy2", lazyre.New(`\boy2[a-z0-9]{43}\b`)},
	{"crates.io token", "cio", lazyre.New(`\bcio[A-Za-z0-9]{32}\b`)},
	{"Docker token", "dckr_", lazyre.New(`\bdckr_pat_[A-Za-z0-9_-]{20,}`)},
	{"npmrc secret", "_auth", lazyre.New(`(_authToken|_auth|_password)(\s*=\s*)([^\s$"'][^\s"']{7,})`)},
	{"bearer token", "earer ", lazyre.New(`(?i)(\bbearer\s+)([A-Za-z0-9._~+/-]{16,}=*)`)},
}

const (
	pemBegin = "-----BEGIN "
	pemEnd   = "-----END "
)

// redactor removes secrets from a stream of lines. It carries state because a PEM private
// key spans lines.
type redactor struct {
	inPEM bool
}

// line returns s with every secret replaced by a marker naming its kind.
func (r *redactor) line(s string) string {
	if r.inPEM {
		if i := strings.Index(s, pemEnd); i >= 0 {
			r.inPEM = false
			return "[REDACTED private key]" + trimPEMEnd(s[i:])
		}
		return "[REDACTED private key]"
	}
	if i := strings.Index(s, pemBegin); i >= 0 && strings.Contains(s[i:], "PRIVATE KEY-----") {
		if j := strings.Index(s[i+len(pemBegin):], pemEnd); j >= 0 {
			return s[:i] + "[REDACTED private key]" + trimPEMEnd(s[i+len(pemBegin)+j:])
		}
		r.inPEM = true
		return s[:i] + "[REDACTED private key]"
	}
	for _, k := range secretKinds {
		if !strings.Contains(s, k.hint) {
			continue
		}
		switch k.name {
		case "npmrc secret":
			s = k.re.ReplaceAllString(s, "${1}${2}[REDACTED]")
		case "AWS secret", "bearer token":
			s = k.re.ReplaceAllString(s, "${1}[REDACTED "+k.name+"]")
		default:
			s = k.re.ReplaceAllString(s, "[REDACTED "+k.name+"]")
		}
	}
	return s
}

func trimPEMEnd(s string) string {
	if i := strings.Index(s, "-----"); i >= 0 {
		if j := strings.Index(s[i+5:], "-----"); j >= 0 {
			return s[i+5+j+5:]
		}
	}
	return ""
}

// Redact removes secrets from multi-line text: tokens of npm, GitHub, Slack, PyPI,
// RubyGems, NuGet, crates.io and Docker, JWTs, AWS keys, npmrc auth values, bearer tokens
// and PEM private keys. Adapters call it on anything they store or post.
func Redact(text string) string {
	var r redactor
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = r.line(l)
	}
	return strings.Join(lines, "\n")
}
