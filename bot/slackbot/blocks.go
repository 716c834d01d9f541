package slackbot

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/pubdoc/pubdoc/bot"
	"github.com/pubdoc/pubdoc/diagnose"
	"github.com/pubdoc/pubdoc/knowledge"
)

// Slack's limits on a message (https://docs.slack.dev/reference/block-kit/blocks). Texts
// are measured in bytes, which is never less than Slack's count of characters.
const (
	maxBlocks       = 50
	maxSectionText  = 3000
	maxHeaderText   = 150
	maxFallbackText = 3000
	// maxMessageBytes bounds the JSON of a message's blocks: Slack refuses messages much
	// past 40,000 characters, and a reader has long stopped reading.
	maxMessageBytes = 40000
)

// Block and action ids. The action ids are what the interactivity handler dispatches on.
const (
	actionFixed    = "pubdoc_fixed"
	actionWrong    = "pubdoc_wrong"
	actionAck      = "pubdoc_ack"
	actionRule     = "rule"
	actionNote     = "note"
	blockActions   = "pubdoc_actions"
	callbackModal  = "pubdoc_feedback"
	callbackDiag   = "pubdoc_diagnose"
	metadataType   = "pubdoc_post"
	metadataKeyKey = "key"
)

// Notes under a message that was shortened to fit.
const (
	noteAttached  = "Shortened to fit in Slack: the full report is attached in the thread."
	noteShortened = "Shortened to fit in Slack."
)

// message is a Reply rendered for Slack: blocks, the plain text Slack shows in
// notifications, and whether anything was left out (the full report then goes up as a
// file).
type message struct {
	Blocks    []slack.Block
	Text      string
	Shortened bool
}

// budget bounds each part of a rendered diagnosis.
type budget struct {
	evidenceLines int // evidence lines shown
	lineBytes     int // bytes of each evidence line
	summaryBytes  int
	candidates    int // names in "Also considered"
	steps         int // fix steps
	stepBytes     int
	snippetBytes  int
	checks        int // next checks
	refs          int
}

var (
	// fullBudget shows a diagnosis as it is; anything beyond it makes the message
	// "not fit" and the compact rendering is used instead.
	fullBudget = budget{evidenceLines: 40, lineBytes: 300, summaryBytes: 1500, candidates: 10, steps: 12, stepBytes: 500, snippetBytes: 2800, checks: 5, refs: 6}
	// compactBudget is the shortened message that goes with an attached report.
	compactBudget = budget{evidenceLines: 8, lineBytes: 160, summaryBytes: 600, candidates: 5, steps: 6, stepBytes: 240, snippetBytes: 1200, checks: 3, refs: 3}
)

// render turns r into Block Kit. When the full rendering breaks one of Slack's limits
// (or leaves anything out), the compact one is returned with note under it and
// Shortened set.
func render(r bot.Reply, note string) message {
	full := build(r, fullBudget, "")
	if !full.Shortened && fits(full.Blocks) {
		return full
	}
	m := build(r, compactBudget, note)
	m.Shortened = true
	// The compact budget fits any Result; only a huge Text needs more cutting.
	for len(m.Blocks) > 1 && !fits(m.Blocks) {
		m.Blocks = m.Blocks[:len(m.Blocks)-1]
	}
	return m
}

// builder collects blocks and remembers whether anything was cut.
type builder struct {
	budget
	blocks  []slack.Block
	clipped bool
}

func (bd *builder) add(b ...slack.Block) { bd.blocks = append(bd.blocks, b...) }

// clipEsc escapes text for mrkdwn and cuts the result to n bytes.
func (bd *builder) clipEsc(s string, n int) string { return bd.clipMrkdwn(escape(s), n) }

// clipCode escapes text for a code block and cuts the result to n bytes.
func (bd *builder) clipCode(s string, n int) string { return bd.clipMrkdwn(escapeCode(s), n) }

// clipMrkdwn cuts escaped mrkdwn to n bytes without leaving half an entity ("&am…").
func (bd *builder) clipMrkdwn(s string, n int) string {
	if len(s) <= n {
		return s
	}
	bd.clipped = true
	return clipMrkdwn(s, n)
}

func clipMrkdwn(s string, n int) string {
	if len(s) <= n {
		return s
	}
	c := clipBytesRaw(s, n-len("…"))
	if i := strings.LastIndexByte(c, '&'); i >= 0 && !strings.Contains(c[i:], ";") {
		c = c[:i]
	}
	return c + "…"
}

func build(r bot.Reply, b budget, note string) message {
	bd := &builder{budget: b}
	if r.Title != "" {
		bd.add(slack.NewHeaderBlock(plain(clipBytes(r.Title, maxHeaderText))))
	}
	// On a triage parent the thread's state comes first: it is what on-call scans for.
	if r.Thread != nil {
		bd.add(slack.NewContextBlock("", mrkdwn(threadLine(r.Thread))))
	}
	if r.Text != "" {
		bd.textSections(r.Text)
	}
	if res := r.Result; res != nil {
		bd.result(r, res)
	}
	if note != "" {
		bd.add(slack.NewContextBlock("", mrkdwn(note)))
	}
	if buttons := actionButtons(r); len(buttons) > 0 {
		bd.add(slack.NewActionBlock(blockActions, buttons...))
	}
	return message{Blocks: bd.blocks, Text: fallback(r), Shortened: bd.clipped}
}

// textSections puts mrkdwn text the bot wrote into sections of at most maxSectionText,
// split at line ends.
func (bd *builder) textSections(text string) {
	for text != "" {
		chunk := text
		if len(chunk) > maxSectionText {
			chunk = clipBytesRaw(chunk, maxSectionText)
			if i := strings.LastIndexByte(chunk, '\n'); i > maxSectionText/2 {
				chunk = chunk[:i+1]
			}
		}
		text = text[len(chunk):]
		if strings.TrimSpace(chunk) != "" {
			bd.add(section(chunk))
		}
	}
}

// result shows a diagnosis in the order of the terminal's first screen: the verdict and
// title with the cause in brief, the evidence, the fix with its snippet; for an answer that
// is not sure, the candidates grouped by the check that splits them instead of a fix.
func (bd *builder) result(r bot.Reply, res *diagnose.Result) {
	if ctx := runContext(r, res); ctx != "" {
		bd.add(slack.NewContextBlock("", mrkdwn(ctx)))
	}
	fail := res.FailureDiagnoses()
	var top *diagnose.Diagnosis
	if len(res.Diagnoses) > 0 {
		top = &res.Diagnoses[0]
	}
	head := verdictLine(res)
	switch {
	case len(fail) > 1 || res.Verdict == diagnose.Inconclusive && top != nil:
		// each failure has its own cause below; the candidates follow
	case top != nil && top.Cause != "":
		head += "\n" + bd.clipEsc(diagnose.BriefCause(top.Cause), bd.summaryBytes)
	case strings.TrimSpace(res.Summary) != "":
		head += "\n" + bd.clipEsc(strings.TrimSpace(res.Summary), bd.summaryBytes)
	}
	bd.add(section(head))

	named := map[string]bool{}
	switch {
	case len(fail) > 1:
		for i, d := range fail {
			named[d.ID] = true
			h := fmt.Sprintf("*%d. %s* · confidence %.2f", i+1, escape(clipBytes(d.Title, 300)), d.Confidence)
			if c := diagnose.BriefCause(d.Cause); c != "" {
				h += "\n" + bd.clipEsc(c, bd.summaryBytes)
			}
			bd.add(section(h))
			bd.evidence("*Evidence*", d.Evidence, r.JobURL)
			bd.fix(d.Fix.Fix)
			bd.patch(&d)
		}
	case top != nil && res.Verdict == diagnose.Inconclusive:
		named[top.ID] = true // the verdict line names it
		bd.evidence("*Evidence*", top.Evidence, r.JobURL)
		if len(res.Groups) > 0 {
			bd.groups(res, named)
		} else {
			bd.nextChecks(res.NextChecks)
		}
	case top != nil:
		named[top.ID] = true
		bd.evidence("*Evidence*", top.Evidence, r.JobURL)
		bd.fix(top.Fix.Fix)
		bd.patch(top)
	case res.Failure != nil:
		bd.evidence("*Where it failed*", []diagnose.Evidence{*res.Failure}, r.JobURL)
	}
	var rest []diagnose.Diagnosis
	for _, d := range res.Diagnoses {
		if !named[d.ID] {
			rest = append(rest, d)
		}
	}
	if len(rest) > 0 {
		bd.alsoConsidered(rest)
	}
	if top != nil {
		bd.refs(top)
	}
}

// groups shows the question that splits the candidates, each answer with the candidates it
// leaves (by title) and the check that separates them; named collects the ids shown.
func (bd *builder) groups(res *diagnose.Result, named map[string]bool) {
	byID := map[string]diagnose.Diagnosis{}
	for _, d := range res.Diagnoses {
		byID[d.ID] = d
	}
	for _, g := range res.Groups {
		var b strings.Builder
		b.WriteString("*First question:* " + bd.clipEsc(g.Question, bd.stepBytes))
		for _, br := range g.Branches {
			b.WriteString("\n*If " + bd.clipEsc(br.Answer, 200) + ":*")
			for i, id := range br.Candidates {
				d, ok := byID[id]
				if !ok {
					continue
				}
				if i == bd.candidates {
					bd.clipped = true
					fmt.Fprintf(&b, "\n• and %d more", len(br.Candidates)-i)
					break
				}
				named[id] = true
				fmt.Fprintf(&b, "\n• %.2f %s", d.Confidence, escape(clipBytes(d.Title, 120)))
			}
			if br.Check != "" {
				b.WriteString("\n→ " + bd.clipEsc(br.Check, bd.stepBytes))
			}
		}
		bd.add(section(bd.clipMrkdwn(b.String(), maxSectionText)))
	}
}

// nextChecks lists the questions that would separate the candidates.
func (bd *builder) nextChecks(qs []string) {
	if len(qs) == 0 {
		return
	}
	var b strings.Builder
	b.WriteString("*Next check*")
	for i, q := range qs {
		if i == bd.checks {
			bd.clipped = true
			break
		}
		b.WriteString("\n→ " + bd.clipEsc(q, bd.stepBytes))
	}
	bd.add(section(bd.clipMrkdwn(b.String(), maxSectionText)))
}

// runContext names the run and the job the diagnosis is about.
func runContext(r bot.Reply, res *diagnose.Result) string {
	var parts []string
	if u := safeURL(r.RunURL); u != "" {
		parts = append(parts, "<"+u+"|View the run>")
	}
	if res.Job != "" {
		parts = append(parts, "Job: *"+escape(clipBytes(res.Job, 200))+"*")
	}
	return strings.Join(parts, " · ")
}

// verdictLine is the first line of a diagnosis: the verdict, the top cause (or each of
// several failures) by title, its rule id and confidence.
func verdictLine(res *diagnose.Result) string {
	label := verdictLabel(res.Verdict)
	if len(res.Diagnoses) == 0 {
		return "*" + label + "*"
	}
	if fail := res.FailureDiagnoses(); len(fail) > 1 {
		titles := make([]string, len(fail))
		for i, d := range fail {
			titles[i] = "*" + escape(clipBytes(d.Title, 300)) + "*"
		}
		return fmt.Sprintf("*%s* · %d failures: %s", label, len(fail), strings.Join(titles, "; "))
	}
	d := res.Diagnoses[0]
	lead := ""
	if res.Verdict == diagnose.Inconclusive {
		lead = "most likely "
	} else if res.Verdict != diagnose.Diagnosed {
		lead = "closest: "
	}
	return fmt.Sprintf("*%s* · %s*%s* `[%s]` · confidence %.2f", label, lead, escape(clipBytes(d.Title, 300)), escape(d.ID), d.Confidence)
}

func verdictLabel(v string) string {
	switch v {
	case diagnose.Diagnosed:
		return "DIAGNOSED"
	case diagnose.Inconclusive:
		return "INCONCLUSIVE"
	default:
		return "NO KNOWN CAUSE"
	}
}

// evidence shows evidence lines in a code block, each with where it was found.
func (bd *builder) evidence(title string, ev []diagnose.Evidence, jobURL string) {
	if len(ev) == 0 {
		return
	}
	head := title
	if u := safeURL(jobURL); u != "" {
		head += " · <" + u + "|view log>"
	}
	labels := make([]string, len(ev))
	width := 0
	for i, e := range ev {
		labels[i] = evidenceLabel(e)
		width = max(width, utf8.RuneCountInString(labels[i]))
	}
	const fence = "```"
	var b strings.Builder
	b.WriteString(head + "\n" + fence + "\n")
	// Room for the closing fence and a "… N more lines" line.
	const reserve = len(fence) + 48
	for i, e := range ev {
		text := bd.clipCode(strings.ReplaceAll(strings.TrimRight(e.Text, "\r\n"), "\n", " "), bd.lineBytes)
		line := fmt.Sprintf("%*s  %s\n", width, labels[i], text)
		if i >= bd.evidenceLines || b.Len()+len(line)+reserve > maxSectionText {
			bd.clipped = true
			fmt.Fprintf(&b, "… %d more %s\n", len(ev)-i, plural(len(ev)-i, "line", "lines"))
			break
		}
		b.WriteString(line)
	}
	b.WriteString(fence)
	bd.add(section(b.String()))
}

// evidenceLabel says where a line was found: "L812" in the log, "publish.yml:8" in a
// workflow file (its directory is always .github/workflows), or the run or registry it came from.
func evidenceLabel(e diagnose.Evidence) string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d", path.Base(e.File), e.Line)
	case e.Source == "workflow" && e.Line > 0:
		return fmt.Sprintf("workflow:%d", e.Line)
	case e.Source == "run" || e.Source == "registry":
		return e.Source
	case e.Line > 0:
		return fmt.Sprintf("L%d", e.Line)
	}
	return ""
}

// fix shows the fix: its summary and steps, then its snippet in a code block.
func (bd *builder) fix(f knowledge.Fix) {
	if f.Summary == "" && len(f.Steps) == 0 && f.Snippet == "" {
		return
	}
	var b strings.Builder
	b.WriteString("*Fix*")
	if s := strings.TrimSpace(f.Summary); s != "" {
		b.WriteString(" — " + bd.clipEsc(s, bd.summaryBytes))
	}
	for i, s := range f.Steps {
		if i == bd.steps {
			bd.clipped = true
			fmt.Fprintf(&b, "\n… %d more %s in the full report", len(f.Steps)-i, plural(len(f.Steps)-i, "step", "steps"))
			break
		}
		fmt.Fprintf(&b, "\n%d. %s", i+1, bd.clipEsc(s, bd.stepBytes))
	}
	bd.add(section(bd.clipMrkdwn(b.String(), maxSectionText)))
	if sn := strings.TrimRight(f.Snippet, "\n"); strings.TrimSpace(sn) != "" {
		bd.add(section("```\n" + bd.clipCode(sn, bd.snippetBytes) + "\n```"))
	}
}

// alsoConsidered folds the other candidates into one line.
func (bd *builder) alsoConsidered(ds []diagnose.Diagnosis) {
	var parts []string
	for i, d := range ds {
		if i == bd.candidates {
			bd.clipped = true
			parts = append(parts, fmt.Sprintf("and %d more", len(ds)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%s `[%s]` %.2f", escape(clipBytes(d.Title, 120)), escape(d.ID), d.Confidence))
	}
	bd.add(slack.NewContextBlock("", mrkdwn(bd.clipMrkdwn("Also considered: "+strings.Join(parts, ", "), maxSectionText))))
}

// refs links the top cause's references and names its rule.
func (bd *builder) refs(d *diagnose.Diagnosis) {
	var parts []string
	for i, ref := range d.Refs {
		if i == bd.budget.refs {
			bd.clipped = true
			break
		}
		if u := safeURL(ref); u != "" {
			parts = append(parts, "<"+u+">")
		} else {
			parts = append(parts, escape(clipBytes(ref, 200)))
		}
	}
	parts = append(parts, "rule `"+escape(d.ID)+"`")
	bd.add(slack.NewContextBlock("", mrkdwn(bd.clipMrkdwn(strings.Join(parts, " · "), maxSectionText))))
}

// threadLine is the state of a triage thread: how many failures since when and who is on
// it, or when it was fixed.
func threadLine(t *bot.ThreadStatus) string {
	if t.ResolvedRun != 0 {
		s := fmt.Sprintf("✅ fixed in run #%d", t.ResolvedRun)
		if !t.ResolvedAt.IsZero() {
			s += " at " + slackTime(t.ResolvedAt)
		}
		return s
	}
	n := max(t.Count, 1)
	s := fmt.Sprintf("%d %s", n, plural(n, "failure", "failures"))
	if !t.Since.IsZero() {
		s += " since " + slackTime(t.Since)
	}
	if t.AckedBy != "" {
		s += " · on it: " + userMention(t.AckedBy)
	}
	return s
}

// slackTime lets each reader's Slack show t in their own time zone; the fallback is UTC.
func slackTime(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("Jan 2 15:04 UTC"))
}

// userMention is <@U123> for a user id, the name escaped otherwise.
func userMention(u string) string {
	if isSlackID(u) {
		return "<@" + u + ">"
	}
	return escape(u)
}

func isSlackID(s string) bool {
	if len(s) < 2 || len(s) > 30 {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// actionButtons are "I'm on it" (an open, unclaimed triage thread) and the feedback
// buttons (a stored diagnosis).
func actionButtons(r bot.Reply) []slack.BlockElement {
	var els []slack.BlockElement
	if t := r.Thread; t != nil && t.ThreadID != 0 && t.ResolvedRun == 0 && t.AckedBy == "" {
		els = append(els, slack.NewButtonBlockElement(actionAck, strconv.FormatInt(t.ThreadID, 10), plain("I'm on it")))
	}
	if r.DiagnosisID != 0 {
		id := strconv.FormatInt(r.DiagnosisID, 10)
		fixed := slack.NewButtonBlockElement(actionFixed, id, plain("Fixed it"))
		fixed.Style = slack.StylePrimary
		els = append(els, fixed, slack.NewButtonBlockElement(actionWrong, id, plain("Wrong cause")))
	}
	if fix := fixPRButton(r); fix != nil {
		els = append(els, fix)
	}
	return els
}

// fallback is the plain text of a message: what notifications and screen readers show.
func fallback(r bot.Reply) string {
	var parts []string
	if r.Title != "" {
		parts = append(parts, escape(r.Title))
	}
	switch {
	case r.Result != nil:
		res := r.Result
		s := verdictLabel(res.Verdict)
		if fail := res.FailureDiagnoses(); len(fail) > 1 {
			titles := make([]string, len(fail))
			for i, d := range fail {
				titles[i] = escape(d.Title)
			}
			s += fmt.Sprintf(" %d failures: %s", len(fail), strings.Join(titles, "; "))
		} else if len(res.Diagnoses) > 0 {
			d := res.Diagnoses[0]
			s += fmt.Sprintf(" %s [%s] %.2f", escape(d.Title), escape(d.ID), d.Confidence)
		} else if res.Summary != "" {
			s += " " + escape(res.Summary)
		}
		parts = append(parts, s)
	case r.Text != "":
		parts = append(parts, r.Text)
	case r.Thread != nil:
		parts = append(parts, threadLine(r.Thread))
	}
	return clipBytes(strings.Join(parts, " — "), maxFallbackText)
}

// fits reports whether blocks stay within Slack's limits.
func fits(blocks []slack.Block) bool {
	if len(blocks) > maxBlocks {
		return false
	}
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.SectionBlock:
			if b.Text != nil && len(b.Text.Text) > maxSectionText {
				return false
			}
		case *slack.HeaderBlock:
			if b.Text != nil && len(b.Text.Text) > maxHeaderText {
				return false
			}
		case *slack.ContextBlock:
			for _, el := range b.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok && len(t.Text) > maxSectionText {
					return false
				}
			}
		}
	}
	js, err := json.Marshal(blocks)
	return err == nil && len(js) < maxMessageBytes
}

func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// mrkdwnEscaper escapes the three characters Slack's mrkdwn gives meaning to; everything
// else a log says is shown as it is.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escape(s string) string { return mrkdwnEscaper.Replace(s) }

// escapeCode escapes text for a code block, which a ``` in the text would end.
func escapeCode(s string) string {
	return strings.ReplaceAll(escape(s), "```", "'''")
}

// safeURL returns u when it can stand inside <…> in mrkdwn: an http(s) URL without the
// characters that would end the link.
func safeURL(u string) string {
	u = strings.TrimSpace(u)
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return ""
	}
	if strings.ContainsAny(u, "<>| \t\n") || len(u) > 1000 {
		return ""
	}
	return u
}

// clipBytes cuts s to at most n bytes, ending with an ellipsis when it cut, without
// splitting a character.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	if n <= len(ellipsis) {
		return clipBytesRaw(s, n)
	}
	return clipBytesRaw(s, n-len(ellipsis)) + ellipsis
}

// clipBytesRaw cuts s to at most n bytes at a character boundary.
func clipBytesRaw(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
