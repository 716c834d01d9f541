package registry

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serve starts a per-test server answering every request with h.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestRegistryErrors(t *testing.T) {
	big := strings.Repeat("x", 4096)
	cases := []struct {
		name    string
		handler http.HandlerFunc
		opts    []Option
		is      error
		says    []string
	}{
		{
			name: "500",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, `{"error":"Internal Server Error"}`, http.StatusInternalServerError)
			},
			is:   ErrUnavailable,
			says: []string{"the registry could not be asked", "HTTP 500", `("Internal Server Error")`},
		},
		{
			name: "503 without a JSON body",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "<html>upstream down</html>", http.StatusServiceUnavailable)
			},
			is:   ErrUnavailable,
			says: []string{"the registry could not be asked: HTTP 503"},
		},
		{
			name:    "429",
			handler: func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) },
			is:      ErrUnavailable,
			says:    []string{"HTTP 429"},
		},
		{
			name: "400",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, `{"message":"bad"}`, http.StatusBadRequest)
			},
			says: []string{"unexpected answer HTTP 400", `("bad")`},
		},
		{
			name: "oversize body, declared",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				_, _ = w.Write([]byte(big))
			},
			opts: []Option{WithMaxBodyBytes(1024)},
			is:   ErrTooLarge,
			says: []string{"too large", "4096 bytes declared, the cap is 1024 bytes"},
		},
		{
			name: "oversize body, streamed",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				for range 4 {
					_, _ = w.Write([]byte(big[:1024]))
					w.(http.Flusher).Flush() // chunked: no Content-Length
				}
			},
			opts: []Option{WithMaxBodyBytes(1024)},
			is:   ErrTooLarge,
			says: []string{"too large: more than 1024 bytes"},
		},
		{
			name: "oversize body, default cap",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				chunk := []byte(strings.Repeat("y", 1<<20))
				for range 9 {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			},
			is:   ErrTooLarge,
			says: []string{"more than 8 MiB"},
		},
		{
			name:    "malformed JSON",
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"versions": {"1.0.0": `)) },
			is:      ErrMalformed,
			says:    []string{"could not be decoded"},
		},
		{
			name:    "wrong JSON type",
			handler: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`"just a string"`)) },
			is:      ErrMalformed,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.handler)
			c := New(srv.URL, testToken, srv.Client(), nil, tc.opts...)
			for what, call := range map[string]func() error{
				"package": func() error { _, err := c.Package(context.Background(), "@acme/widgets"); return err },
				"trust":   func() error { _, err := c.TrustedPublishers(context.Background(), "@acme/widgets"); return err },
			} {
				err := call()
				if err == nil {
					t.Fatalf("%s: no error", what)
				}
				if tc.is != nil && !errors.Is(err, tc.is) {
					t.Errorf("%s: %v is not %v", what, err, tc.is)
				}
				msg := err.Error()
				if !strings.HasPrefix(msg, "registry: ") || !strings.Contains(msg, `npm package "@acme/widgets" at `+srv.URL+"/") {
					t.Errorf("%s: the error does not say what was asked: %s", what, msg)
				}
				for _, s := range tc.says {
					if !strings.Contains(msg, s) {
						t.Errorf("%s: %q lacks %q", what, msg, s)
					}
				}
				if strings.Contains(msg, string(testToken)) {
					t.Errorf("%s: token in error", what)
				}
			}
		})
	}
}

// A malformed trust list in the right JSON syntax but the wrong shape.
func TestTrustListWrongShape(t *testing.T) {
	for _, body := range []string{`{"a":[1],"b":[2]}`, `[1,2]`, `"x"`, `{"foo":"bar"}`} {
		srv := serve(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) })
		_, err := New(srv.URL, testToken, srv.Client(), nil).TrustedPublishers(context.Background(), "x")
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// A registry that does not answer in time: the caller's deadline ends the request, and the
// error says the registry could not be asked.
func TestSlowRegistryHonoursContext(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := New(srv.URL, testToken, srv.Client(), nil)
	for what, call := range map[string]func(context.Context) error{
		"package": func(ctx context.Context) error { _, err := c.Package(ctx, "plain"); return err },
		"trust":   func(ctx context.Context) error { _, err := c.TrustedPublishers(ctx, "plain"); return err },
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("%s: took %v", what, took)
		}
		if !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "the registry could not be asked") {
			t.Errorf("%s: %v", what, err)
		}
	}
	// A cancelled context does not even connect.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Package(ctx, "plain"); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled: %v", err)
	}
}

// A client timeout (the http.Client's own) is a registry that could not be asked too.
func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	hc := srv.Client()
	hc.Timeout = 100 * time.Millisecond
	_, err := New(srv.URL, "", hc, nil).Package(context.Background(), "plain")
	var ne net.Error
	if !errors.Is(err, ErrUnavailable) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v", err)
	}
}

func TestRegistryDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	_, err = New("http://"+addr+"/", testToken, nil, nil).Package(context.Background(), "plain")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("%v", err)
	}
}
