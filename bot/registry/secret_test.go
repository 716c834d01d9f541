package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestSecretPrintsRedacted(t *testing.T) {
	s := testToken
	type config struct {
		Registry string
		Token    Secret
	}
	cfg := config{"https://registry.npmjs.org/", s}
	var out []string
	for _, verb := range []string{"%v", "%s", "%q", "%+v", "%#v", "%x", "%X", "%d", "%10s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg))
	}
	out = append(out, fmt.Sprint(s), fmt.Sprintln(s, cfg), s.String(), s.GoString())
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))

	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		slog.New(h).Info("configured", "token", s, "cfg", cfg, slog.Any("ptr", &s), slog.Group("g", "t", s))
	}
	out = append(out, logs.String())
	for _, o := range out {
		if strings.Contains(o, string(testToken)) || strings.Contains(o, "SECRET") {
			t.Errorf("token printed: %s", o)
		}
	}
	if s.String() != "<secret>" || fmt.Sprintf("%#v", s) != "<secret>" || fmt.Sprintf("%q|%d|%5.2s", s, s, s) != `"<secret>"|<secret>|<secret>` || !strings.Contains(string(j), `"Token":"\u003csecret\u003e"`) ||
		!strings.Contains(logs.String(), "token=<secret>") {
		t.Errorf("not shown as <secret>: %q %q %s %s", s.String(), fmt.Sprintf("%#v", s), j, logs.String())
	}
}

// The token reaches the registry and nothing else: not errors, not debug logs, not a
// printed Client — even when the registry echoes it back.
func TestTokenNeverLeaks(t *testing.T) {
	echo := serve(t, func(w http.ResponseWriter, r *http.Request) {
		status := 401
		if strings.HasPrefix(r.URL.Path, "/@") {
			status = 500
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "bad credentials: " + r.Header.Get("Authorization")})
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := New(echo.URL, testToken, echo.Client(), logger)
	var errs []error
	_, err := c.TrustedPublishers(context.Background(), "@acme/widgets")
	errs = append(errs, err)
	_, err = c.Package(context.Background(), "@acme/widgets")
	errs = append(errs, err)

	// Against the fake registry too, succeeding, with cache hits.
	ok, _, _ := setup(t, testToken)
	okc := New(ok.BaseURL(), testToken, nil, logger)
	for range 2 {
		if _, err := okc.TrustedPublishers(context.Background(), "@acme/widgets"); err != nil {
			t.Fatal(err)
		}
		if _, err := okc.Package(context.Background(), "@acme/widgets"); err != nil {
			t.Fatal(err)
		}
	}

	texts := []string{logs.String(), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", *c)}
	for i, err := range errs {
		if err == nil {
			t.Fatalf("call %d: no error", i)
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	for _, s := range texts {
		if strings.Contains(s, string(testToken)) {
			t.Errorf("token leaked: %s", s)
		}
	}
	// The echoed text is kept, redacted, and the chain still answers errors.Is.
	if !strings.Contains(errs[0].Error(), "bad credentials: Bearer <secret>") || !errors.Is(errs[0], ErrUnauthorized) || !errors.Is(errs[1], ErrUnavailable) {
		t.Errorf("%v / %v", errs[0], errs[1])
	}
	if !strings.Contains(logs.String(), "token=<secret>") || !strings.Contains(logs.String(), "registry cache hit") {
		t.Errorf("logs: %s", logs.String())
	}
}
