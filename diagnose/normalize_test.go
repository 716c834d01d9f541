package diagnose

import (
	"fmt"
	"strings"
	"testing"
)

const e402Tail = `npm notice Publishing to https://registry.npmjs.org/ with tag latest and default access
npm error code E402
npm error 402 Payment Required - PUT https://registry.npmjs.org/@flowfuse%2fdevice-agent - You must sign up for private packages`

// Every input shape users bring must give the same answer, with evidence at the line
// numbers of the input as given.
func TestInputShapes(t *testing.T) {
	e := testEngine(t)
	lines := strings.Split(e402Tail, "\n")
	prefix := func(f func(i int, l string) string) string {
		var b strings.Builder
		for i, l := range lines {
			b.WriteString(f(i, l))
			b.WriteByte('\n')
		}
		return b.String()
	}
	shapes := map[string]struct {
		text string
		line int // where the E402 line must be reported
	}{
		"plain": {e402Tail, 3},
		"actions raw": {"\ufeff" + prefix(func(i int, l string) string {
			return fmt.Sprintf("2025-08-14T17:32:21.%07dZ %s", i, l)
		}) + "2025-08-14T17:32:22.0000000Z ##[error]Process completed with exit code 1.\n", 3},
		"actions group": {"2025-08-14T17:32:20.0000000Z ##[group]Run npm publish\n2025-08-14T17:32:20.1000000Z ##[endgroup]\n" + prefix(func(i int, l string) string {
			return fmt.Sprintf("2025-08-14T17:32:21.%07dZ %s", i, l)
		}), 5},
		"gh run view": {prefix(func(i int, l string) string {
			return fmt.Sprintf("publish\tRun npm publish\t2025-08-14T17:32:21.%07dZ %s", i, l)
		}), 3},
		"gitlab": {"\x1b[0Ksection_start:1700000000:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting \"step_script\" stage of the job script\x1b[0;m\n" + prefix(func(i int, l string) string {
			return "\x1b[31;1m" + l + "\x1b[0;m"
		}) + "\x1b[0Ksection_end:1700000001:step_script\r\x1b[0K\n", 4},
		"npm debug log":               {"0 verbose cli /usr/bin/node /usr/bin/npm\n1 info using npm@10.8.2\n2 verbose title npm publish\n3 notice Publishing to https://registry.npmjs.org/ with tag latest and default access\n4 error code E402\n5 error 402 Payment Required - PUT https://registry.npmjs.org/@flowfuse%2fdevice-agent - You must sign up for private packages\n", 6},
		"slack fenced and quoted":     {"> here is the log\n> ```\n" + prefix(func(i int, l string) string { return "> " + l }) + "> ```\n", 5},
		"slack smart quotes and nbsp": {strings.ReplaceAll(strings.ReplaceAll(e402Tail, " - You must", "\u00a0- You must"), "PUT", "PUT"), 3},
		"wrapped by a human":          {strings.Replace(e402Tail, " - You must sign up", "\n- You must sign up", 1), 3},
		"crlf":                        {strings.ReplaceAll(e402Tail, "\n", "\r\n"), 3},
	}
	for name, s := range shapes {
		t.Run(name, func(t *testing.T) {
			res, err := e.DiagnoseText(s.text)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Diagnoses) == 0 || res.Diagnoses[0].ID != "scoped-package-default-restricted" {
				t.Fatalf("got %s", ranking(res))
			}
			found := false
			for _, ev := range res.Diagnoses[0].Evidence {
				if ev.Line == s.line && strings.Contains(ev.Text, "402 Payment Required") {
					found = true
				}
				if strings.ContainsAny(ev.Text, "\x1b\r\u00a0") || strings.HasPrefix(ev.Text, ">") || strings.Contains(ev.Text, "2025-08-14T") {
					t.Errorf("evidence not normalized: %q", ev.Text)
				}
			}
			if !found {
				t.Errorf("402 evidence not at line %d: %+v", s.line, res.Diagnoses[0].Evidence)
			}
		})
	}
}

func TestNormalizeLine(t *testing.T) {
	cases := []struct {
		in, want, marker string
		st               docStyle
	}{
		{"2025-08-14T17:32:21.8216220Z npm error code EOTP", "npm error code EOTP", "", docStyle{}},
		{"\ufeff2025-08-14T17:32:21.8216220Z ##[group]Run npm publish", "Run npm publish", "group", docStyle{}},
		{"2025-08-14T17:32:21.8216220Z ##[error]Process completed with exit code 1.", "Process completed with exit code 1.", "error", docStyle{}},
		{"\x1b[31mnpm\x1b[39m \x1b[31merror\x1b[39m code E404", "npm error code E404", "", docStyle{}},
		{"progress 10%\rprogress 100%", "progress 100%", "", docStyle{}},
		{"&gt; npm error 404  \u2018pkg@1.0.0\u2019 is not in this registry.", "npm error 404  'pkg@1.0.0' is not in this registry.", "", docStyle{quoted: true}},
		{"```npm error code E404```", "npm error code E404", "", docStyle{}},
		{"```text", "", "", docStyle{}},
		{"12 error code E404", "npm error code E404", "", docStyle{debugLog: true}},
		{"#12 3.456 npm error code E404", "npm error code E404", "", docStyle{}},
		{"see <https://docs.npmjs.com/trusted-publishers|the docs>", "see https://docs.npmjs.com/trusted-publishers", "", docStyle{}},
		{"bad \xff byte", "bad \uFFFD byte", "", docStyle{}},
	}
	for _, c := range cases {
		got := normalizeLine(c.in, c.st)
		if got.Text != c.want || got.Marker != c.marker {
			t.Errorf("normalizeLine(%q) = %q/%q, want %q/%q", c.in, got.Text, got.Marker, c.want, c.marker)
		}
	}
}

func TestDetectStyle(t *testing.T) {
	quoted := []rawLine{{n: 1, text: "> npm error code E404"}, {n: 2, text: "> npm error 404 Not Found"}, {n: 3, text: ""}, {n: 4, text: "> x"}}
	if !detectStyle(quoted).quoted {
		t.Error("a quoted paste was not detected")
	}
	gradle := []rawLine{{n: 1, text: "> Task :publish FAILED"}, {n: 2, text: "Execution failed for task ':publish'."}, {n: 3, text: "* Try:"}, {n: 4, text: "BUILD FAILED"}}
	if detectStyle(gradle).quoted {
		t.Error("gradle's '> Task' lines are not a quote")
	}
	debug := []rawLine{{n: 1, text: "0 verbose cli /usr/bin/node"}, {n: 2, text: "1 info using npm@10.8.2"}, {n: 3, text: "2 error code E404"}}
	if !detectStyle(debug).debugLog {
		t.Error("an npm debug log was not detected")
	}
}

func TestLostEscapeCodesOnlyWithDigits(t *testing.T) {
	for in, want := range map[string]string{
		"[0;31mnpm error code E404[0m":        "npm error code E404",
		"[1m[31mERROR[0m: denied":             "ERROR: denied",
		"[0Ksection text":                     "section text",
		"error[missing-license]: no license":  "error[missing-license]: no license",
		"[main] pushing to [Kotlin] registry": "[main] pushing to [Kotlin] registry",
	} {
		if got := stripCIPrefixes(in); got != want {
			t.Errorf("stripCIPrefixes(%q) = %q, want %q", in, got, want)
		}
	}
}
