package bot

import (
	"log/slog"
	"path"

	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/diagnose/patch"
)

// attachPatches gives each diagnosis of res its fix as made for this run: a fix that is an
// edit of the run's files (the workflow at the failing commit, the reusable workflows it
// calls, the root package.json) as a unified diff (diagnose/patch), and a fix on npmjs.com
// (the package's trusted publisher) as the `npm trust` commands for this package,
// repository and workflow file. A diagnosis whose fix the files cannot show gets neither.
func attachPatches(res *diagnose.Result, run *Run, logger *slog.Logger) {
	if res == nil || run == nil {
		return
	}
	in := runPatchInput(run)
	known := patch.Known{Package: res.Facts["package_name"], Repo: in.Repo, Workflow: path.Base(run.WorkflowPath), Environment: res.Facts["environment"]}
	diffs := map[string]string{} // by rule: candidates of one answer share no rule, failures may
	for i := range res.Diagnoses {
		d := &res.Diagnoses[i]
		d.Fix.Command = patch.Command(d.ID, known)
		if len(in.Workflows) == 0 {
			continue
		}
		diff, done := diffs[d.ID]
		if !done {
			fixed, err := patch.ForRule(in, d.ID)
			if err != nil {
				logger.Debug("no patch: the run's files do not check", "rule", d.ID, "err", err)
			} else {
				diff = fixed.Diff()
			}
			diffs[d.ID] = diff
		}
		d.Fix.Patch = diff
	}
}
