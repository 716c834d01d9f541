package store

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// A database password must appear in no error and no log line.
func TestDatabasePasswordNeverShown(t *testing.T) {
	t.Parallel()
	const pw = "s3cr3t-Pa55word"
	urls := []string{
		"postgres://pubdoc:" + pw + "@127.0.0.1:1/pubdoc?sslmode=disable&connect_timeout=2", // nothing listens
		"postgresql://pubdoc:" + pw + "@127.0.0.1:notaport/pubdoc",                          // unparsable
		"postgres://pubdoc@127.0.0.1:1/pubdoc?password=" + pw + "&connect_timeout=2",        // password as a parameter
		"mysql://pubdoc:" + pw + "@127.0.0.1/pubdoc",                                        // unsupported
	}
	if admin := os.Getenv(envPGURL); admin != "" { // a real server refusing the password
		if u, err := url.Parse(admin); err == nil {
			u.User = url.UserPassword(u.User.Username(), pw)
			urls = append(urls, u.String())
		}
	}
	for _, raw := range urls {
		logs := &logBuffer{}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := Open(ctx, Config{DatabaseURL: raw}, logs.logger())
		cancel()
		if err == nil {
			_ = s.Close()
			t.Fatalf("Open succeeded with a wrong URL")
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), pw) {
				t.Errorf("an error in Open's chain shows the password: %v", e)
			}
		}
		if strings.Contains(logs.String(), pw) {
			t.Errorf("the log shows the password:\n%s", logs.String())
		}
		t.Logf("Open error: %v", err)
	}
}

func TestScrub(t *testing.T) {
	raw := "postgres://u:p%40ss@h/db"
	err := scrub(errors.New("cannot connect with p@ss and p%40ss"), raw)
	if strings.Contains(err.Error(), "p@ss") || strings.Contains(err.Error(), "p%40ss") {
		t.Errorf("scrubbed error still shows the password: %v", err)
	}
	inner := context.DeadlineExceeded
	if err := scrub(errors.Join(errors.New("p@ss"), inner), raw); strings.Contains(err.Error(), "p@ss") {
		t.Errorf("scrubbed join still shows the password: %v", err)
	}
	clean := errors.New("no secret here")
	if got := scrub(clean, raw); !errors.Is(got, clean) || got.Error() != clean.Error() {
		t.Errorf("scrub changed an error without the password: %v", got)
	}
}
