package gha

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/pubdoc/pubdoc/internal/secret"
)

// Secret is a credential: a token or a private key; it never prints (see internal/secret).
type Secret = secret.Secret

// DefaultAPIURL is GitHub.com's REST API. GitHub Enterprise Server serves it at
// https://HOST/api/v3/, which is what GITHUB_API_URL holds inside its runners.
const DefaultAPIURL = "https://api.github.com/"

// DefaultMaxLogBytes caps one job's log: enough for any publish job, small enough that a
// runaway log cannot take the process's memory.
const DefaultMaxLogBytes int64 = 64 << 20

// Config says where GitHub's API is and how to authenticate to it. Set either Token, or
// AppID and AppPrivateKey; when both are set the App is used.
type Config struct {
	// APIURL is the REST API's base URL (GITHUB_API_URL); DefaultAPIURL when empty.
	APIURL string
	// Token is a personal access token or an Actions GITHUB_TOKEN (GITHUB_TOKEN).
	Token Secret
	// AppID is the GitHub App's numeric id (GITHUB_APP_ID).
	AppID int64
	// AppPrivateKey is the App's PEM-encoded RSA private key (GITHUB_APP_PRIVATE_KEY or
	// the file named by GITHUB_APP_PRIVATE_KEY_FILE).
	AppPrivateKey Secret
	// HTTPClient sends every request; its Transport is wrapped, never changed. A client
	// with a five-minute timeout when nil.
	HTTPClient *http.Client
	// MaxLogBytes caps each job's log; DefaultMaxLogBytes when zero or negative.
	MaxLogBytes int64
}

// ConfigFromEnv reads the GitHub settings from the environment, with a *_FILE variant for
// each secret (GITHUB_TOKEN_FILE, GITHUB_APP_PRIVATE_KEY_FILE) as mounted secrets are files.
// getenv is usually os.Getenv and readFile os.ReadFile. Missing credentials are not an
// error here, so a server can start without GitHub; New reports them.
func ConfigFromEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	var cfg Config
	cfg.APIURL = strings.TrimSpace(getenv("GITHUB_API_URL"))

	token, err := secretFromEnv(getenv, readFile, "GITHUB_TOKEN")
	if err != nil {
		return Config{}, err
	}
	cfg.Token = Secret(strings.TrimSpace(token))

	key, err := secretFromEnv(getenv, readFile, "GITHUB_APP_PRIVATE_KEY")
	if err != nil {
		return Config{}, err
	}
	key = strings.TrimSpace(key)
	// A PEM key stored in a one-line variable often arrives with its newlines escaped.
	if !strings.Contains(key, "\n") && strings.Contains(key, `\n`) {
		key = strings.ReplaceAll(key, `\n`, "\n")
	}
	cfg.AppPrivateKey = Secret(key)

	if id := strings.TrimSpace(getenv("GITHUB_APP_ID")); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n <= 0 {
			return Config{}, fmt.Errorf("GITHUB_APP_ID must be the App's numeric id, not %q", id)
		}
		cfg.AppID = n
	}
	switch {
	case cfg.AppID != 0 && cfg.AppPrivateKey == "":
		return Config{}, errors.New("GITHUB_APP_ID is set but GITHUB_APP_PRIVATE_KEY and GITHUB_APP_PRIVATE_KEY_FILE are not")
	case cfg.AppID == 0 && cfg.AppPrivateKey != "":
		return Config{}, errors.New("GITHUB_APP_PRIVATE_KEY is set but GITHUB_APP_ID is not")
	}
	return cfg, nil
}

// secretFromEnv reads NAME, or the file named by NAME_FILE.
func secretFromEnv(getenv func(string) string, readFile func(string) ([]byte, error), name string) (string, error) {
	v, err := secret.FromEnv(getenv, readFile, name)
	return string(v), err
}
