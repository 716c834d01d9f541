package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("npm_supersecretvalue0000000000000000000")
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%b", "%10s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, struct{ Token Secret }{s}))
	}
	js, _ := json.Marshal(map[string]Secret{"token": s})
	out = append(out, string(js))
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s)
	out = append(out, logs.String())
	for _, o := range out {
		if strings.Contains(o, "supersecret") {
			t.Fatalf("secret printed: %q", o)
		}
	}
	if string(s) != "npm_supersecretvalue0000000000000000000" {
		t.Fatal("the value itself must stay readable for the request that needs it")
	}
}
