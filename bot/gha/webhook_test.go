package gha

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// webhookSecret is distinctive so that a leak into an error is easy to spot.
const webhookSecret = Secret("whsec-pubdoc-test-5f0c1e9a-never-print")

func signSHA256(secret Secret, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signSHA1(secret Secret, body []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// delivery is one webhook request as GitHub would send it.
type delivery struct {
	event, id   string
	contentType string
	body        []byte
	header      http.Header // set after the defaults; an empty value deletes the header
}

func (d delivery) request() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(d.body))
	r.Header.Set("Content-Type", d.contentType)
	r.Header.Set("X-GitHub-Event", d.event)
	r.Header.Set("X-GitHub-Delivery", d.id)
	r.Header.Set("X-Hub-Signature-256", signSHA256(webhookSecret, d.body))
	r.Header.Set("X-Hub-Signature", signSHA1(webhookSecret, d.body))
	r.Header.Set("User-Agent", "GitHub-Hookshot/044aadd")
	for k, vs := range d.header {
		r.Header.Del(k)
		for _, v := range vs {
			if v != "" {
				r.Header.Add(k, v)
			}
		}
	}
	return r
}

func read(t *testing.T, d delivery, secret Secret, max int64) (*WebhookEvent, error) {
	t.Helper()
	r := d.request()
	ev, err := ReadWebhook(httptest.NewRecorder(), r, secret, max)
	if err != nil {
		macs := []string{signSHA256(webhookSecret, d.body), r.Header.Get("X-Hub-Signature-256"), r.Header.Get("X-Hub-Signature")}
		assertNoSecret(t, err, macs...)
	}
	return ev, err
}

// assertNoSecret fails when err shows the secret, or a signature: the one the body should
// have had (an attacker could then sign anything), or one that was sent.
func assertNoSecret(t *testing.T, err error, signatures ...string) {
	t.Helper()
	shown := fmt.Sprintf("%s\n%v\n%+v\n%#v", err.Error(), err, err, err)
	if strings.Contains(shown, string(webhookSecret)) {
		t.Errorf("the webhook secret appears in the error:\n%s", shown)
	}
	for _, sig := range signatures {
		_, mac, _ := strings.Cut(sig, "=")
		if len(mac) >= 16 && strings.Contains(shown, mac) {
			t.Errorf("a signature appears in the error:\n%s", shown)
		}
	}
}

// probotDelivery reads a pytorch/test-infra fixture: {"name": event, "id": delivery,
// "payload": body}; the body is sent byte for byte as it stands in the file.
func probotDelivery(t *testing.T, file string) delivery {
	t.Helper()
	var env struct {
		Name    string          `json:"name"`
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(readTestdata(t, "webhook/"+file), &env); err != nil {
		t.Fatal(err)
	}
	if env.Name == "" || env.ID == "" || len(env.Payload) == 0 {
		t.Fatalf("%s is not a probot envelope", file)
	}
	return delivery{event: env.Name, id: env.ID, contentType: "application/json", body: env.Payload}
}

func jsonDelivery(t *testing.T, event, file string) delivery {
	t.Helper()
	return delivery{event: event, id: "72d3162e-cc78-11e3-81ab-4c9367dc0958", contentType: "application/json",
		body: readTestdata(t, "webhook/"+file)}
}

func TestReadWebhookWorkflowRun(t *testing.T) {
	d := probotDelivery(t, "workflow_run.completed.failure.probot-envelope.json")
	ev, err := read(t, d, webhookSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &WebhookEvent{
		Delivery: "bfe22520-466a-11ed-8dae-4cb245a6a856",
		Event:    "workflow_run",
		Action:   "completed",
		Repo:     "clee2000/random-testing",
		Run: &WebhookRun{
			ID:         3206737417,
			Attempt:    1,
			Number:     96,
			Name:       "rebase",
			Path:       ".github/workflows/tryrebase.yml",
			Event:      "push",
			Status:     "completed",
			Conclusion: "failure",
			HeadBranch: "master",
			HeadSHA:    "d74df09c45f5b338e2f67c1c73e8662ccf97561c",
			HTMLURL:    "https://github.com/clee2000/random-testing/actions/runs/3206737417",
			UpdatedAt:  time.Date(2022, 10, 7, 18, 6, 21, 0, time.UTC),
		},
	}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("got\n%s\nwant\n%s", asJSON(t, ev), asJSON(t, want))
	}
	ref := ev.Ref()
	if wantRef := (RunRef{Owner: "clee2000", Repo: "random-testing", RunID: 3206737417, Attempt: 1}); ref != wantRef {
		t.Errorf("Ref() = %+v, want %+v", ref, wantRef)
	}
	if err := validRef(ref); err != nil {
		t.Errorf("FetchRun would refuse Ref(): %v", err)
	}
	roundTrip(t, ev)
}

func TestReadWebhookWorkflowJob(t *testing.T) {
	tests := []struct {
		name    string
		d       delivery
		want    *WebhookEvent
		wantRef RunRef
	}{
		{
			name: "completed failure",
			d:    jsonDelivery(t, "workflow_job", "workflow_job.completed.failure.with-organization.payload.json"),
			want: &WebhookEvent{
				Delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
				Event:    "workflow_job",
				Action:   "completed",
				Repo:     "Codertocat/Hello-World",
				Job: &WebhookJob{
					ID:           289782451,
					RunID:        2202229078,
					RunAttempt:   1,
					Name:         "linters",
					Status:       "completed",
					Conclusion:   "failure",
					HTMLURL:      "https://github.com/octo-org/octo-repo/runs/1291536064",
					WorkflowName: "CodeQL",
					HeadBranch:   "main",
					HeadSHA:      "3484a3fb816e0859fd6e1cea078d76385ff50625",
					FailedSteps:  []string{"Run yarn run format-check"},
				},
			},
			wantRef: RunRef{Owner: "Codertocat", Repo: "Hello-World", RunID: 2202229078, JobID: 289782451, Attempt: 1},
		},
		{
			name: "waiting, from an App installation",
			d:    jsonDelivery(t, "workflow_job", "workflow_job.waiting.payload.json"),
			want: &WebhookEvent{
				Delivery:     "72d3162e-cc78-11e3-81ab-4c9367dc0958",
				Event:        "workflow_job",
				Action:       "waiting",
				Repo:         "lineville/elastic-machines-testing",
				Installation: 23154469,
				Job: &WebhookJob{
					ID:           12877621891,
					RunID:        4747967848,
					RunAttempt:   1,
					Name:         "test",
					Status:       "waiting",
					HTMLURL:      "https://github.com/lineville/elastic-machines-testing/actions/runs/4747967848/jobs/8433573014",
					WorkflowName: "Env Test",
					HeadBranch:   "main",
					HeadSHA:      "16c5286e8d9a0629956a28938386b36608707a71",
				},
			},
			wantRef: RunRef{Owner: "lineville", Repo: "elastic-machines-testing", RunID: 4747967848, JobID: 12877621891, Attempt: 1},
		},
		{
			name: "queued, real delivery",
			d:    probotDelivery(t, "workflow_job.queued.probot-envelope.json"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := read(t, tt.d, webhookSecret, 0)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, ev)
			if tt.want == nil {
				// The real delivery: check what dedupe and routing rely on.
				if ev.Delivery != "a2ca94b0-9c65-11ef-9cd5-232c915246db" || ev.Event != "workflow_job" || ev.Action != "queued" ||
					ev.Repo != "clee2000/random-testing" || ev.Job == nil || ev.Job.ID <= 0 || ev.Job.RunID <= 0 || ev.Run != nil {
					t.Errorf("got %s", asJSON(t, ev))
				}
				if err := validRef(ev.Ref()); err != nil {
					t.Errorf("FetchRun would refuse Ref(): %v", err)
				}
				return
			}
			if !reflect.DeepEqual(ev, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", asJSON(t, ev), asJSON(t, tt.want))
			}
			if ref := ev.Ref(); ref != tt.wantRef {
				t.Errorf("Ref() = %+v, want %+v", ref, tt.wantRef)
			}
		})
	}
}

// A hook created with content type "application/x-www-form-urlencoded" sends the JSON as
// the payload field, and signs the form body.
func TestReadWebhookFormEncoded(t *testing.T) {
	d := probotDelivery(t, "workflow_run.completed.failure.probot-envelope.json")
	want, err := read(t, d, webhookSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	form := d
	form.contentType = "application/x-www-form-urlencoded"
	form.body = []byte(url.Values{"payload": {string(d.body)}}.Encode())
	got, err := read(t, form, webhookSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("form-encoded delivery read as\n%s\nwant\n%s", asJSON(t, got), asJSON(t, want))
	}

	// The signature covers the form body, not the JSON inside it.
	form.header = http.Header{"X-Hub-Signature-256": {signSHA256(webhookSecret, d.body)}}
	if _, err := read(t, form, webhookSecret, 0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("form delivery signed over its JSON: err = %v, want ErrBadSignature", err)
	}
}

func TestReadWebhookPing(t *testing.T) {
	ev, err := read(t, jsonDelivery(t, "ping", "ping.json"), webhookSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := &WebhookEvent{Delivery: "72d3162e-cc78-11e3-81ab-4c9367dc0958", Event: "ping", Repo: "octo-org/octo-repo"}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("got %s, want %s", asJSON(t, ev), asJSON(t, want))
	}

	// An App's ping names no repository.
	appPing := delivery{event: "ping", id: "d2f1e0c0-0000-11ef-8000-000000000001", contentType: "application/json",
		body: []byte(`{"zen":"Keep it logically awesome.","hook_id":1,"hook":{"type":"App","app_id":42}}`)}
	if ev, err := read(t, appPing, webhookSecret, 0); err != nil || ev.Repo != "" || ev.Run != nil || ev.Job != nil {
		t.Errorf("App ping: %+v, %v", ev, err)
	}
}

// Events the bot does not handle are verified and returned bare, for the caller to
// acknowledge; the run payload under another event name is not decoded as a run.
func TestReadWebhookOtherEvents(t *testing.T) {
	run := probotDelivery(t, "workflow_run.completed.failure.probot-envelope.json")
	for _, event := range []string{"push", "check_suite", "installation_repositories", "some_future_event"} {
		d := run
		d.event = event
		ev, err := read(t, d, webhookSecret, 0)
		if err != nil {
			t.Fatalf("%s: %v", event, err)
		}
		if ev.Event != event || ev.Run != nil || ev.Job != nil || ev.Repo != "clee2000/random-testing" || ev.Delivery != run.id {
			t.Errorf("%s: got %s", event, asJSON(t, ev))
		}
		if ref := ev.Ref(); ref.RunID != 0 || ref.JobID != 0 {
			t.Errorf("%s: Ref() = %+v names a run", event, ref)
		}
	}
}

func TestReadWebhookRefused(t *testing.T) {
	run := probotDelivery(t, "workflow_run.completed.failure.probot-envelope.json")
	with := func(edit func(*delivery)) delivery {
		d := run
		d.body = bytes.Clone(run.body)
		edit(&d)
		return d
	}
	signed := func(body string) func(*delivery) {
		return func(d *delivery) { d.body = []byte(body) }
	}
	tampered := bytes.Replace(run.body, []byte(`"conclusion": "failure"`), []byte(`"conclusion": "success"`), 1)
	if bytes.Equal(tampered, run.body) {
		t.Fatal("the tampering did not change the body")
	}
	tests := []struct {
		name   string
		d      delivery
		secret Secret
		max    int64
		is     error
		say    string
	}{
		{name: "signed with another secret", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.header = http.Header{"X-Hub-Signature-256": {signSHA256("another-secret", d.body)}}
			}),
			is: ErrBadSignature, say: "does not match"},
		{name: "body changed after signing", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.header = http.Header{"X-Hub-Signature-256": {signSHA256(webhookSecret, d.body)}}
				d.body = tampered
			}),
			is: ErrBadSignature, say: "does not match"},
		{name: "no signature", secret: webhookSecret,
			d:  with(func(d *delivery) { d.header = http.Header{"X-Hub-Signature-256": {""}, "X-Hub-Signature": {""}} }),
			is: ErrBadSignature, say: "no X-Hub-Signature-256"},
		{name: "sha1 signature only", secret: webhookSecret,
			d:  with(func(d *delivery) { d.header = http.Header{"X-Hub-Signature-256": {""}} }),
			is: ErrBadSignature, say: "HMAC-SHA1"},
		{name: "sha1 signature in the sha256 header", secret: webhookSecret,
			d:  with(func(d *delivery) { d.header = http.Header{"X-Hub-Signature-256": {signSHA1(webhookSecret, d.body)}} }),
			is: ErrBadSignature, say: "hex digits"},
		{name: "signature not hex", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.header = http.Header{"X-Hub-Signature-256": {"sha256=" + strings.Repeat("zz", 32)}}
			}),
			is: ErrBadSignature, say: "hex digits"},
		{name: "signature truncated", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.header = http.Header{"X-Hub-Signature-256": {signSHA256(webhookSecret, d.body)[:40]}}
			}),
			is: ErrBadSignature, say: "hex digits"},
		{name: "two signatures", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.header = http.Header{"X-Hub-Signature-256": {signSHA256(webhookSecret, d.body), signSHA256(webhookSecret, d.body)}}
			}),
			is: ErrBadSignature, say: "more than one"},
		{name: "empty secret", secret: "",
			d:  with(func(d *delivery) { d.header = http.Header{"X-Hub-Signature-256": {signSHA256("", d.body)}} }),
			is: ErrNoWebhookSecret, say: "GITHUB_WEBHOOK_SECRET"},
		{name: "body over max", secret: webhookSecret, max: int64(len(run.body)) - 1, d: run,
			is: ErrTooLarge, say: fmt.Sprintf("larger than %d bytes", len(run.body)-1)},
		{name: "malformed JSON", secret: webhookSecret, d: with(signed(`{"action": "completed", "workflow_run": {"id": 1,`)),
			is: ErrMalformedWebhook, say: "not valid JSON"},
		{name: "JSON with a wrong type", secret: webhookSecret,
			d:  with(signed(`{"action":"completed","repository":{"full_name":"o/r"},"workflow_run":{"id":"one"}}`)),
			is: ErrMalformedWebhook, say: "workflow_run payload"},
		{name: "JSON null", secret: webhookSecret, d: with(signed(`null`)), is: ErrMalformedWebhook, say: "not a JSON object"},
		{name: "empty body", secret: webhookSecret, d: with(signed(``)), is: ErrMalformedWebhook, say: "not a JSON object"},
		{name: "trailing garbage", secret: webhookSecret, d: with(signed(string(run.body) + "}")),
			is: ErrMalformedWebhook, say: "not valid JSON"},
		{name: "workflow_run without its run", secret: webhookSecret,
			d:  with(signed(`{"action":"completed","repository":{"full_name":"o/r"}}`)),
			is: ErrMalformedWebhook, say: "no valid workflow_run"},
		{name: "workflow_run without a repository", secret: webhookSecret,
			d:  with(signed(`{"action":"completed","workflow_run":{"id":1,"run_attempt":1}}`)),
			is: ErrMalformedWebhook, say: "names no repository"},
		{name: "repository not owner/name", secret: webhookSecret,
			d:  with(signed(`{"action":"completed","repository":{"full_name":"../etc"},"workflow_run":{"id":1}}`)),
			is: ErrMalformedWebhook, say: "not owner/name"},
		{name: "workflow_job without its job", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.event = "workflow_job"
				d.body = []byte(`{"action":"completed","repository":{"full_name":"o/r"},"workflow_job":{"id":5}}`)
			}),
			is: ErrMalformedWebhook, say: "no valid workflow_job"},
		{name: "unsupported content type", secret: webhookSecret,
			d: with(func(d *delivery) { d.contentType = "text/plain" }), is: ErrMalformedWebhook, say: "unsupported Content-Type"},
		{name: "no content type", secret: webhookSecret,
			d: with(func(d *delivery) { d.contentType = "" }), is: ErrMalformedWebhook, say: "no Content-Type"},
		{name: "form without payload", secret: webhookSecret,
			d: with(func(d *delivery) {
				d.contentType = "application/x-www-form-urlencoded"
				d.body = []byte("other=1")
			}),
			is: ErrMalformedWebhook, say: "no payload field"},
		{name: "no event header", secret: webhookSecret, d: with(func(d *delivery) { d.event = "" }),
			is: ErrMalformedWebhook, say: "no X-GitHub-Event"},
		{name: "event header not a name", secret: webhookSecret, d: with(func(d *delivery) { d.event = "workflow_run\r\nX: y" }),
			is: ErrMalformedWebhook, say: "not an event name"},
		{name: "no delivery header", secret: webhookSecret, d: with(func(d *delivery) { d.id = "" }),
			is: ErrMalformedWebhook, say: "no X-GitHub-Delivery"},
		{name: "delivery header not an id", secret: webhookSecret, d: with(func(d *delivery) { d.id = "a b" }),
			is: ErrMalformedWebhook, say: "not a delivery id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := read(t, tt.d, tt.secret, tt.max)
			if err == nil {
				t.Fatalf("accepted: %s", asJSON(t, ev))
			}
			if ev != nil {
				t.Errorf("an event came back with the error %v", err)
			}
			if !errors.Is(err, tt.is) {
				t.Errorf("err = %v, want one wrapping %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.say) {
				t.Errorf("err = %q, want it to say %q", err, tt.say)
			}
			for _, other := range []error{ErrBadSignature, ErrNoWebhookSecret, ErrTooLarge, ErrMalformedWebhook} {
				if !errors.Is(tt.is, other) && errors.Is(err, other) {
					t.Errorf("err = %v also wraps %v", err, other)
				}
			}
		})
	}
}

func TestReadWebhookMaxBytes(t *testing.T) {
	d := probotDelivery(t, "workflow_run.completed.failure.probot-envelope.json")
	n := int64(len(d.body))
	if _, err := read(t, d, webhookSecret, n); err != nil {
		t.Errorf("a body of exactly max bytes: %v", err)
	}
	_, err := read(t, d, webhookSecret, n-1)
	var mbe *http.MaxBytesError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &mbe) || mbe.Limit != n-1 {
		t.Errorf("a body one byte over max: err = %v, want ErrTooLarge and *http.MaxBytesError{Limit: %d}", err, n-1)
	}
	// Too large is found before the signature is checked: the body is never read whole.
	d.header = http.Header{"X-Hub-Signature-256": {signSHA256("wrong", d.body)}}
	if _, err := read(t, d, webhookSecret, 100); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized body with a wrong signature: err = %v, want ErrTooLarge", err)
	}
}

// unread is a body that fails the test when anything reads it.
type unread struct{ t *testing.T }

func (u unread) Read([]byte) (int, error) {
	u.t.Error("the body was read")
	return 0, errors.New("must not be read")
}

func TestReadWebhookAnnouncedLengthOverMax(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/github/webhook", unread{t})
	r.ContentLength = 2 << 20
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-GitHub-Event", EventWorkflowRun)
	r.Header.Set("X-GitHub-Delivery", "d1")
	r.Header.Set("X-Hub-Signature-256", signSHA256(webhookSecret, []byte("{}")))
	_, err := ReadWebhook(httptest.NewRecorder(), r, webhookSecret, 1<<20)
	var mbe *http.MaxBytesError
	if !errors.Is(err, ErrTooLarge) || !errors.As(err, &mbe) || mbe.Limit != 1<<20 {
		t.Errorf("Content-Length 2 MB over a 1 MB limit: err = %v, want ErrTooLarge with Limit 1 MB", err)
	}
}

func TestHandledEvent(t *testing.T) {
	for ev, want := range map[string]bool{
		"workflow_run": true, "workflow_job": true, "ping": true,
		"push": false, "issues": false, "": false, "Workflow_Run": false,
	} {
		if got := HandledEvent(ev); got != want {
			t.Errorf("HandledEvent(%q) = %v, want %v", ev, got, want)
		}
	}
}

func TestWebhookEventRefNil(t *testing.T) {
	var ev *WebhookEvent
	if ref := ev.Ref(); ref != (RunRef{}) {
		t.Errorf("nil event: Ref() = %+v", ref)
	}
}

// FuzzReadWebhook: whatever arrives, ReadWebhook does not panic, and it accepts a body only
// when X-Hub-Signature-256 is its HMAC with the secret.
func FuzzReadWebhook(f *testing.F) {
	seed := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join("testdata", "webhook", name))
		if err != nil {
			f.Fatal(err)
		}
		var env struct {
			Payload json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(raw, &env) == nil && len(env.Payload) > 0 {
			return env.Payload // a probot envelope
		}
		return raw
	}
	runBody := seed("workflow_run.completed.failure.probot-envelope.json")
	jobBody := seed("workflow_job.completed.failure.with-organization.payload.json")
	f.Add(runBody, "application/json", "workflow_run", uint8(0), "")
	f.Add(jobBody, "application/json", "workflow_job", uint8(0), "")
	f.Add(seed("ping.json"), "application/json", "ping", uint8(0), "")
	f.Add([]byte("payload="+url.QueryEscape(string(jobBody))), "application/x-www-form-urlencoded", "workflow_job", uint8(0), "")
	f.Add(runBody, "application/json", "workflow_run", uint8(1), "sha256=00")
	f.Add(runBody, "application/json", "workflow_run", uint8(2), "")
	f.Add([]byte(`{"repository":{"full_name":"o/r"},"workflow_run":{"id":1}}`), "application/json; charset=utf-8", "workflow_run", uint8(0), "")
	f.Add([]byte(`{"workflow_job":{"id":1,"run_id":2,"run_attempt":-1},"repository":{"full_name":"o/r"}}`), "application/json", "workflow_job", uint8(0), "")
	f.Add([]byte(`[]`), "application/json", "push", uint8(0), "")

	f.Fuzz(func(t *testing.T, body []byte, contentType, event string, mode uint8, sig string) {
		good := signSHA256(webhookSecret, body)
		r := httptest.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("X-GitHub-Event", event)
		r.Header.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
		signedOK := false
		switch mode % 3 {
		case 0:
			r.Header.Set("X-Hub-Signature-256", good)
			signedOK = true
		case 1:
			r.Header.Set("X-Hub-Signature-256", sig)
			signedOK = strings.EqualFold(sig, good) && strings.HasPrefix(sig, "sha256=")
		case 2:
			r.Header.Set("X-Hub-Signature", signSHA1(webhookSecret, body))
		}
		ev, err := ReadWebhook(httptest.NewRecorder(), r, webhookSecret, 1<<20)
		if err != nil {
			if ev != nil {
				t.Errorf("an event came back with the error %v", err)
			}
			if strings.Contains(err.Error(), string(webhookSecret)) {
				t.Errorf("the secret appears in %q", err)
			}
			if !signedOK && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("an unsigned body was refused for another reason: %v", err)
			}
			return
		}
		if !signedOK {
			t.Fatalf("accepted an unsigned body (mode %d, signature %q)", mode%3, sig)
		}
		if ev == nil || ev.Event != event {
			t.Fatalf("accepted as %+v", ev)
		}
		switch {
		case ev.Run != nil && event != EventWorkflowRun, ev.Job != nil && event != EventWorkflowJob, ev.Run != nil && ev.Job != nil:
			t.Errorf("a %s event decoded as %s", event, asJSON(t, ev))
		case ev.Run != nil || ev.Job != nil:
			if err := validRef(ev.Ref()); err != nil {
				t.Errorf("FetchRun would refuse Ref() of %s: %v", asJSON(t, ev), err)
			}
		}
		roundTrip(t, ev)
	})
}

// roundTrip checks that an event survives being persisted as a job payload.
func roundTrip(t *testing.T, ev *WebhookEvent) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var back WebhookEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, ev) {
		t.Errorf("JSON round trip changed the event:\n%s\n%s", b, asJSON(t, &back))
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
