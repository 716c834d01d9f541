package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pubdoc/pubdoc/internal/fakenpm"
)

// testToken must never appear in an error, a log line or a printed value.
const testToken Secret = "npm_TESTtoken0123456789abcdefSECRET"

// clock is a settable time for the cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup starts the loopback fake registry with a package or two and a client for it that
// goes through the real net/http client.
func setup(t *testing.T, token Secret, opts ...Option) (*Client, *fakenpm.Registry, *clock) {
	t.Helper()
	reg, err := fakenpm.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	reg.AddToken(string(testToken), "")
	reg.AddPackage("@acme/widgets", fakenpm.Package{
		Versions: []string{"1.0.0", "1.10.0", "1.2.0", "2.0.0-beta.1"},
		Trusted:  &fakenpm.TrustedPublisher{Repository: "acme/widgets", WorkflowFile: "release.yml", Environment: "npm", AllowPublish: true},
	})
	reg.AddPackage("plain", fakenpm.Package{Versions: []string{"0.1.0"}})
	clk := newClock()
	c := New(reg.URL, token, &http.Client{Timeout: 5 * time.Second}, nil, append([]Option{WithClock(clk.Now)}, opts...)...)
	return c, reg, clk
}

func TestPackageExists(t *testing.T) {
	c, reg, _ := setup(t, "")
	info, err := c.Package(context.Background(), "@acme/widgets")
	if err != nil {
		t.Fatal(err)
	}
	want := &PackageInfo{
		Name: "@acme/widgets", Exists: true,
		Versions: []string{"1.0.0", "1.2.0", "1.10.0", "2.0.0-beta.1"},
		DistTags: map[string]string{"latest": "2.0.0-beta.1"},
	}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("got %+v\nwant %+v", info, want)
	}
	for v, has := range map[string]bool{"1.2.0": true, "v1.10.0": true, " 1.0.0 ": true, "1.3.0": false, "2.0.0": false, "": false} {
		if info.HasVersion(v) != has {
			t.Errorf("HasVersion(%q) = %v", v, !has)
		}
	}
	if got := reg.Requests(); !reflect.DeepEqual(got, []string{"GET /@acme/widgets 200"}) {
		t.Errorf("requests %v", got)
	}
}

func TestPackageMissing(t *testing.T) {
	c, _, _ := setup(t, "")
	info, err := c.Package(context.Background(), "@acme/not-yet")
	if err != nil {
		t.Fatalf("a missing package is an answer, not an error: %v", err)
	}
	if info.Exists || info.Name != "@acme/not-yet" || len(info.Versions) != 0 || info.HasVersion("1.0.0") {
		t.Errorf("%+v", info)
	}
	var none *PackageInfo
	if none.HasVersion("1.0.0") {
		t.Error("nil PackageInfo has a version")
	}
}

// The scoped name goes out as @scope%2fname under the base URL's own path, with npm's
// Accept header, and the token only when there is one.
func TestRequestShape(t *testing.T) {
	type seen struct{ path, accept, auth string }
	var mu sync.Mutex
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.URL.EscapedPath(), r.Header.Get("Accept"), r.Header.Get("Authorization")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`[]`))
	}))
	defer srv.Close()
	ctx := context.Background()
	// No trailing slash on purpose: New adds it.
	_, _ = New(srv.URL+"/npm", "", srv.Client(), nil).Package(ctx, "@acme/widgets")
	_, _ = New(srv.URL+"/npm/", testToken, srv.Client(), nil).TrustedPublishers(ctx, "@acme/widgets")
	_, _ = New(srv.URL, testToken, srv.Client(), nil).Package(ctx, "left-pad")
	want := []seen{
		{"/npm/@acme%2fwidgets", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8", ""},
		{"/npm/-/package/@acme%2fwidgets/trust", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8", "Bearer " + string(testToken)},
		{"/left-pad", "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8", "Bearer " + string(testToken)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestInvalidNamesAreNotSent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	c := New(srv.URL, testToken, srv.Client(), nil)
	for _, name := range []string{"", "..", "../-/whoami", "@acme", "@acme/", "a/b", "@acme/../x", ".hidden", "sp ace", "q?x", "a%2fb", "@/x", strings.Repeat("a", 215)} {
		if _, err := c.Package(context.Background(), name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Package(%q): %v", name, err)
		}
		if _, err := c.TrustedPublishers(context.Background(), name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("TrustedPublishers(%q): %v", name, err)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent for invalid names", hits.Load())
	}
}

func TestBaseURL(t *testing.T) {
	if got := New("", "", nil, nil).BaseURL(); got != DefaultBaseURL {
		t.Errorf("default base %q", got)
	}
	if got := New("https://user:hunter2@npm.example.com/registry", "", nil, nil).BaseURL(); got != "https://user:xxxxx@npm.example.com/registry/" {
		t.Errorf("base with credentials %q", got)
	}
	for _, bad := range []string{"ftp://npm.example.com/", "not a url at all", "://x", "https://"} {
		_, err := New(bad, "", nil, nil).Package(context.Background(), "left-pad")
		if err == nil || !strings.Contains(err.Error(), "looking up npm package \"left-pad\"") {
			t.Errorf("base %q: %v", bad, err)
		}
	}
}

func TestTrustedPublishers(t *testing.T) {
	c, reg, _ := setup(t, testToken)
	tps, err := c.TrustedPublishers(context.Background(), "@acme/widgets")
	if err != nil {
		t.Fatal(err)
	}
	if len(tps) != 1 {
		t.Fatalf("%+v", tps)
	}
	tp := tps[0]
	if tp.Type != "github" || tp.Repository != "acme/widgets" || tp.WorkflowFile != "release.yml" || tp.Environment != "npm" ||
		tp.ID == "" || !tp.AllowsPublish() {
		t.Errorf("%+v", tp)
	}
	tps, err = c.TrustedPublishers(context.Background(), "plain")
	if err != nil || tps == nil || len(tps) != 0 {
		t.Errorf("package without trusted publishers: %#v %v", tps, err)
	}
	_, err = c.TrustedPublishers(context.Background(), "@acme/unknown")
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable) {
		t.Errorf("unknown package: %v", err)
	}
	want := []string{"GET /-/package/@acme/widgets/trust 200", "GET /-/package/plain/trust 200", "GET /-/package/@acme/unknown/trust 404"}
	if got := reg.Requests(); !reflect.DeepEqual(got, want) {
		t.Errorf("requests %v", got)
	}
	// A publisher that may only stage.
	reg.AddPackage("stage-only", fakenpm.Package{Versions: []string{"1.0.0"}, Trusted: &fakenpm.TrustedPublisher{Repository: "acme/s", WorkflowFile: "s.yml"}})
	if tps, err := c.TrustedPublishers(context.Background(), "stage-only"); err != nil || len(tps) != 1 || tps[0].AllowsPublish() {
		t.Errorf("stage-only: %+v %v", tps, err)
	}
}

func TestTrustedPublishersNeedAToken(t *testing.T) {
	c, reg, _ := setup(t, "")
	_, err := c.TrustedPublishers(context.Background(), "@acme/widgets")
	if !errors.Is(err, ErrNoToken) || !strings.Contains(err.Error(), "NPM_TOKEN") {
		t.Errorf("%v", err)
	}
	if n := len(reg.Requests()); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}

func TestTrustedPublishersRefusedToken(t *testing.T) {
	c, reg, _ := setup(t, "npm_notAtokenTheRegistryKnows")
	_, err := c.TrustedPublishers(context.Background(), "@acme/widgets")
	if !errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("%v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, `"@acme/widgets"`) || strings.Contains(msg, "npm_notAtoken") {
		t.Errorf("%s", msg)
	}
	// A token scoped to another package is refused too.
	reg.AddToken("npm_otherPackageOnly", "other")
	_, err = New(reg.URL, "npm_otherPackageOnly", nil, nil).TrustedPublishers(context.Background(), "@acme/widgets")
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("%v", err)
	}
}

func TestTrustListShapes(t *testing.T) {
	release := TrustedPublisher{Type: "github", Repository: "acme/widgets", WorkflowFile: "release.yml", Environment: "npm",
		ID: "2f1c7c9e-5a3b-4c1d-9e8f-0a1b2c3d4e5f", Permissions: []string{"createPackage", "createStagedPackage"}}
	stage := TrustedPublisher{Type: "github", Repository: "acme/widgets", WorkflowFile: "stage.yml",
		ID: "7d9e1f20-0000-4000-8000-000000000002", Permissions: []string{"createStagedPackage"}}
	flat := release
	flat.Permissions = []string{"createPackage"}
	cases := map[string][]TrustedPublisher{
		"trust-github.json":  {release, stage},
		"trust-wrapped.json": {release, stage},
		"trust-single.json":  {release},
		"trust-gitlab-circleci.json": {
			{Type: "gitlab", Repository: "acme/sub/widgets", WorkflowFile: ".gitlab-ci.yml", Environment: "release", ID: "gl-1"},
			{Type: "circleci", Repository: "acme/widgets", ID: "cc-1"},
			{Type: "circleci", Repository: "acme/gadgets", ID: "cc-2"},
		},
		"trust-flattened.json": {flat},
	}
	inline := map[string]string{"null": `null`, "empty": `[]`, "empty-object": `{}`, "data-wrapper": `{"data":[],"page":1}`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/-/package/"), "/trust")
		if body, ok := inline[name]; ok {
			_, _ = w.Write([]byte(body))
			return
		}
		http.ServeFile(w, r, filepath.Join("testdata", name))
	}))
	defer srv.Close()
	c := New(srv.URL, testToken, srv.Client(), nil)
	for file, want := range cases {
		got, err := c.TrustedPublishers(context.Background(), file)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v\ngot  %+v\nwant %+v", file, err, got, want)
		}
	}
	for name := range inline {
		if got, err := c.TrustedPublishers(context.Background(), name); err != nil || got == nil || len(got) != 0 {
			t.Errorf("%s: %#v %v", name, got, err)
		}
	}
	// Files exist for every case (a renamed file would otherwise 404 quietly).
	for file := range cases {
		if _, err := os.Stat(filepath.Join("testdata", file)); err != nil {
			t.Error(err)
		}
	}
}

func TestCache(t *testing.T) {
	c, reg, clk := setup(t, testToken)
	ctx := context.Background()
	for range 3 {
		info, err := c.Package(ctx, "@acme/widgets")
		if err != nil {
			t.Fatal(err)
		}
		// What a caller does with its copy does not reach the cache.
		info.Versions[0] = "9.9.9"
		info.DistTags["latest"] = "mutated"
		tps, err := c.TrustedPublishers(ctx, "@acme/widgets")
		if err != nil {
			t.Fatal(err)
		}
		tps[0].WorkflowFile = "mutated.yml"
		tps[0].Permissions[0] = "mutated"
		clk.Advance(30 * time.Second)
	}
	info, _ := c.Package(ctx, "@acme/widgets")
	tps, _ := c.TrustedPublishers(ctx, "@acme/widgets")
	if info.Versions[0] != "1.0.0" || info.DistTags["latest"] != "2.0.0-beta.1" || tps[0].WorkflowFile != "release.yml" || tps[0].Permissions[0] != "createPackage" {
		t.Errorf("cached values were changed through a returned copy: %+v %+v", info, tps)
	}
	// A missing package is an answer and is cached too.
	_, _ = c.Package(ctx, "nope")
	_, _ = c.Package(ctx, "nope")
	want := []string{"GET /@acme/widgets 200", "GET /-/package/@acme/widgets/trust 200", "GET /nope 404"}
	if got := reg.Requests(); !reflect.DeepEqual(got, want) {
		t.Fatalf("within the TTL: %v", got)
	}
	clk.Advance(DefaultCacheTTL)
	_, _ = c.Package(ctx, "@acme/widgets")
	_, _ = c.TrustedPublishers(ctx, "@acme/widgets")
	if got := reg.Requests(); len(got) != 5 {
		t.Errorf("after the TTL: %v", got)
	}

	// WithCacheTTL(0) asks every time.
	off, reg2, _ := setup(t, "", WithCacheTTL(0))
	_, _ = off.Package(ctx, "plain")
	_, _ = off.Package(ctx, "plain")
	if got := reg2.Requests(); len(got) != 2 {
		t.Errorf("cache off: %v", got)
	}
}

// Failures are not cached: the next caller asks again and gets the answer.
func TestCacheKeepsNoFailures(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, `{"error":"try later"}`, http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"name":"plain","dist-tags":{"latest":"1.0.0"},"versions":{"1.0.0":{}}}`))
	}))
	defer srv.Close()
	c := New(srv.URL, "", srv.Client(), nil)
	if _, err := c.Package(context.Background(), "plain"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first: %v", err)
	}
	info, err := c.Package(context.Background(), "plain")
	if err != nil || !info.HasVersion("1.0.0") {
		t.Fatalf("second: %+v %v", info, err)
	}
	_, _ = c.Package(context.Background(), "plain")
	if calls.Load() != 2 {
		t.Errorf("%d requests", calls.Load())
	}
}

func TestConcurrentUse(t *testing.T) {
	c, reg, clk := setup(t, testToken)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"@acme/widgets", "plain"}[i%2]
			info, err := c.Package(context.Background(), name)
			if err == nil && !info.Exists {
				err = errors.New(name + " does not exist")
			}
			if err == nil {
				_, err = c.TrustedPublishers(context.Background(), name)
			}
			if i%8 == 0 {
				clk.Advance(time.Minute)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(reg.Requests()); n == 0 || n > 64 {
		t.Errorf("%d requests", n)
	}
}

func TestVersionOrder(t *testing.T) {
	in := []string{"1.0.0", "not-semver", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-alpha", "1.0.0-alpha.1", "0.9.9", "10.0.0", "2.0.0", "1.0.0-beta", "01.0.0"}
	slices.SortFunc(in, compareVersions)
	want := []string{"0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "10.0.0", "01.0.0", "not-semver"}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("got  %v\nwant %v", in, want)
	}
}
