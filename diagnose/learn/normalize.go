package learn

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/internal/lazyre"
)

// MaxLineRunes bounds a normalized line: what is past it is cut (a minified bundle or a
// JSON body on one line says nothing more about which failure it is).
const MaxLineRunes = 300

// The placeholders Normalize puts where text varies between runs of one failure. None
// holds a digit, a slash or a quote, so normalizing a normalized line changes nothing.
const (
	phNumber  = "<n>"
	phVersion = "<ver>"
	phTime    = "<time>"
	phDate    = "<date>"
	phHash    = "<hash>"
	phBase64  = "<blob>"
	phUUID    = "<uuid>"
	phPath    = "<path>"
	phString  = "<str>"
	phPackage = "<pkg>"
	phName    = "<name>"
	phEmail   = "<email>"
)

// A mask replaces what one pattern matches. Masks run in order: a later one must not
// undo an earlier one's placeholder, and the broad ones (paths, numbers) come last.
type mask struct {
	re   *lazyre.Regexp
	repl func(m []string) string
}

// keepPrefix returns a replacement that keeps the first submatch (the boundary the
// pattern had to see before the masked text) and puts ph after it.
func keepPrefix(ph string) func([]string) string {
	return func(m []string) string { return m[1] + ph }
}

func constant(ph string) func([]string) string {
	return func([]string) string { return ph }
}

const (
	// pathChars are what a path segment may hold in a log line.
	pathChars = `[^\s'"<>(){}\[\],;|` + "`" + `]`
	months    = `(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*`
	weekdays  = `(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*`
)

var masks = []mask{
	// URLs keep their scheme and host (which registry answered matters) and lose the path
	// and query (which package, which run).
	{lazyre.New(`(?i)\b([a-z][a-z0-9+.-]*://)([^/\s'"<>(){}\[\]` + "`" + `]+)(` + pathChars + `*)`), func(m []string) string {
		host := strings.ToLower(m[2])
		if at := strings.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		if strings.Trim(m[3], "/") == "" {
			return m[1] + host + m[3]
		}
		return m[1] + host + "/" + phPath
	}},
	// scp-style git remotes: git@github.com:owner/repo.git.
	{lazyre.New(`\b([\w.-]+@[a-zA-Z][\w.-]*:)[\w.~/-]+`), keepPrefix(phPath)},
	{lazyre.New(`[\w.+-]+@[a-zA-Z][\w-]*\.[a-zA-Z][\w.-]*[a-zA-Z]`), constant(phEmail)},
	// Quoted strings (not an apostrophe inside a word: the quote must open after a space or
	// a bracket). Empty quotes stay: '' often is the message.
	{lazyre.New(`(^|[\s(\[{=:,])('[^'\n]+'|"[^"\n]+"|` + "`[^`\\n]+`" + `|‘[^’\n]+’|“[^”\n]+”)`), func(m []string) string {
		q := m[2]
		open, _ := utf8.DecodeRuneInString(q)
		closing, _ := utf8.DecodeLastRuneInString(q)
		return m[1] + string(open) + phString + string(closing)
	}},
	// Dates and times: ISO 8601, RFC 1123 (HTTP), "Dec 7, 2026", 12/07/2026, 17:23:45.
	{lazyre.New(`\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?Z|\s?[+-]\d{2}:?\d{2}|\s?UTC|\s?GMT)?`), constant(phTime)},
	{lazyre.New(weekdays + `,? \d{1,2} ` + months + ` \d{4} \d{1,2}:\d{2}(?::\d{2})?(?: GMT| UTC| [+-]\d{4})?`), constant(phTime)},
	{lazyre.New(`\b` + months + `\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}\b`), constant(phDate)},
	{lazyre.New(`\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{4}/\d{2}/\d{2}\b`), constant(phDate)},
	{lazyre.New(`\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s?[AaPp][Mm])?\b`), constant(phTime)},
	{lazyre.New(`\b` + weekdays + `\b`), constant(phDate)},
	{lazyre.New(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), constant(phUUID)},
	// Subresource integrity (sha512-<base64>, whose alphabet has a slash).
	{lazyre.New(`\bsha(?:1|224|256|384|512)-[A-Za-z0-9+/]+=*`), constant(phHash)},
	// Windows paths: C:\a\b, C:/a/b, \\server\share.
	{lazyre.New(`(^|[^\w])(?:[A-Za-z]:[\\/]|\\\\[\w.$-]+\\)` + pathChars + `*`), keepPrefix(phPath)},
	// Package names where they are names: name@version, @scope/name.
	{lazyre.New(`(?:@[\w.-]+/)?\w[\w.-]*@[~^<>=v]*\d[\w.+-]*`), constant(phPackage + "@" + phVersion)},
	{lazyre.New(`(^|[^\w@/.-])@[\w.-]+/[\w.-]+`), keepPrefix(phPackage)},
	{lazyre.New(`(?i)(\b(?:package|project|crate|module|gem|image|repository|repo|workflow|artifact)s? )[\w@/.+-]*[-_./@\d][\w@/.+-]*`), keepPrefix(phName)},
	// Unix paths: absolute, ~/ and ./ ones, then relative ones with a slash inside.
	{lazyre.New(`(^|[^\w.<>/~-])(?:~|\.{1,2})?/[\w.@+~%$-]` + pathChars + `*`), keepPrefix(phPath)},
	{lazyre.New(`(^|[^\w.<>/-])[\w.@+-]+(?:/[\w.@+-]+)+/?`), keepPrefix(phPath)},
	// Hashes (hex of 7 or more with a digit; of 12 or more without), then base64-ish tokens
	// (20 or more characters mixing upper and lower case and digits).
	{lazyre.New(`\b(?:sha\d+[-:])?[0-9a-fA-F]{7,}\b`), func(m []string) string {
		h := m[0]
		letters := strings.ContainsAny(strings.ToLower(h), "abcdef")
		digits := strings.ContainsAny(h, "0123456789")
		// All digits is a number (the rule below); all letters a word, unless long.
		if strings.HasPrefix(h, "sha") || letters && (digits || len(h) >= 12) {
			return phHash
		}
		return h
	}},
	{lazyre.New(`[A-Za-z0-9+/_=-]{20,}`), func(m []string) string {
		if base64ish(m[0]) {
			return phBase64
		}
		return m[0]
	}},
	{lazyre.New(`\bv?\d+(?:\.\d+)+(?:-[0-9A-Za-z][0-9A-Za-z.-]*)?(?:\+[0-9A-Za-z.-]+)?`), constant(phVersion)},
	{lazyre.New(`0[xX][0-9a-fA-F]+|\d+`), constant(phNumber)},
}

// base64ish tells a token made of letters and digits of both cases (a key, a digest, a
// token) from a word or an identifier with a digit in it.
func base64ish(s string) bool {
	var upper, lower, digit int
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper++
		case r >= 'a' && r <= 'z':
			lower++
		case r >= '0' && r <= '9':
			digit++
		}
	}
	return upper > 0 && lower > 0 && digit > 0 || len(s) >= 32 && (upper+lower) > 0 && digit > 0
}

var (
	// reANSI is a CSI escape sequence (colours, cursor moves).
	reANSI = lazyre.New(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
	// reRunnerPrefix is what GitHub Actions puts before each line: a timestamp, then a
	// workflow command marker.
	reRunnerPrefix = lazyre.New(`^\x{feff}?(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z ?)?`)
	reMarker       = lazyre.New(`^(?:##\[(error|warning|notice|debug|group|endgroup|command)\]|::(error|warning|notice|debug)(?: [^:]*)?::)`)
	// reNPMPrefix is npm's level prefix in its old (npm <= 10: "npm ERR!") and new form.
	reNPMPrefix = lazyre.New(`^npm (ERR!|WARN|warn|error|notice|verb|info|http|timing|sill)(?:\s|$)`)
	reSpaces    = lazyre.New(`\s+`)
)

// clean strips what a CI adds around a log line — the runner's timestamp, its workflow
// command marker, ANSI colours, control characters — and reports the marker ("error",
// "warning", …; "" for none).
func clean(line string) (text, marker string) {
	line = strings.ToValidUTF8(line, "\uFFFD")
	line = reANSI.ReplaceAllString(line, "")
	line = reRunnerPrefix.ReplaceAllString(line, "")
	if m := reMarker.FindStringSubmatch(line); m != nil {
		marker = m[1] + m[2]
		line = line[len(m[0]):]
	}
	line = strings.Map(func(r rune) rune {
		if r == '\t' {
			return ' '
		}
		if unicode.IsControl(r) || r == '\uFEFF' {
			return -1
		}
		return r
	}, line)
	return strings.TrimSpace(line), marker
}

// Normalize masks the parts of a log line that differ between two runs of one failure:
// numbers, versions, dates and times, hashes, base64-ish tokens, UUIDs, paths, URLs' paths
// and queries, package names and quoted strings. It also drops a CI's timestamp, markers
// and colours, writes npm's old level prefixes the new way ("npm ERR!" → "npm error"),
// collapses blanks and cuts the line at MaxLineRunes. Normalize of a normalized line is
// that line.
func Normalize(line string) string {
	if len(line) > maxInputBytes {
		line = line[:maxInputBytes]
	}
	// A mask can open a boundary another needs ("Mon7" is a weekday once 7 is <n>), so
	// the masks run until nothing changes: that is what makes Normalize idempotent.
	s := line
	for range maxRounds {
		next := normalizeOnce(s)
		if next == s {
			break
		}
		s = next
	}
	return s
}

// maxInputBytes is what Normalize reads of a line; maxRounds bounds its passes (two
// are enough for a log line, the rest are for what fuzzing finds).
const (
	maxInputBytes = 4 * MaxLineRunes * utf8.UTFMax
	maxRounds     = 8
)

func normalizeOnce(s string) string {
	s, _ = clean(s)
	s = reSpaces.ReplaceAllString(s, " ")
	if m := reNPMPrefix.FindStringSubmatch(s); m != nil {
		level := strings.ToLower(m[1])
		if level == "err!" {
			level = "error"
		}
		s = "npm " + level + " " + s[len(m[0]):]
	}
	for _, mk := range masks {
		s = replaceAll(mk, s)
	}
	s = reSpaces.ReplaceAllString(strings.TrimSpace(s), " ")
	return cutRunes(s, MaxLineRunes)
}

// replaceAll is regexp's ReplaceAllStringFunc with the submatches at hand.
func replaceAll(mk mask, s string) string {
	idx := mk.re.FindAllStringSubmatchIndex(s, -1)
	if idx == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range idx {
		sub := make([]string, len(loc)/2)
		for i := range sub {
			if loc[2*i] >= 0 {
				sub[i] = s[loc[2*i]:loc[2*i+1]]
			}
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(mk.repl(sub))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// cutRunes cuts s to at most n runes, at a placeholder's start rather than inside it.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for pos := range s {
		if i == n {
			s = s[:pos]
			break
		}
		i++
	}
	if open := strings.LastIndexByte(s, '<'); open >= 0 && !strings.Contains(s[open:], ">") {
		s = s[:open]
	}
	return strings.TrimSpace(s)
}
