package gha

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

const (
	testAppID             = "1234567"
	testInstallationToken = "ghs_16C7e42F292c6912E7710c838347Ae178B4a" // testdata/access_token.json
)

// newAppKey makes the App's key pair for one test, PEM-encoded as GitHub hands it out.
func newAppKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// appJWTValid checks an App JWT as GitHub does: RS256 by the App's key, issued by the
// App, not expired.
func appJWTValid(pub *rsa.PublicKey, authorization string) bool {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	parts := strings.Split(tok, ".")
	if !ok || len(parts) != 3 {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return false
	}
	var claims struct {
		Iss string `json:"iss"`
		Exp int64  `json:"exp"`
	}
	return json.Unmarshal(payload, &claims) == nil && claims.Iss == testAppID && time.Now().Unix() < claims.Exp
}

// The App finds the repository's installation with its JWT, mints that installation's
// token, and reads the run with it; on GitHub Enterprise Server's /api/v3 prefix.
func TestFetchRunAsApp(t *testing.T) {
	key, pemKey := newAppKey(t)
	f := setupFake(t, func(f *fakeGitHub) {
		f.prefix = "/api/v3"
		f.auth = func(route string, r *http.Request) bool {
			switch route {
			case "installation", "access-tokens":
				return appJWTValid(&key.PublicKey, r.Header.Get("Authorization"))
			default:
				return r.Header.Get("Authorization") == "token "+testInstallationToken
			}
		}
	})
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	env := map[string]string{
		"GITHUB_API_URL":         f.apiURL(),
		"GITHUB_APP_ID":          testAppID,
		"GITHUB_APP_PRIVATE_KEY": pemKey,
		"GITHUB_TOKEN":           testToken, // Actions sets it too; the App wins
	}
	c := f.newClient(env, nil, logger)
	for range 2 {
		run, err := fetch(t, c, fakeRef)
		if err != nil {
			t.Fatalf("FetchRun: %v", err)
		}
		if len(run.FailedJobs) != 2 || run.Workflow == nil || len(run.Callees) != 2 {
			t.Fatalf("run: %d jobs, workflow %d bytes, %d callees", len(run.FailedJobs), len(run.Workflow), len(run.Callees))
		}
	}
	if n := len(f.requests("installation")); n != 1 {
		t.Errorf("installation looked up %d times, want once (cached)", n)
	}
	if n := len(f.requests("access-tokens")); n != 1 {
		t.Errorf("installation token minted %d times, want once (cached until it expires)", n)
	}
	if r := f.requests("access-tokens"); len(r) == 1 && r[0].Path != "/api/v3/app/installations/42424242/access_tokens" {
		t.Errorf("token minted at %s", r[0].Path)
	}
	for _, r := range f.requests("") {
		switch r.Route {
		case "installation", "access-tokens":
		case "blob":
			if r.Auth != "" {
				t.Errorf("the signed log URL received credentials")
			}
		default:
			if !strings.HasPrefix(r.Path, "/api/v3/repos/") {
				t.Errorf("%s %s: not under GITHUB_API_URL", r.Method, r.Path)
			}
			if r.Auth != "token "+testInstallationToken {
				t.Errorf("%s %s used %q, not the installation token", r.Method, r.Path, clip(r.Auth, 20))
			}
		}
	}
	for _, secret := range []string{testInstallationToken, testToken, pemKey, "MII", blobSig} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log output contains a secret (%.8s…)", secret)
		}
	}
}

func TestFetchRunAppNotInstalled(t *testing.T) {
	_, pemKey := newAppKey(t)
	f := setupFake(t, func(f *fakeGitHub) {
		f.auth = func(string, *http.Request) bool { return true }
		f.override["installation"] = errorWith(t, http.StatusNotFound, "errors/not_found.json", nil)
	})
	c := f.newClient(map[string]string{"GITHUB_API_URL": f.apiURL(), "GITHUB_APP_ID": testAppID, "GITHUB_APP_PRIVATE_KEY": pemKey}, nil, nil)
	_, err := fetch(t, c, fakeRef)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "not installed on this repository") {
		t.Fatalf("err = %v", err)
	}
	if n := len(f.requests("run")); n != 0 {
		t.Errorf("read the run without an installation")
	}
}

// A failure to mint the installation token arrives from inside ghinstallation's
// transport; it is still classified.
func TestFetchRunAppTokenRefused(t *testing.T) {
	_, pemKey := newAppKey(t)
	f := setupFake(t, func(f *fakeGitHub) {
		f.auth = func(string, *http.Request) bool { return true }
		f.override["access-tokens"] = errorWith(t, http.StatusUnauthorized, "errors/bad_credentials.json", nil)
	})
	c := f.newClient(map[string]string{"GITHUB_API_URL": f.apiURL(), "GITHUB_APP_ID": testAppID, "GITHUB_APP_PRIVATE_KEY": pemKey}, nil, nil)
	_, err := fetch(t, c, fakeRef)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "installation token") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), pemKey) {
		t.Error("error carries the private key")
	}
}

func TestNewAppBadKey(t *testing.T) {
	const notAKey = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCBzZWNyZXQgYnl0ZXM=\n-----END RSA PRIVATE KEY-----"
	_, err := New(Config{AppID: 1, AppPrivateKey: notAKey}, nil)
	if err == nil || !strings.Contains(err.Error(), "GITHUB_APP_PRIVATE_KEY") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "bm90IGEga2V5") {
		t.Errorf("error carries the key: %v", err)
	}
}
