package fakenpm

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// reply is what a request got back; the body is read and closed by do.
type reply struct {
	StatusCode int
	Header     http.Header
}

func do(t *testing.T, method, url, token, body string) (reply, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(data, &m)
	return reply{res.StatusCode, res.Header}, m
}

const doc = `{"name":"@acme/widgets","versions":{"1.2.0":{}},"access":"public"}`

func TestRegistryAnswersAsTheRealOne(t *testing.T) {
	r, err := Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.AddPackage("@acme/widgets", Package{Versions: []string{"1.1.0"}, Trusted: &TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "release.yml", AllowPublish: true}})
	put := r.URL + "@acme%2fwidgets"

	res, body := do(t, "PUT", put, "XXXXX-XXXXX-XXXXX-XXXXX", doc)
	if res.StatusCode != 404 || res.Header.Get("npm-notice") != "Access token expired or revoked. Please try logging in again." || body["error"] != "Not found" {
		t.Fatalf("unknown token: %d %q %v", res.StatusCode, res.Header.Get("npm-notice"), body)
	}

	// The GitHub token service mints a JWT with the configured claims...
	r.SetClaims(Claims{Repository: "acme/widgets", WorkflowRef: "acme/widgets/.github/workflows/publish.yml@refs/heads/main"})
	_, tok := do(t, "GET", r.IDTokenURL+"&audience=npm%3Aregistry.npmjs.org", r.IDTokenRequestToken, "")
	jwt, _ := tok["value"].(string)
	if strings.Count(jwt, ".") != 2 {
		t.Fatalf("id-token %v", tok)
	}
	if res, _ := do(t, "GET", r.IDTokenURL, "wrong", ""); res.StatusCode != 401 {
		t.Fatalf("id-token without the request token: %d", res.StatusCode)
	}
	// ...which the exchange rejects when the workflow file differs, as the registry does.
	exchange := r.URL + "-/npm/v1/oidc/token/exchange/package/@acme%2fwidgets"
	res, body = do(t, "POST", exchange, jwt, "")
	if res.StatusCode != 404 || body["message"] != "OIDC token exchange error - package not found" {
		t.Fatalf("mismatched workflow: %d %v", res.StatusCode, body)
	}
	r.SetClaims(Claims{Repository: "acme/widgets", WorkflowRef: "acme/widgets/.github/workflows/release.yml@refs/tags/v1.2.0"})
	_, tok = do(t, "GET", r.IDTokenURL, r.IDTokenRequestToken, "")
	res, body = do(t, "POST", exchange, tok["value"].(string), "")
	short, _ := body["token"].(string)
	if res.StatusCode != 201 || short == "" {
		t.Fatalf("matching workflow: %d %v", res.StatusCode, body)
	}
	if res, _ := do(t, "PUT", put, short, doc); res.StatusCode != 200 {
		t.Fatalf("publish with the exchanged token: %d", res.StatusCode)
	}
	res, body = do(t, "PUT", put, short, doc)
	if res.StatusCode != 403 || body["error"] != "You cannot publish over the previously published versions: 1.2.0." {
		t.Fatalf("second publish: %d %v", res.StatusCode, body)
	}
	if r.Exchanges() != 2 {
		t.Errorf("exchanges %d", r.Exchanges())
	}
}

func TestRegistryPolicies(t *testing.T) {
	r, err := Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.AddToken("good", "")
	r.AddPackage("otp-pkg", Package{RequireOTP: true})
	r.AddPackage("strict", Package{DisallowTokens: true})
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"otp-pkg", `{"versions":{"1.0.0":{}}}`, 401, "one-time pass"},
		{"strict", `{"versions":{"1.0.0":{}}}`, 403, "bypass 2fa"},
		{"@acme%2fnew", `{"versions":{"1.0.0":{}}}`, 402, "You must sign up for private packages"},
		{"@acme%2fpublic", `{"versions":{"1.0.0":{}},"access":"public"}`, 200, ""},
		{"plain", `not json`, 400, "Bad Request"},
	}
	for _, c := range cases {
		res, body := do(t, "PUT", r.URL+c.name, "good", c.body)
		msg, _ := body["error"].(string)
		if res.StatusCode != c.status || !strings.Contains(msg, c.want) {
			t.Errorf("%s: %d %q, want %d %q", c.name, res.StatusCode, msg, c.status, c.want)
		}
	}
	if res, _ := do(t, "GET", r.URL+"nope", "", ""); res.StatusCode != 404 {
		t.Errorf("packument of an unknown package: %d", res.StatusCode)
	}
	if got := r.Requests(); len(got) != 6 || got[0] != "PUT /otp-pkg 401" {
		t.Errorf("requests %v", got)
	}
}

func TestTrustList(t *testing.T) {
	r, err := Start(0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.AddToken("admin", "")
	r.AddToken("other-pkg", "other")
	r.AddPackage("@acme/widgets", Package{Versions: []string{"1.0.0"}, Trusted: &TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "release.yml", Environment: "npm", AllowPublish: true}})
	r.AddPackage("plain", Package{Versions: []string{"1.0.0"}})
	trust := r.URL + "-/package/@acme%2fwidgets/trust"

	for _, tok := range []string{"", "not-a-known-token"} {
		if res, body := do(t, "GET", trust, tok, ""); res.StatusCode != 401 || body["error"] != "Unauthorized" {
			t.Errorf("token %q: %d %v", tok, res.StatusCode, body)
		}
	}
	if res, _ := do(t, "GET", trust, "other-pkg", ""); res.StatusCode != 403 {
		t.Errorf("token for another package: %d", res.StatusCode)
	}
	if res, _ := do(t, "GET", r.URL+"-/package/nope/trust", "admin", ""); res.StatusCode != 404 {
		t.Errorf("unknown package: %d", res.StatusCode)
	}

	get := func(url string) []map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer admin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var list []map[string]any
		if err := json.NewDecoder(res.Body).Decode(&list); err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: %d %v", url, res.StatusCode, err)
		}
		return list
	}
	list := get(trust)
	if len(list) != 1 {
		t.Fatalf("entries %v", list)
	}
	e := list[0]
	claims, _ := e["claims"].(map[string]any)
	ref, _ := claims["workflow_ref"].(map[string]any)
	perms, _ := e["permissions"].([]any)
	if e["type"] != "github" || e["id"] == "" || claims["repository"] != "acme/widgets" || ref["file"] != "release.yml" ||
		claims["environment"] != "npm" || len(perms) != 1 || perms[0] != "createPackage" {
		t.Errorf("entry %v", e)
	}
	if list := get(r.URL + "-/package/plain/trust"); len(list) != 0 {
		t.Errorf("package without a trusted publisher: %v", list)
	}
	if got := r.Requests(); got[0] != "GET /-/package/@acme/widgets/trust 401" {
		t.Errorf("requests %v", got)
	}
}
