package digest

import (
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// BlockKind is the kind of a message block, named after Slack's Block Kit types.
type BlockKind string

// The kinds of block Render makes.
const (
	// BlockHeader is a heading of plain text (no markup), at most 150 characters.
	BlockHeader BlockKind = "header"
	// BlockSection is Slack mrkdwn, at most 3,000 characters.
	BlockSection BlockKind = "section"
	// BlockContext is a line of small mrkdwn print.
	BlockContext BlockKind = "context"
	// BlockImage is where the chart goes: Text is its alt text. The transport shows the
	// PNG that Chart made there (or uploads it beside the message).
	BlockImage BlockKind = "image"
)

// Slack's limits on a block's text.
const (
	maxHeader  = 150
	maxSection = 3000
)

// Block is one part of the message, in a shape any chat adapter can convert.
type Block struct {
	Kind BlockKind
	// Text is plain text for a header and an image's alt text, Slack mrkdwn otherwise.
	Text string
}

// Message is the digest as one chat message.
type Message struct {
	// Text is the one-line summary a notification shows (plain text).
	Text   string
	Blocks []Block
}

// Markdown is the whole message as Slack mrkdwn, for a transport without blocks and for
// the message's text beside them: the blocks in order, a blank line between them, the
// header in bold and the image as its alt text in brackets.
func (m Message) Markdown() string {
	var b strings.Builder
	for i, bl := range m.Blocks {
		if i > 0 {
			b.WriteString("\n\n")
		}
		switch bl.Kind {
		case BlockHeader:
			b.WriteString("*" + escape(bl.Text) + "*")
		case BlockImage:
			b.WriteString("[" + escape(bl.Text) + "]")
		default:
			b.WriteString(bl.Text)
		}
	}
	b.WriteString("\n")
	return b.String()
}

// ChartAlt is the chart's alt text and title.
const ChartAlt = "Failures per day by cause"

// Render makes the digest's message. A quiet week (no failed run) is a header and one
// short section.
func Render(d Digest) Message {
	header := clip(fmt.Sprintf("Weekly publish digest · %s · %s", nameOr(d.Name), weekSpan(d)), maxHeader)
	if d.Quiet() {
		return quiet(d, header)
	}
	m := Message{
		Text: fmt.Sprintf("Publish digest %s: %s, %d of %s fixed, %d still red", weekSpan(d),
			plural(d.Failures, "failed run"), d.Fixed, plural(d.Incidents, "incident"), len(d.StillRed)),
		Blocks: []Block{{Kind: BlockHeader, Text: header}, section(summary(d))},
	}
	m.Blocks = append(m.Blocks, section(topCauses(d)), Block{Kind: BlockImage, Text: ChartAlt})
	if len(d.StillRed) > 0 {
		m.Blocks = append(m.Blocks, section(stillRed(d)))
	}
	if len(d.Wrong) > 0 {
		m.Blocks = append(m.Blocks, section(wrong(d)))
	}
	if len(d.Unknown) > 0 {
		m.Blocks = append(m.Blocks, section(unknown(d)))
	}
	m.Blocks = append(m.Blocks, Block{Kind: BlockContext,
		Text: "Times in " + d.Location.String() + " · `/pubdoc stats` for the last 30 days"})
	return m
}

func quiet(d Digest, header string) Message {
	text := fmt.Sprintf("*Quiet week*: no failed publish runs from %s to %s.", day(d.Start), day(lastDay(d)))
	var extra []string
	if n := wrongCount(d); n > 0 {
		extra = append(extra, plural(n, "answer")+" marked wrong")
	}
	if d.UnknownGroups > 0 {
		extra = append(extra, plural(d.UnknownGroups, "group")+" of unknown failures")
	}
	if len(extra) > 0 {
		text += " Elsewhere: " + strings.Join(extra, ", ") + " (`/pubdoc stats`)."
	}
	return Message{
		Text:   "Publish digest " + weekSpan(d) + ": quiet week, no failed publish runs",
		Blocks: []Block{{Kind: BlockHeader, Text: header}, section(text)},
	}
}

func summary(d Digest) string {
	s := fmt.Sprintf("*%s* in %s.", plural(d.Failures, "failed publish run"), plural(d.Repos, "repository"))
	if d.Fixed == 0 {
		s += fmt.Sprintf(" %s, none fixed yet.", plural(d.Incidents, "incident"))
	} else {
		s += fmt.Sprintf(" %d of %s fixed, median time from failure to fix *%s*.", d.Fixed,
			plural(d.Incidents, "incident"), duration(d.MedianTimeToFix))
	}
	if n := len(d.StillRed); n > 0 {
		s += fmt.Sprintf(" *%d still red.*", n)
	}
	return s
}

func topCauses(d Digest) string {
	lines := []string{"*Top causes*"}
	for i, c := range d.Causes {
		if i == TopCauses {
			rest := 0
			for _, c := range d.Causes[i:] {
				rest += c.Count
			}
			lines = append(lines, fmt.Sprintf("… and %s with %s", plural(len(d.Causes)-i, "other cause"), plural(rest, "failure")))
			break
		}
		title := ""
		if c.Title != "" {
			title = " " + escape(clip(c.Title, 80))
		}
		lines = append(lines, fmt.Sprintf("%d. `%s`%s — %d (%s)", i+1, code(c.ID), title, c.Count, percent(c.Share)))
	}
	return strings.Join(lines, "\n")
}

func stillRed(d Digest) string {
	lines := []string{"*Still red*, oldest first"}
	for i, r := range d.StillRed {
		if i == MaxStillRed {
			lines = append(lines, fmt.Sprintf("… and %d more", len(d.StillRed)-i))
			break
		}
		name := escape(r.Repo + " · " + path.Base(r.Workflow))
		if r.RunID != 0 {
			name += fmt.Sprintf(" #%d", r.RunID)
		}
		if r.RunURL != "" {
			name = "<" + linkURL(r.RunURL) + "|" + name + ">"
		}
		on := ""
		if r.Branch != "" {
			on = " on " + escape(r.Branch)
		}
		lines = append(lines, fmt.Sprintf("• %s%s — red since %s (%s), %s this week, `%s`", name, on,
			when(r.Since, d.Location), duration(r.Age), plural(r.Runs, "failed run"), code(r.RuleID)))
	}
	return strings.Join(lines, "\n")
}

func wrong(d Digest) string {
	lines := []string{fmt.Sprintf("*Rules marked wrong* (%s)", plural(wrongCount(d), "answer"))}
	for i, r := range d.Wrong {
		if i == MaxWrong {
			lines = append(lines, fmt.Sprintf("… and %s", plural(len(d.Wrong)-i, "more rule")))
			break
		}
		lines = append(lines, fmt.Sprintf("• `%s` — %d wrong, %d right", code(r.RuleID), r.Wrong, r.Right))
	}
	return strings.Join(lines, "\n")
}

func wrongCount(d Digest) int {
	n := 0
	for _, r := range d.Wrong {
		n += r.Wrong
	}
	return n
}

func unknown(d Digest) string {
	lines := []string{fmt.Sprintf("*Largest unknown failures* (%s, %s)",
		plural(d.UnknownGroups, "group"), plural(d.UnknownAnswers, "answer"))}
	for _, g := range d.Unknown {
		ex := "(no example)"
		if g.Example != "" {
			ex = "`" + code(clip(g.Example, 120)) + "`"
		}
		lines = append(lines, fmt.Sprintf("• %d× %s — `pubdoc kb new --from %s`", g.Count, ex, code(g.ID)))
	}
	return strings.Join(lines, "\n")
}

func section(text string) Block { return Block{Kind: BlockSection, Text: clip(text, maxSection)} }

func nameOr(name string) string {
	if strings.TrimSpace(name) == "" {
		return "all repositories"
	}
	return name
}

// lastDay is the week's last day (End is exclusive).
func lastDay(d Digest) time.Time { return d.End.Add(-time.Nanosecond) }

// weekSpan is "30 Nov – 6 Dec 2026", with both years when they differ.
func weekSpan(d Digest) string {
	a, b := d.Start, lastDay(d)
	if a.Year() != b.Year() {
		return a.Format("2 Jan 2006") + " – " + b.Format("2 Jan 2006")
	}
	return a.Format("2 Jan") + " – " + b.Format("2 Jan 2006")
}

func day(t time.Time) string { return t.Format("Mon 2 Jan") }

func when(t time.Time, loc *time.Location) string { return t.In(loc).Format("Mon 2 Jan 15:04") }

// duration is a time to fix or an age as a person says it: "45m", "3h 10m", "2d 5h".
func duration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, h)
	}
}

func percent(share float64) string { return fmt.Sprintf("%.0f%%", share*100) }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "y"):
		noun = strings.TrimSuffix(noun, "y") + "ies"
	case strings.HasSuffix(noun, "ch"):
		noun += "es"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}

// escape makes text safe in mrkdwn: Slack reads &, < and > as control characters.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// code is s escaped for a `code span`: a backquote would end it.
func code(s string) string { return escape(strings.ReplaceAll(s, "`", "'")) }

// linkURL is u made safe inside <u|label>.
func linkURL(u string) string {
	return strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20").Replace(u)
}

// clip shortens s to at most n characters, ending it with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
