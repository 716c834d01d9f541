//go:build pubdoc_nogen

package knowledge

// generated is left out of this build (-tags pubdoc_nogen): every load decodes the YAML.
// Use it to regenerate rules_gen.go when it no longer compiles.
var generated *compiledRules
