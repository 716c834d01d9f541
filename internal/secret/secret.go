// Package secret holds credentials (tokens, signing secrets, private keys) in a type that
// cannot be printed: every adapter that needs one takes a Secret, and only the request that
// uses it reads its value.
package secret

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret is a credential. It prints as <secret> through fmt (every verb), slog and encoders
// that honour TextMarshaler, so it cannot reach a log, an error or a reply by accident.
type Secret string

// Redacted is what a Secret prints as; scrubbers put it where a leaked value stood.
const Redacted = "<secret>"

const redacted = Redacted

// String returns <secret>, never the value.
func (Secret) String() string { return redacted }

// GoString returns <secret> for %#v, never the value.
func (Secret) GoString() string { return redacted }

// LogValue makes slog print <secret>, never the value.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText makes JSON, YAML and similar encoders write <secret>, never the value.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Format prints <secret> for every verb: without it, a verb fmt does not route through
// String (%d, %b…) would print the value by reflection.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'q':
		_, _ = io.WriteString(f, `"`+redacted+`"`)
	case verb == 'v' && f.Flag('#'):
		_, _ = io.WriteString(f, s.GoString())
	default:
		_, _ = io.WriteString(f, redacted)
	}
}
