// Package knowledge is Pubdoc's knowledge base: the failure catalogue as data.
//
// Every rule is one YAML file under rules/<registry>/, embedded into the binary with go:embed.
// Load decodes them strictly (an unknown field is an error), resolves the named patterns of
// patterns.yaml and the version thresholds of tables.yaml, and compiles every regular
// expression, so a broken rule fails start-up and `go test` with the file and line it came
// from. The package holds no matching logic: package diagnose evaluates the compiled
// conditions against a log's lines and facts. Search ranks rules by loose words with
// sahilm/fuzzy for people who remember a symptom but not an id.
package knowledge
