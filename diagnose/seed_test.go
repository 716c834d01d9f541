package diagnose

import (
	"path/filepath"
	"strings"
	"testing"
)

// The seed problem: one symptom, three causes. Each full Actions log must name its cause
// at a confidence we would bet on; the bare three-line paste must not.
func TestSeedCausesFromFullLogs(t *testing.T) {
	e := testEngine(t)
	for _, want := range []string{"oidc-npm-too-old", "oidc-missing-id-token-permission", "oidc-trusted-publisher-mismatch"} {
		t.Run(want, func(t *testing.T) {
			res := diagnoseFile(t, e, filepath.Join("testdata", "seed", want+".log"))
			if res.Verdict != Diagnosed || res.Diagnoses[0].ID != want || res.Diagnoses[0].Confidence < 0.8 {
				t.Fatalf("want %s diagnosed at >= 0.8, got %s", want, ranking(res))
			}
			for _, ev := range res.Diagnoses[0].Evidence {
				if ev.Line <= 1 || ev.Source != "log" || strings.Contains(ev.Text, "2025-11-20T") {
					t.Errorf("evidence must carry the original line number and normalized text: %+v", ev)
				}
			}
			checkGolden(t, filepath.Join("testdata", "golden", "seed", want+".json"), toGolden(res))
		})
	}
}

func TestSeedBarePasteIsInconclusive(t *testing.T) {
	e := testEngine(t)
	res := diagnoseFile(t, e, filepath.Join("testdata", "seed", "bare-paste.log"))
	if res.Verdict != Inconclusive {
		t.Fatalf("verdict %s (%s), want inconclusive", res.Verdict, ranking(res))
	}
	// The three seed causes and an expired token lead; the catch-alls come after them.
	for _, id := range []string{"oidc-npm-too-old", "oidc-missing-id-token-permission", "oidc-trusted-publisher-mismatch", "token-expired-or-revoked"} {
		if p := position(res, id); p == 0 || p > 4 {
			t.Errorf("candidate %s at position %d, want in the first four: %s", id, p, ranking(res))
		}
	}
	for i, d := range res.Diagnoses {
		if r := e.kb.Rule(d.ID); r != nil && r.Generic && i < 4 {
			t.Errorf("catch-all %s at position %d, above a seed cause: %s", d.ID, i+1, ranking(res))
		}
	}
	// The summary names the likeliest causes by title, as the text headline does.
	if !strings.Contains(res.Summary, "The npm token the job sent is expired or revoked (token-expired-or-revoked, 0.45)") {
		t.Errorf("summary %q does not name the likeliest cause by title", res.Summary)
	}
	// Grouped by the question that splits them: a token, or trusted publishing?
	if len(res.Groups) != 1 || !strings.Contains(res.Groups[0].Question, "token") || !strings.Contains(res.Groups[0].Question, "trusted publishing") {
		t.Fatalf("groups %+v: want the token-or-trusted-publishing question", res.Groups)
	}
	sides := map[string][]string{}
	for _, br := range res.Groups[0].Branches {
		sides[br.Answer] = br.Candidates
		if br.Check == "" {
			t.Errorf("branch %q has no check", br.Answer)
		}
	}
	if tok := sides["a token"]; len(tok) == 0 || tok[0] != "token-expired-or-revoked" {
		t.Errorf("token branch %v: want token-expired-or-revoked first", tok)
	}
	oidc := strings.Join(sides["trusted publishing (OIDC)"], " ")
	for _, id := range []string{"oidc-npm-too-old", "oidc-missing-id-token-permission", "oidc-trusted-publisher-mismatch"} {
		if !strings.Contains(oidc, id) {
			t.Errorf("OIDC branch %q lacks %s", oidc, id)
		}
	}
	if len(res.NextChecks) == 0 {
		t.Fatal("no next check: the user is not told what separates the candidates")
	}
	joined := strings.Join(res.NextChecks, "\n")
	if !strings.Contains(joined, "IdToken") && !strings.Contains(joined, "npm --version") {
		t.Errorf("next checks do not name the separating evidence: %q", joined)
	}
	for _, d := range res.Diagnoses {
		if d.Confidence >= 0.8 {
			t.Errorf("%s at %.2f from a three-line paste", d.ID, d.Confidence)
		}
	}
	checkGolden(t, filepath.Join("testdata", "golden", "seed", "bare-paste.json"), toGolden(res))
}

// Negative evidence is shown, not just applied.
func TestNegativeEvidenceIsExplained(t *testing.T) {
	e := testEngine(t)
	res := diagnoseFile(t, e, filepath.Join("testdata", "seed", "oidc-npm-too-old.log"))
	for _, d := range res.Diagnoses {
		if d.ID != "oidc-missing-id-token-permission" {
			continue
		}
		for _, r := range d.Reasons {
			if r.Effect < 0 && strings.Contains(r.Note, "IdToken") && r.Line > 0 {
				return
			}
		}
		t.Fatalf("oidc-missing-id-token-permission is listed without the negative evidence: %+v", d.Reasons)
	}
}
