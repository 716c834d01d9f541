package workflow

import "strings"

// command is one simple shell command of a run: script: its words after quote removal, the
// VAR=value assignments in front of it, and the line it starts on.
type command struct {
	line   int
	text   string            // as written, continuation lines joined
	words  []string          // without leading assignments, sudo, env, then/do, …
	assign map[string]string // NAME=value written before the command
}

// commands splits a script into simple commands. It is a reader, not a shell: it knows
// quotes, backslash continuations, comments, ${{ }} expressions and the separators
// && || ; | &, which is what publish steps are made of.
func commands(script []value) []command {
	var out []command
	for _, l := range logicalLines(script) {
		for _, seg := range splitCommands(l.s) {
			c := parseCommand(seg)
			if len(c.words) == 0 {
				continue
			}
			c.line = l.line
			out = append(out, c)
		}
	}
	return out
}

// logicalLines joins lines ending in a backslash with the next, keeping the first line.
func logicalLines(script []value) []value {
	var out []value
	var cur strings.Builder
	start := 0
	for _, l := range script {
		s := strings.TrimRight(l.s, " \t\r")
		if cur.Len() == 0 {
			start = l.line
		}
		if n := len(s) - len(strings.TrimRight(s, `\`)); n%2 == 1 {
			cur.WriteString(strings.TrimSpace(s[:len(s)-1]))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(strings.TrimSpace(s))
		out = append(out, value{s: strings.TrimSpace(cur.String()), line: start, set: true})
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, value{s: strings.TrimSpace(cur.String()), line: start, set: true})
	}
	return out
}

// splitCommands cuts a line at unquoted separators and drops an unquoted # comment.
func splitCommands(line string) []string {
	var out []string
	var quote byte
	start := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\\':
			i++
		case c == '\'' || c == '"':
			quote = c
		case strings.HasPrefix(line[i:], "${{"):
			if end := strings.Index(line[i:], "}}"); end > 0 {
				i += end + 1
			}
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return append(out, line[start:i])
		case c == ';' || c == '|' || c == '&':
			out = append(out, line[start:i])
			if i+1 < len(line) && (line[i+1] == c) {
				i++
			}
			start = i + 1
		}
	}
	return append(out, line[start:])
}

// shellPrefixes are words that run the command after them.
var shellPrefixes = map[string]bool{
	"if": true, "elif": true, "while": true, "until": true, "then": true, "do": true, "else": true, "{": true, "(": true, "!": true,
	"time": true, "exec": true, "command": true, "sudo": true, "env": true,
}

func parseCommand(seg string) command {
	c := command{text: trimParens(strings.TrimSpace(seg)), assign: map[string]string{}}
	words := splitWords(seg)
	takesFlags := false // after sudo or env: their own flags (-E, -i) come next
	for len(words) > 0 {
		w := words[0]
		switch {
		case shellPrefixes[w]:
			takesFlags = w == "sudo" || w == "env"
			words = words[1:]
			continue
		case takesFlags && strings.HasPrefix(w, "-"):
			words = words[1:]
			continue
		case strings.HasPrefix(w, "("):
			words[0] = strings.TrimLeft(w, "(")
			if words[0] == "" {
				words = words[1:]
			}
		case isAssignment(w):
			name, val, _ := strings.Cut(w, "=")
			c.assign[strings.ToUpper(name)] = val
			words = words[1:]
		default:
			c.words = words
			for i, x := range c.words {
				if !strings.Contains(x, "(") {
					c.words[i] = strings.TrimRight(x, ")")
				}
			}
			return c
		}
		takesFlags = false
	}
	return c
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		letter := r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z'
		digit := i > 0 && r >= '0' && r <= '9'
		if !letter && !digit {
			return false
		}
	}
	return true
}

// splitWords splits one command into words, removing quotes. A ${{ … }} expression is one
// word even when it contains spaces.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	in := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case quote == '"':
			switch {
			case c == '"':
				quote = 0
			case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
				i++
				cur.WriteByte(s[i])
			default:
				cur.WriteByte(c)
			}
		case strings.HasPrefix(s[i:], "${{"):
			end := strings.Index(s[i:], "}}")
			if end < 0 {
				end = len(s) - i - 2
			}
			cur.WriteString(s[i : i+end+2])
			i += end + 1
			in = true
		case c == '\'' || c == '"':
			quote = c
			in = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		case c == ' ' || c == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// flagValue returns the value of --name in words ("--name v" or "--name=v") and whether the
// flag is there. A flag written last with no value has value "".
func flagValue(words []string, names ...string) (string, bool) {
	for i, w := range words {
		for _, n := range names {
			if w == n {
				if i+1 < len(words) && !strings.HasPrefix(words[i+1], "-") {
					return words[i+1], true
				}
				return "", true
			}
			if v, ok := strings.CutPrefix(w, n+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// boolFlag reads a boolean npm flag: "--x", "--x=true", "--x true" are true; "--no-x",
// "--x=false", "--x false" are false. ok is false when the flag is absent.
func boolFlag(words []string, name string) (val, ok bool) {
	for i, w := range words {
		switch {
		case w == "--no-"+name:
			return false, true
		case w == "--"+name:
			if i+1 < len(words) && (words[i+1] == "true" || words[i+1] == "false") {
				return words[i+1] == "true", true
			}
			return true, true
		case strings.HasPrefix(w, "--"+name+"="):
			return strings.TrimPrefix(w, "--"+name+"=") != "false", true
		}
	}
	return false, false
}

// trimParens drops the unbalanced parentheses a subshell leaves on its first and last
// command: "(cd pkg" and "npm publish)".
func trimParens(s string) string {
	for strings.HasSuffix(s, ")") && strings.Count(s, ")") > strings.Count(s, "(") {
		s = strings.TrimSpace(strings.TrimSuffix(s, ")"))
	}
	for strings.HasPrefix(s, "(") && strings.Count(s, "(") > strings.Count(s, ")") {
		s = strings.TrimSpace(strings.TrimPrefix(s, "("))
	}
	return s
}
