package diagnose

import (
	"regexp"
	"sync"
)

// lazyRE is a regular expression compiled on first use. The package holds about a hundred
// (facts, normalization, redaction); compiling them all at start-up was a millisecond of
// every command, most of them never used by a given log. TestLazyRegexesCompile compiles
// every one, so a bad expression still fails the tests, not a user's run.
type lazyRE struct {
	once sync.Once
	expr string
	rx   *regexp.Regexp
}

// allLazy lists every lazyRE made at package initialization, for the test.
var allLazy []*lazyRE

func lazyRegexp(expr string) *lazyRE {
	r := &lazyRE{expr: expr}
	allLazy = append(allLazy, r)
	return r
}

func (r *lazyRE) get() *regexp.Regexp {
	r.once.Do(func() { r.rx = regexp.MustCompile(r.expr) })
	return r.rx
}

// The methods the package uses, forwarded.

func (r *lazyRE) MatchString(s string) bool            { return r.get().MatchString(s) }
func (r *lazyRE) FindString(s string) string           { return r.get().FindString(s) }
func (r *lazyRE) FindStringIndex(s string) []int       { return r.get().FindStringIndex(s) }
func (r *lazyRE) FindStringSubmatch(s string) []string { return r.get().FindStringSubmatch(s) }
func (r *lazyRE) FindStringSubmatchIndex(s string) []int {
	return r.get().FindStringSubmatchIndex(s)
}
func (r *lazyRE) FindAllString(s string, n int) []string { return r.get().FindAllString(s, n) }
func (r *lazyRE) FindAllStringSubmatch(s string, n int) [][]string {
	return r.get().FindAllStringSubmatch(s, n)
}
func (r *lazyRE) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return r.get().FindAllStringSubmatchIndex(s, n)
}
func (r *lazyRE) FindAllStringIndex(s string, n int) [][]int { return r.get().FindAllStringIndex(s, n) }
func (r *lazyRE) ReplaceAllString(s, repl string) string     { return r.get().ReplaceAllString(s, repl) }
func (r *lazyRE) ReplaceAllStringFunc(s string, f func(string) string) string {
	return r.get().ReplaceAllStringFunc(s, f)
}
func (r *lazyRE) SubexpIndex(name string) int { return r.get().SubexpIndex(name) }
func (r *lazyRE) String() string              { return r.expr }
