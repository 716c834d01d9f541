package diagnose

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/knowledge"
)

// A diagnosis' Patch and Command are written inside "fix" (after the rule's fields, which
// keep their order and are not HTML-escaped), read back from there, and left out when
// empty; the text and Markdown renderings show them after the fix.
func TestFixPatchJSON(t *testing.T) {
	d := Diagnosis{
		ID: "oidc-npm-too-old", Title: "npm <too> old", Registry: "npm", Confidence: 0.9,
		Evidence: []Evidence{{Line: 3, Text: `"fix":{"summary":"not a key"}`, Source: "log"}},
		Fix: AnswerFix{
			Fix:     knowledge.Fix{Summary: "Use Node 24 & npm 11.", Steps: []string{}, Snippet: "node-version: '24'"},
			Patch:   "--- a/release.yml\n+++ b/release.yml\n@@ -1,1 +1,1 @@\n-node-version: 20\n+node-version: 24\n",
			Command: "npm trust github <pkg>\n",
		},
		Refs: []string{},
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, NewAnswer(&Result{Verdict: Diagnosed, Diagnoses: []Diagnosis{d}})); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`"snippet": "node-version: '24'",` + "\n" + `        "patch": "--- a/release.yml\n+++ b/release.yml\n@@ -1,1 +1,1 @@\n-node-version: 20\n+node-version: 24\n",`,
		`"command": "npm trust github <pkg>\n"`, `"title": "npm <too> old"`, `"summary": "Use Node 24 & npm 11."`,
		`"text": "\"fix\":{\"summary\":\"not a key\"}"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("JSON lacks %s:\n%s", want, out)
		}
	}
	var back Answer
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Diagnoses) != 1 {
		t.Fatalf("read back: %v", err)
	}
	if got := back.Diagnoses[0]; got.Fix.Patch != d.Fix.Patch || got.Fix.Command != d.Fix.Command || got.Fix.Summary != d.Fix.Summary || got.Evidence[0].Text != d.Evidence[0].Text {
		t.Errorf("read back %+v", got)
	}

	plain := d
	plain.Fix.Patch, plain.Fix.Command = "", ""
	data, err := json.Marshal(plain)
	if err != nil || strings.Contains(string(data), `"patch"`) || strings.Contains(string(data), `"command"`) {
		t.Errorf("empty patch written: %s (%v)", data, err)
	}

	res := &Result{Verdict: Diagnosed, Diagnoses: []Diagnosis{d}}
	var text, md strings.Builder
	if err := RenderText(&text, res, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderMarkdown(&md, res); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Patch:", "    +node-version: 24", "Run:", "    npm trust github <pkg>"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	for _, want := range []string{"**Patch**", "```diff\n--- a/release.yml", "**Run** (outside the repository):\n\n```sh\nnpm trust github <pkg>\n```"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md.String())
		}
	}
}
