package diagnose

import (
	"strings"
	"unicode/utf8"

	"github.com/pubdoc/pubdoc/internal/lazyre"
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
	// End is the number of the last input line this one spans when a cut line was joined
	// (unwrapColumns); 0 means N.
	End int
	// Match is what anchors are matched against: Text without a tool's or CI's level prefix
	// ("[ERROR]", "ERROR:", "🦋 error"), without indentation, runs of blanks collapsed to one
	// space. Facts read Text, where layout still means something (an env block's indent).
	Match string
}

// docStyle is what a first pass over the kept lines learned about the input as a whole.
type docStyle struct {
	quoted   bool // a Slack/Markdown quote: most lines start with ">"
	debugLog bool // an npm debug log: "12 verbose …" lines
}

var (
	reGHRunView   = lazyre.New(`^([^\t]+)\t([^\t]*)\t\x{FEFF}?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?`)
	reMarker      = lazyre.New(`^##\[(group|endgroup|error|warning|notice|debug|command|section)\]`)
	reWorkflowCmd = lazyre.New(`^::(group|endgroup|error|warning|notice|debug)(?: [^:]*)?::`)
	reANSI        = lazyre.New(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[\]_][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>]`)
	// A colour or erase code whose ESC byte a copy lost: "[31m", "[0;1m", "[0K".
	// Digits are required: "[m" and "[K" are too often text ("error[missing-license]", "[main]").
	reLostESC = lazyre.New(`\[\d{1,3}(?:;\d{1,3})*m|\[[012]K`)
	// Line prefixes of other CIs: Jenkins' timestamper ("[2024-05-01T10:00:01.123Z] ",
	// "10:00:01  "), GitLab's timestamps with stream tag ("2024-05-01T10:00:01.123456Z 01O "; the timestamp is GitHub's form),
	// what is left of GitLab's once its timestamp is gone ("01O "), Buildkite's timestamp escape once its ESC is gone ("_bk;t=1714557601000"), Travis's
	// fold and timer markers.
	reCIPrefix = lazyre.New(`^(?:\[\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\] ?|\d\d[OE]\+? |\[?\d\d:\d\d:\d\d(?:[.,]\d{1,6})?\]?(?: +|$)|_bk;t=\d{13}\x07?|travis_(?:fold|time):[a-z]+:[^\s\r]*\r?)`)
	// A tool's or CI's level word in front of the message, for matching only: Maven's
	// "[ERROR]", AppVeyor's and buildx's "ERROR:", changesets' "🦋  error".
	reLevelPrefix = lazyre.New(`^(?:\[(?:INFO|ERROR|WARNING|WARN|DEBUG|FATAL|error|info|warn|warning)\] ?|ERROR:? |🦋 +(?:error|info|warn|success) +)`)
	reGitLabSect  = lazyre.New(`^(?:\x1b\[0K)?section_(start|end):\d+:[A-Za-z0-9_.\-]+(?:\[[^\]]*\])?\r?(?:\x1b\[0K)?`)
	reBuildKit    = lazyre.New(`^#\d+ \d+\.\d+ `)
	reDebugLog    = lazyre.New(`^(\d+) (verbose|silly|timing|error|warn|notice|http|info) `)
	reSlackLink   = lazyre.New(`<(https?://[^|>\s]+)(?:\|[^>]*)?>`)
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
	s = gitLabSection(s, &ln)
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = reANSI.ReplaceAllString(s, "")
	}
	s = lastOverprint(s)
	if st.quoted {
		s = unquote(s)
	}
	if n := timestampLen(s); n > 0 {
		s = s[n:]
	}
	s = stripCIPrefixes(s)
	s = actionsMarker(s, &ln)
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

// gitLabSection strips a GitLab section_start/section_end marker, noting it as a group or
// endgroup marker on ln.
func gitLabSection(s string, ln *Line) string {
	if !strings.Contains(s, "section_") {
		return s
	}
	m := reGitLabSect.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	if m[1] == "start" {
		ln.Marker = "group"
	} else {
		ln.Marker = "endgroup"
	}
	return s[len(m[0]):]
}

// lastOverprint keeps what the terminal showed of a progress line overprinted with '\r':
// the last segment that is not blank.
func lastOverprint(s string) string {
	i := strings.LastIndexByte(s, '\r')
	if i < 0 {
		return s
	}
	if rest := s[i+1:]; strings.TrimSpace(rest) != "" {
		return rest
	}
	s = strings.TrimRight(s, "\r")
	if j := strings.LastIndexByte(s, '\r'); j >= 0 {
		s = s[j+1:]
	}
	return s
}

// actionsMarker strips a GitHub Actions marker (##[error], ::warning::), also from a
// re-indented paste of a raw log, noting it on ln.
func actionsMarker(s string, ln *Line) string {
	if t := strings.TrimLeft(s, " \t"); len(t) < len(s) && (strings.HasPrefix(t, "##[") || strings.HasPrefix(t, "::")) {
		s = t
	}
	re := reWorkflowCmd
	switch {
	case strings.HasPrefix(s, "##["):
		re = reMarker
	case !strings.HasPrefix(s, "::"):
		return s
	}
	if m := re.FindStringSubmatch(s); m != nil {
		ln.Marker = m[1]
		s = s[len(m[0]):]
	}
	return s
}

// stripCIPrefixes removes the line prefixes other CIs add and the colour codes a copy left
// without their ESC byte. It is cheap on lines that have neither.
func stripCIPrefixes(s string) string {
	if strings.IndexByte(s, '[') >= 0 && strings.ContainsAny(s, "mK") {
		s = reLostESC.ReplaceAllString(s, "")
	}
	for range 3 {
		t := strings.TrimLeft(s, " \t")
		if n := timestampLen(t); n > 0 {
			s = t[n:]
			continue
		}
		if t == "" || !mayOpenCIPrefix(t[0]) {
			break
		}
		m := reCIPrefix.FindStringIndex(t)
		if m == nil || m[1] == 0 {
			break
		}
		s = t[m[1]:]
	}
	return s
}

// mayOpenCIPrefix: the first bytes reCIPrefix can match (a digit, '[', '_', 't').
func mayOpenCIPrefix(b byte) bool {
	return b >= '0' && b <= '9' || b == '[' || b == '_' || b == 't'
}

// mayOpenLevelPrefix: the first bytes reLevelPrefix can match ('[', 'E', the emoji's lead byte).
func mayOpenLevelPrefix(b byte) bool {
	return b == '[' || b == 'E' || b == 0xF0
}

// matchText is the form anchors are matched against: no indentation, no level prefix, one
// space between words.
func matchText(s string) string {
	s = strings.TrimLeft(s, " \t")
	for range 2 {
		if s == "" || !mayOpenLevelPrefix(s[0]) {
			break
		}
		m := reLevelPrefix.FindStringIndex(s)
		if m == nil {
			break
		}
		s = strings.TrimLeft(s[m[1]:], " \t")
	}
	return squeeze(s)
}

// squeeze collapses every run of blanks to one space; it allocates only when it must.
func squeeze(s string) string {
	prev := false
	clean := true
	for i := 0; i < len(s); i++ {
		b := s[i] == ' ' || s[i] == '\t'
		if b && (prev || s[i] == '\t') {
			clean = false
			break
		}
		prev = b
	}
	if clean {
		return s
	}
	var w strings.Builder
	w.Grow(len(s))
	prev = false
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' {
			if !prev {
				w.WriteByte(' ')
			}
			prev = true
			continue
		}
		prev = false
		w.WriteByte(s[i])
	}
	return w.String()
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

// unwrapColumns rejoins lines that a terminal or a paste cut at a fixed column: when the
// longest lines of the input all have the same width (in characters, colour codes aside), no
// line is longer, and most long lines have exactly that width, every line of that width
// continues on the next one. A log that was not wrapped has lines of many lengths near its
// longest, so it is left alone; so are ruler lines ("=====…") that fill a terminal's width.
// The joined line keeps the number of its first part.
func unwrapColumns(raw []rawLine) []rawLine {
	width, atWidth := 0, 0
	widths := make([]int, len(raw))
	for i, l := range raw {
		n := visibleWidth(l.text)
		widths[i] = n
		switch {
		case n > width:
			width, atWidth = n, 1
		case n == width:
			atWidth++
		}
	}
	if width < minColumnWrap || atWidth < 2 || width > 400 {
		return raw
	}
	long := 0
	for _, n := range widths {
		if n*4 > width*3 {
			long++
		}
	}
	if atWidth*10 < long*4 {
		return raw
	}
	out := raw[:0:0]
	for i := 0; i < len(raw); i++ {
		l := raw[i]
		if widths[i] == width && !isRuler(l.text) {
			var b strings.Builder
			b.WriteString(l.text)
			for i+1 < len(raw) && raw[i+1].n == raw[i].n+1 && widths[i] == width && continues(l.text, raw[i+1].text) {
				i++
				b.WriteString(raw[i].text)
				l.end = raw[i].n
			}
			l.text = b.String()
		}
		out = append(out, l)
	}
	return out
}

// continues reports whether next can be the rest of a line cut from first: it is not blank,
// not a ruler, and does not open the way first opened ("npm error", a timestamp, "* `"):
// that is a new record, not a remainder.
func continues(first, next string) bool {
	if strings.TrimSpace(next) == "" || isRuler(next) || strings.HasPrefix(next, "  ") || next[0] == '\t' {
		return false // an indented line is a line of its own (one blank is a cut before a word)
	}
	if first[0] == '>' && next[0] == '>' {
		return false // quoted lines: a cut's remainder carries no quote mark
	}
	const k = 3
	return len(first) < k || len(next) < k || first[:k] != next[:k]
}

// isRuler reports a line drawn with one repeated character ("=====", "-----", "─────").
func isRuler(s string) bool {
	run, prev := 0, rune(0)
	for _, r := range s {
		if r == prev && r != ' ' {
			run++
			if run >= 12 {
				return true
			}
		} else {
			run, prev = 0, r
		}
	}
	return false
}

// last is the number of the last input line l spans.
func (l *Line) last() int {
	if l.End > 0 {
		return l.End
	}
	return l.N
}

// visibleWidth is the number of characters a terminal shows for a line.
func visibleWidth(s string) int {
	s = strings.TrimRight(s, "\r")
	if strings.IndexByte(s, 0x1b) >= 0 {
		s = reANSI.ReplaceAllString(s, "")
	}
	return utf8.RuneCountInString(s)
}
