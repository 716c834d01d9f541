package lazyre

import (
	"strings"
	"testing"
)

var (
	word   = New(`\bnpm (\w+)`)
	broken = New(`(unclosed`)
)

func TestCompilesOnFirstUseAndLists(t *testing.T) {
	if word.rx != nil {
		t.Fatal("compiled before first use")
	}
	if m := word.FindStringSubmatch("x npm error"); len(m) != 2 || m[1] != "error" {
		t.Fatalf("FindStringSubmatch = %q", m)
	}
	if word.rx == nil || word.String() != `\bnpm (\w+)` {
		t.Fatal("not compiled after use, or lost its source")
	}
	found := 0
	for _, r := range All() {
		if r == word || r == broken {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("All lists %d of the 2 expressions", found)
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(strings.ToLower(strings.TrimSpace(toString(r))), "missing closing )") {
			t.Fatalf("an invalid expression did not panic on use: %v", r)
		}
	}()
	broken.MatchString("x")
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return ""
}
