package diagnose

import (
	"strings"
	"unicode/utf8"
)

// DefaultWidth is the width text is wrapped to when the output is not a terminal.
const DefaultWidth = 80

// minWidth keeps a very narrow terminal from wrapping every word onto its own line.
const minWidth = 40

// wrapLines breaks text into lines of at most width runes at spaces: the first line starts
// with first, the others with rest. Whitespace (line breaks of the YAML the text came from
// included) collapses to single spaces; a word longer than a line (a URL) stands alone on
// its line rather than being broken.
func wrapLines(text string, width int, first, rest string) []string {
	var out []string
	prefix := first
	line := prefix
	empty := true
	for _, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		if !empty && utf8.RuneCountInString(line)+1+n > width {
			out = append(out, line)
			prefix = rest
			line, empty = prefix, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	if !empty || len(out) == 0 {
		out = append(out, strings.TrimRight(line, " "))
	}
	return out
}

// clipRunes cuts s to at most n runes, ending with an ellipsis when it cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// BriefCause is the start of a rule's cause for the first screen: two or three sentences
// while they stay within about four lines of a terminal, else the first alone. The full
// text is for --explain.
func BriefCause(cause string) string {
	const (
		maxSentences = 3
		maxBytes     = 340
	)
	text := strings.TrimSpace(cause)
	// The first paragraph, before any list: what follows details it.
	for _, sep := range []string{"\n\n", "\n- ", "\n* "} {
		if i := strings.Index(text, sep); i > 0 {
			text = text[:i]
		}
	}
	text = strings.Join(strings.Fields(text), " ")
	var b strings.Builder
	for n := 0; text != "" && n < maxSentences; n++ {
		s := firstSentence(text)
		if n > 0 && b.Len()+1+len(s) > maxBytes {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
		text = strings.TrimSpace(text[len(s):])
	}
	if b.Len() > maxBytes {
		// One long sentence: up to its last clause that fits.
		if i := lastClause(b.String(), maxBytes); i > 0 {
			return strings.TrimSpace(b.String()[:i]) + " …"
		}
	}
	return b.String()
}

// lastClause is where the last clause of text that ends before limit ends: at a "; " or
// a " — " outside quotes, code and parentheses; 0 when none does.
func lastClause(text string, limit int) int {
	last := 0
	scan(text, func(i int, r rune) bool {
		if i >= limit {
			return false
		}
		if r == ';' && strings.HasPrefix(text[i+1:], " ") {
			last = i + 1
		}
		if r == '—' && strings.HasPrefix(text[i+len("—"):], " ") && i > 0 && text[i-1] == ' ' {
			last = i
		}
		return true
	})
	return last
}

// scan calls f with each rune of text that stands outside quotes, code and parentheses,
// until f returns false.
func scan(text string, f func(i int, r rune) bool) {
	quotes := strings.Count(text, `"`)%2 == 0 // unbalanced quotes are not trusted
	ticks := strings.Count(text, "`")%2 == 0
	depth := 0
	inQuote, inCode := false, false
	for i, r := range text {
		switch {
		case r == '"' && quotes:
			inQuote = !inQuote
		case r == '`' && ticks:
			inCode = !inCode
		case r == '(' || r == '[':
			depth++
		case (r == ')' || r == ']') && depth > 0:
			depth--
		case depth == 0 && !inQuote && !inCode:
			if !f(i, r) {
				return
			}
		}
	}
}

// firstSentence returns text up to and including the end of its first sentence: a '.', '!'
// or '?' outside quotes, code and parentheses, followed by a space, and not after an
// abbreviation ("e.g. the"); "npm 11.5.1" has no space after its dots.
func firstSentence(text string) string {
	end := len(text)
	scan(text, func(i int, r rune) bool {
		if (r == '.' || r == '!' || r == '?') && sentenceEnds(text[:i], text[i+1:]) {
			end = i + 1
			return false
		}
		return true
	})
	return text[:end]
}

func sentenceEnds(before, after string) bool {
	if !strings.HasPrefix(after, " ") || strings.TrimSpace(after) == "" {
		return false
	}
	word := before[strings.LastIndexAny(before, " (")+1:]
	if utf8.RuneCountInString(word) <= 1 {
		return false // an initial, or "… 2. step"
	}
	switch strings.ToLower(word) {
	case "e.g", "i.e", "etc", "vs", "cf", "incl", "approx", "no":
		return false
	}
	return true
}
