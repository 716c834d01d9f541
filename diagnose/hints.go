package diagnose

import (
	"strings"
	"sync"
)

// The fact extractor's readers test every line for literals before they run a regex: most
// lines of a big log are test or build output and hold none of them. On a 100 MB log's
// kept ~5,700 lines those substring searches were ~80% of the extraction (~7 ms, on the
// critical path beside the wrapped-line search). Every literal a reader tests for is now a
// hint: one automaton pass finds all of a line's hints, and a reader tests a bit.

// hint is one literal the extractor's readers look for in a line.
type hint uint16

// maxHints bounds the hints (a hintSet is a fixed array); TestHintsFit holds to it.
const maxHints = 256

// hintSet is the set of hints a line holds.
type hintSet [maxHints / 64]uint64

func (s *hintSet) add(h hint)      { s[h>>6] |= 1 << (h & 63) }
func (s *hintSet) has(h hint) bool { return s[h>>6]&(1<<(h&63)) != 0 }

// hasAny reports whether the set holds one of hs.
func (s *hintSet) hasAny(hs []hint) bool {
	for _, h := range hs {
		if s.has(h) {
			return true
		}
	}
	return false
}

var (
	hintWords []string
	hintIndex = map[string]hint{}
)

// word registers w as a hint at package initialization; the same literal is one hint.
func word(w string) hint {
	if h, ok := hintIndex[w]; ok {
		return h
	}
	h := hint(len(hintWords))
	hintWords = append(hintWords, w)
	hintIndex[w] = h
	return h
}

// words registers each of ws.
func words(ws []string) []hint {
	hs := make([]hint, len(ws))
	for i, w := range ws {
		hs[i] = word(w)
	}
	return hs
}

// hintMatcher is the automaton over every hint, built on the first long log.
var hintMatcher = sync.OnceValue(func() *matcher { return newMatcher(hintWords) })

// hintAutomatonLines is the number of lines from which the automaton finds the hints:
// below it, testing each literal costs less than building the automaton.
const hintAutomatonLines = 256

// hintsIn returns the hints t holds: with m, in one pass; without, literal by literal.
func hintsIn(t string, m *matcher) (s hintSet) {
	if m == nil {
		for i, w := range hintWords {
			if strings.Contains(t, w) {
				s.add(hint(i))
			}
		}
		return s
	}
	m.each(t, func(pid int32, _ int) { s.add(hint(pid)) })
	return s
}

// The literals the readers of facts.go and facts_ecosystems.go test lines for. Single
// bytes (and ": ") stay strings.Contains calls: a byte search is as fast as a bit.
var (
	hNPM                 = word("npm")
	hDashV               = word("-v")
	hVersionFlag         = word("--version")
	hTokenPlaceholder    = word("XXXXX-XXXXX-XXXXX-XXXXX")
	hTokenEnv            = word("TOKEN:")
	hProvenance          = word("rovenance")
	hProvenanceSigned    = word("Signed provenance statement")
	hProvenancePublished = word("Provenance statement published to transparency log")
	hProvenanceFlag      = word("--provenance")
	hProvenanceOff       = word("--provenance=false")
	hProvenanceEnv       = word("NPM_CONFIG_PROVENANCE: true")
	hPublish             = word("publish")
	hRelease             = word("release")
	hNPMNotice           = word("npm notice")
	hSpacedDash          = word(" - ")
	hHostedAgent         = word("Hosted Compute Agent")
	hImage               = word("Image: ")
	hRunnerName          = word("Runner name: ")
	hGitLab              = word("gitlab")
	hSection             = word("section_")
	hJobSucceeded        = word("Job succeeded")
	hCircle              = word("ircle")
	hCircleEnv           = word("CIRCLE")
	h404                 = word("404 ")
	hFailedPUT           = word("publish Failed PUT")
	hBugTheAuthor        = word("You should bug the author")
	hActual              = word("Actual:")
	hQuotedNPM           = word(`"npm"`)
	hCode                = word(" code ")
	hHTTPFetch           = word("http fetch")
	hPublishingTo        = word("Publishing to")
	hOIDCLog             = word(" oidc ")
	hOIDCExchange        = word("/oidc/token/exchange/")
	hNPMAt               = word("npm@")
	hOIDC                = word("OIDC")
	hTrustedPublish      = word("rusted publish")
	hEscapedNewline      = word("%0A")
	hSecretSource        = word("Secret source:")
	hTwine               = word("twine")
	hUV                  = word("uv ")
	hUVSlash             = word("uv/")
	hBacktickClaim       = word("`: `")
	hClaims              = word("OidcTokenClaims")
	hQuotedClaim         = word(`: "`)
	hURL                 = word("://")
	hUploading           = word("Uploading distributions to")
	hRepository          = word("repository")
	hPyPILegacy          = word("pypi.org/legacy")
	hCargo               = word("cargo ")
	hCratesAgent         = word("crates-io-auth-action/")
	hGem                 = word("gem ")
	hGemEnv              = word("RUBYGEMS VERSION")
	hUser                = word("user")
	hRegistry            = word("registry")
	hOwnedByUser         = word("owned by user '")
	hDeno                = word("deno ")
	hDenoCap             = word("Deno ")
	hDenoDownload        = word("denoland/deno/releases/download/")
	hInitiatedBy         = word("initiated by:")
	hParentWorkflow      = word("parent workflow is:")
	hDenied              = word("denied")
	hWritePackage        = word("permission_denied: write_package")
	hInstallWrite        = word("installation not allowed to Write organization package")
	hInstallCreate       = word("installation not allowed to Create organization package")
	hGHCR                = word("ghcr.io/v2/")
	hDeniedDenied        = word("denied: denied")
	hLoggingInto         = word("Logging into ")
	hPushRefers          = word("The push refers to repository")
	hFailedToPush        = word("failed to push ")
	hWithDocker          = word(" with docker")
	hV2                  = word("/v2/")
)
