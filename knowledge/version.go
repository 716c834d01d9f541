package knowledge

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a semantic version without build metadata. Pre-release tags compare lower than
// the release, as in semver; two different tags compare by string.
type Version struct {
	Major, Minor, Patch int
	Pre                 string
}

// ParseVersion reads "11.5.1", "v22.16.0", "11.5" or "24"; missing parts are zero.
func ParseVersion(s string) (Version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if s == "" {
		return Version{}, fmt.Errorf("empty version")
	}
	var v Version
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		if s[i] == '-' {
			v.Pre = s[i+1:]
			if j := strings.IndexByte(v.Pre, '+'); j >= 0 {
				v.Pre = v.Pre[:j]
			}
		}
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q has more than three parts", s)
	}
	nums := [3]int{}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return Version{}, fmt.Errorf("version part %q is not a number", p)
		}
		nums[i] = n
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	return v, nil
}

// MustVersion is ParseVersion for literals known to be valid.
func MustVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare returns -1, 0 or 1.
func (v Version) Compare(o Version) int {
	for _, d := range [3]int{v.Major - o.Major, v.Minor - o.Minor, v.Patch - o.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	switch {
	case v.Pre == o.Pre:
		return 0
	case v.Pre == "":
		return 1
	case o.Pre == "":
		return -1
	case v.Pre < o.Pre:
		return -1
	}
	return 1
}

func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// Range is a closed interval of versions; an open end is marked by the Has flags. A fact
// that is only bounded ("npm ERR! means npm ≤ 10.5") is a Range, an exact one has Min == Max.
type Range struct {
	Min, Max       Version
	HasMin, HasMax bool
}

// Exact is the range holding one version.
func Exact(v Version) Range { return Range{Min: v, Max: v, HasMin: true, HasMax: true} }

// IsExact reports whether the range holds one version.
func (r Range) IsExact() bool { return r.HasMin && r.HasMax && r.Min.Compare(r.Max) == 0 }

// Intersect narrows r by o; ok is false when they do not overlap.
func (r Range) Intersect(o Range) (Range, bool) {
	out := r
	if o.HasMin && (!out.HasMin || o.Min.Compare(out.Min) > 0) {
		out.Min, out.HasMin = o.Min, true
	}
	if o.HasMax && (!out.HasMax || o.Max.Compare(out.Max) < 0) {
		out.Max, out.HasMax = o.Max, true
	}
	if out.HasMin && out.HasMax && out.Min.Compare(out.Max) > 0 {
		return r, false
	}
	return out, true
}

// String renders "10.9.2", "≤10.5.x"-style bounds as "<=10.5.99" or a "min–max" span.
func (r Range) String() string {
	switch {
	case r.IsExact():
		return r.Min.String()
	case r.HasMin && r.HasMax:
		return ">=" + r.Min.String() + " <=" + r.Max.String()
	case r.HasMin:
		return ">=" + r.Min.String()
	case r.HasMax:
		return "<=" + r.Max.String()
	}
	return "unknown"
}

// Tri is a three-valued answer: a condition on a fact that is not known is Unknown, not false.
type Tri int8

// The three answers.
const (
	No Tri = iota
	Unknown
	Yes
)

func (t Tri) String() string { return [...]string{"no", "unknown", "yes"}[t] }

// CompareRange answers "is every version in r <op> v": Yes when all are, No when none are,
// Unknown when the range straddles v.
func CompareRange(r Range, op string, v Version) Tri {
	lo, hi := r.Min, r.Max
	test := func(x Version) bool {
		c := x.Compare(v)
		switch op {
		case "lt":
			return c < 0
		case "le":
			return c <= 0
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "eq":
			return c == 0
		case "ne":
			return c != 0
		}
		return false
	}
	if r.IsExact() {
		return triOf(test(lo))
	}
	switch op {
	case "lt", "le":
		if r.HasMax && test(hi) {
			return Yes
		}
		if r.HasMin && !test(lo) {
			return No
		}
	case "gt", "ge":
		if r.HasMin && test(lo) {
			return Yes
		}
		if r.HasMax && !test(hi) {
			return No
		}
	case "eq":
		if (r.HasMin && lo.Compare(v) > 0) || (r.HasMax && hi.Compare(v) < 0) {
			return No
		}
	case "ne":
		if (r.HasMin && lo.Compare(v) > 0) || (r.HasMax && hi.Compare(v) < 0) {
			return Yes
		}
	}
	return Unknown
}

func triOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// Constraint is an npm-style engines range such as "^22.22.2 || ^24.15.0 || >=26.0.0",
// kept as a union of intervals.
type Constraint struct {
	Text  string
	spans []Range // Max is exclusive here when HasMax
}

// ParseConstraint reads the subset of npm range syntax the catalogue uses: "||" unions of
// "^x.y.z", "~x.y.z", ">=x", ">x", "<x", "<=x", "x.y.z" and space-separated conjunctions.
func ParseConstraint(s string) (Constraint, error) {
	c := Constraint{Text: s}
	for _, alt := range strings.Split(s, "||") {
		span := Range{}
		fields := strings.Fields(alt)
		if len(fields) == 0 {
			return c, fmt.Errorf("constraint %q has an empty alternative", s)
		}
		for _, f := range fields {
			op, ver := splitOp(f)
			v, err := ParseVersion(ver)
			if err != nil {
				return c, fmt.Errorf("constraint %q: %w", s, err)
			}
			var part Range
			switch op {
			case "^":
				hi := Version{Major: v.Major + 1}
				if v.Major == 0 {
					hi = Version{Minor: v.Minor + 1}
				}
				part = Range{Min: v, HasMin: true, Max: hi, HasMax: true}
			case "~":
				part = Range{Min: v, HasMin: true, Max: Version{Major: v.Major, Minor: v.Minor + 1}, HasMax: true}
			case ">=":
				part = Range{Min: v, HasMin: true}
			case ">":
				part = Range{Min: Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}, HasMin: true}
			case "<":
				part = Range{Max: v, HasMax: true}
			case "<=":
				part = Range{Max: Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}, HasMax: true}
			case "", "=":
				part = Range{Min: v, HasMin: true, Max: Version{Major: v.Major, Minor: v.Minor, Patch: v.Patch + 1}, HasMax: true}
			default:
				return c, fmt.Errorf("constraint %q: unknown operator %q", s, op)
			}
			if part.HasMin && (!span.HasMin || part.Min.Compare(span.Min) > 0) {
				span.Min, span.HasMin = part.Min, true
			}
			if part.HasMax && (!span.HasMax || part.Max.Compare(span.Max) < 0) {
				span.Max, span.HasMax = part.Max, true
			}
		}
		c.spans = append(c.spans, span)
	}
	return c, nil
}

func splitOp(f string) (string, string) {
	for _, op := range []string{">=", "<=", ">", "<", "^", "~", "="} {
		if strings.HasPrefix(f, op) {
			return op, f[len(op):]
		}
	}
	return "", f
}

// Allows reports whether v satisfies the constraint.
func (c Constraint) Allows(v Version) bool {
	for _, s := range c.spans {
		if (!s.HasMin || v.Compare(s.Min) >= 0) && (!s.HasMax || v.Compare(s.Max) < 0) {
			return true
		}
	}
	return false
}

// Bounds is the smallest closed range holding every version the constraint allows; ok is
// false for an unbounded or empty constraint.
func (c Constraint) Bounds() (Range, bool) {
	if len(c.spans) == 0 {
		return Range{}, false
	}
	out := Range{}
	for i, s := range c.spans {
		if !s.HasMin || !s.HasMax {
			return Range{}, false
		}
		hi := s.Max
		hi.Pre = "0" // the exclusive upper end, as the greatest version below it
		if i == 0 || s.Min.Compare(out.Min) < 0 {
			out.Min, out.HasMin = s.Min, true
		}
		if i == 0 || hi.Compare(out.Max) > 0 {
			out.Max, out.HasMax = hi, true
		}
	}
	return out, true
}
