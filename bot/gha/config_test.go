package gha

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	const pemKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAtest\n-----END RSA PRIVATE KEY-----"
	files := map[string]string{
		"/run/secrets/gh-token": "ghp_fromFile0123456789\n",
		"/run/secrets/app.pem":  pemKey + "\n",
	}
	readFile := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "nothing set", env: map[string]string{}, want: Config{}},
		{name: "token", env: map[string]string{"GITHUB_TOKEN": "ghp_abc", "GITHUB_API_URL": "https://ghes.example.com/api/v3"},
			want: Config{Token: "ghp_abc", APIURL: "https://ghes.example.com/api/v3"}},
		{name: "token from file", env: map[string]string{"GITHUB_TOKEN_FILE": "/run/secrets/gh-token"},
			want: Config{Token: "ghp_fromFile0123456789"}},
		{name: "app with key file", env: map[string]string{"GITHUB_APP_ID": "1234567", "GITHUB_APP_PRIVATE_KEY_FILE": "/run/secrets/app.pem"},
			want: Config{AppID: 1234567, AppPrivateKey: pemKey}},
		{name: "app with inline key", env: map[string]string{"GITHUB_APP_ID": " 1234567 ", "GITHUB_APP_PRIVATE_KEY": pemKey},
			want: Config{AppID: 1234567, AppPrivateKey: pemKey}},
		{name: "app with escaped newlines", env: map[string]string{"GITHUB_APP_ID": "1234567", "GITHUB_APP_PRIVATE_KEY": strings.ReplaceAll(pemKey, "\n", `\n`)},
			want: Config{AppID: 1234567, AppPrivateKey: pemKey}},
		{name: "both key and key file", env: map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": pemKey, "GITHUB_APP_PRIVATE_KEY_FILE": "/run/secrets/app.pem"},
			wantErr: "both GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE"},
		{name: "missing key file", env: map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": "/nope.pem"},
			wantErr: "reading GITHUB_APP_PRIVATE_KEY_FILE"},
		{name: "app id without key", env: map[string]string{"GITHUB_APP_ID": "1"}, wantErr: "GITHUB_APP_PRIVATE_KEY"},
		{name: "key without app id", env: map[string]string{"GITHUB_APP_PRIVATE_KEY": pemKey}, wantErr: "GITHUB_APP_ID is not"},
		{name: "app id not a number", env: map[string]string{"GITHUB_APP_ID": "pubdoc", "GITHUB_APP_PRIVATE_KEY": pemKey}, wantErr: "numeric"},
		{name: "app id negative", env: map[string]string{"GITHUB_APP_ID": "-3", "GITHUB_APP_PRIVATE_KEY": pemKey}, wantErr: "numeric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(mapEnv(tt.env), readFile)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "MIIEowIBAAKCAQEAtest") {
					t.Errorf("error carries the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Compare the secret values themselves: Secrets all print alike.
			if got.APIURL != tt.want.APIURL || got.AppID != tt.want.AppID || string(got.Token) != string(tt.want.Token) || string(got.AppPrivateKey) != string(tt.want.AppPrivateKey) {
				t.Errorf("got %q %d %q %q, want %q %d %q %q", got.APIURL, got.AppID, string(got.Token), string(got.AppPrivateKey),
					tt.want.APIURL, tt.want.AppID, string(tt.want.Token), string(tt.want.AppPrivateKey))
			}
		})
	}
	if _, err := ConfigFromEnv(mapEnv(map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": "/nope.pem"}), readFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file error not wrapped: %v", err)
	}
}

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
