package diagnose

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// Secrets pasted into a log never leave through any output format.
func TestRenderedOutputsCarryNoSecrets(t *testing.T) {
	e := testEngine(t)
	secrets := fakeSecrets()
	var log strings.Builder
	log.WriteString("Run npm publish\n")
	for _, s := range secrets {
		log.WriteString("  NODE_AUTH_TOKEN: " + s + "\n")
		log.WriteString("npm error code E402 " + s + "\n")
	}
	log.WriteString("npm error 402 Payment Required - PUT https://registry.npmjs.org/@a%2fb - You must sign up for private packages\n")
	res, err := e.DiagnoseText(log.String())
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]*bytes.Buffer{"json": {}, "text": {}, "markdown": {}, "text-color": {}, "text-explain": {}}
	if err := RenderJSON(outs["json"], res); err != nil {
		t.Fatal(err)
	}
	RenderText(outs["text"], res, TextOptions{})
	RenderText(outs["text-color"], res, TextOptions{Color: true})
	RenderText(outs["text-explain"], res, TextOptions{Explain: true})
	RenderMarkdown(outs["markdown"], res)
	for format, buf := range outs {
		for name, s := range secrets {
			value := s
			if name == "authToken" {
				value = s[strings.Index(s, "=")+1:]
			}
			if strings.Contains(buf.String(), value) {
				t.Errorf("%s output leaks the %s secret", format, name)
			}
		}
	}
	if !strings.Contains(outs["text"].String(), "sign up for private packages") || !strings.Contains(outs["text-explain"].String(), "You must sign up for private packages") {
		t.Fatal("text output lost the evidence")
	}
}

func TestRenderJSONContract(t *testing.T) {
	e := testEngine(t)
	res, err := e.DiagnoseText(e402Tail)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := RenderJSON(&b, res); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"verdict", "diagnoses", "facts", "next_checks"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	d := m["diagnoses"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "title", "registry", "confidence", "evidence", "fix", "refs"} {
		if _, ok := d[k]; !ok {
			t.Errorf("diagnosis lacks %q", k)
		}
	}
	ev := d["evidence"].([]any)[0].(map[string]any)
	if ev["source"] != "log" || ev["line"].(float64) < 1 {
		t.Errorf("evidence %v", ev)
	}
	fix := d["fix"].(map[string]any)
	for _, k := range []string{"summary", "steps", "snippet"} {
		if _, ok := fix[k]; !ok {
			t.Errorf("fix lacks %q", k)
		}
	}
	var text bytes.Buffer
	RenderText(&text, res, TextOptions{})
	if strings.Contains(text.String(), "\x1b[") {
		t.Error("colour codes without a terminal")
	}
	out := text.String()
	if i, j, k := strings.Index(out, "DIAGNOSED"), strings.Index(out, "Evidence"), strings.Index(out, "Fix"); i != 0 || j < i || k < j {
		t.Errorf("text order must be cause, evidence, fix:\n%s", out)
	}
}
