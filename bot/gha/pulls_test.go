package gha

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // git's object ids are SHA-1; this only imitates them
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/bot"
)

// gitDouble is a loopback GitHub holding one repository's refs, objects and pull requests,
// for OpenFixPR: what it was asked to create is counted per kind.
type gitDouble struct {
	t     *testing.T
	srv   *httptest.Server
	key   *rsa.PublicKey
	perms map[string]string // the installation's permissions
	// refuseRefs answers a branch's creation 403, as GitHub does when a rule or a
	// permission the installation does not list forbids it.
	refuseRefs bool

	mu      sync.Mutex
	refs    map[string]string // "heads/x" → commit sha
	blobs   map[string][]byte
	trees   []map[string]any
	commits []map[string]any
	pulls   []map[string]any
	created map[string]int // "blob", "tree", "commit", "ref", "pull" → POSTs that created one
	writes  []string       // Authorization of each POST
}

const (
	dblBaseSHA  = "0123456789abcdef0123456789abcdef01234567"
	dblBaseTree = "feedfacefeedfacefeedfacefeedfacefeedface"
)

func newGitDouble(t *testing.T, perms map[string]string) *gitDouble {
	t.Helper()
	d := &gitDouble{t: t, perms: perms, refs: map[string]string{}, blobs: map[string][]byte{}, created: map[string]int{}}
	mux := http.NewServeMux()
	repo := "/repos/" + fakeOwner + "/" + fakeRepo
	mux.HandleFunc("GET "+repo+"/installation", d.jwt(d.installation))
	mux.HandleFunc("POST /app/installations/42424242/access_tokens", d.jwt(d.accessToken))
	mux.HandleFunc("GET "+repo, d.inst(func(w http.ResponseWriter, _ *http.Request) {
		d.json(w, http.StatusOK, map[string]any{"full_name": fakeOwner + "/" + fakeRepo, "default_branch": "main"})
	}))
	mux.HandleFunc("GET "+repo+"/pulls", d.inst(d.listPulls))
	mux.HandleFunc("POST "+repo+"/pulls", d.inst(d.createPull))
	mux.HandleFunc("GET "+repo+"/git/ref/{ref...}", d.inst(d.getRef))
	mux.HandleFunc("POST "+repo+"/git/refs", d.inst(d.createRef))
	mux.HandleFunc("GET "+repo+"/git/commits/{sha}", d.inst(d.getCommit))
	mux.HandleFunc("POST "+repo+"/git/blobs", d.inst(d.createBlob))
	mux.HandleFunc("POST "+repo+"/git/trees", d.inst(d.createTree))
	mux.HandleFunc("POST "+repo+"/git/commits", d.inst(d.createCommit))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("git double: unexpected %s %s", r.Method, r.URL)
		d.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	})
	d.srv = httptest.NewServer(mux)
	t.Cleanup(d.srv.Close)
	return d
}

// client is the App's Client against the double, with a key made for it.
func (d *gitDouble) client(t *testing.T) *Client {
	t.Helper()
	key, pemKey := newAppKey(t)
	d.key = &key.PublicKey
	c, err := New(Config{APIURL: d.srv.URL, AppID: 1234567, AppPrivateKey: Secret(pemKey), HTTPClient: d.srv.Client()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (d *gitDouble) jwt(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !appJWTValid(d.key, r.Header.Get("Authorization")) {
			d.json(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		h(w, r)
	}
}

func (d *gitDouble) inst(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+testInstallationToken {
			d.json(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		if r.Method == http.MethodPost {
			d.mu.Lock()
			d.writes = append(d.writes, r.Header.Get("Authorization"))
			d.mu.Unlock()
		}
		h(w, r)
	}
}

func (d *gitDouble) json(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		d.t.Error(err)
	}
	writeJSON(w, status, b)
}

func (d *gitDouble) installation(w http.ResponseWriter, _ *http.Request) {
	d.json(w, http.StatusOK, map[string]any{"id": 42424242, "app_id": 1234567, "permissions": d.perms})
}

func (d *gitDouble) accessToken(w http.ResponseWriter, _ *http.Request) {
	d.json(w, http.StatusCreated, map[string]any{"token": testInstallationToken, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339), "permissions": d.perms})
}

func (d *gitDouble) body(r *http.Request) map[string]any {
	var m map[string]any
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &m); err != nil {
		d.t.Errorf("%s %s: body %q: %v", r.Method, r.URL.Path, b, err)
	}
	return m
}

func gitID(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "\x00"))) //nolint:gosec // an imitation object id
	return hex.EncodeToString(sum[:])
}

func (d *gitDouble) getRef(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	sha, ok := d.refs[r.PathValue("ref")]
	d.mu.Unlock()
	if !ok {
		d.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	d.json(w, http.StatusOK, map[string]any{"ref": "refs/" + r.PathValue("ref"), "object": map[string]string{"sha": sha, "type": "commit"}})
}

func (d *gitDouble) createRef(w http.ResponseWriter, r *http.Request) {
	m := d.body(r)
	ref, _ := m["ref"].(string)
	sha, _ := m["sha"].(string)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refuseRefs {
		d.json(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
		return
	}
	name := strings.TrimPrefix(ref, "refs/")
	if _, ok := d.refs[name]; ok {
		d.json(w, http.StatusUnprocessableEntity, map[string]string{"message": "Reference already exists"})
		return
	}
	d.refs[name] = sha
	d.created["ref"]++
	d.json(w, http.StatusCreated, map[string]any{"ref": ref, "object": map[string]string{"sha": sha, "type": "commit"}})
}

func (d *gitDouble) getCommit(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("sha") != dblBaseSHA {
		d.json(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	d.json(w, http.StatusOK, map[string]any{"sha": dblBaseSHA, "tree": map[string]string{"sha": dblBaseTree}})
}

func (d *gitDouble) createBlob(w http.ResponseWriter, r *http.Request) {
	m := d.body(r)
	content, _ := m["content"].(string)
	if m["encoding"] != "base64" {
		d.t.Errorf("blob encoding %v", m["encoding"])
	}
	raw, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		d.t.Errorf("blob content: %v", err)
	}
	sha := gitID("blob", string(raw))
	d.mu.Lock()
	d.blobs[sha] = raw
	d.created["blob"]++
	d.mu.Unlock()
	d.json(w, http.StatusCreated, map[string]string{"sha": sha})
}

func (d *gitDouble) createTree(w http.ResponseWriter, r *http.Request) {
	m := d.body(r)
	b, _ := json.Marshal(m)
	sha := gitID("tree", string(b))
	d.mu.Lock()
	d.trees = append(d.trees, m)
	d.created["tree"]++
	d.mu.Unlock()
	d.json(w, http.StatusCreated, map[string]string{"sha": sha})
}

func (d *gitDouble) createCommit(w http.ResponseWriter, r *http.Request) {
	m := d.body(r)
	b, _ := json.Marshal(m)
	sha := gitID("commit", string(b), fmt.Sprint(len(d.commits)))
	d.mu.Lock()
	m["sha"] = sha
	d.commits = append(d.commits, m)
	d.created["commit"]++
	d.mu.Unlock()
	d.json(w, http.StatusCreated, map[string]string{"sha": sha})
}

func (d *gitDouble) listPulls(w http.ResponseWriter, r *http.Request) {
	head := r.URL.Query().Get("head")
	d.mu.Lock()
	var out []map[string]any
	for _, p := range slices.Backward(d.pulls) {
		if fakeOwner+":"+p["head"].(map[string]any)["ref"].(string) == head {
			out = append(out, p)
		}
	}
	d.mu.Unlock()
	if out == nil {
		out = []map[string]any{}
	}
	d.json(w, http.StatusOK, out)
}

func (d *gitDouble) createPull(w http.ResponseWriter, r *http.Request) {
	m := d.body(r)
	head, _ := m["head"].(string)
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.refs["heads/"+head]; !ok {
		d.json(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"field": "head", "code": "invalid"}}})
		return
	}
	for _, p := range d.pulls {
		if p["head"].(map[string]any)["ref"] == head && p["state"] == "open" {
			d.json(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
				"errors": []map[string]string{{"resource": "PullRequest", "code": "custom", "message": "A pull request already exists for " + fakeOwner + ":" + head + "."}}})
			return
		}
	}
	if base, _ := m["base"].(string); base != "main" && base != "release" {
		d.json(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"resource": "PullRequest", "field": "base", "code": "invalid"}}})
		return
	}
	n := 100 + len(d.pulls)
	p := map[string]any{
		"number": n, "state": "open", "title": m["title"], "body": m["body"],
		"html_url": fmt.Sprintf("https://github.com/%s/%s/pull/%d", fakeOwner, fakeRepo, n),
		"head":     map[string]any{"ref": head}, "base": map[string]any{"ref": m["base"]},
	}
	d.pulls = append(d.pulls, p)
	d.created["pull"]++
	d.json(w, http.StatusCreated, p)
}

func (d *gitDouble) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.created)
}

var writeAll = map[string]string{"actions": "read", "contents": "write", "pull_requests": "write", "workflows": "write", "metadata": "read"}

func testFixPR() FixPR {
	return FixPR{
		Owner: fakeOwner, Repo: fakeRepo, BaseSHA: dblBaseSHA, Base: "release", Branch: "pubdoc/fix-npm-too-old-0123456",
		Title: "Fix the publish: npm is too old", Body: "Evidence:\n```\n12: npm ERR! 404\n```", Message: "Fix the publish: upgrade npm",
		Files: []bot.FileChange{{Path: ".github/workflows/release.yml", Content: []byte("on: push\n# fixed\n")}},
	}
}

// Three clicks at once and two retries after: one branch, one commit, one pull request,
// and every call answers with that pull request.
func TestOpenFixPRIdempotent(t *testing.T) {
	d := newGitDouble(t, writeAll)
	c := d.client(t)
	pr := testFixPR()

	var wg sync.WaitGroup
	got := make([]*PullRequest, 5)
	errs := make([]error, 5)
	for i := range 3 {
		wg.Go(func() { got[i], errs[i] = c.OpenFixPR(t.Context(), pr) })
	}
	wg.Wait()
	for i := 3; i < 5; i++ {
		got[i], errs[i] = c.OpenFixPR(t.Context(), pr)
	}
	fresh := 0
	for i := range got {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if got[i].Number != 100 || got[i].URL != "https://github.com/octo-org/octo-repo/pull/100" || got[i].Branch != pr.Branch {
			t.Errorf("call %d: %+v", i, got[i])
		}
		if !got[i].Existing {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d calls say they created the pull request, want 1", fresh)
	}
	want := map[string]int{"blob": 1, "tree": 1, "commit": 1, "ref": 1, "pull": 1}
	if c := d.counts(); fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("created %v, want %v", c, want)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if sha := d.refs["heads/"+pr.Branch]; sha != d.commits[0]["sha"] {
		t.Errorf("branch at %s, commit %v", sha, d.commits[0]["sha"])
	}
	if parents := fmt.Sprint(d.commits[0]["parents"]); parents != "["+dblBaseSHA+"]" {
		t.Errorf("commit parents %s, want the failing commit", parents)
	}
	if d.commits[0]["message"] != pr.Message {
		t.Errorf("commit message %v", d.commits[0]["message"])
	}
	tree := d.trees[0]
	entries, _ := tree["tree"].([]any)
	if tree["base_tree"] != dblBaseTree || len(entries) != 1 {
		t.Fatalf("tree %v", tree)
	}
	e := entries[0].(map[string]any)
	if e["path"] != ".github/workflows/release.yml" || e["mode"] != "100644" || !bytes.Equal(d.blobs[e["sha"].(string)], pr.Files[0].Content) {
		t.Errorf("tree entry %v", e)
	}
	p := d.pulls[0]
	if p["base"].(map[string]any)["ref"] != "release" || p["title"] != pr.Title || p["body"] != pr.Body {
		t.Errorf("pull request %v", p)
	}
	for _, a := range d.writes {
		if a != "token "+testInstallationToken {
			t.Errorf("a write used %q, not the App installation's token", a)
		}
	}
}

// A branch left by an attempt that died before its pull request gets the pull request,
// and no second commit; with no base named, the default branch is the base.
func TestOpenFixPRBranchWithoutPull(t *testing.T) {
	d := newGitDouble(t, writeAll)
	c := d.client(t)
	pr := testFixPR()
	pr.Base = ""
	d.refs["heads/"+pr.Branch] = gitID("earlier")
	got, err := c.OpenFixPR(t.Context(), pr)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Existing || got.Base != "main" {
		t.Errorf("got %+v, want an existing branch's pull request into main", got)
	}
	if c := d.counts(); c["commit"] != 0 || c["ref"] != 0 || c["pull"] != 1 {
		t.Errorf("created %v", c)
	}
}

// A run of a tag has a "branch" no pull request can go into: the default branch, then.
func TestOpenFixPRTagRunGoesToTheDefaultBranch(t *testing.T) {
	d := newGitDouble(t, writeAll)
	c := d.client(t)
	pr := testFixPR()
	pr.Base = "v1.2.3"
	got, err := c.OpenFixPR(t.Context(), pr)
	if err != nil {
		t.Fatal(err)
	}
	if got.Base != "main" || d.counts()["pull"] != 1 {
		t.Errorf("got %+v, created %v", got, d.counts())
	}
}

// Without contents and pull_requests write, nothing is written and the error is the
// bot's "no permission" kind, naming what is missing.
func TestOpenFixPRNoPermission(t *testing.T) {
	d := newGitDouble(t, map[string]string{"actions": "read", "contents": "read", "metadata": "read"})
	c := d.client(t)
	_, err := c.OpenFixPR(t.Context(), testFixPR())
	if !errors.Is(err, bot.ErrNoWritePermission) {
		t.Fatalf("err = %v, want ErrNoWritePermission", err)
	}
	var pe *bot.PermissionError
	if !errors.As(err, &pe) || fmt.Sprint(pe.Missing) != "[contents: write pull_requests: write workflows: write]" {
		t.Errorf("missing = %+v", pe)
	}
	if len(d.writes) != 0 || len(d.counts()) != 0 {
		t.Errorf("wrote %d times: %v", len(d.writes), d.counts())
	}

	// contents and pull requests, but a workflow file to change without workflows: write.
	d.perms = map[string]string{"contents": "write", "pull_requests": "write"}
	_, err = c.OpenFixPR(t.Context(), testFixPR())
	if !errors.As(err, &pe) || fmt.Sprint(pe.Missing) != "[workflows: write]" {
		t.Errorf("err = %v", err)
	}
}

// A GitHub that refuses the write (403) despite the permissions: the same kind, and no
// pull request.
func TestOpenFixPRRefusedWrite(t *testing.T) {
	d := newGitDouble(t, writeAll)
	d.refuseRefs = true
	c := d.client(t)
	_, err := c.OpenFixPR(t.Context(), testFixPR())
	if !errors.Is(err, bot.ErrNoWritePermission) || !errors.Is(err, bot.ErrGitHubForbidden) {
		t.Errorf("err = %v, want a refusal of the no-permission kind", err)
	}
	if c := d.counts(); c["pull"] != 0 || c["ref"] != 0 {
		t.Errorf("created %v", c)
	}
}

// A failing commit GitHub does not have: an error of another kind, nothing pushed.
func TestOpenFixPRUnknownCommit(t *testing.T) {
	d := newGitDouble(t, writeAll)
	c := d.client(t)
	pr := testFixPR()
	pr.BaseSHA = strings.Repeat("a", 40)
	_, err := c.OpenFixPR(t.Context(), pr)
	if !errors.Is(err, bot.ErrRunNotFound) || errors.Is(err, bot.ErrNoWritePermission) {
		t.Errorf("err = %v, want not found", err)
	}
}

// A token never opens a pull request: the pull request is the App's doing.
func TestOpenFixPRWithTokenRefused(t *testing.T) {
	d := newGitDouble(t, writeAll)
	c, err := New(Config{APIURL: d.srv.URL, Token: testToken, HTTPClient: d.srv.Client()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.OpenFixPR(t.Context(), testFixPR())
	var pe *bot.PermissionError
	if !errors.Is(err, bot.ErrNoWritePermission) || !errors.As(err, &pe) || !strings.Contains(pe.Reason, "GitHub App") {
		t.Errorf("err = %v", err)
	}
}

func TestOpenFixPRRefusesForeignBranches(t *testing.T) {
	c := &Client{}
	for _, edit := range []func(*FixPR){
		func(p *FixPR) { p.Branch = "main" },
		func(p *FixPR) { p.Branch = "pubdoc/../main" },
		func(p *FixPR) { p.BaseSHA = "HEAD" },
		func(p *FixPR) { p.Files = nil },
		func(p *FixPR) { p.Files[0].Path = "../x" },
	} {
		pr := testFixPR()
		pr.Files = slices.Clone(pr.Files)
		edit(&pr)
		if _, err := c.OpenFixPR(t.Context(), pr); err == nil || errors.Is(err, bot.ErrNoWritePermission) {
			t.Errorf("%+v: err = %v", pr, err)
		}
	}
}

// A pull_request delivery (closed, merged) is read into Pull: what tells the merge of a
// fix pull request.
func TestReadWebhookPullRequestMerged(t *testing.T) {
	if !HandledEvent(EventPullRequest) {
		t.Fatal("pull_request deliveries are not read")
	}
	body := []byte(`{"action":"closed","number":100,"pull_request":{"number":100,"state":"closed","merged":true,
		"html_url":"https://github.com/octo-org/octo-repo/pull/100","merged_by":{"login":"octocat"},
		"head":{"ref":"pubdoc/fix-oidc-npm-too-old-0123456","sha":"` + dblBaseSHA + `"},"base":{"ref":"main"}},
		"repository":{"full_name":"octo-org/octo-repo"},"installation":{"id":42424242}}`)
	ev, err := read(t, delivery{event: "pull_request", id: "d-pr-1", contentType: "application/json", body: body}, webhookSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := WebhookPull{Number: 100, HTMLURL: "https://github.com/octo-org/octo-repo/pull/100", HeadRef: "pubdoc/fix-oidc-npm-too-old-0123456",
		BaseRef: "main", State: "closed", Merged: true, MergedBy: "octocat"}
	if ev.Pull == nil || *ev.Pull != want || ev.Action != "closed" || ev.Repo != "octo-org/octo-repo" || ev.Run != nil {
		t.Errorf("got %s", asJSON(t, ev))
	}
	roundTrip(t, ev)

	bad := []byte(`{"action":"closed","pull_request":{"number":0},"repository":{"full_name":"octo-org/octo-repo"}}`)
	if _, err := read(t, delivery{event: "pull_request", id: "d-pr-2", contentType: "application/json", body: bad}, webhookSecret, 0); !errors.Is(err, ErrMalformedWebhook) {
		t.Errorf("a pull_request without a pull request: err = %v", err)
	}
}
