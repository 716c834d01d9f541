package registry

import (
	"fmt"
	"path"
	"strings"

	"github.com/sahilm/fuzzy"
)

// RunIdentity is who a GitHub Actions run says it is to the registry: the claims of its
// OIDC token that a trusted publisher is matched against.
type RunIdentity struct {
	// Repository is owner/repo.
	Repository string
	// WorkflowFile is the file that started the run: a bare name ("publish.yml"), the
	// workflow_run.path (".github/workflows/publish.yml") or a workflow_ref
	// ("owner/repo/.github/workflows/publish.yml@refs/heads/main"). For a reusable
	// workflow it is the caller's file, which is what the registry checks.
	WorkflowFile string
	// Environment is the publishing job's environment; empty for none.
	Environment string
}

// Comparison is how a run's identity stands against a package's trusted publishers.
type Comparison struct {
	// Match is true when an entry accepts the run, compared as the registry compares.
	Match bool
	// Mismatches say, one field a sentence, how the closest entry differs from the run,
	// e.g. "workflow file differs only in letter case (the registry compares it exactly):
	// trusted: `Publish.yml`; this run: `publish.yml`". Empty when Match.
	Mismatches []string
	// Closest is the matching entry, or the one nearest to the run; nil when there are none.
	Closest *TrustedPublisher
}

// Compare sets the run against the trusted publishers. An entry matches as the registry
// matches it: a GitHub entry, the same repository and the same bare workflow file name,
// byte for byte, and the same environment when the entry names one. When none matches, the
// closest entry is the one agreeing on the most important fields (provider, then repository,
// then workflow file, then environment), with sahilm/fuzzy telling near misses from
// unrelated names and breaking ties, and Mismatches say what differs.
func Compare(tps []TrustedPublisher, run RunIdentity) Comparison {
	file := runFile(run.WorkflowFile)
	for i := range tps {
		if accepts(tps[i], run.Repository, file, run.Environment) {
			tp := tps[i]
			return Comparison{Match: true, Closest: &tp}
		}
	}
	if len(tps) == 0 {
		return Comparison{Mismatches: []string{"the package lists no trusted publisher: every OIDC exchange for it fails"}}
	}
	best, bestRank := 0, rank(tps[0], run.Repository, file, run.Environment)
	for i := 1; i < len(tps); i++ {
		if r := rank(tps[i], run.Repository, file, run.Environment); r.better(bestRank) {
			best, bestRank = i, r
		}
	}
	tp := tps[best]
	return Comparison{Mismatches: differences(tp, run.Repository, file, run.Environment), Closest: &tp}
}

func accepts(tp TrustedPublisher, repo, file, env string) bool {
	return isGitHub(tp.Type) && tp.Repository == repo && tp.WorkflowFile == file &&
		(tp.Environment == "" || tp.Environment == env)
}

func isGitHub(typ string) bool { return typ == "" || typ == "github" }

// runFile is the bare file name the registry compares: workflow_ref's ref and the
// .github/workflows/ directory are dropped.
func runFile(s string) string {
	if s = workflowPath(s); strings.Contains(s, "/") {
		s = path.Base(s)
	}
	return s
}

// workflowPath drops a workflow_ref's owner/repo/.github/workflows/ prefix and its @ref
// (which may itself hold slashes: @refs/tags/v1). Names without them are kept whole.
func workflowPath(s string) string {
	s = strings.TrimSpace(s)
	if _, after, ok := strings.Cut(s, ".github/workflows/"); ok {
		s = after
		if before, _, ok := strings.Cut(s, "@"); ok {
			s = before
		}
	}
	return s
}

// closeness is an entry's agreement with the run, compared field by field in order.
type closeness [5]int

func (a closeness) better(b closeness) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return false
}

func rank(tp TrustedPublisher, repo, file, env string) closeness {
	var r closeness
	if isGitHub(tp.Type) {
		r[0] = 1
	}
	repoLevel, repoScore := nameLevel(tp.Repository, repo, strings.ToLower)
	fileLevel, fileScore := nameLevel(tp.WorkflowFile, file, normalFile)
	r[1], r[2] = repoLevel, fileLevel
	if tp.Environment == "" || tp.Environment == env {
		r[3] = 2
	} else if strings.EqualFold(tp.Environment, env) {
		r[3] = 1
	}
	r[4] = repoScore + fileScore
	return r
}

// nameLevel grades two names: 3 identical, 2 the same once normalized, 1 a fuzzy near miss
// (one's letters appear in order in the other), 0 unrelated; and the fuzzy score.
func nameLevel(trusted, run string, normal func(string) string) (int, int) {
	score, near := fuzzyScore(trusted, run)
	switch {
	case trusted == run:
		return 3, score
	case trusted != "" && normal(trusted) == normal(run):
		return 2, score
	case near:
		return 1, score
	}
	return 0, 0
}

// fuzzyScore matches each name against the other (sahilm/fuzzy finds a pattern's letters in
// order, ignoring case) and keeps the better score.
func fuzzyScore(a, b string) (int, bool) {
	best, found := 0, false
	for _, p := range [][2]string{{a, b}, {b, a}} {
		if p[0] == "" || p[1] == "" {
			continue
		}
		if m := fuzzy.Find(p[0], []string{p[1]}); len(m) > 0 && (!found || m[0].Score > best) {
			best, found = m[0].Score, true
		}
	}
	return best, found
}

// normalFile reduces a workflow file name to what people mean by it: no directory, lower
// case, .yaml spelled .yml.
func normalFile(s string) string {
	s = strings.ToLower(path.Base(strings.TrimSpace(s)))
	if stem, ok := strings.CutSuffix(s, ".yaml"); ok {
		s = stem + ".yml"
	}
	return s
}

func differences(tp TrustedPublisher, repo, file, env string) []string {
	var out []string
	if !isGitHub(tp.Type) {
		out = append(out, "CI provider differs: the entry is for "+tp.Type+", this run is GitHub Actions: "+pair(tp.Type, "github"))
	}
	if tp.Repository != repo {
		how := "repository differs"
		if strings.EqualFold(tp.Repository, repo) {
			how = "repository differs only in letter case (the registry compares it exactly)"
		}
		out = append(out, how+": "+pair(tp.Repository, repo))
	}
	if tp.WorkflowFile != file && isGitHub(tp.Type) {
		out = append(out, "workflow file "+fileDifference(tp.WorkflowFile, file)+": "+pair(tp.WorkflowFile, file))
	}
	if tp.Environment != "" && tp.Environment != env {
		how := "environment differs"
		switch {
		case env == "":
			how = "environment differs: the entry requires one and this run's job has none"
		case strings.EqualFold(tp.Environment, env):
			how = "environment differs only in letter case (the registry compares it exactly)"
		}
		out = append(out, how+": "+pair(tp.Environment, env))
	}
	if len(out) == 0 {
		// Unreachable while accepts and differences agree; say something true regardless.
		out = append(out, "the entry does not accept this run: "+pair(tp.Repository+" "+tp.WorkflowFile, repo+" "+file))
	}
	return out
}

// fileDifference says how a trusted workflow file name differs from the run's bare one.
func fileDifference(trusted, run string) string {
	var how []string
	base := trusted
	if strings.Contains(trusted, "/") {
		how = append(how, "is a path where npm expects the bare file name")
		base = path.Base(trusted)
	}
	if base != run {
		stemT, extT := splitExt(base)
		stemR, extR := splitExt(run)
		sameStem := strings.EqualFold(stemT, stemR)
		extDiffers := !strings.EqualFold(extT, extR)
		switch {
		case trusted == "":
			how = append(how, "is not set in the entry")
		case run == "":
			how = append(how, "of this run is not known")
		case sameStem && !extDiffers && len(how) == 0:
			how = append(how, "differs only in letter case (the registry compares it exactly)")
		case sameStem && !extDiffers:
			how = append(how, "differs in letter case")
		case sameStem:
			if stemT != stemR {
				how = append(how, "differs in letter case")
			}
			how = append(how, fmt.Sprintf("ends in %s where this run's ends in %s", extT, extR))
		default:
			how = append(how, "names another workflow")
		}
	}
	return strings.Join(how, " and ")
}

func splitExt(name string) (string, string) {
	ext := path.Ext(name)
	return strings.TrimSuffix(name, ext), ext
}

// pair is the two values side by side, the way the user reads them.
func pair(trusted, run string) string {
	return "trusted: " + quoted(trusted) + "; this run: " + quoted(run)
}

func quoted(s string) string {
	if s == "" {
		return "none"
	}
	return "`" + s + "`"
}
