package slackbot

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
)

const samplePatch = `--- a/.github/workflows/release.yml
+++ b/.github/workflows/release.yml
@@ -29,7 +29,7 @@
       - uses: actions/setup-node@v6
         with:
-          node-version: 22
+          node-version: 24
       - run: npm ci
`

// A diagnosis with a patch shows it after the fix as a "Patch" section Slack folds
// (expand is not asked for), headed by the file and the lines it changes; a fix outside
// the repository shows its commands.
func TestPatchSection(t *testing.T) {
	res := sampleDiagnosed()
	res.Diagnoses[0].Fix.Patch = samplePatch
	res.Diagnoses[0].Fix.Command = "npm trust github @acme/cli --repo acme/cli --file release.yml --allow-publish --yes\n"
	m := render(bot.Reply{Result: res}, "")
	var patch, run *slack.SectionBlock
	fixAt, patchAt := -1, -1
	for i, b := range m.Blocks {
		s, ok := b.(*slack.SectionBlock)
		if !ok || s.Text == nil {
			continue
		}
		switch {
		case strings.HasPrefix(s.Text.Text, "*Fix*"):
			fixAt = i
		case strings.HasPrefix(s.Text.Text, "*Patch*"):
			patch, patchAt = s, i
		case strings.HasPrefix(s.Text.Text, "*Run*"):
			run = s
		}
	}
	if patch == nil || run == nil {
		t.Fatalf("no Patch or Run section: %+v", m.Blocks)
	}
	if patchAt < fixAt {
		t.Errorf("the patch comes before the fix")
	}
	if patch.Expand {
		t.Errorf("the Patch section asks to be expanded")
	}
	for _, want := range []string{"`.github/workflows/release.yml`", "+1 −1", "```\n--- a/.github/workflows/release.yml", "+          node-version: 24"} {
		if !strings.Contains(patch.Text.Text, want) {
			t.Errorf("Patch section lacks %q:\n%s", want, patch.Text.Text)
		}
	}
	if !strings.Contains(run.Text.Text, "npm trust github @acme/cli") {
		t.Errorf("Run section: %s", run.Text.Text)
	}

	// Without a patch there is no Patch section.
	for _, b := range render(bot.Reply{Result: sampleDiagnosed()}, "").Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil && strings.HasPrefix(s.Text.Text, "*Patch*") {
			t.Errorf("a Patch section without a patch")
		}
	}
}
