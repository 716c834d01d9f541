package diagnose

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Line is one normalized line of the input. N is its line number in the input as given, so
// evidence points at what the user pasted or what GitHub shows.
type Line struct {
	N    int
	Text string
	// Marker is the workflow command that prefixed the line in a raw Actions log: group,
	// endgroup, error, warning, notice, debug, command; empty otherwise.
	Marker string
	// Step is the step the line belongs to, when the input says (gh run view --log, zips).
	Step string
}

// docStyle is what a first pass over the kept lines learned about the input as a whole.
type docStyle struct {
	quoted   bool // a Slack/Markdown quote: most lines start with ">"
	debugLog bool // an npm debug log: "12 verbose …" lines
}

var (
	reGHRunView   = regexp.MustCompile(`^([^\t]+)\t([^\t]*)\t\x{FEFF}?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?`)
	reMarker      = regexp.MustCompile(`^##\[(group|endgroup|error|warning|notice|debug|command|section)\]`)
	reWorkflowCmd = regexp.MustCompile(`^::(group|endgroup|error|warning|notice|debug)(?: [^:]*)?::`)
	reANSI        = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]`)
	reGitLabSect  = regexp.MustCompile(`^(?:\x1b\[0K)?section_(start|end):\d+:[A-Za-z0-9_.\-]+(?:\[[^\]]*\])?\r?(?:\x1b\[0K)?`)
	reBuildKit    = regexp.MustCompile(`^#\d+ \d+\.\d+ `)
	reDebugLog    = regexp.MustCompile(`^(\d+) (verbose|silly|timing|error|warn|notice|http|info) `)
	reSlackLink   = regexp.MustCompile(`<(https?://[^|>\s]+)(?:\|[^>]*)?>`)
)

// detectStyle looks at the kept lines before they are normalized.
func detectStyle(lines []rawLine) docStyle {
	var st docStyle
	nonEmpty, quoted, debug := 0, 0, 0
	for _, l := range lines {
		t := strings.TrimSpace(l.text)
		if t == "" || t == "```" {
			continue
		}
		nonEmpty++
		if strings.HasPrefix(t, ">") || strings.HasPrefix(t, "&gt;") {
			quoted++
		}
		if reDebugLog.MatchString(t) {
			debug++
		}
		if nonEmpty >= 5000 {
			break
		}
	}
	st.quoted = nonEmpty > 0 && quoted*10 >= nonEmpty*6
	st.debugLog = debug >= 2 && debug*10 >= nonEmpty*3
	return st
}

// normalizeLine turns one raw line into matchable text: valid UTF-8 without BOM, ANSI
// colours, carriage-return overprints, GitHub timestamps and workflow-command markers,
// GitLab section markers, `gh run view --log` prefixes, BuildKit prefixes and the damage a
// paste into Slack does (quotes, fences, smart quotes, non-breaking spaces, entities).
func normalizeLine(raw string, st docStyle) Line {
	s := raw
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var ln Line
	if strings.IndexByte(s, '\t') > 0 {
		if m := reGHRunView.FindStringSubmatchIndex(s); m != nil {
			ln.Step = s[m[4]:m[5]]
			s = s[m[1]:]
		}
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	if strings.Contains(s, "section_") {
		if m := reGitLabSect.FindStringSubmatch(s); m != nil {
			if m[1] == "start" {
				ln.Marker = "group"
			} else {
				ln.Marker = "endgroup"
			}
			s = s[len(m[0]):]
		}
	}
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = reANSI.ReplaceAllString(s, "")
	}
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		// A progress line overprinted with '\r': the terminal showed the last segment.
		if rest := s[i+1:]; strings.TrimSpace(rest) != "" {
			s = rest
		} else {
			s = strings.TrimRight(s, "\r")
			if j := strings.LastIndexByte(s, '\r'); j >= 0 {
				s = s[j+1:]
			}
		}
	}
	if st.quoted {
		s = unquote(s)
	}
	if n := timestampLen(s); n > 0 {
		s = s[n:]
	}
	if strings.HasPrefix(s, "##[") {
		if m := reMarker.FindStringSubmatch(s); m != nil {
			ln.Marker = m[1]
			s = s[len(m[0]):]
		}
	} else if strings.HasPrefix(s, "::") {
		if m := reWorkflowCmd.FindStringSubmatch(s); m != nil {
			ln.Marker = m[1]
			s = s[len(m[0]):]
		}
	}
	if strings.HasPrefix(s, "#") {
		if m := reBuildKit.FindStringIndex(s); m != nil {
			s = s[m[1]:]
		}
	}
	s = repairPaste(s)
	if st.debugLog {
		if m := reDebugLog.FindStringSubmatchIndex(s); m != nil {
			s = "npm " + s[m[4]:m[5]] + " " + s[m[1]:]
		}
	}
	ln.Text = strings.TrimRight(s, " \t")
	return ln
}

// timestampLen is the length of a leading GitHub Actions timestamp
// ("2025-08-14T17:32:21.8216220Z ") or 0. It is on every line of a raw job log, so it is
// parsed by hand rather than by regexp.
func timestampLen(s string) int {
	s0 := s
	s = strings.TrimPrefix(s, "\uFEFF")
	bom := len(s0) - len(s)
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
	}
	i := 19
	if s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i >= len(s) || s[i] != 'Z' {
		return 0
	}
	i++
	if i < len(s) && s[i] == ' ' {
		i++
	}
	return bom + i
}

func unquote(s string) string {
	for {
		t := strings.TrimLeft(s, " ")
		switch {
		case strings.HasPrefix(t, "&gt;"):
			s = t[len("&gt;"):]
		case strings.HasPrefix(t, ">"):
			s = t[1:]
		default:
			return s
		}
		s = strings.TrimPrefix(s, " ")
	}
}

var pasteReplacer = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201A", "'", "\u2032", "'",
	"\u201C", `"`, "\u201D", `"`, "\u201E", `"`, "\u2033", `"`,
	"\u00A0", " ", "\u2007", " ", "\u202F", " ", "\u2009", " ",
	"\u200B", "", "\u200C", "", "\u200D", "", "\u2060", "", "\uFEFF", "",
	"\u2013", "-", "\u2014", "-",
	"&gt;", ">", "&lt;", "<", "&amp;", "&", "&quot;", `"`, "&#39;", "'",
)

// repairPaste undoes what chat clients do to pasted text. It is a no-op (and cheap) on the
// plain ASCII that CI runners print.
func repairPaste(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "```") {
		t := strings.TrimSpace(s)
		t = strings.TrimPrefix(t, "```")
		if !strings.ContainsAny(t, " \t") && len(t) < 20 {
			return "" // a fence line, perhaps with a language tag
		}
		s = t
	}
	if i := strings.LastIndex(s, "```"); i >= 0 && strings.TrimSpace(s[i+3:]) == "" {
		s = s[:i]
	}
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] == '&' || s[i] == '<' {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	s = pasteReplacer.Replace(s)
	if strings.Contains(s, "<http") {
		s = reSlackLink.ReplaceAllString(s, "$1")
	}
	return s
}
