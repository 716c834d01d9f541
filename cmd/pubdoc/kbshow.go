package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/pubdoc/pubdoc/diagnose"
)

// kbShow prints one rule as a person reads it: title, cause, fix, the anchors it matches on
// with the code that prints each (docs/sources.md's columns), and the references.
func kbShow(args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return usagef("kb show: give one rule id, e.g. pubdoc kb show oidc-npm-too-old")
	}
	kb, err := loadKB()
	if err != nil {
		return err
	}
	r := kb.Rule(args[0])
	if r == nil {
		msg := fmt.Sprintf("kb show: no rule %q", args[0])
		if hits := kb.Search(strings.ReplaceAll(args[0], "-", " "), 3); len(hits) > 0 {
			var ids []string
			for _, h := range hits {
				ids = append(ids, h.Rule.ID)
			}
			msg += "; did you mean " + orList(ids) + "?"
		}
		return usagef("%s", msg)
	}
	width := termWidth(stdout)
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", r.ID, r.Title)
	meta := []string{"registry " + r.Registry}
	if r.Family != "" {
		meta = append(meta, "family "+r.Family)
	}
	if r.Refines != "" {
		meta = append(meta, "refines "+r.Refines)
	}
	meta = append(meta, fmt.Sprintf("base %.2f", r.Base), r.File)
	fmt.Fprintf(&b, "%s\n", strings.Join(meta, " · "))

	b.WriteString("\nCause\n")
	b.WriteString(wrapIndent(r.Cause, "  ", width))
	b.WriteString("\nFix\n")
	b.WriteString(wrapIndent(r.Fix.Summary, "  ", width))
	for i, s := range r.Fix.Steps {
		b.WriteString(wrapHang(fmt.Sprintf("%d. %s", i+1, s), "  ", "     ", width))
	}
	if snip := strings.TrimRight(r.Fix.Snippet, "\n"); snip != "" {
		for _, l := range strings.Split(snip, "\n") {
			b.WriteString(strings.TrimRight("    "+l, " ") + "\n")
		}
	}
	anchors := r.MatchAnchors()
	fmt.Fprintf(&b, "\nAnchors (%d: what the log must say, and the code that prints it)\n", len(anchors))
	for _, a := range anchors {
		kind := "literal"
		if a.Anchor.IsRegex() {
			kind = "regex"
		}
		fmt.Fprintf(&b, "  %-7s %s\n", kind, a.Anchor.Text())
		if src := a.Source; src != nil {
			by := src.Repo + " " + src.File
			if src.Versions != "" {
				by += " · " + src.Versions
			}
			if src.Note != "" {
				by += " — " + src.Note
			}
			b.WriteString(wrapIndent(by, "          ", width))
		} else {
			b.WriteString("          (no source named)\n")
		}
	}
	if len(r.Refs) > 0 {
		b.WriteString("\nRefs\n")
		for _, ref := range r.Refs {
			fmt.Fprintf(&b, "  %s\n", ref)
		}
	}
	_, err = io.WriteString(stdout, b.String())
	return err
}

// wrapIndent wraps prose to width columns under indent, keeping its paragraphs; it ends
// in a newline. Empty text gives "".
func wrapIndent(s, indent string, width int) string {
	return wrapHang(s, indent, indent, width)
}

// wrapHang is wrapIndent with another indent for the lines after a paragraph's first.
func wrapHang(s, indent, hang string, width int) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if width <= 0 {
		width = diagnose.DefaultWidth
	}
	var b strings.Builder
	for i, para := range strings.Split(s, "\n\n") {
		if i > 0 {
			b.WriteString("\n")
		}
		line, empty := indent, true
		for _, w := range strings.Fields(para) {
			if !empty && len([]rune(line))+1+len([]rune(w)) > width {
				b.WriteString(line + "\n")
				line, empty = hang, true
			}
			if !empty {
				line += " "
			}
			line += w
			empty = false
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
