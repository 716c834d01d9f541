package gha

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestSecretPrints(t *testing.T) {
	const value = "ghp_NeverPrintMe0123456789"
	s := Secret(value)
	cfg := Config{Token: s, AppPrivateKey: s, AppID: 7}
	var out bytes.Buffer
	for _, format := range []string{"%v", "%s", "%q", "%#v", "%+v", "%x", "%d", "%10s"} {
		fmt.Fprintf(&out, format+"\n", s)
		fmt.Fprintf(&out, format+"\n", cfg)
		fmt.Fprintf(&out, format+"\n", &cfg)
	}
	fmt.Fprintln(&out, s, []Secret{s}, map[string]Secret{"k": s})
	slog.New(slog.NewTextHandler(&out, nil)).Info("cfg", "token", s, "cfg", cfg)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("cfg", "token", s, "cfg", cfg)
	b, err := json.Marshal(struct {
		Token Secret
		Keys  []Secret
	}{s, []Secret{s}})
	if err != nil {
		t.Fatal(err)
	}
	out.Write(b)
	if strings.Contains(out.String(), value) || strings.Contains(out.String(), fmt.Sprintf("%x", value)) {
		t.Errorf("a Secret printed its value:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "<secret>") {
		t.Errorf("no <secret> in:\n%s", out.String())
	}
}

// No token, key or signed URL reaches an error or a log line, even when GitHub's answer
// echoes the credentials it was sent.
func TestSecretsNeverLeak(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		body, _ := json.Marshal(map[string]string{"message": "Bad credentials: " + r.Header.Get("Authorization")})
		writeJSON(w, http.StatusUnauthorized, body)
	}
	scenarios := []struct {
		name  string
		setup func(*fakeGitHub)
	}{
		{"success", func(*fakeGitHub) {}},
		{"credentials echoed in a 401", func(f *fakeGitHub) { f.override["run"] = echo }},
		{"credentials echoed by the logs endpoint", func(f *fakeGitHub) { f.override["job-logs"] = echo; f.override["attempt-logs"] = echo }},
		{"signed URL refused", func(f *fakeGitHub) {
			f.override["blob"] = func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "AuthenticationFailed", http.StatusForbidden)
			}
		}},
		{"rate limited", func(f *fakeGitHub) {
			f.override["jobs"] = errorWith(f.t, http.StatusForbidden, "errors/rate_limit.json", map[string]string{"X-RateLimit-Remaining": "0"})
		}},
		{"not found", func(f *fakeGitHub) {
			f.override["run"] = errorWith(f.t, http.StatusNotFound, "errors/not_found.json", nil)
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			f := setupFake(t, sc.setup)
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			c := f.newClient(f.env(), nil, logger)
			_, err := fetch(t, c, fakeRef)
			seen := logs.String()
			if err != nil {
				seen += "\n" + err.Error() + fmt.Sprintf("\n%v\n%+v", err, err)
			}
			seen += fmt.Sprintf("\n%v\n%+v\n%#v", c, *c, c)
			for _, secret := range []string{testToken, blobSig} {
				if strings.Contains(seen, secret) {
					t.Errorf("secret %.8s… appears in:\n%s", secret, seen)
				}
			}
			if sc.name != "success" && err == nil {
				t.Error("no error")
			}
		})
	}
}
