package bot

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/internal/schematest"
	"github.com/pubdoc/pubdoc/internal/secret"
)

const testAPIToken = secret.Secret("api-token-for-tests-7c1d")

// Every answer of POST /api/diagnose is one JSON object valid against docs/schema/: the
// diagnosis, and each failure with its status.
func TestAPIAnswersMatchTheSchemas(t *testing.T) {
	h := newHarness(t)
	srv := httptest.NewServer(h.svc.APIHandler(APIConfig{Token: testAPIToken}))
	defer srv.Close()
	call := func(method string, body []byte) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+string(testAPIToken))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), buf.Bytes()
	}

	for _, name := range []string{"old-npm.log", "bare-paste.log", "missing-id-token.log", "trusted-publisher-mismatch.log", "publish-succeeded.log"} {
		code, ctype, body := call(http.MethodPost, []byte(example(t, name)))
		if code != http.StatusOK || ctype != "application/json" {
			t.Errorf("%s: %d %s", name, code, ctype)
		}
		schematest.Validate(t, schematest.DiagnosisFile, name, body)
		var a diagnose.Answer
		if err := json.Unmarshal(body, &a); err != nil || a.Schema != diagnose.SchemaDiagnosis || a.Result == nil || a.Jobs != nil {
			t.Errorf("%s: %v %+v", name, err, a)
		}
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(example(t, "old-npm.log")))
	_ = zw.Close()
	code, _, body := call(http.MethodPost, gz.Bytes())
	schematest.Validate(t, schematest.DiagnosisFile, "gzip", body)
	if code != http.StatusOK || !strings.Contains(string(body), `"oidc-npm-too-old"`) {
		t.Errorf("gzip: %d %s", code, body)
	}

	broken := []byte("\x1f\x8b\x09\x00not a gzip stream") // compression method 9 does not exist
	for name, c := range map[string]struct {
		method string
		body   []byte
		status int
		code   string
	}{
		"GET":          {http.MethodGet, nil, http.StatusMethodNotAllowed, diagnose.ErrCodeMethod},
		"empty":        {http.MethodPost, nil, http.StatusBadRequest, diagnose.ErrCodeEmpty},
		"blank":        {http.MethodPost, []byte("\n \n"), http.StatusBadRequest, diagnose.ErrCodeEmpty},
		"binary":       {http.MethodPost, []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), http.StatusBadRequest, diagnose.ErrCodeBinary},
		"broken gzip":  {http.MethodPost, broken, http.StatusBadRequest, diagnose.ErrCodeUnreadable},
		"over the cap": {http.MethodPost, bytes.Repeat([]byte("npm notice x\n"), MaxAPIBytes/13+1), http.StatusRequestEntityTooLarge, diagnose.ErrCodeTooLarge},
	} {
		status, ctype, body := call(c.method, c.body)
		if status != c.status || ctype != "application/json" {
			t.Errorf("%s: %d %s, want %d application/json: %s", name, status, ctype, c.status, body)
		}
		schematest.Validate(t, schematest.ErrorFile, name, body)
		var e diagnose.ErrorAnswer
		if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != c.code {
			t.Errorf("%s: code %q, want %q (%v)", name, e.Error.Code, c.code, err)
		}
	}
}

// What the bot stores is the same envelope (the store is read by people and tools too).
func TestStoredResultsMatchTheSchema(t *testing.T) {
	h := newHarness(t)
	if err := h.ask(t, Request{Kind: "mention", DeliveryID: "Ev1", Channel: "C1", User: "U1", ThreadTS: "1700000000.000100", Text: example(t, "old-npm.log")}); err != nil {
		t.Fatal(err)
	}
	h.runs.runs[101] = publishRun(t, 101, example(t, "bare-paste.log"))
	if err := h.deliver(t, runEvent(101, 11, "failure")); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for id := int64(1); id <= 5; id++ {
		d, err := h.store.Diagnosis(context.Background(), id)
		if err != nil {
			continue
		}
		seen++
		schematest.Validate(t, schematest.DiagnosisFile, "stored diagnosis "+d.Key, d.Result)
		var back diagnose.Result
		if err := json.Unmarshal(d.Result, &back); err != nil || back.Verdict == "" || len(back.Diagnoses) == 0 {
			t.Errorf("%s: the stored result does not read back as a Result: %v", d.Key, err)
		}
		if d.Source == "github" && !strings.Contains(string(d.Result), `"job": "publish"`) && !strings.Contains(string(d.Result), `"job":"publish"`) {
			t.Errorf("%s: the stored job result does not name its job", d.Key)
		}
	}
	if seen != 2 {
		t.Fatalf("found %d stored diagnoses, want 2", seen)
	}
}
