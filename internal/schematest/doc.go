// Package schematest checks Pubdoc's JSON answers against the JSON Schemas of
// docs/schema/ (diagnosis.v1.json, check.v1.json, error.v1.json) in tests: a test writes an
// answer the way the product does and hands the bytes to Validate, which fails the test
// with the schema's own account of what does not match.
//
// It is the one package that imports github.com/santhosh-tekuri/jsonschema/v6, and only
// tests import it, so the validator never reaches the binary.
package schematest
