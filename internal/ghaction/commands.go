package ghaction

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Annotation levels: the workflow commands that show a message in the run's summary and,
// with a file and line, beside that line of the pull request's diff.
const (
	LevelError   = "error"
	LevelWarning = "warning"
	LevelNotice  = "notice"
)

// Annotation is one ::error::, ::warning:: or ::notice:: workflow command.
type Annotation struct {
	Level string
	// File is the path from the repository root; empty for an annotation of the run.
	File string
	// Line is 1-based; 0 with a File annotates the file.
	Line    int
	Title   string
	Message string
}

// String is the workflow command, escaped so that a message of several lines and a
// property holding ':' or ',' reach the runner whole.
func (a Annotation) String() string {
	level := a.Level
	if level == "" {
		level = LevelError
	}
	var props []string
	if a.File != "" {
		props = append(props, "file="+escapeProperty(a.File))
		if a.Line > 0 {
			props = append(props, "line="+strconv.Itoa(a.Line))
		}
	}
	if a.Title != "" {
		props = append(props, "title="+escapeProperty(a.Title))
	}
	cmd := "::" + level
	if len(props) > 0 {
		cmd += " " + strings.Join(props, ",")
	}
	return cmd + "::" + escapeData(a.Message)
}

// WriteAnnotations prints each annotation on its own line.
func WriteAnnotations(w io.Writer, as []Annotation) error {
	for _, a := range as {
		if _, err := fmt.Fprintln(w, a.String()); err != nil {
			return fmt.Errorf("writing an annotation: %w", err)
		}
	}
	return nil
}

// escapeData escapes a command's message as the runner unescapes it (actions/toolkit's
// command.ts).
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// escapeProperty escapes a property value, where ':' and ',' also separate.
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
