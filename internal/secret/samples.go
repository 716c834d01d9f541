package secret

import "strings"

// Sample is one credential of a kind Pubdoc redacts, for the tests of every package that
// promise a secret never leaves: Value must never be stored, posted or printed; Text is how
// it is written (the token, or the .npmrc line that holds it); Line is a log line that
// carries it.
type Sample struct {
	Value, Text, Line string
}

// Samples returns one well-formed credential of each of the twelve kinds the redactor
// knows (npm, GitHub ghp/gho/ghs/ghu and fine-grained, Slack, JWT, AWS, PyPI, RubyGems,
// an .npmrc auth line), by kind. They are built at run time so no secret scanner mistakes
// the source for a leak.
func Samples() map[string]Sample {
	r := strings.Repeat
	out := map[string]Sample{}
	for kind, v := range map[string]string{
		"npm":      "npm_" + r("a1B2", 9),
		"ghp":      "ghp_" + r("Z9y8", 9),
		"gho":      "gho_" + r("Q1w2", 9),
		"ghs":      "ghs_" + r("E3r4", 9),
		"ghu":      "ghu_" + r("T5y6", 9),
		"pat":      "github_pat_" + r("11AB", 6) + "_" + r("cdEF", 10),
		"slack":    "xoxb-" + r("1234", 3) + "-" + r("abcd", 6),
		"jwt":      "eyJ" + r("hbGc", 5) + ".eyJ" + r("zdWI", 8) + "." + r("SflK", 8),
		"aws":      "AKIA" + r("ABCD", 4),
		"pypi":     "pypi-AgEIcHlwaS5vcmc" + r("xYz1", 15),
		"rubygems": "rubygems_" + r("0af1", 12),
	} {
		out[kind] = Sample{Value: v, Text: v, Line: "npm error using " + v + " here"}
	}
	npmrc := "//registry.npmjs.org/:_authToken=" + r("s3cr", 6)
	out["authToken"] = Sample{Value: r("s3cr", 6), Text: npmrc, Line: "npm error using " + npmrc + " here"}
	return out
}
