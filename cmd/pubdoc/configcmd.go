package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/pubdoc/pubdoc/internal/config"
)

// configAnswer is `pubdoc config --format json`: every variable's effective value, secrets
// as <secret>.
type configAnswer struct {
	Schema    string         `json:"schema"`
	Variables []config.Entry `json:"variables"`
}

// cmdConfig prints the effective configuration (internal/config) with secrets redacted. An
// invalid value fails it as it fails every command that reads it: one line naming the
// variable, exit 2.
func cmdConfig(format string, stdout io.Writer) error {
	if err := checkFormat("config", format, "text", "json"); err != nil {
		return err
	}
	c, err := loadConfig()
	if err != nil {
		return err
	}
	entries := c.Entries()
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(configAnswer{Schema: "pubdoc.config/v1", Variables: entries}); err != nil {
			return fmt.Errorf("config: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, e := range entries {
		v := e.Value
		switch {
		case v == "":
			v = "(unset)"
		case e.Default:
			v += " (default)"
		}
		fmt.Fprintf(tw, "%s\t%s\n", e.Name, v)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}
