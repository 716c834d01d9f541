package diagnose

import "github.com/pubdoc/pubdoc/knowledge"

// builtinChecks are the named conditions rules may reference with {check: name}: what a
// rule's YAML cannot say on its own.
func builtinChecks() map[string]CheckFunc {
	return map[string]CheckFunc{
		// The registry was reached after provenance was signed: the id-token works, so a
		// following auth failure is not a permission problem.
		"provenance-before-failure": func(c *evalContext) knowledge.Tri {
			p := c.facts["provenance"]
			if p == nil || c.fail == nil {
				return knowledge.Unknown
			}
			return triOf(p.Line <= c.fail.N)
		},
		// The npm that did the PUT differs from the npm the runner reported: a tool bundles
		// its own npm.
		"bundled-npm": func(c *evalContext) knowledge.Tri {
			if c.facts["npm_runner_version"] != nil {
				return knowledge.Yes
			}
			return knowledge.Unknown
		},
	}
}
