package learn

import (
	"fmt"
	"strings"
	"time"
)

// GroupsText is the section of `/pubdoc stats` on the unknown failures, in Slack's mrkdwn:
// a heading, then one line per group (at most limit; all when 0) with its short id, its
// count in the window, when it was last seen and its first example line. "" for no
// groups.
func GroupsText(groups []Group, limit int) string {
	if len(groups) == 0 {
		return ""
	}
	if limit <= 0 || limit > len(groups) {
		limit = len(groups)
	}
	var b strings.Builder
	b.WriteString("*Unknown failures* (largest groups; `pubdoc kb unknown` lists them, `pubdoc kb new --from ID` starts a rule)\n")
	for _, g := range groups[:limit] {
		line := ""
		switch {
		case len(g.Example) > 0:
			line = g.Example[0]
		case len(g.Lines) > 0:
			line = g.Lines[0]
		}
		n := "1 answer"
		if g.Count != 1 {
			n = fmt.Sprintf("%d answers", g.Count)
		}
		fmt.Fprintf(&b, "• `%s` %s, last %s — %s\n", g.ID[:min(8, len(g.ID))], n, g.LastSeen.UTC().Format(time.DateOnly), mrkdwn(clip(line, 120)))
	}
	if more := len(groups) - limit; more > 0 {
		fmt.Fprintf(&b, "… and %d more\n", more)
	}
	return b.String()
}

// mrkdwn escapes what Slack reads as markup: &, < and >, and backticks that would end
// the surrounding text's code.
func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", "'").Replace(s)
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
