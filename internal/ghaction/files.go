package ghaction

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNoFile is returned when the runner did not name the file to write (the command runs
// outside GitHub Actions, or on a runner too old to have it).
var ErrNoFile = errors.New("the runner did not name the file")

// SetOutputs appends name=value pairs to the $GITHUB_OUTPUT file, in the given order, each
// value of several lines as a heredoc with a random delimiter (so a value cannot end it
// early).
func SetOutputs(path string, pairs [][2]string) error {
	if path == "" {
		return fmt.Errorf("setting outputs: GITHUB_OUTPUT: %w", ErrNoFile)
	}
	var b strings.Builder
	for _, p := range pairs {
		name, value := p[0], p[1]
		if strings.ContainsAny(name, "=\r\n") || name == "" {
			return fmt.Errorf("setting outputs: invalid output name %q", name)
		}
		if !strings.ContainsAny(value, "\r\n") {
			fmt.Fprintf(&b, "%s=%s\n", name, value)
			continue
		}
		delim, err := delimiter(value)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", name, delim, value, delim)
	}
	return appendFile(path, b.String())
}

// delimiter is a heredoc delimiter that is not a line of value.
func delimiter(value string) (string, error) {
	buf := make([]byte, 12)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("setting outputs: %w", err)
	}
	d := "ghadelimiter_" + hex.EncodeToString(buf)
	if strings.Contains(value, d) {
		return "", errors.New("setting outputs: the value holds the delimiter")
	}
	return d, nil
}

// AppendSummary appends Markdown to the $GITHUB_STEP_SUMMARY file, which the run's page
// shows under the job.
func AppendSummary(path, markdown string) error {
	if path == "" {
		return fmt.Errorf("writing the job summary: GITHUB_STEP_SUMMARY: %w", ErrNoFile)
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	return appendFile(path, markdown)
}

func appendFile(path, s string) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing %s: %w", path, cerr)
		}
	}()
	if _, err := f.WriteString(s); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
