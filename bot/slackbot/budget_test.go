package slackbot

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// budgetBackend is a fakeBackend with the in-flight body budget of *bot.Service.
type budgetBackend struct {
	*fakeBackend
	admit    bool
	mu       sync.Mutex
	charged  []int64 // the limit asked for, per admission
	released int
}

func (b *budgetBackend) AdmitBody(r *http.Request, limit int64) (func(), bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.charged = append(b.charged, limit)
	if !b.admit {
		return func() {}, false
	}
	return func() {
		b.mu.Lock()
		b.released++
		b.mu.Unlock()
	}, true
}

// unreadBody fails the test when anything reads it.
type unreadBody struct{ t *testing.T }

func (u unreadBody) Read([]byte) (int, error) {
	u.t.Error("the body was read")
	return 0, errors.New("must not be read")
}

func TestBodiesInFlightBudget(t *testing.T) {
	h := newHarness(t)
	full := &budgetBackend{fakeBackend: h.backend}
	mux := http.NewServeMux()
	h.c.Routes(mux, full)
	for _, path := range []string{"/slack/events", "/slack/commands", "/slack/interactivity"} {
		req := httptest.NewRequest(http.MethodPost, path, unreadBody{t})
		req.ContentLength = 100
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s over the budget: %d Retry-After %q, want 503 with Retry-After", path, rec.Code, rec.Header().Get("Retry-After"))
		}
	}
	if got := h.backend.rejections(); !slices.Equal(got, []string{"slack/busy", "slack/busy", "slack/busy"}) {
		t.Errorf("rejections counted %q, want slack/busy three times", got)
	}

	// Admitted: the charge is returned once the request is answered.
	room := &budgetBackend{fakeBackend: newFakeBackend(), admit: true}
	mux = http.NewServeMux()
	h.c.Routes(mux, room)
	h.mux = mux
	if rec := h.event(`{"type":"url_verification","challenge":"c"}`, nil); rec.Code != http.StatusOK {
		t.Fatalf("admitted: %d, want 200", rec.Code)
	}
	if !slices.Equal(room.charged, []int64{MaxRequestBytes}) || room.released != 1 {
		t.Errorf("admissions %v released %d, want one of %d released once", room.charged, room.released, MaxRequestBytes)
	}
}

func TestAnnouncedBodyTooLargeIsNotRead(t *testing.T) {
	h := newHarness(t)
	req := httptest.NewRequest(http.MethodPost, "/slack/events", unreadBody{t})
	req.ContentLength = MaxRequestBytes + 1
	req.Header.Set("X-Slack-Request-Timestamp", fmt.Sprint(testNow.Unix()))
	req.Header.Set("X-Slack-Signature", sign(testSigningSecret, testNow.Unix(), strings.Repeat("x", 10)))
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("Content-Length over the cap: %d, want 413", rec.Code)
	}
	if got := h.backend.rejections(); !slices.Equal(got, []string{"slack/too_large"}) {
		t.Errorf("rejections counted %q, want slack/too_large", got)
	}
}
