package slackbot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
)

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func sampleDiagnosed() *diagnose.Result {
	return &diagnose.Result{
		Verdict: diagnose.Diagnosed,
		Summary: "npm 10.9.2 cannot exchange the OIDC token for a publish token; trusted publishing needs npm >= 11.5.1.",
		Diagnoses: []diagnose.Diagnosis{
			{
				ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing", Registry: "npm", Confidence: 0.98,
				Evidence: []diagnose.Evidence{
					{Line: 412, Text: "npm notice Access token expired or revoked. Please try logging in again.", Source: "log"},
					{Line: 415, Text: "npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fcli - Not found", Source: "log"},
					{Line: 416, Text: "npm error 404  '@acme/cli@1.2.3' is not in this registry. <pkg> & co", Source: "log"},
					{Line: 31, Text: "node-version: 22", Source: "workflow", File: ".github/workflows/release.yml"},
				},
				Fix: diagnose.AnswerFix{Fix: knowledge.Fix{
					Summary: "Install npm 11.5.1 or later before publishing.",
					Steps:   []string{"Add a step that runs `npm install -g npm@^11.5.1` before `npm publish`.", "Re-run the workflow."},
					Snippet: "- run: npm install -g npm@^11.5.1\n- run: npm publish --provenance",
				}},
				Refs: []string{"https://docs.npmjs.com/trusted-publishers", "https://github.blog/changelog/2025-07-31-npm-trusted-publishing-with-oidc-is-generally-available/"},
			},
			{ID: "oidc-missing-id-token", Title: "The job lacks permissions: id-token: write", Confidence: 0.41},
			{ID: "oidc-trusted-publisher-workflow-mismatch", Title: "The trusted publisher names another workflow file", Confidence: 0.12},
		},
		Facts: map[string]string{"npm_version": "10.9.2"},
	}
}

func sampleInconclusive() *diagnose.Result {
	return &diagnose.Result{
		Verdict: diagnose.Inconclusive,
		Summary: "The 404 on PUT after \"Access token expired or revoked\" has three causes; the log does not show which.",
		Diagnoses: []diagnose.Diagnosis{
			{ID: "oidc-missing-id-token", Title: "The job lacks permissions: id-token: write", Confidence: 0.55,
				Evidence: []diagnose.Evidence{{Line: 88, Text: "npm error code E404", Source: "log"}, {Source: "run", Text: "workflow_run.path = .github/workflows/publish.yml"}},
				Fix:      diagnose.AnswerFix{Fix: knowledge.Fix{Summary: "Give the publish job `permissions: id-token: write`."}},
				Refs:     []string{"https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect"}},
			{ID: "oidc-trusted-publisher-workflow-mismatch", Title: "The trusted publisher names another workflow file", Confidence: 0.5},
			{ID: "oidc-npm-too-old", Title: "npm is too old for trusted publishing", Confidence: 0.31},
		},
		NextChecks: []string{"Does the publish job have `permissions: id-token: write`? Look at the \"GITHUB_TOKEN Permissions\" group of \"Set up job\"."},
	}
}

// sampleGrouped is an inconclusive answer whose candidates one question splits, as the
// engine answers the bare three-line paste.
func sampleGrouped() *diagnose.Result {
	res := sampleInconclusive()
	res.Diagnoses[0].Cause = "The job cannot mint an id-token. Nothing else is wrong."
	res.Diagnoses = append(res.Diagnoses, diagnose.Diagnosis{ID: "token-expired-or-revoked", Title: "The npm token the job sent is expired or revoked", Confidence: 0.3})
	res.Groups = []diagnose.Group{{
		Question: "Does the publish step send a token, or is the job meant to publish with trusted publishing?",
		Branches: []diagnose.GroupBranch{
			{Answer: "a token", Candidates: []string{"token-expired-or-revoked"}, Check: "Check the token on npmjs.com → Access Tokens."},
			{Answer: "trusted publishing (OIDC)", Candidates: []string{"oidc-missing-id-token", "oidc-trusted-publisher-workflow-mismatch"}, Check: "Look at the GITHUB_TOKEN Permissions of <Set up job>."},
		},
	}}
	return res
}

// sampleTwoFailures is a log that holds two independent failures.
func sampleTwoFailures() *diagnose.Result {
	res := sampleDiagnosed()
	res.Diagnoses[0].Cause = "npm older than 11.5.1 has no OIDC token exchange. It sends whatever token .npmrc holds. Node 22 bundles npm 10. A fourth sentence is never shown."
	res.Diagnoses[1].Evidence = []diagnose.Evidence{{Line: 9, Text: "Error: Resource not accessible by integration", Source: "log"}}
	res.Diagnoses[1].Fix.Fix = knowledge.Fix{Summary: "Grant the job `id-token: write`."}
	res.Failures = []string{res.Diagnoses[0].ID, res.Diagnoses[1].ID}
	return res
}

func sampleNoCause() *diagnose.Result {
	return &diagnose.Result{
		Verdict: diagnose.NoKnownCause,
		Summary: "The job failed, but no rule matches what the log shows.",
		Failure: &diagnose.Evidence{Line: 1203, Text: "Error: Process completed with exit code 1.", Source: "log"},
		Job:     "publish (ubuntu-latest)",
	}
}

// hugeResult is far beyond what a Slack message holds: 200 evidence lines of 500
// characters and 40 candidates.
func hugeResult() *diagnose.Result {
	res := sampleDiagnosed()
	d := &res.Diagnoses[0]
	d.Evidence = nil
	for i := range 200 {
		d.Evidence = append(d.Evidence, diagnose.Evidence{Line: 1000 + i, Text: fmt.Sprintf("npm error %03d <&> ", i) + strings.Repeat("y", 480), Source: "log"})
	}
	for i := range 30 {
		d.Fix.Steps = append(d.Fix.Steps, strings.Repeat(fmt.Sprintf("step %d ", i), 60))
	}
	d.Fix.Snippet = strings.Repeat("- run: npm publish\n", 400)
	res.Summary = strings.Repeat("A very long summary. ", 300)
	res.Diagnoses = res.Diagnoses[:1]
	for i := range 40 {
		res.Diagnoses = append(res.Diagnoses, diagnose.Diagnosis{ID: fmt.Sprintf("rule-%02d", i), Title: strings.Repeat("candidate ", 20), Confidence: 0.4 - float64(i)/100})
	}
	res.NextChecks = []string{strings.Repeat("check ", 1000)}
	return res
}

// checkLimits fails unless blocks (JSON) fit Slack's limits.
func checkLimits(t *testing.T, blocksJSON string) {
	t.Helper()
	var blocks []struct {
		Type     string `json:"type"`
		Text     *struct{ Text string }
		Elements []map[string]any
	}
	if err := json.Unmarshal([]byte(blocksJSON), &blocks); err != nil {
		t.Fatalf("blocks: %v", err)
	}
	if len(blocks) > 50 {
		t.Fatalf("%d blocks", len(blocks))
	}
	total := 0
	for i, b := range blocks {
		if b.Text != nil {
			total += len(b.Text.Text)
			if b.Type == "section" && len([]rune(b.Text.Text)) > 3000 {
				t.Fatalf("block %d: section text of %d characters", i, len([]rune(b.Text.Text)))
			}
		}
		if b.Type != "context" {
			continue
		}
		for _, e := range b.Elements {
			text, _ := e["text"].(string)
			total += len(text)
			if len([]rune(text)) > 3000 {
				t.Fatalf("block %d: context text of %d characters", i, len([]rune(text)))
			}
		}
	}
	if total >= 40000 || len(blocksJSON) >= 40000 {
		t.Fatalf("message of %d characters of text, %d bytes of JSON", total, len(blocksJSON))
	}
}

func TestRenderGolden(t *testing.T) {
	since := time.Date(2026, 11, 25, 9, 12, 0, 0, time.UTC)
	tests := []struct {
		name string
		r    bot.Reply
		note string
	}{
		{name: "diagnosed", r: bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 77, JobURL: "https://github.com/acme/cli/actions/runs/123/job/456", RunURL: "https://github.com/acme/cli/actions/runs/123"}},
		{name: "triage_parent", r: bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 77, Title: "acme/cli · release.yml failed on main",
			Thread: &bot.ThreadStatus{ThreadID: 12, Count: 3, Since: since}}},
		{name: "triage_parent_acked", r: bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 77, Title: "acme/cli · release.yml failed on main",
			Thread: &bot.ThreadStatus{ThreadID: 12, Count: 3, Since: since, AckedBy: "U0ALICE"}}},
		{name: "triage_parent_fixed", r: bot.Reply{Result: sampleDiagnosed(), DiagnosisID: 77, Title: "acme/cli · release.yml failed on main",
			Thread: &bot.ThreadStatus{ThreadID: 12, Count: 4, Since: since, AckedBy: "U0ALICE", ResolvedRun: 42, ResolvedAt: since.Add(53 * time.Minute)}}},
		{name: "inconclusive", r: bot.Reply{Result: sampleInconclusive(), DiagnosisID: 78}},
		{name: "inconclusive_grouped", r: bot.Reply{Result: sampleGrouped(), DiagnosisID: 79}},
		{name: "two_failures", r: bot.Reply{Result: sampleTwoFailures(), DiagnosisID: 80}},
		{name: "no_known_cause", r: bot.Reply{Result: sampleNoCause()}},
		{name: "text", r: bot.Reply{Text: "✅ Fixed in <https://github.com/acme/cli/actions/runs/124|run #42> — 53m after the first failure."}},
		{name: "huge", r: bot.Reply{Result: hugeResult(), DiagnosisID: 9}, note: noteAttached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := render(tt.r, firstNonEmpty(tt.note, noteAttached))
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(struct {
				Text      string `json:"text"`
				Shortened bool   `json:"shortened"`
				Blocks    any    `json:"blocks"`
			}{m.Text, m.Shortened, m.Blocks}); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join("testdata", tt.name+".golden.json")
			if os.Getenv("UPDATE") != "" {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with UPDATE=1 to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs (UPDATE=1 regenerates it); got:\n%s", golden, got)
			}
			blocks, _ := json.Marshal(m.Blocks)
			checkLimits(t, string(blocks))
		})
	}
}

func TestRenderHugeResultFits(t *testing.T) {
	m := render(bot.Reply{Result: hugeResult(), DiagnosisID: 9, Title: strings.Repeat("title ", 100),
		Thread: &bot.ThreadStatus{ThreadID: 1, Count: 99}}, noteAttached)
	if !m.Shortened {
		t.Fatal("not marked shortened")
	}
	blocks, _ := json.Marshal(m.Blocks)
	checkLimits(t, string(blocks))
	for _, want := range []string{"more lines", "and 35 more", "pubdoc_fixed", "pubdoc_ack", noteAttached} {
		if !strings.Contains(string(blocks), want) {
			t.Errorf("shortened message lacks %q", want)
		}
	}
	if len(m.Text) > maxFallbackText {
		t.Fatalf("fallback of %d bytes", len(m.Text))
	}
}

// A message reads in the order of the terminal's first screen: the verdict with the cause
// in brief, the evidence, the fix; an unsure answer names its candidates by title under the
// question that splits them, and shows no fix.
func TestRenderOrder(t *testing.T) {
	order := func(js string, parts ...string) {
		t.Helper()
		last := -1
		for _, p := range parts {
			i := strings.Index(js, p)
			if i < 0 {
				t.Fatalf("message lacks %q:\n%s", p, js)
			}
			if i < last {
				t.Fatalf("%q comes too early:\n%s", p, js)
			}
			last = i
		}
	}
	two := mustJSON(t, render(bot.Reply{Result: sampleTwoFailures()}, "").Blocks)
	order(two, "2 failures: *npm is too old for trusted publishing*; *The job lacks permissions: id-token: write*",
		"*1. npm is too old", "It sends whatever token .npmrc holds. Node 22 bundles npm 10.", "*Evidence*", "npm install -g npm@^11.5.1",
		"*2. The job lacks", "Resource not accessible", "Grant the job", "Also considered: The trusted publisher")
	if strings.Contains(two, "A fourth sentence") {
		t.Error("the cause is not in brief")
	}
	grouped := mustJSON(t, render(bot.Reply{Result: sampleGrouped()}, "").Blocks)
	order(grouped, "*INCONCLUSIVE* · most likely *The job lacks", "*Evidence*", "*First question:* Does the publish step",
		"*If a token:*", "0.30 The npm token the job sent is expired or revoked", "→ Check the token",
		"*If trusted publishing (OIDC):*", "0.55 The job lacks", "0.50 The trusted publisher names", "→ Look at the GITHUB_TOKEN Permissions",
		"Also considered: npm is too old")
	if strings.Contains(grouped, "*Fix*") || strings.Contains(grouped, "Nothing else is wrong") {
		t.Errorf("an unsure answer shows one candidate's fix or cause:\n%s", grouped)
	}
}

func TestRenderHugeTextFits(t *testing.T) {
	text := strings.Repeat("a line of help text that goes on\n", 3000)
	m := render(bot.Reply{Text: text}, noteShortened)
	blocks, _ := json.Marshal(m.Blocks)
	checkLimits(t, string(blocks))
}

func TestRenderSmallResultIsNotShortened(t *testing.T) {
	if m := render(bot.Reply{Result: sampleDiagnosed()}, noteAttached); m.Shortened || strings.Contains(mustJSON(t, m.Blocks), noteAttached) {
		t.Fatalf("a small result was shortened")
	}
}

func TestEscaping(t *testing.T) {
	m := render(bot.Reply{Result: sampleDiagnosed()}, "")
	js := mustJSON(t, m.Blocks)
	var blocks []map[string]any
	_ = json.Unmarshal([]byte(js), &blocks)
	var all strings.Builder
	for _, b := range blocks {
		if tx, ok := b["text"].(map[string]any); ok {
			all.WriteString(tx["text"].(string))
		}
	}
	s := all.String()
	if !strings.Contains(s, "&lt;pkg&gt; &amp; co") || strings.Contains(s, "<pkg>") {
		t.Fatalf("log text not escaped: %s", s)
	}
	if got := escapeCode("a ``` b"); got != "a ''' b" {
		t.Fatalf("escapeCode = %q", got)
	}
	// Clipping escaped text never leaves half an entity.
	for n, want := range map[int]string{10: "ab …", 12: "ab &amp; …", 13: "ab &amp; cdef"} {
		if got := clipMrkdwn("ab &amp; cdef", n); got != want {
			t.Errorf("clipMrkdwn(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestClipBytesKeepsCharacters(t *testing.T) {
	s := strings.Repeat("é", 10) // 2 bytes each
	for n := range 21 {
		got := clipBytes(s, n)
		if len(got) > n || !json.Valid([]byte(mustJSON(t, got))) || strings.ContainsRune(got, '\uFFFD') {
			t.Fatalf("clipBytes(%d) = %q", n, got)
		}
	}
}
