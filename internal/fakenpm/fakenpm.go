// Package fakenpm is a loopback stand-in for the npm registry and for GitHub's OIDC token
// service, for tests and for the fixture harness that runs the real npm CLI against it.
//
// It answers as the registry does in real logs (shared/knowledge/npm.md, shared/cases/real):
// a PUT with an unknown token gets 404 and the `npm-notice: Access token expired or
// revoked…` header; 2FA, "cannot publish over", "token disallowed by package setting",
// "OIDC permission denied" get their 401/403 bodies; a new scoped package without public
// access gets 402; the OIDC exchange rejects mismatched claims with "OIDC token exchange
// error - package not found". With a known token it also lists a package's trusted
// publisher (GET /-/package/<name>/trust, what `npm trust list` reads). What the fake says
// is modelled; what npm prints about it is npm's own.
package fakenpm

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Package is a package the registry knows.
type Package struct {
	Versions []string
	// Trusted is the package's trusted publisher; nil means none is configured.
	Trusted *TrustedPublisher
	// RequireOTP makes token publishes answer 401 with www-authenticate: OTP (EOTP).
	RequireOTP bool
	// DisallowTokens is "Require two-factor authentication and disallow tokens".
	DisallowTokens bool
	// Conflict answers 409 to the next PUT.
	Conflict bool
	// Engines are the versions' engines.node ranges (for npm itself: what an upgrade checks).
	Engines map[string]string
}

// TrustedPublisher is a package's trusted-publisher entry.
type TrustedPublisher struct {
	Repository   string // owner/repo
	WorkflowFile string // release.yml
	Environment  string
	// AllowPublish false models an entry whose allowed actions lack "npm publish".
	AllowPublish bool
}

// Claims are what the fake GitHub token service puts in an id-token.
type Claims struct {
	Repository        string `json:"repository"`
	WorkflowRef       string `json:"workflow_ref"`
	JobWorkflowRef    string `json:"job_workflow_ref"`
	Environment       string `json:"environment,omitempty"`
	RepoVisibility    string `json:"repository_visibility"`
	RunnerEnvironment string `json:"runner_environment"`
	Audience          string `json:"aud"`
	Subject           string `json:"sub"`
}

// Registry is the fake registry plus token service, listening on loopback.
type Registry struct {
	URL string // registry base, ending in "/"
	// IDTokenURL and IDTokenRequestToken are what a GitHub job with id-token: write gets
	// as ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN.
	IDTokenURL          string
	IDTokenRequestToken string

	mu       sync.Mutex
	packages map[string]*Package
	// tokens are the publish tokens the registry accepts: classic/granular ones, and the
	// short-lived ones it hands out from the OIDC exchange (package-scoped).
	tokens    map[string]string // token -> package it may publish ("" = any)
	claims    Claims
	exchanges int
	srv       *http.Server
	ln        net.Listener
	requests  []string
}

// Start listens on 127.0.0.1 (port 0 picks a free one).
func Start(port int) (*Registry, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("listening for the fake registry: %w", err)
	}
	r := &Registry{packages: map[string]*Package{}, tokens: map[string]string{}, ln: ln}
	base := "http://" + ln.Addr().String()
	r.URL = base + "/"
	r.IDTokenURL = base + "/_github/idtoken?api-version=2.0"
	r.IDTokenRequestToken = "fake-actions-request-token"
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve)}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// Close stops the server.
func (r *Registry) Close() error { return r.srv.Close() }

// AddPackage registers a package.
func (r *Registry) AddPackage(name string, p Package) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := p
	r.packages[name] = &cp
}

// AddToken makes a publish token valid (for one package, or any when pkg is "").
func (r *Registry) AddToken(token, pkg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens[token] = pkg
}

// SetClaims sets the claims of the id-tokens the fake GitHub token service issues.
func (r *Registry) SetClaims(c Claims) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.claims = c
}

// Requests lists "METHOD path status" of every request served, in order.
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// Exchanges counts OIDC exchange attempts.
func (r *Registry) Exchanges() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exchanges
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (w *recorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (r *Registry) serve(w http.ResponseWriter, req *http.Request) {
	rec := &recorder{ResponseWriter: w, status: 200}
	defer func() {
		r.mu.Lock()
		r.requests = append(r.requests, fmt.Sprintf("%s %s %d", req.Method, req.URL.Path, rec.status))
		r.mu.Unlock()
	}()
	req.Body = http.MaxBytesReader(rec, req.Body, 64<<20)
	path := req.URL.EscapedPath()
	switch {
	case strings.HasPrefix(path, "/_github/idtoken"):
		r.idToken(rec, req)
	case strings.HasPrefix(path, "/-/npm/v1/oidc/token/exchange/package/"):
		r.exchange(rec, req, strings.TrimPrefix(path, "/-/npm/v1/oidc/token/exchange/package/"))
	case strings.HasPrefix(path, "/-/package/") && strings.HasSuffix(path, "/trust"):
		r.trust(rec, req, strings.TrimSuffix(strings.TrimPrefix(path, "/-/package/"), "/trust"))
	case strings.HasPrefix(path, "/-/"):
		writeJSON(rec, http.StatusNotFound, map[string]string{"error": "Not found"})
	case req.Method == http.MethodGet:
		r.packument(rec, path)
	case req.Method == http.MethodPut:
		r.publish(rec, req, path)
	default:
		writeJSON(rec, http.StatusMethodNotAllowed, map[string]string{"error": "Method not allowed"})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func unescape(path string) string {
	name, err := url.PathUnescape(strings.TrimPrefix(path, "/"))
	if err != nil {
		return strings.TrimPrefix(path, "/")
	}
	return name
}

func (r *Registry) packument(w http.ResponseWriter, path string) {
	name := unescape(path)
	r.mu.Lock()
	p := r.packages[name]
	r.mu.Unlock()
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	versions := map[string]any{}
	times := map[string]string{"created": "2024-01-01T00:00:00.000Z", "modified": "2024-06-01T00:00:00.000Z"}
	latest := ""
	for _, v := range p.Versions {
		man := map[string]any{"name": name, "version": v, "dist": map[string]string{"tarball": r.URL + name + "/-/x-" + v + ".tgz"}}
		if e := p.Engines[v]; e != "" {
			man["engines"] = map[string]string{"node": e}
		}
		versions[v] = man
		times[v] = "2024-06-01T00:00:00.000Z"
		latest = v
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_id": name, "name": name, "dist-tags": map[string]string{"latest": latest},
		"versions": versions, "time": times,
	})
}

func bearer(req *http.Request) string {
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
}

// publish answers a PUT of a package document the way the registry does.
func (r *Registry) publish(w http.ResponseWriter, req *http.Request, path string) {
	name := unescape(path)
	var doc struct {
		Access   *string        `json:"access"`
		Versions map[string]any `json:"versions"`
	}
	body, err := io.ReadAll(req.Body)
	if err != nil || json.Unmarshal(body, &doc) != nil || len(doc.Versions) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Bad Request"})
		return
	}
	version := ""
	for v := range doc.Versions {
		version = v
	}
	token := bearer(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.packages[name]
	scope, known := r.tokens[token]
	if token == "" || !known || (scope != "" && scope != name) {
		if token != "" {
			w.Header().Set("npm-notice", "Access token expired or revoked. Please try logging in again.")
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	oidcToken := strings.HasPrefix(token, "npm_oidc_")
	switch {
	case p != nil && p.Trusted != nil && oidcToken && !p.Trusted.AllowPublish:
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "OIDC permission denied for this action"})
		return
	case p != nil && p.DisallowTokens && !oidcToken:
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Two-factor authentication or granular access token with bypass 2fa enabled is required to publish packages."})
		return
	case p != nil && p.RequireOTP && !oidcToken && req.Header.Get("npm-otp") == "":
		w.Header().Set("www-authenticate", "OTP")
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "You must provide a one-time pass. Upgrade your client to npm@latest in order to use 2FA."})
		return
	case p != nil && contains(p.Versions, version):
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "You cannot publish over the previously published versions: " + version + "."})
		return
	case p != nil && p.Conflict:
		p.Conflict = false
		writeJSON(w, http.StatusConflict, map[string]string{"error": "Failed to save packument. A common cause is if you try to publish a new package before the previous package has been fully processed."})
		return
	case p == nil && strings.HasPrefix(name, "@") && (doc.Access == nil || *doc.Access != "public"):
		writeJSON(w, http.StatusPaymentRequired, map[string]string{"error": "You must sign up for private packages"})
		return
	}
	if p == nil {
		p = &Package{}
		r.packages[name] = p
	}
	p.Versions = append(p.Versions, version)
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "id": name, "rev": "1-fake"})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// idToken is GitHub's ACTIONS_ID_TOKEN_REQUEST_URL: a JWT with the configured claims.
func (r *Registry) idToken(w http.ResponseWriter, req *http.Request) {
	if bearer(req) != r.IDTokenRequestToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	r.mu.Lock()
	c := r.claims
	r.mu.Unlock()
	c.Audience = req.URL.Query().Get("audience")
	writeJSON(w, http.StatusOK, map[string]string{"count": "1", "value": jwt(c)})
}

// jwt makes an unsigned-looking JWT: the fake registry trusts its own token service.
func jwt(c Claims) string {
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "fake"})
	body, _ := json.Marshal(c)
	return enc.EncodeToString(head) + "." + enc.EncodeToString(body) + ".ZmFrZS1zaWduYXR1cmU"
}

func parseJWT(tok string) (Claims, bool) {
	parts := strings.Split(tok, ".")
	var c Claims
	if len(parts) != 3 {
		return c, false
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(body, &c) != nil {
		return c, false
	}
	return c, true
}

// exchange is POST /-/npm/v1/oidc/token/exchange/package/<name>: the registry compares the
// id-token's claims with the package's trusted publisher. Every mismatch, a missing
// publisher and a missing package get the same answer, as in the wild.
func (r *Registry) exchange(w http.ResponseWriter, req *http.Request, escaped string) {
	name := unescape("/" + escaped)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges++
	c, ok := parseJWT(bearer(req))
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "OIDC token exchange error - invalid token"})
		return
	}
	p := r.packages[name]
	if p == nil || p.Trusted == nil || !matches(p.Trusted, c) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "OIDC token exchange error - package not found"})
		return
	}
	token := "npm_oidc_" + strings.NewReplacer("@", "", "/", "_").Replace(name)
	r.tokens[token] = name
	writeJSON(w, http.StatusCreated, map[string]string{"token": token})
}

func matches(tp *TrustedPublisher, c Claims) bool {
	if c.Repository != tp.Repository || tp.Environment != "" && c.Environment != tp.Environment {
		return false
	}
	// workflow_ref: owner/repo/.github/workflows/<file>@ref; the caller's file is checked.
	ref := c.WorkflowRef
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	return strings.HasSuffix(ref, "/.github/workflows/"+tp.WorkflowFile)
}

// trust is GET /-/package/<name>/trust, what `npm trust list` reads: the package's
// trusted-publisher configurations as a bare array, each in the shape `npm trust github`
// posts ({id, type, claims: {repository, workflow_ref: {file}, environment}, permissions}).
// It needs a token the registry knows (401 otherwise) that may act on this package; the
// short-lived tokens the OIDC exchange hands out only publish (403).
func (r *Registry) trust(w http.ResponseWriter, req *http.Request, escaped string) {
	if req.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "Method not allowed"})
		return
	}
	name := unescape("/" + escaped)
	token := bearer(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	scope, known := r.tokens[token]
	switch {
	case token == "" || !known:
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
		return
	case strings.HasPrefix(token, "npm_oidc_") || scope != "" && scope != name:
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "Forbidden"})
		return
	}
	p := r.packages[name]
	if p == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "Not found"})
		return
	}
	list := []any{}
	if tp := p.Trusted; tp != nil {
		claims := map[string]any{"repository": tp.Repository, "workflow_ref": map[string]string{"file": tp.WorkflowFile}}
		if tp.Environment != "" {
			claims["environment"] = tp.Environment
		}
		// npm requires at least one allowed action, so an entry that may not publish
		// may only stage.
		perms := []string{"createStagedPackage"}
		if tp.AllowPublish {
			perms = []string{"createPackage"}
		}
		h := fnv.New64a()
		_, _ = io.WriteString(h, name+"\x00"+tp.Repository+"\x00"+tp.WorkflowFile)
		sum := h.Sum64()
		list = append(list, map[string]any{
			"id":          fmt.Sprintf("%08x-0000-4000-8000-%012x", uint32(sum>>32), sum&0xffffffffffff),
			"type":        "github",
			"claims":      claims,
			"permissions": perms,
		})
	}
	writeJSON(w, http.StatusOK, list)
}
