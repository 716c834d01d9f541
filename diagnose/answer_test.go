package diagnose

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestLeadJobIsThePublishCause(t *testing.T) {
	res := func(job, verdict string, conf float64) *Result {
		r := &Result{Job: job, Verdict: verdict}
		if conf > 0 {
			r.Diagnoses = []Diagnosis{{ID: job + "-cause", Confidence: conf}}
		}
		return r
	}
	for name, c := range map[string]struct {
		results []*Result
		want    int
	}{
		"build first, publish second": {[]*Result{res("build", NoKnownCause, 0.3), res("publish", Diagnosed, 0.9)}, 1},
		"the more confident cause":    {[]*Result{res("a", Inconclusive, 0.5), res("b", Diagnosed, 0.85), res("c", Inconclusive, 0.6)}, 1},
		"a tie keeps the run's order": {[]*Result{res("a", Inconclusive, 0.6), res("b", Inconclusive, 0.6)}, 0},
		"no cause anywhere":           {[]*Result{res("a", NoKnownCause, 0), res("b", NoKnownCause, 0.2)}, 0},
		"one job":                     {[]*Result{res("publish", NoKnownCause, 0)}, 0},
	} {
		if got := LeadJob(c.results); got != c.want {
			t.Errorf("%s: LeadJob = %d, want %d", name, got, c.want)
		}
	}
}

func TestAnswersAreOneObjectWithoutNulls(t *testing.T) {
	bare := &Result{Verdict: NoKnownCause, Diagnoses: []Diagnosis{{ID: "x", Title: "<x> & y"}}}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, NewAnswer(bare)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "{\n  \"schema\": \"pubdoc.diagnosis/v1\",") || strings.Contains(out, "null") || strings.Contains(out, `"jobs"`) {
		t.Errorf("one log:\n%s", out)
	}
	if !strings.Contains(out, `"<x> & y"`) {
		t.Errorf("HTML-escaped:\n%s", out)
	}
	if bare.Facts != nil || bare.Diagnoses[0].Evidence != nil {
		t.Error("NewAnswer changed the result it wraps")
	}

	build := &Result{Verdict: NoKnownCause, Job: "build"}
	publish := &Result{Verdict: Diagnosed, Job: "publish", JobURL: "https://github.com/o/r/actions/runs/1/job/2",
		Diagnoses: []Diagnosis{{ID: "oidc-npm-too-old", Confidence: 0.9}}}
	buf.Reset()
	if err := WriteJSON(&buf, NewRunAnswer([]*Result{build, publish})); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Schema string `json:"schema"`
		Job    string `json:"job"`
		URL    string `json:"url"`
		Jobs   []struct {
			Job       string      `json:"job"`
			URL       string      `json:"url"`
			Verdict   string      `json:"verdict"`
			Diagnoses []Diagnosis `json:"diagnoses"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Schema != SchemaDiagnosis || got.Job != "publish" || got.URL != "" || len(got.Jobs) != 2 {
		t.Fatalf("run: %+v", got)
	}
	if got.Jobs[0].Job != "build" || got.Jobs[0].URL != "" || got.Jobs[0].Diagnoses == nil ||
		got.Jobs[1].Job != "publish" || got.Jobs[1].URL != publish.JobURL || got.Jobs[1].Verdict != Diagnosed {
		t.Errorf("jobs: %+v", got.Jobs)
	}
	if strings.Count(buf.String(), `"job": "publish"`) != 2 || strings.Contains(buf.String(), "null") {
		t.Errorf("run answer:\n%s", buf.String())
	}
	if NewRunAnswer(nil) != nil {
		t.Error("an answer for no jobs")
	}
}
