package ghaction

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/pubdoc/pubdoc/diagnose/workflow"
)

// SARIF 2.1.0, the part code scanning reads
// (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).
const (
	sarifVersion = "2.1.0"
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

// SARIF is a SARIF log of one run of `pubdoc check`.
type SARIF struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is the tool and its results.
type SARIFRun struct {
	Tool    SARIFTool     `json:"tool"`
	Results []SARIFResult `json:"results"`
}

// SARIFTool names the tool and the rules its results cite.
type SARIFTool struct {
	Driver SARIFDriver `json:"driver"`
}

// SARIFDriver is the tool itself.
type SARIFDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []SARIFRule `json:"rules"`
}

// SARIFRule is one check, by its id.
type SARIFRule struct {
	ID               string         `json:"id"`
	ShortDescription SARIFText      `json:"shortDescription"`
	Help             *SARIFText     `json:"help,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
}

// SARIFText is a message.
type SARIFText struct {
	Text string `json:"text"`
}

// SARIFResult is one finding.
type SARIFResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   SARIFText       `json:"message"`
	Locations []SARIFLocation `json:"locations"`
}

// SARIFLocation is a file and line.
type SARIFLocation struct {
	PhysicalLocation SARIFPhysical `json:"physicalLocation"`
}

// SARIFPhysical is where in the repository.
type SARIFPhysical struct {
	ArtifactLocation SARIFArtifact `json:"artifactLocation"`
	Region           *SARIFRegion  `json:"region,omitempty"`
}

// SARIFArtifact is a file, relative to the repository root (%SRCROOT%).
type SARIFArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId"`
}

// SARIFRegion is a line.
type SARIFRegion struct {
	StartLine int `json:"startLine"`
}

// informationURI is where a reader learns what the tool is.
const informationURI = "https://github.com/pubdoc/pubdoc"

// CheckSARIF turns findings into a SARIF log; path maps a finding's file to its path from
// the repository root.
func CheckSARIF(findings []workflow.Finding, version string, path func(string) string) *SARIF {
	driver := SARIFDriver{Name: "pubdoc", Version: version, InformationURI: informationURI, Rules: []SARIFRule{}}
	index := map[string]int{}
	results := []SARIFResult{}
	for _, f := range findings {
		i, ok := index[f.ID]
		if !ok {
			i = len(driver.Rules)
			index[f.ID] = i
			r := SARIFRule{ID: f.ID, ShortDescription: SARIFText{Text: f.ID}}
			if f.Rule != "" {
				r.Properties = map[string]any{"tags": []string{"publish", f.Rule}}
			}
			driver.Rules = append(driver.Rules, r)
		}
		msg := f.Message
		if f.Fix != "" {
			msg += "\nFix: " + f.Fix
		}
		loc := SARIFPhysical{ArtifactLocation: SARIFArtifact{URI: path(f.File), URIBaseID: "%SRCROOT%"}}
		if f.Line > 0 {
			loc.Region = &SARIFRegion{StartLine: f.Line}
		}
		results = append(results, SARIFResult{
			RuleID: f.ID, RuleIndex: i, Level: sarifLevel(f.Severity),
			Message: SARIFText{Text: msg}, Locations: []SARIFLocation{{PhysicalLocation: loc}},
		})
	}
	return &SARIF{Version: sarifVersion, Schema: sarifSchema, Runs: []SARIFRun{{Tool: SARIFTool{Driver: driver}, Results: results}}}
}

func sarifLevel(severity string) string {
	if slices.Contains([]string{"error", "warning", "note"}, severity) {
		return severity
	}
	return "warning"
}

// Write writes the log as indented JSON.
func (s *SARIF) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	return nil
}

// CheckAnnotations are the findings as annotations at their lines: an error finding an
// ::error::, anything else a ::warning::.
func CheckAnnotations(findings []workflow.Finding, path func(string) string) []Annotation {
	out := make([]Annotation, 0, len(findings))
	for _, f := range findings {
		level := LevelWarning
		if f.Severity == "error" {
			level = LevelError
		}
		msg := f.Message
		if f.Fix != "" {
			msg += "\nFix: " + f.Fix
		}
		out = append(out, Annotation{Level: level, File: path(f.File), Line: f.Line, Title: "Pubdoc: " + f.ID, Message: msg})
	}
	return out
}
