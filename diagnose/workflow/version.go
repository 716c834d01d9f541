package workflow

import (
	"strconv"
	"strings"
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

// below reports whether every version v can stand for is < major.minor.patch.
func (v ver) below(major, minor, patch int) bool {
	if v.major != major {
		return v.major < major
	}
	if v.parts < 2 {
		return false
	}
	if v.minor != minor {
		return v.minor < minor
	}
	return v.parts == 3 && v.patch < patch
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

// npmBundledHasOIDC reports whether the npm that setup-node's Node bundles can do the
// trusted-publishing exchange (npm >= 11.5.1), per npm.md §0.6: no 22.x ever bundled npm 11;
// 24.5.0 is the first 24 with npm 11.5.1. ok is false when the spec does not say.
func npmBundledHasOIDC(n nodeSpec) (has, ok bool) {
	if !n.known() {
		return false, false
	}
	switch {
	case n.major < 24:
		return false, true
	case n.major == 24 && n.below(24, 5, 0):
		return false, true
	case n.major == 24 && n.parts == 1:
		return true, true // any 24 a runner serves today is past 24.5
	case n.major == 24:
		return n.atLeast(24, 5, 0), n.atLeast(24, 5, 0)
	}
	return true, true
}

// npmSpec is the npm an "npm install -g npm@X" step installs.
type npmSpec struct {
	raw    string
	ver         // the newest version the spec allows; parts 1 = newest of that major
	latest bool // the spec follows the latest dist-tag: npm 12 since 2026-07-08
}

// npmLatestMajor is the major the "latest" dist-tag points at (npm 12 since 2026-07-08).
const npmLatestMajor = 12

func parseNPMSpec(raw string) npmSpec {
	s := strings.TrimSpace(raw)
	out := npmSpec{raw: raw}
	switch {
	case s == "" || s == "latest" || s == "*" || s == "x" || s == "next":
		out.latest = true
		out.ver = ver{major: npmLatestMajor, parts: 1}
	case strings.HasPrefix(s, ">="), strings.HasPrefix(s, ">"):
		out.latest = true
		out.ver = ver{major: npmLatestMajor, parts: 1}
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
	if out.parts > 0 && out.major >= npmLatestMajor && !out.latest && out.parts == 1 {
		out.latest = true
	}
	return out
}

// hasOIDC reports whether the npm installed can do the exchange (>= 11.5.1).
func (s npmSpec) hasOIDC() (has, ok bool) {
	if !s.known() {
		return false, false
	}
	switch {
	case s.major != 11:
		return s.major > 11, true
	case s.parts == 1:
		return true, true
	case s.minor != 5:
		return s.minor > 5, true
	case s.parts == 2:
		return true, true // 11.5.x resolves to 11.5.2
	}
	return s.patch >= 1, true
}

// engineRefusal says whether npm of the given major refuses the Node: "yes" (every Node the
// spec can stand for is refused), "maybe" (an unpinned spec may be served an older Node from
// the runner's tool cache) or "no". Engines per npm.md §6: npm 12 ^22.22.2 || ^24.15.0 ||
// >=26.0.0; npm 11 ^20.17.0 || >=22.9.0. npm 11's minimums are from 2024, older than any
// Node a runner caches today, so only npm 12's can be "maybe".
func engineRefusal(npmMajor int, n nodeSpec) string {
	if !n.known() {
		return "no"
	}
	type floor struct{ major, minor, patch int } // ^major.minor.patch
	var floors []floor
	var from int // >= from.0.0 is fine
	lags := false
	switch {
	case npmMajor >= 12:
		floors, from, lags = []floor{{22, 22, 2}, {24, 15, 0}}, 26, true
	case npmMajor == 11:
		floors, from = []floor{{20, 17, 0}, {22, 9, 0}}, 23
	default:
		return "no"
	}
	if n.major >= from {
		return "no"
	}
	for _, f := range floors {
		if n.major != f.major {
			continue
		}
		switch {
		case n.below(f.major, f.minor, f.patch):
			return "yes"
		case n.atLeast(f.major, f.minor, f.patch) || n.newest || !lags:
			return "no"
		}
		return "maybe"
	}
	return "yes"
}
