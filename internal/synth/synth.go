// Package synth writes large, realistic GitHub Actions job logs for benchmarks and memory
// tests: a "Set up job" preamble, setup-node, a long test run, then a publish that fails the
// way the seed problem does. Nothing in it is random, so two runs produce the same bytes.
package synth

import (
	"bufio"
	"fmt"
	"io"
)

const preamble = `Current runner version: '2.329.0'
##[group]Runner Image Provisioner
Hosted Compute Agent
Version: 20251016.436
##[endgroup]
##[group]Runner Image
Image: ubuntu-24.04
Version: 20251112.124.1
##[endgroup]
##[group]GITHUB_TOKEN Permissions
Contents: read
IdToken: write
Metadata: read
##[endgroup]
Secret source: Actions
Complete job name: release
##[group]Run actions/setup-node@v4
with:
  node-version: 22
  registry-url: https://registry.npmjs.org
##[endgroup]
Found in cache @ /opt/hostedtoolcache/node/22.16.0/x64
##[group]Environment details
node: v22.16.0
npm: 10.9.2
yarn: 1.22.22
##[endgroup]
##[group]Run npm test
npm test
shell: /usr/bin/bash -e {0}
##[endgroup]
`

const failure = `##[group]Run npm publish
npm publish
shell: /usr/bin/bash -e {0}
env:
  NODE_AUTH_TOKEN: XXXXX-XXXXX-XXXXX-XXXXX
##[endgroup]
npm notice
npm notice 📦  @acme/widgets@2.4.0
npm notice Tarball Contents
npm notice 1.2kB package.json
npm notice Publishing to https://registry.npmjs.org/ with tag latest and public access
npm notice Access token expired or revoked. Please try logging in again.
npm error code E404
npm error 404 Not Found - PUT https://registry.npmjs.org/@acme%2fwidgets - Not found
npm error 404
npm error 404  '@acme/widgets@2.4.0' is not in this registry.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /home/runner/.npm/_logs/2025-11-20T10_00_00_000Z-debug-0.log
##[error]Process completed with exit code 1.
`

// WriteJobLog writes a job log of at least size bytes and returns how many it wrote.
func WriteJobLog(w io.Writer, size int64) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	write := func(s string) error {
		k, err := bw.WriteString(s)
		n += int64(k)
		return err
	}
	ts := func(i int64) string {
		return fmt.Sprintf("2025-11-20T%02d:%02d:%02d.%07dZ ", (i/3600000)%24, (i/60000)%60, (i/1000)%60, (i%1000)*10000)
	}
	for _, l := range splitLines(preamble) {
		if err := write(ts(0) + l + "\n"); err != nil {
			return n, err
		}
	}
	body := []string{
		" ✓ src/parser/%d.test.ts > parses nested groups (%d ms)",
		" ✓ src/render/%d.test.ts > renders the table with %d rows",
		"   stdout | src/cache/%d.test.ts > evicts entries: cache size %d",
		" ✓ src/http/%d.test.ts > retries on 503 then succeeds after %d attempts",
		"[%d/%d] compiling module graph: resolved imports in packages/core",
	}
	var i int64
	for n < size {
		line := fmt.Sprintf(body[i%int64(len(body))], i%997, i%89)
		if err := write(ts(i) + line + "\n"); err != nil {
			return n, err
		}
		i++
	}
	for _, l := range splitLines(failure) {
		if err := write(ts(i) + l + "\n"); err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
