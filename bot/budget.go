package bot

import (
	"net/http"
	"sync"
)

// DefaultInFlightBytes is how many body bytes all webhook and Slack requests in flight
// may hold at once: a few dozen held connections at their caps, not the pod's memory.
const DefaultInFlightBytes = 64 << 20

// minBodyCharge is what a request costs the budget however short its body: its buffers.
const minBodyCharge = 4 << 10

// bodyBudget is a non-blocking semaphore weighted in bytes.
type bodyBudget struct {
	mu          sync.Mutex
	limit, used int64
}

func (b *bodyBudget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *bodyBudget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}

// AdmitBody reserves room for r's body in the budget shared by every webhook and Slack
// request in flight (DefaultInFlightBytes), before a byte of it is read. The charge is
// the body's Content-Length, or limit when the length is unknown (chunked) or over
// limit (the handler reads up to limit before refusing it). ok is false when the budget is
// spent: the caller reads nothing and answers 503 with Retry-After. release returns the
// charge; call it once, when the body is no longer held.
func (s *Service) AdmitBody(r *http.Request, limit int64) (release func(), ok bool) {
	n := limit
	if r.ContentLength >= 0 && r.ContentLength <= limit {
		n = r.ContentLength
	}
	n = max(n, minBodyCharge)
	if !s.bodies.take(n) {
		return func() {}, false
	}
	var once sync.Once
	return func() { once.Do(func() { s.bodies.give(n) }) }, true
}
