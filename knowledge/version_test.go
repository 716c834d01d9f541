package knowledge

import "testing"

func TestCompareRange(t *testing.T) {
	v := MustVersion
	below106 := Range{Max: Version{Major: 10, Minor: 6, Pre: "0"}, HasMax: true}
	cases := []struct {
		r    Range
		op   string
		x    string
		want Tri
	}{
		{Exact(v("10.9.2")), "lt", "11.5.1", Yes},
		{Exact(v("11.5.1")), "lt", "11.5.1", No},
		{below106, "lt", "11.5.1", Yes},
		{below106, "ge", "11.5.1", No},
		{Range{Min: v("10.6.0"), HasMin: true}, "lt", "11.5.1", Unknown},
		{Range{Min: v("11.5.0"), HasMin: true}, "ge", "11.5.0", Yes},
		{Range{Min: v("10.6.0"), HasMin: true, Max: v("11.4.99"), HasMax: true}, "lt", "11.5.1", Yes},
		{Range{Min: v("11.5.0"), HasMin: true}, "eq", "10.0.0", No},
	}
	for _, c := range cases {
		if got := CompareRange(c.r, c.op, v(c.x)); got != c.want {
			t.Errorf("%v %s %s = %v, want %v", c.r, c.op, c.x, got, c.want)
		}
	}
}

func TestConstraint(t *testing.T) {
	c, err := ParseConstraint("^22.22.2 || ^24.15.0 || >=26.0.0")
	if err != nil {
		t.Fatal(err)
	}
	for ver, want := range map[string]bool{"20.20.2": false, "22.22.0": false, "22.22.2": true, "23.0.0": false, "24.14.9": false, "24.15.0": true, "26.1.0": true} {
		if got := c.Allows(MustVersion(ver)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", ver, got, want)
		}
	}
	if _, err := ParseConstraint(">>1"); err == nil {
		t.Error("ParseConstraint(>>1) succeeded")
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string]string{"v22.16.0": "22.16.0", "11.5": "11.5.0", "12.0.0-pre.1": "12.0.0-pre.1"} {
		got, err := ParseVersion(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseVersion(%q) = %v, %v", in, got, err)
		}
	}
	if MustVersion("11.0.0-pre").Compare(MustVersion("11.0.0")) >= 0 {
		t.Error("pre-release must sort before its release")
	}
	for _, bad := range []string{"", "x.1", "1.2.3.4", "-1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
}
