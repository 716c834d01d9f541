package patch

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestApplyRejectsOverlaps(t *testing.T) {
	src := []byte("abcdef")
	got, err := Apply(src, []Edit{{Start: 4, End: 5, Text: "E"}, {Start: 0, End: 1, Text: "A"}, {Start: 2, End: 2, Text: "+"}})
	if err != nil || string(got) != "Ab+cdEf" {
		t.Errorf("Apply = %q, %v", got, err)
	}
	for _, bad := range [][]Edit{{{Start: 1, End: 3}, {Start: 2, End: 4}}, {{Start: 5, End: 9}}, {{Start: 3, End: 2}}} {
		if _, err := Apply(src, bad); err == nil {
			t.Errorf("Apply(%v) took overlapping or outside edits", bad)
		}
	}
}

func TestJSONSet(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"two spaces", "{\n  \"name\": \"@acme/widgets\",\n  \"version\": \"1.0.0\"\n}\n",
			"{\n  \"name\": \"@acme/widgets\",\n  \"version\": \"1.0.0\",\n  \"publishConfig\": {\n    \"access\": \"public\"\n  }\n}\n"},
		{"tabs", "{\n\t\"name\": \"@acme/w\"\n}", "{\n\t\"name\": \"@acme/w\",\n\t\"publishConfig\": {\n\t\t\"access\": \"public\"\n\t}\n}"},
		{"one line", `{"name":"@acme/w","version":"1.0.0"}`, `{"name":"@acme/w","version":"1.0.0","publishConfig":{"access": "public"}}`},
		{"into publishConfig", "{\n    \"name\": \"@a/b\",\n    \"publishConfig\": {\n        \"registry\": \"https://registry.npmjs.org\"\n    }\n}\n",
			"{\n    \"name\": \"@a/b\",\n    \"publishConfig\": {\n        \"registry\": \"https://registry.npmjs.org\",\n        \"access\": \"public\"\n    }\n}\n"},
		{"replace access", "{\"publishConfig\": {\"access\": \"restricted\"}}", "{\"publishConfig\": {\"access\": \"public\"}}"},
		{"empty object", "{}", "{\n  \"publishConfig\": {\n    \"access\": \"public\"\n  }\n}"},
		{"empty publishConfig", "{\n  \"publishConfig\": {}\n}", "{\n  \"publishConfig\": {\n    \"access\": \"public\"\n  }\n}"},
		{"BOM", "\ufeff{\"a\": 1}", "\ufeff{\"a\": 1, \"publishConfig\": {\"access\": \"public\"}}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jf, err := parseJSON([]byte(c.src))
			if err != nil {
				t.Fatal(err)
			}
			e, err := jf.set([]string{"publishConfig", "access"}, `"public"`)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Apply([]byte(c.src), []Edit{e})
			if err != nil || string(got) != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
			var v map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(string(got), "\ufeff")), &v); err != nil {
				t.Errorf("not JSON: %v", err)
			}
		})
	}
	for _, bad := range []string{"", "[1]x", `{"a" 1}`, `{"a": tru}`, `{"a": "b`, strings.Repeat("[", 300) + strings.Repeat("]", 300)} {
		if _, err := parseJSON([]byte(bad)); err == nil {
			t.Errorf("parseJSON(%q) accepted it", bad)
		}
	}
}

func TestRepositoryURL(t *testing.T) {
	const want = `"git+https://github.com/acme/widgets.git"`
	cases := []struct{ name, src, want string }{
		{"object", "{\n  \"repository\": {\n    \"type\": \"git\",\n    \"url\": \"https://github.com/acme/old\"\n  }\n}\n",
			"{\n  \"repository\": {\n    \"type\": \"git\",\n    \"url\": " + want + "\n  }\n}\n"},
		{"string", `{"repository": "github:acme/old"}`, `{"repository": ` + want + `}`},
		{"missing", "{\n  \"name\": \"w\"\n}", "{\n  \"name\": \"w\",\n  \"repository\": {\n    \"url\": " + want + "\n  }\n}"},
		{"already right", `{"repository": {"url": "git+https://github.com/ACME/widgets.git"}}`, ""},
		{"shorthand right", `{"repository": "github:acme/widgets"}`, ""},
	}
	for _, c := range cases {
		got, err := repositoryURL([]byte(c.src), "acme/widgets")
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, err, c.want)
		}
	}
}

func TestYAMLEdits(t *testing.T) {
	src := "# top\njobs:\n  a:\n    runs-on: [self-hosted, linux] # pool\n    permissions: {contents: read}\n    with:\n      x: '20'   # keep\n      y: \"a\\\"b\"\n      z: plain\n"
	y, err := parseYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	job := at(y.root, "jobs", "a")
	with := at(job, "with")
	var edits []Edit
	for k, v := range map[string]string{"x": "24", "y": "c", "z": "q"} {
		_, n := get(with, k)
		e, err := y.setScalar(n, v)
		if err != nil {
			t.Fatal(err)
		}
		edits = append(edits, e)
	}
	perm := at(job, "permissions")
	e, err := y.insertEntry(perm, nil, []string{"id-token: write"})
	if err != nil {
		t.Fatal(err)
	}
	edits = append(edits, e)
	k, v := get(job, "runs-on")
	if e, err = y.replaceValue(k, v, "ubuntu-latest"); err != nil {
		t.Fatal(err)
	}
	edits = append(edits, e)
	got, err := Apply([]byte(src), edits)
	if err != nil {
		t.Fatal(err)
	}
	want := "# top\njobs:\n  a:\n    runs-on: ubuntu-latest # pool\n    permissions: {contents: read, id-token: write}\n    with:\n      x: '24'   # keep\n      y: \"c\"\n      z: q\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	// Whole-line edits keep CRLF line ends and handle a last line without one.
	crlf := "jobs:\r\n  a:\r\n    env:\r\n      A: 1\r\n      B: 2"
	y, err = parseYAML([]byte(crlf))
	if err != nil {
		t.Fatal(err)
	}
	env := at(y.root, "jobs", "a", "env")
	ins, err := y.insertEntry(env, nil, []string{"C: 3"})
	if err != nil {
		t.Fatal(err)
	}
	del, err := y.deleteEntry(env, "A")
	if err != nil {
		t.Fatal(err)
	}
	got, err = Apply([]byte(crlf), []Edit{ins, del})
	if err != nil || string(got) != "jobs:\r\n  a:\r\n    env:\r\n      B: 2\r\n      C: 3" {
		t.Errorf("CRLF: got %q, %v", got, err)
	}
}

// A workflow with the permissions the fix needs written in flow style, CRLF line ends and
// no final newline is fixed in place too.
func TestFixKeepsStyle(t *testing.T) {
	src := "name: Release\r\non: push\r\njobs:\r\n  publish:\r\n    runs-on: ubuntu-latest\r\n    permissions: {contents: read}   # least privilege\r\n    steps:\r\n      - uses: actions/setup-node@v6\r\n        with:\r\n          node-version: \"20\"\r\n      - run: npm publish"
	res, err := Fix(Input{Workflows: []File{{Path: ".github/workflows/release.yml", Src: []byte(src)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 {
		t.Fatalf("changes: %+v (left %v)", res.Changes, ids(res.Left))
	}
	got := string(res.Changes[0].After)
	for _, want := range []string{"permissions: {contents: read, id-token: write}   # least privilege\r\n", "node-version: \"24\"\r\n", "      - run: npm publish"} {
		if !strings.Contains(got, want) {
			t.Errorf("fixed file lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != strings.Count(got, "\r\n") {
		t.Errorf("mixed line ends:\n%q", got)
	}
	d := res.Diff()
	if !strings.HasPrefix(d, "--- a/.github/workflows/release.yml\n+++ b/.github/workflows/release.yml\n@@ ") {
		t.Errorf("diff header:\n%s", d)
	}
	applies(t, map[string]string{".github/workflows/release.yml": src}, d, map[string]string{".github/workflows/release.yml": got})
}

func TestCommand(t *testing.T) {
	k := Known{Package: "@acme/widgets", Repo: "acme/widgets", Workflow: "release.yml"}
	if got := Command("oidc-trusted-publisher-not-configured", k); got != "npm trust github @acme/widgets --repo acme/widgets --file release.yml --allow-publish --yes\n" {
		t.Errorf("not configured: %q", got)
	}
	k.Environment = "npm"
	got := Command("oidc-workflow-filename-mismatch", k)
	if !strings.HasPrefix(got, "npm trust list @acme/widgets\nnpm trust revoke @acme/widgets --id ") || !strings.HasSuffix(got, "--file release.yml --env npm --allow-publish --yes\n") {
		t.Errorf("mismatch: %q", got)
	}
	for _, bad := range []Known{{Package: "x", Repo: "acme", Workflow: "r.yml"}, {Package: "x; rm -rf /", Repo: "a/b", Workflow: "r.yml"}, {Package: "x", Repo: "a/b", Workflow: ".github/workflows/r.yml"}} {
		if got := Command("oidc-trusted-publisher-mismatch", bad); got != "" {
			t.Errorf("Command(%+v) = %q", bad, got)
		}
	}
	if got := Command("oidc-npm-too-old", k); got != "" {
		t.Errorf("a file fix got a command: %q", got)
	}
}

// ForRule fixes what one cause needs and nothing else; the provenance repository
// mismatch is fixed in package.json from the run's repository.
func TestForRule(t *testing.T) {
	const wf = `name: Release
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/setup-node@v6
        with:
          node-version: 20
      - run: npm publish --provenance
`
	pkg := "{\n  \"name\": \"widgets\",\n  \"version\": \"1.0.0\",\n  \"repository\": {\n    \"type\": \"git\",\n    \"url\": \"https://github.com/someone/else\"\n  }\n}\n"
	in := Input{Workflows: []File{{Path: ".github/workflows/release.yml", Src: []byte(wf)}}, Package: &File{Path: "package.json", Src: []byte(pkg)}, Repo: "acme/widgets"}
	for rule, want := range map[string][]string{
		"oidc-npm-too-old":                       {"-          node-version: 20\n+          node-version: 24\n"},
		"provenance-missing-id-token-permission": {"+      id-token: write\n"},
		"provenance-repo-url-mismatch":           {"--- a/package.json\n", `+    "url": "git+https://github.com/acme/widgets.git"`},
		"oidc-trusted-publisher-mismatch":        nil,
	} {
		res, err := ForRule(in, rule)
		if err != nil {
			t.Fatal(err)
		}
		d := res.Diff()
		if want == nil && d != "" {
			t.Errorf("%s: a patch for a fix outside the files:\n%s", rule, d)
		}
		for _, w := range want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: patch lacks %q:\n%s", rule, w, d)
			}
		}
		if len(res.Changes) > 1 || strings.Count(d, "@@ ") > 1 {
			t.Errorf("%s: the patch fixes more than the cause:\n%s", rule, d)
		}
	}
}

// A token in NODE_AUTH_TOKEN that nothing maps gets setup-node's registry-url.
func TestFixTokenWithoutRegistryURL(t *testing.T) {
	const wf = "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/setup-node@v6\n      - run: npm publish\n        env:\n          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
	res, err := Fix(Input{Workflows: []File{{Path: "w.yml", Src: []byte(wf)}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Diff(); !strings.Contains(d, "       - uses: actions/setup-node@v6\n+        with:\n+          registry-url: https://registry.npmjs.org\n") {
		t.Errorf("patch:\n%s (left %v)", d, ids(res.Left))
	}
}

// Without setup-node, the step that maps the token is added before the publish step and
// above the comment that leads it.
func TestFixTokenWithoutSetupNode(t *testing.T) {
	const wf = "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n    - run: npm ci\n    # Publish only new versions\n    - run: npm publish\n      env:\n        NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}\n"
	res, err := Fix(Input{Workflows: []File{{Path: "w.yml", Src: []byte(wf)}}})
	if err != nil {
		t.Fatal(err)
	}
	if d := res.Diff(); !strings.Contains(d, "     - run: npm ci\n+    - uses: actions/setup-node@v6\n+      with:\n+        registry-url: https://registry.npmjs.org\n     # Publish only new versions\n") {
		t.Errorf("patch:\n%s (left %v)", d, ids(res.Left))
	}
}
