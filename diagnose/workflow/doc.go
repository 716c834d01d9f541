// Package workflow reads a GitHub Actions workflow file and says what it does about
// publishing a package: as facts the engine joins with a failed log's facts (auto mode),
// and as findings that predict a failure before the workflow runs (pubdoc check).
//
// It is pure: bytes in, values out, no network and no file system.
//
//	Parse      YAML → actionlint's syntax tree → this package's model (parse.go, the only
//	           importer of rhysd/actionlint), keeping every value's line; run: scripts are
//	           kept line by line so a command inside a block points at its own line. Input
//	           is bounded first (MaxSize bytes, MaxNodes once YAML aliases are expanded:
//	           actionlint re-walks an alias at every use, exponential in nesting)
//	→ analyze  per job, in order: setup-node steps, npm upgrades (npm install -g npm@X),
//	           corepack, commands that rewrite the version, _authToken writes, and publishes
//	           (npm, pnpm, yarn, lerna, changesets, semantic-release, release-it, nx,
//	           JS-DevTools/npm-publish), read by a small shell-word reader (shell.go)
//	→ ctx      one publish's effective settings: step env over job env over workflow env,
//	           command-line flags over NPM_CONFIG_*, job permissions replacing the workflow's
//	→ Facts    named as the engine names log facts (knowledge.Facts) so they join by name:
//	           triggers, id_token_permission (granted|missing|default), packages_permission,
//	           environment, runner, setup_node_version, node_version, registry_url,
//	           npm_upgrade, corepack, publish_tool, publish_command, token_env (set|empty),
//	           provenance_flag (true|false), access, dist_tag, and the workflow-only
//	           reusable_call, workflow_call and workflow_file; each with file and line
//	→ resolve  what a publish runs with, leg by leg of the job's matrix (expr.go,
//	           resolve.go): strategy.matrix expanded as GitHub does (product, exclude,
//	           include), ${{ }} evaluated where the file shows the value (matrix, env at
//	           the step, job and workflow levels, inputs with their callers' with: or
//	           default, literals, ==/!=/&&/||/!, startsWith/endsWith/contains), if:
//	           deciding which legs a step runs in; vars, secrets, outputs and fromJSON are
//	           unknown, and an undefined matrix key, env or input is '' (as on GitHub)
//	→ Check    findings with file:line, each predicting a failure the knowledge base
//	           names (Finding.Rule), whose cause, fix summary and snippet are the rule's
//	           (knowledge.Fix.Render fills the job, setup-node, scope… into its
//	           placeholders); the message is what this file says. npm: too old for
//	           trusted publishing (through pnpm 10 and older, which run the runner's npm;
//	           pnpm 11 exchanges the token itself), missing id-token, provenance or OIDC
//	           on a self-hosted or third-party runner (a leg of the matrix counts),
//	           npm@latest on a Node npm 12 refuses, a registry-url placeholder (a note), a
//	           token in NODE_AUTH_TOKEN that no registry-url or .npmrc hands to npm, a
//	           node-version read from a variable nothing defines (or, a note, from vars),
//	           GitHub Packages with the wrong scope or without packages: write, a scoped
//	           first publish without --access public, a prerelease without --tag, a
//	           reusable workflow started from several files (npm matches the caller). Run
//	           lines that call package.json scripts (npm run release) are followed into
//	           the scripts; a publish the file cannot show (a script file on a
//	           third-party runner with the OIDC token) is a note: "cannot tell".
//	           Severities: error (fails as written), warning (fails on a condition the
//	           file cannot show), note (cannot tell). CheckAll judges callers and the
//	           reusable workflows they call together.
//	→ other registries (registries.go, check_registries.go; shared/knowledge/registries.md):
//	           uploads to PyPI (pypa/gh-action-pypi-publish, uv publish), crates.io
//	           (crates-io-auth-action, cargo publish), RubyGems (release-gem,
//	           configure-rubygems-credentials), NuGet (NuGet/login, dotnet nuget push), JSR
//	           (deno publish, npx jsr publish) and image pushes to GHCR are kept apart from
//	           npm's publishes, so PublishJob and Facts stay npm's. Their checks: the OIDC
//	           token each exchange needs (§0.2, with the registry's rule), the PyPI action on
//	           a macOS or Windows runner, trusted publishing on fork pull requests, two
//	           attesting PyPI uploads in one job, cargo publish with no CARGO_REGISTRY_TOKEN
//	           reaching it, NuGet/login on pull_request_target, a nuget.org push without
//	           --api-key, a GHCR push without packages: write or on read-only-token runs
//	           (fork pull requests, Dependabot). Reusable workflows follow §0.3: PyPI and
//	           RubyGems match the called file (RubyGems only within the repository), crates.io
//	           and npm the caller, so only the first two warn from inside a called workflow,
//	           naming the file the trusted publisher must name.
//
// The version knowledge (which npm each Node bundles, npm 11 and 12 engines) follows
// shared/knowledge/npm.md §0.6 and §6, and is in version.go. A check fires only on what the
// file says: a value it cannot resolve or an unknown runner label makes it stay silent (or
// say "cannot tell" in a note) rather than guess, because a wrong error blocks a release.
// testdata/realfix holds workflows of public repositories before and after commits that
// fixed their publish; TestRealFixes measures the checks on them.
package workflow
