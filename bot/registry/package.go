package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// PackageInfo is what the registry says about a package.
type PackageInfo struct {
	Name string
	// Exists is false when the registry answered 404: the package was never published (or
	// is not visible to this token). The other fields are then empty.
	Exists bool
	// Versions are the published versions, lowest first by semver precedence.
	Versions []string
	// DistTags maps tags to versions ("latest" -> "1.2.3").
	DistTags map[string]string
}

// HasVersion reports whether v is published. A leading "v" or "=" and surrounding spaces
// are ignored, as npm ignores them.
func (p *PackageInfo) HasVersion(v string) bool {
	if p == nil {
		return false
	}
	v = strings.TrimLeft(strings.TrimSpace(v), "v=")
	return v != "" && slices.Contains(p.Versions, v)
}

func (p *PackageInfo) clone() *PackageInfo {
	cp := *p
	cp.Versions = slices.Clone(p.Versions)
	cp.DistTags = maps.Clone(p.DistTags)
	return &cp
}

// Package asks the registry for a package's document (GET <base>/<escaped name>). A
// package the registry does not know is Exists=false with a nil error. The token, when
// set, is sent so that private packages are seen too.
func (c *Client) Package(ctx context.Context, name string) (*PackageInfo, error) {
	info, err := c.pkg(ctx, name)
	return info, c.seal(err, "looking up npm package %q", name)
}

func (c *Client) pkg(ctx context.Context, name string) (*PackageInfo, error) {
	if err := c.check(name); err != nil {
		return nil, err
	}
	key := "package\x00" + name
	if v, ok := c.cache.get(key, c.now()); ok {
		c.log.DebugContext(ctx, "registry cache hit", "package", name, "what", "package")
		return v.(*PackageInfo).clone(), nil
	}
	a, err := c.get(ctx, c.endpoint(escapeName(name)), true)
	if err != nil {
		return nil, err
	}
	info := &PackageInfo{Name: name}
	switch a.status {
	case http.StatusNotFound:
	case http.StatusOK:
		var doc struct {
			DistTags map[string]string          `json:"dist-tags"`
			Versions map[string]json.RawMessage `json:"versions"`
		}
		if err := json.Unmarshal(a.body, &doc); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		info.Exists = true
		info.DistTags = doc.DistTags
		if info.DistTags == nil {
			info.DistTags = map[string]string{}
		}
		info.Versions = slices.SortedFunc(maps.Keys(doc.Versions), compareVersions)
	default:
		return nil, fmt.Errorf("unexpected answer HTTP %d%s", a.status, c.said(a.body))
	}
	c.cache.put(key, info.clone(), c.now(), c.ttl)
	return info, nil
}

// check refuses what must not become a request: an unusable base URL or a name that is not
// an npm package name (which could otherwise reach another endpoint with the token).
func (c *Client) check(name string) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	if !validName(name) {
		return ErrInvalidName
	}
	return nil
}

// namePart is one part of a package name: URL-safe characters (npm requires a name to be
// its own encodeURIComponent), not starting with a dot, so no part can be "." or "..".
var namePart = lazyre.New(`^[A-Za-z0-9_~!*'()-][A-Za-z0-9._~!*'()-]*$`)

// validName accepts "name" and "@scope/name", at most 214 characters as npm allows.
func validName(name string) bool {
	if name == "" || len(name) > 214 {
		return false
	}
	if scope, rest, scoped := strings.Cut(name, "/"); scoped {
		return strings.HasPrefix(scope, "@") && namePart.Get().MatchString(scope[1:]) && namePart.Get().MatchString(rest)
	}
	return namePart.Get().MatchString(name)
}

// escapeName is npm's escapedName: the scope's slash becomes %2f, nothing else changes
// (validName has already refused anything that would need escaping).
func escapeName(name string) string {
	return strings.Replace(name, "/", "%2f", 1)
}

// compareVersions orders by semver precedence; strings that are not semver sort after
// those that are, in byte order.
func compareVersions(a, b string) int {
	va, oka := parseSemver(a)
	vb, okb := parseSemver(b)
	switch {
	case oka && okb:
		if c := va.compare(vb); c != 0 {
			return c
		}
		return strings.Compare(a, b) // equal precedence (build metadata): keep it stable
	case oka:
		return -1
	case okb:
		return 1
	}
	return strings.Compare(a, b)
}

type semver struct {
	nums [3]uint64
	pre  []string
}

func parseSemver(s string) (semver, bool) {
	var v semver
	s, _, _ = strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil || p == "" || (len(p) > 1 && p[0] == '0') {
			return v, false
		}
		v.nums[i] = n
	}
	if hasPre {
		if pre == "" {
			return v, false
		}
		v.pre = strings.Split(pre, ".")
	}
	return v, true
}

func (v semver) compare(w semver) int {
	for i := range v.nums {
		if v.nums[i] != w.nums[i] {
			if v.nums[i] < w.nums[i] {
				return -1
			}
			return 1
		}
	}
	// A version without a prerelease is higher than one with.
	switch {
	case len(v.pre) == 0 && len(w.pre) == 0:
		return 0
	case len(v.pre) == 0:
		return 1
	case len(w.pre) == 0:
		return -1
	}
	for i := 0; i < len(v.pre) && i < len(w.pre); i++ {
		a, b := v.pre[i], w.pre[i]
		na, ea := strconv.ParseUint(a, 10, 64)
		nb, eb := strconv.ParseUint(b, 10, 64)
		switch {
		case ea == nil && eb == nil:
			if na != nb {
				if na < nb {
					return -1
				}
				return 1
			}
		case ea == nil: // numeric identifiers are lower than alphanumeric ones
			return -1
		case eb == nil:
			return 1
		default:
			if c := strings.Compare(a, b); c != 0 {
				return c
			}
		}
	}
	switch {
	case len(v.pre) < len(w.pre):
		return -1
	case len(v.pre) > len(w.pre):
		return 1
	}
	return 0
}
