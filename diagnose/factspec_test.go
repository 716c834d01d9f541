package diagnose

import (
	"strings"
	"testing"
)

// Every one-line fact is read in a short paste and at line ~40,000 of a 7 MB log alike: the
// scanner's triggers come from the same table as the extractor.
func TestFactSpecsDeepInALargeLog(t *testing.T) {
	e := testEngine(t)
	for _, s := range factSpecs {
		name := s.fact
		if s.kind == toolVersionFact {
			name = strings.TrimSpace(s.example)
		}
		t.Run(name, func(t *testing.T) {
			fact := s.fact
			if s.kind == toolVersionFact {
				fact = toolFact(s)
			}
			short := "Run something\n" + s.example + "\nError: Process completed with exit code 1.\n"
			if got := factValue(t, e, short, fact); got != s.want {
				t.Errorf("short paste: %s = %q, want %q", fact, got, s.want)
			}
			var b strings.Builder
			for i := range 40000 {
				b.WriteString("building module ")
				b.WriteString(strings.Repeat("x", 120+i%50))
				b.WriteString(" ok\n")
			}
			b.WriteString(s.example + "\n")
			for range 20000 {
				b.WriteString("test output line without anything of interest in it at all ......\n")
			}
			b.WriteString("Error: Process completed with exit code 1.\n")
			if b.Len() < 7<<20 {
				t.Fatalf("the large log is only %d bytes", b.Len())
			}
			if got := factValue(t, e, b.String(), fact); got != s.want {
				t.Errorf("at line 40,001 of a %d MB log: %s = %q, want %q", b.Len()>>20, fact, got, s.want)
			}
		})
	}
}

// toolFact is the fact a tool-version spec's example sets.
func toolFact(s factSpec) string {
	m := s.re.FindStringSubmatch(s.example)
	if m == nil {
		return "(the example does not match its own pattern)"
	}
	for _, g := range m[1 : len(m)-1] {
		if g != "" {
			return g + "_version"
		}
	}
	return ""
}

func factValue(t *testing.T, e *Engine, log, fact string) string {
	t.Helper()
	res, err := e.DiagnoseText(log)
	if err != nil {
		t.Fatal(err)
	}
	return res.Facts[fact]
}

// A version no parser can hold is ignored, not trusted and not a crash.
func TestAbsurdVersionsAreIgnored(t *testing.T) {
	e := testEngine(t)
	for _, line := range []string{
		"npm: v99999999999999999999.0.0",
		"node: v1.99999999999999999999.0",
		"npm info using npm@99999999999999999999.1.1",
		"/opt/hostedtoolcache/node/99999999999999999999.0.0/x64/bin/node",
		"pnpm version 99999999999999999999.0.0",
		"lerna notice cli v99999999999999999999.0.0",
	} {
		res, err := e.DiagnoseText(line + "\nnpm error code E404\nnpm error 404 Not Found - PUT https://registry.npmjs.org/x - Not found\n")
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		for _, f := range []string{"npm_version", "node_version", "pnpm_version", "lerna_version"} {
			if v := res.Facts[f]; strings.Contains(v, "9999999999") {
				t.Errorf("%q: %s = %q", line, f, v)
			}
		}
	}
}
