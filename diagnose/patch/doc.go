// Package patch turns the findings of `pubdoc check` (diagnose/workflow) into edits of the
// files that hold them, and the edits into unified diffs: `pubdoc check --fix` and
// `--diff`, and fix.patch of a diagnosis in auto mode (the workflow at the failing commit).
//
// It is pure: bytes in, bytes out, no network and no file system.
//
//	Fix / ForRule  check the files (workflow.CheckAll), then for each finding with a
//	               mechanical fix try its candidate edits in order of preference, keeping
//	               the first after which checking again shows that finding gone and no
//	               other kind of finding added; repeat until nothing more can be fixed.
//	               ForRule fixes only what predicts one knowledge-base cause (a
//	               diagnosis' id), and sets package.json's repository.url for a provenance
//	               repository mismatch
//	→ candidates   per check (wfedit.go): node-version to 24 or an npm 11 pin after
//	               setup-node (npm too old), the npm@ spec pinned to ^11.5.1 (npm upgrade
//	               EBADENGINE), id-token: write / packages: write in the job's permissions
//	               (added to its block, or a new block keeping the workflow's scopes or
//	               contents: read), registry-url and a placeholder NODE_AUTH_TOKEN dropped
//	               (token masks OIDC), registry-url added to setup-node, or a setup-node
//	               step with it before the publish (a token nothing maps), --provenance
//	               dropped or turned off, or a
//	               GitHub-hosted runs-on (self-hosted runner), publishConfig.access public
//	               or --access public (scoped package), --tag <prerelease id> (prerelease)
//	→ edits        byte ranges of the source found through the parsed tree's positions:
//	               YAML nodes (go.yaml.in/yaml/v3) carry line and column, a small JSON
//	               reader keeps each value's offsets; text is inserted or replaced there
//	               and nowhere else, so comments, key order, quoting, indentation and line
//	               ends stay as written (yaml.go, json.go). A construct that cannot be
//	               edited in place (an alias, a flow collection over several lines, a
//	               block scalar) gets no edit rather than a rewrite
//	→ Diff         unified diff per file (a/PATH, b/PATH, three lines of context, Myers'
//	               line diff), which `git apply` and `patch -p1` take
//
// Command gives the fix that is not in the repository — the package's trusted publisher
// on npmjs.com — as the `npm trust github` commands for the package, repository and
// workflow file the answer knows.
package patch
