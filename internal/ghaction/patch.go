package ghaction

import (
	"fmt"
	"strings"
)

// PatchSummary is the job summary's part for a patch (`pubdoc check --diff`, a
// diagnosis' fix.patch): the diff in a collapsed block, with how to apply it; "" for no
// patch. fixed is how many findings it fixes (0 when not counted).
func PatchSummary(patch string, fixed int) string {
	patch = strings.TrimRight(patch, "\n")
	if strings.TrimSpace(patch) == "" {
		return ""
	}
	what := "the fix"
	if fixed > 0 {
		what = fmt.Sprintf("the fix of %d finding(s)", fixed)
	}
	fence := "```"
	for strings.Contains(patch, fence) {
		fence += "`"
	}
	return fmt.Sprintf("\n<details><summary>Patch: %s (apply with <code>git apply</code>, or run <code>pubdoc check --fix</code>)</summary>\n\n%sdiff\n%s\n%s\n\n</details>\n", what, fence, patch, fence)
}
