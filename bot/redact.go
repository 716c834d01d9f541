package bot

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/pubdoc/pubdoc/diagnose"
)

// redactPayload returns a job's JSON arguments with the secrets of every string in them
// redacted (diagnose.Redact): a pasted log, a file's name and URL, a branch or a job name.
// Nothing a person or a webhook sent reaches the store before it has been through here.
// Numbers keep their exact text; object keys are left alone (they are the bot's own).
func redactPayload(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("redacting a job's arguments: %w", err)
	}
	out, err := json.Marshal(redactValue(v))
	if err != nil {
		return nil, fmt.Errorf("redacting a job's arguments: %w", err)
	}
	return out, nil
}

func redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return diagnose.Redact(x)
	case []any:
		for i := range x {
			x[i] = redactValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = redactValue(x[k])
		}
	}
	return v
}

// redactedError shows its error's text with secrets redacted and unwraps to it, so that
// errors.As still finds a PermanentError or a RetryAfterError in the chain. The store
// keeps a failed job's error text (River's errors column): it must not quote a secret.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr returns err with its text redacted; nil stays nil.
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: diagnose.Redact(err.Error()), err: err}
}
