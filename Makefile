# Targets mirror CI (.ci/run). `make test` is the README's test command.
GO ?= go
GOLANGCI ?= $(shell command -v golangci-lint 2>/dev/null || echo $(HOME)/go/bin/golangci-lint)

.PHONY: test lint vet kb docs fuzz bench build fixtures npm-cache release-snapshot

build:
	$(GO) build -o bin/pubdoc ./cmd/pubdoc

test:
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

lint: vet
	$(GOLANGCI) run ./...

# Knowledge base: load + lint, every rule's examples, regenerate docs/rules.md and
# docs/sources.md, and knowledge/rules.gob (the decoded rules start-up reads; a test fails
# when it does not match the YAML).
kb: build
	bin/pubdoc kb lint
	bin/pubdoc kb test
	bin/pubdoc kb docs
	bin/pubdoc kb compile

docs: build
	bin/pubdoc kb docs
	bin/pubdoc kb compile

# A short run of every fuzz target (CI runs them for a few seconds each). New interesting
# inputs are not minimized (-fuzzminimizetime 0): a minimization still running when the
# fuzz time ends fails the run with "context deadline exceeded" though nothing crashed
# (seen on FuzzParseRunURL under CI load). A crash still fails the run.
FUZZTIME ?= 10s
FUZZ = -fuzztime $(FUZZTIME) -fuzzminimizetime 0
fuzz:
	$(GO) test ./diagnose -run '^$$' -fuzz '^FuzzDiagnose$$' $(FUZZ)
	$(GO) test ./diagnose -run '^$$' -fuzz '^FuzzNormalize$$' $(FUZZ)
	$(GO) test ./diagnose -run '^$$' -fuzz '^FuzzRunZip$$' $(FUZZ)
	$(GO) test ./diagnose/workflow -run '^$$' -fuzz '^FuzzParse$$' $(FUZZ)
	$(GO) test ./diagnose/learn -run '^$$' -fuzz '^FuzzNormalize$$' $(FUZZ)
	$(GO) test ./diagnose/patch -run '^$$' -fuzz '^FuzzYAMLEdits$$' $(FUZZ)
	$(GO) test ./diagnose/patch -run '^$$' -fuzz '^FuzzJSONSet$$' $(FUZZ)
	$(GO) test ./diagnose/patch -run '^$$' -fuzz '^FuzzFix$$' $(FUZZ)
	$(GO) test ./bot/gha -run '^$$' -fuzz '^FuzzParseRunURL$$' $(FUZZ)
	$(GO) test ./bot/gha -run '^$$' -fuzz '^FuzzReadWebhook$$' $(FUZZ)

# Speed and memory on a generated >=100 MB job log, against ripgrep with the same literal
# anchors on the same file, in one run. See docs/benchmarks.md.
bench: build
	$(GO) test ./diagnose -run '^$$' -bench 'BenchmarkDiagnose' -benchmem -benchtime 3x
	$(GO) run ./internal/benchcmp

# Record what the real npm prints: every scenario x npm version x log level, against the
# loopback fake registry (internal/npmfixtures). npm versions are installed into .cache/npm.
fixtures:
	$(GO) run ./internal/npmfixtures/gen

# The npm versions CI re-records with (TestRealNPMStillPrintsTheFixtures).
CI_NPM_VERSIONS ?= 10.9.8 11.21.2
npm-cache:
	@for v in $(CI_NPM_VERSIONS); do \
	  test -f .cache/npm/$$v/node_modules/npm/bin/npm-cli.js || \
	  npm install --prefix .cache/npm/$$v --no-audit --no-fund --loglevel=error npm@$$v || exit 1; \
	done

# Releases (.goreleaser.yaml): check the configuration, then build every archive, the
# checksums and the Homebrew cask into dist/ without publishing, and ask the linux/amd64
# binary its version. goreleaser is a Go tool of tools/go.mod (the product's go.mod stays
# small), run from here with -modfile; its first build takes minutes, so CI (.ci/run) does
# not run this. The SBOMs need syft and the image needs docker buildx: each is skipped when
# missing. A real release is .github/workflows/release.yml on a tag.
GORELEASER ?= $(GO) tool -modfile=tools/go.mod goreleaser
RELEASE_SKIP ?= $(strip $(if $(shell command -v syft 2>/dev/null),,sbom) $(if $(shell docker buildx inspect >/dev/null 2>&1 && echo ok),,docker))
# goreleaser reads the commit and its date only where the clone has a remote; a clone without
# one (a CI sandbox) names this repository's, for this command only.
RELEASE_ENV ?= $(if $(shell git remote 2>/dev/null),,GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/pubdoc/pubdoc.git)
release-snapshot:
	$(GORELEASER) check
	$(RELEASE_ENV) $(GORELEASER) release --snapshot --clean $(foreach s,$(RELEASE_SKIP),--skip=$(s))
	dist/pubdoc_linux_amd64_v1/pubdoc version
