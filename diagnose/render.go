package diagnose

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// RenderJSON writes the result as the JSON contract.
func RenderJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// location says where a piece of evidence is: "line 12" in the log, "publish.yml:8" in a
// workflow file, or the run or registry it came from.
func location(source, file string, line int) string {
	switch {
	case file != "" && line > 0:
		return fmt.Sprintf("%s:%d", file, line)
	case source == "run" || source == "registry":
		return source
	case line > 0:
		return fmt.Sprintf("line %d", line)
	}
	return ""
}

func lineLabel(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf("L%d", n)
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RenderJSONList writes several results (one per job of a run) as a JSON array.
func RenderJSONList(w io.Writer, rs []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rs); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
