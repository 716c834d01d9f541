package slackbot

import (
	"fmt"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
)

// patch shows the fix as made for this run, after the rule's fix: the patch of the run's
// files as a "Patch" section Slack shows collapsed ("Show more": the section does not ask
// to be expanded), headed by the files it changes and how many lines; and the commands of
// a fix outside the repository.
func (bd *builder) patch(d *diagnose.Diagnosis) {
	if d == nil {
		return
	}
	if p := strings.TrimRight(d.Fix.Patch, "\n"); strings.TrimSpace(p) != "" {
		files, added, removed := patchStats(p)
		for i, f := range files {
			files[i] = "`" + escapeCode(clipBytes(f, 120)) + "`"
		}
		head := fmt.Sprintf("*Patch* · %s · +%d −%d · `git apply`", strings.Join(files, ", "), added, removed)
		bd.add(section(bd.clipMrkdwn(head+"\n```\n"+bd.clipCode(p, bd.snippetBytes)+"\n```", maxSectionText)))
	}
	if c := strings.TrimRight(d.Fix.Command, "\n"); strings.TrimSpace(c) != "" {
		bd.add(section(bd.clipMrkdwn("*Run* (outside the repository)\n```\n"+bd.clipCode(c, bd.snippetBytes)+"\n```", maxSectionText)))
	}
}

// patchStats reads a unified diff's files (b/ paths) and its added and removed lines.
func patchStats(p string) (files []string, added, removed int) {
	for l := range strings.SplitSeq(p, "\n") {
		switch {
		case strings.HasPrefix(l, "+++ "):
			files = append(files, strings.TrimPrefix(strings.TrimPrefix(l, "+++ "), "b/"))
		case strings.HasPrefix(l, "--- "):
		case strings.HasPrefix(l, "+"):
			added++
		case strings.HasPrefix(l, "-"):
			removed++
		}
	}
	return files, added, removed
}
