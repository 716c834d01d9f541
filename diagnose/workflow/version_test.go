package workflow

import (
	"fmt"
	"testing"
)

func TestParseNode(t *testing.T) {
	tests := []struct {
		in          string
		checkLatest bool
		want        string // major.minor.patch/parts newest
	}{
		{"20", false, "20.0.0/1 false"},
		{"'22'", false, "0.0.0/0 false"}, // quotes are YAML's, never in the value
		{"22.x", false, "22.0.0/1 false"},
		{"v22.14.0", false, "22.14.0/3 false"},
		{"24.4", false, "24.4.0/2 false"},
		{"24", true, "24.0.0/1 true"},
		{"lts/*", false, "24.0.0/1 true"},
		{"lts/jod", false, "22.0.0/1 true"},
		{"lts/iron", false, "20.0.0/1 true"},
		{"lts/argon", false, "0.0.0/0 false"},
		{"node", false, "99.0.0/1 true"},
		{"^22.14", false, "22.0.0/1 true"},
		{"~22.14.1", false, "22.14.1/2 true"},
		{">=22", false, "0.0.0/0 false"},
		{"${{ matrix.node }}", false, "0.0.0/0 false"},
		{"", false, "0.0.0/0 false"},
	}
	for _, tt := range tests {
		n := parseNode(tt.in, tt.checkLatest)
		got := fmt.Sprintf("%d.%d.%d/%d %v", n.major, n.minor, n.patch, n.parts, n.newest)
		if got != tt.want {
			t.Errorf("parseNode(%q, %v) = %s, want %s", tt.in, tt.checkLatest, got, tt.want)
		}
	}
}

// npm.md §0.6: which Node's bundled npm can do the OIDC exchange (>= 11.5.1).
func TestNPMBundledHasOIDC(t *testing.T) {
	tests := []struct {
		node string
		want string // "has ok"
	}{
		{"18", "false true"},
		{"20", "false true"},
		{"22", "false true"},
		{"22.22.2", "false true"},
		{"23", "false true"},
		{"24.0.0", "false true"},
		{"24.4", "false true"},
		{"24.5", "true true"},
		{"24.5.0", "true true"},
		{"24", "true true"},
		{"25", "true true"},
		{"26", "true true"},
		{"lts/*", "true true"},
		{"${{ inputs.node }}", "false false"},
	}
	for _, tt := range tests {
		has, ok := npmBundledHasOIDC(parseNode(tt.node, false))
		if got := fmt.Sprintf("%v %v", has, ok); got != tt.want {
			t.Errorf("node %s: %s, want %s", tt.node, got, tt.want)
		}
	}
}

func TestNPMSpec(t *testing.T) {
	tests := []struct {
		spec string
		want string // "major/parts latest hasOIDC"
	}{
		{"latest", "12/1 true true"},
		{"", "12/1 true true"},
		{"next", "12/1 true true"},
		{">=11.5.1", "12/1 true true"},
		{"12", "12/1 true true"},
		{"^12.0.0", "12/1 true true"},
		{"11", "11/1 false true"},
		{"^11.5.1", "11/1 false true"},
		{"11.x", "11/1 false true"},
		{"11.5", "11/2 false true"},
		{"11.5.0", "11/3 false false"},
		{"11.5.1", "11/3 false true"},
		{"~11.4.0", "11/2 false false"},
		{"11.4.2", "11/3 false false"},
		{"10", "10/1 false false"},
		{"$NPM_VERSION", "0/0 false false"},
	}
	for _, tt := range tests {
		s := parseNPMSpec(tt.spec)
		has, _ := s.hasOIDC()
		if got := fmt.Sprintf("%d/%d %v %v", s.major, s.parts, s.latest, has); got != tt.want {
			t.Errorf("parseNPMSpec(%q) = %s, want %s", tt.spec, got, tt.want)
		}
	}
}

// npm.md §6: npm 12 engines ^22.22.2 || ^24.15.0 || >=26.0.0; npm 11 ^20.17.0 || >=22.9.0.
func TestEngineRefusal(t *testing.T) {
	tests := []struct {
		npm         int
		node        string
		checkLatest bool
		want        string
	}{
		{12, "18", false, "yes"},
		{12, "20", false, "yes"},
		{12, "20.19.0", false, "yes"},
		{12, "22", false, "maybe"}, // the tool cache served 22.22.0 (kortix-ai/suna#6940)
		{12, "22", true, "no"},
		{12, "22.22", false, "maybe"},
		{12, "22.21", false, "yes"},
		{12, "22.22.1", false, "yes"},
		{12, "22.22.2", false, "no"},
		{12, "22.23.0", false, "no"},
		{12, "lts/jod", false, "no"},
		{12, "23", false, "yes"},
		{12, "24", false, "maybe"},
		{12, "24.14.1", false, "yes"},
		{12, "24.15.0", false, "no"},
		{12, "24.15", false, "no"},
		{12, "lts/*", false, "no"},
		{12, "25", false, "yes"},
		{12, "26", false, "no"},
		{12, "node", false, "no"},
		{11, "18", false, "yes"},
		{11, "20", false, "no"},
		{11, "20.10.0", false, "yes"},
		{11, "20.17", false, "no"},
		{11, "22", false, "no"},
		{11, "22.8.0", false, "yes"},
		{11, "22.9.0", false, "no"},
		{11, "23", false, "no"},
		{11, "24", false, "no"},
		{10, "16", false, "no"},
		{12, "${{ matrix.node }}", false, "no"},
	}
	for _, tt := range tests {
		if got := engineRefusal(tt.npm, parseNode(tt.node, tt.checkLatest)); got != tt.want {
			t.Errorf("npm %d on node %q (check-latest %v) = %s, want %s", tt.npm, tt.node, tt.checkLatest, got, tt.want)
		}
	}
}
