package gha

import (
	"net/http"

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
