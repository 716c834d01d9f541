package workflow

import (
	"strconv"
	"strings"
	"sync"

	"github.com/pubdoc/pubdoc/knowledge"
)

// ver is a version as a workflow pins it: parts says how many of major.minor.patch were
// written, so "22" (parts 1) means "whatever 22.x setup-node picks".
type ver struct {
	major, minor, patch int
	parts               int
}

func (v ver) known() bool { return v.parts > 0 }

// atLeast reports whether every version v can stand for is >= major.minor.patch. For a
// partial version it answers for the lowest one it could be.
func (v ver) atLeast(major, minor, patch int) bool {
	if v.major != major {
		return v.major > major
	}
	if v.parts < 2 {
		return minor == 0 && patch == 0
	}
	if v.minor != minor {
		return v.minor > minor
	}
	if v.parts < 3 {
		return patch == 0
	}
	return v.patch >= patch
}

// parseVer reads "22", "v22.14", "22.x", "24.4.1"; anything else is unknown.
func parseVer(s string) ver {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	var v ver
	for i, p := range strings.SplitN(s, ".", 3) {
		if p == "x" || p == "X" || p == "*" {
			break
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			if i == 0 {
				return ver{}
			}
			break
		}
		switch i {
		case 0:
			v.major = n
		case 1:
			v.minor = n
		case 2:
			v.patch = n
		}
		v.parts = i + 1
	}
	return v
}

// nodeSpec is what a setup-node node-version input resolves to.
type nodeSpec struct {
	ver
	// newest is true when setup-node resolves the spec to the newest release that matches
	// (an lts/ alias, a range, or check-latest); otherwise a major-only spec may be served
	// from the runner's tool cache, which can lag behind.
	newest bool
}

// ltsCodenames maps setup-node's lts/<codename> aliases to their major.
var ltsCodenames = map[string]int{
	"hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24,
}

// currentLTS is what lts/* resolves to. Node 24 is the Active LTS line through October 2026;
// when 26 takes over nothing here changes for the worse: both bundle an npm with OIDC.
const currentLTS = 24

// parseNode reads setup-node's node-version as written. Unknown (expressions, files, ranges
// we cannot resolve) gives a spec with parts 0.
func parseNode(s string, checkLatest bool) nodeSpec {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "" || strings.Contains(s, "${{"):
		return nodeSpec{}
	case s == "node" || s == "latest" || s == "current":
		return nodeSpec{ver{major: 99, parts: 1}, true}
	case s == "lts/*" || s == "lts":
		return nodeSpec{ver{major: currentLTS, parts: 1}, true}
	case strings.HasPrefix(s, "lts/"):
		if m, ok := ltsCodenames[strings.TrimPrefix(s, "lts/")]; ok {
			return nodeSpec{ver{major: m, parts: 1}, true}
		}
		return nodeSpec{}
	case strings.HasPrefix(s, "^"):
		v := parseVer(s[1:])
		if v.parts == 0 {
			return nodeSpec{}
		}
		return nodeSpec{ver{major: v.major, parts: 1}, true}
	case strings.HasPrefix(s, "~"):
		v := parseVer(s[1:])
		if v.parts > 2 {
			v.parts = 2
		}
		return nodeSpec{v, true}
	case strings.ContainsAny(s, "<>=| "):
		return nodeSpec{}
	}
	return nodeSpec{parseVer(s), checkLatest}
}

// tables are the version facts of knowledge/tables.yaml: the same data the engine's rules
// use, so a new npm or Node release is recorded in one place.
var tables = sync.OnceValue(func() *knowledge.Base {
	t, err := knowledge.LoadTables()
	if err != nil {
		panic(err) // embedded and tested: a failure is a build defect
	}
	return t
})

// lowest and highest are the first and last versions a partly pinned version can stand for
// ("22" is 22.0.0 … the newest 22).
func (v ver) lowest() knowledge.Version {
	return knowledge.Version{Major: v.major, Minor: v.minor, Patch: v.patch}
}

func (v ver) highest() knowledge.Version {
	const newest = 1 << 20
	out := knowledge.Version{Major: v.major, Minor: v.minor, Patch: v.patch}
	if v.parts < 2 {
		out.Minor = newest
	}
	if v.parts < 3 {
		out.Patch = newest
	}
	return out
}

// npmBundledHasOIDC reports whether the npm that setup-node's Node bundles can do the
// trusted-publishing exchange (tables.yaml npm_oidc_min), per the Node→npm table: no 22.x
// ever bundled npm 11; 24.5.0 is the first 24 with npm 11.5.1. A bare major means the newest
// of that line, what setup-node serves. ok is false when the spec does not say.
func npmBundledHasOIDC(n nodeSpec) (has, ok bool) {
	if !n.known() {
		return false, false
	}
	t := tables()
	v := n.highest()
	for _, row := range t.NodeNPM {
		if row.Node.Allows(v) {
			return row.NPMMin.Compare(t.Thresholds["npm_oidc_min"]) >= 0, true
		}
	}
	// Not in the table: older Nodes bundle old npms, newer ones (odd majors, 28+) new ones.
	return v.Major >= 24, true
}

// npmSpec is the npm an "npm install -g npm@X" step installs.
type npmSpec struct {
	raw    string
	ver         // the newest version the spec allows; parts 1 = newest of that major
	latest bool // the spec follows the latest dist-tag: npm 12 since 2026-07-08
}

// npmLatestMajor is the major the "latest" dist-tag points at (tables.yaml npm_latest).
func npmLatestMajor() int { return tables().Thresholds["npm_latest"].Major }

func parseNPMSpec(raw string) npmSpec {
	s := strings.TrimSpace(raw)
	out := npmSpec{raw: raw}
	switch {
	case s == "" || s == "latest" || s == "*" || s == "x" || s == "next":
		out.latest = true
		out.ver = ver{major: npmLatestMajor(), parts: 1}
	case strings.HasPrefix(s, ">="), strings.HasPrefix(s, ">"):
		out.latest = true
		out.ver = ver{major: npmLatestMajor(), parts: 1}
	case strings.HasPrefix(s, "^"):
		v := parseVer(s[1:])
		if v.parts > 0 {
			out.ver = ver{major: v.major, parts: 1}
		}
	case strings.HasPrefix(s, "~"):
		v := parseVer(s[1:])
		if v.parts > 2 {
			v.parts = 2
		}
		out.ver = v
	case strings.HasPrefix(s, "latest-"):
		out.ver = parseVer(strings.TrimPrefix(s, "latest-"))
	default:
		out.ver = parseVer(s)
	}
	if out.parts > 0 && out.major >= npmLatestMajor() && !out.latest && out.parts == 1 {
		out.latest = true
	}
	return out
}

// hasOIDC reports whether the npm installed can do the exchange (tables.yaml npm_oidc_min);
// an unpinned spec installs the newest version it allows ("11.5" is 11.5.2).
func (s npmSpec) hasOIDC() (has, ok bool) {
	if !s.known() {
		return false, false
	}
	return s.highest().Compare(tables().Thresholds["npm_oidc_min"]) >= 0, true
}

// engineRefusal says whether npm of the given major refuses the Node: "yes" (every Node the
// spec can stand for is refused), "maybe" (an unpinned spec may be served an older Node from
// the runner's tool cache) or "no". The engines ranges are tables.yaml's npm11_engines and
// npm12_engines. npm 11's minimums are from 2024, older than any Node a runner caches today,
// so only npm 12 and later can be "maybe".
func engineRefusal(npmMajor int, n nodeSpec) string {
	if !n.known() {
		return "no"
	}
	engines, lags := tables().Constraints["npm12_engines"], true
	switch {
	case npmMajor == 11:
		engines, lags = tables().Constraints["npm11_engines"], false
	case npmMajor < 11:
		return "no"
	}
	lo, hi := n.lowest(), n.highest()
	switch {
	case !engines.Allows(hi):
		return "yes"
	case engines.Allows(lo) || n.newest || !lags:
		return "no"
	}
	return "maybe"
}
