#!/usr/bin/env bash
# Installs pubdoc for the action (action.yml's first step) and prints bin=<path> to
# $GITHUB_OUTPUT. Bash on every runner: Linux, macOS, and Git Bash on Windows.
#
#   PUBDOC_INSTALL   binary (default): the release archive for this OS and architecture,
#                    verified against the release's checksums.txt (SHA-256);
#                    go: `go install github.com/pubdoc/pubdoc/cmd/pubdoc@VERSION` (needs Go);
#                    source: build the action's own checkout (needs Go; for this repository).
#   PUBDOC_VERSION   a release tag (v1.2.3) or latest; empty: the action's ref when it is a
#                    full version tag, else latest.
#   ACTION_REF       the ref the workflow's uses: names (github.action_ref).
#   PUBDOC_RELEASES_URL  where releases are downloaded from (tests, mirrors).
set -euo pipefail

fail() { echo "::error title=Pubdoc could not be installed::$*"; exit 1; }

method="${PUBDOC_INSTALL:-binary}"
releases="${PUBDOC_RELEASES_URL:-https://github.com/pubdoc/pubdoc/releases}"
temp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
# Git Bash on Windows: a /d/a/_temp path, which the next bash step can run as it is.
command -v cygpath >/dev/null 2>&1 && temp="$(cygpath -u "$temp")"
dest="$temp/pubdoc-bin"
version="${PUBDOC_VERSION:-}"
if [ -z "$version" ]; then
  case "${ACTION_REF:-}" in
    v[0-9]*.[0-9]*.[0-9]*) version="$ACTION_REF" ;;
    *) version=latest ;;
  esac
fi

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;;
  macOS | Darwin) os=darwin ;;
  Windows | MINGW* | MSYS* | CYGWIN*) os=windows ;;
  *) fail "no pubdoc release for the OS ${RUNNER_OS:-$(uname -s)}" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64 | x86_64 | amd64) arch=amd64 ;;
  ARM64 | arm64 | aarch64) arch=arm64 ;;
  *) fail "no pubdoc release for the architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
esac
exe=""
[ "$os" = windows ] && exe=.exe
bin="$dest/pubdoc$exe"
mkdir -p "$dest"

# winpath is a path as a Windows program (pwsh) reads it.
winpath() {
  if command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s' "$1"; fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | awk '{print $1}'
  else
    shasum -a 256 "$1" | awk '{print $1}'
  fi
}

case "$method" in
  source)
    go -C "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}" build -trimpath -o "$bin" ./cmd/pubdoc
    ;;
  go)
    command -v go >/dev/null 2>&1 || fail "install: go needs Go on the runner (actions/setup-go)"
    GOBIN="$dest" go install "github.com/pubdoc/pubdoc/cmd/pubdoc@$version"
    ;;
  binary)
    ext=tar.gz
    [ "$os" = windows ] && ext=zip
    asset="pubdoc_${os}_${arch}.${ext}"
    if [ "$version" = latest ]; then
      base="$releases/latest/download"
    else
      base="$releases/download/$version"
    fi
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    curl -fsSL --retry 3 -o "$tmp/$asset" "$base/$asset" || fail "cannot download $base/$asset"
    curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/checksums.txt" || fail "cannot download $base/checksums.txt"
    want="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$tmp/checksums.txt")"
    [ -n "$want" ] || fail "checksums.txt of pubdoc $version lists no $asset"
    got="$(sha256 "$tmp/$asset")"
    [ "$got" = "$want" ] || fail "$asset does not match checksums.txt (sha256 $got, want $want): not installed"
    if [ "$ext" = zip ]; then
      if command -v unzip >/dev/null 2>&1; then
        unzip -o -q "$tmp/$asset" "pubdoc$exe" -d "$dest"
      else
        pwsh -NoProfile -Command "Expand-Archive -Force -Path '$(winpath "$tmp/$asset")' -DestinationPath '$(winpath "$tmp/x")'"
        mv "$tmp/x/pubdoc$exe" "$bin"
      fi
    else
      tar -xzf "$tmp/$asset" -C "$dest" "pubdoc$exe"
    fi
    ;;
  *)
    fail "install must be binary, go or source, not $method"
    ;;
esac

chmod +x "$bin" 2>/dev/null || true
"$bin" version
echo "bin=$bin" >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
