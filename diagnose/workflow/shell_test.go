package workflow

import (
	"strconv"
	"strings"
	"testing"
)

func TestCommands(t *testing.T) {
	script := []value{
		{s: "set -e", line: 1},
		{s: `NPM_CONFIG_PROVENANCE=true npm publish --tag "$TAG" # publish`, line: 2},
		{s: `npm ci && npm test || exit 1; echo 'a && b'`, line: 3},
		{s: `sudo -E env FOO=1 npm install -g npm@11 \`, line: 4},
		{s: `  --no-fund`, line: 5},
		{s: `if [ -n "$X" ]; then npm publish; fi`, line: 6},
		{s: `echo "${{ secrets.NPM_TOKEN && 'x' }}" | tee .npmrc`, line: 7},
		{s: `# npm publish`, line: 8},
	}
	var got []string
	for _, c := range commands(script) {
		s := ""
		for k, v := range c.assign {
			s += k + "=" + v + " "
		}
		got = append(got, strings.TrimSpace(strconv.Itoa(c.line)+" "+s+strings.Join(c.words, "|")))
	}
	equalLines(t, "commands", got, []string{
		"1 set|-e",
		"2 NPM_CONFIG_PROVENANCE=true npm|publish|--tag|$TAG",
		"3 npm|ci",
		"3 npm|test",
		"3 exit|1",
		"3 echo|a && b",
		"4 FOO=1 npm|install|-g|npm@11|--no-fund",
		"6 [|-n|$X|]",
		"6 npm|publish",
		"6 fi",
		"7 echo|${{ secrets.NPM_TOKEN && 'x' }}",
		"7 tee|.npmrc",
	})
}

func TestNPMUpgradeSpec(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"npm install -g npm@latest", "latest"},
		{"npm i -g npm@^11.5.1", "^11.5.1"},
		{"npm install --global npm@11", "11"},
		{"npm --location=global install npm@11.6.0", "11.6.0"},
		{"npm install --location global npm", "latest"},
		{"npm update -g npm", "latest"},
		{"npm install npm@11", ""},         // local: not the npm on PATH
		{"npm install -g pnpm@9", ""},      // not npm
		{"npm install -g npm-check@1", ""}, // not npm either
	}
	for _, tt := range tests {
		got, _ := npmUpgradeSpec(splitWords(tt.cmd))
		if got != tt.want {
			t.Errorf("%q: spec %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

func TestRecognize(t *testing.T) {
	tests := []struct{ cmd, want string }{
		{"npm publish", "npm"},
		{"npm --workspace packages/a publish", "npm"},
		{"npm -w @a/b publish --access public", "npm"},
		{"npm publish --dry-run", ""},
		{"npm run publish", ""},
		{"npm pack", ""},
		{"npm exec -- changeset publish", "changesets"},
		{"npx @changesets/cli publish", ""}, // unknown bin name: stay silent
		{"pnpm publish -r", "pnpm"},
		{"pnpm recursive publish", "pnpm"},
		{"pnpm --filter ./pkg publish", "pnpm"},
		{"pnpm run release", ""},
		{"pnpm exec semantic-release", "semantic-release"},
		{"yarn npm publish", "yarn-berry"},
		{"yarn workspace @a/b npm publish", "yarn-berry"},
		{"yarn lerna publish", "lerna"},
		{"yarn run build", ""},
		{"./node_modules/.bin/semantic-release", "semantic-release"},
		{"bunx release-it", "release-it"},
		{"nx release --skip-publish", ""},
		{"nx release version", ""},
		{"nx release", "nx"},
		{"lerna version", ""},
		{"changeset version", ""},
	}
	for _, tt := range tests {
		got, _, _ := recognize(splitWords(tt.cmd))
		if got != tt.want {
			t.Errorf("%q: tool %q, want %q", tt.cmd, got, tt.want)
		}
	}
}
