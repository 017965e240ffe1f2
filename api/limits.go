package api

import (
	"errors"
	"sync"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// DefaultMaxUploadsPerToken is how many uploads one token may have in
// progress at once, below the global MaxConcurrentUploads.
const DefaultMaxUploadsPerToken = 2

// Limits are the per-token request rate and the upload slots: a global cap
// on uploads held in memory at once, and a per-token cap under it, so that
// one token's slow connections (each held up to the read timeout) cannot
// take every slot. The API and the candidates' pages share one (see
// Server.Limits): the pages are no way around the API's limits.
type Limits struct {
	rate     *limiter
	global   chan struct{}
	perToken int

	mu     sync.Mutex
	active map[string]int // uploads in progress by token id
}

// NewLimits returns limits with the given rate (a negative rate turns the
// rate limit off) and upload caps; zero values take the defaults.
func NewLimits(ratePerSecond float64, burst, maxUploads, maxUploadsPerToken int) *Limits {
	if ratePerSecond == 0 {
		ratePerSecond = DefaultRatePerSecond
	}
	if burst <= 0 {
		burst = DefaultRateBurst
	}
	if maxUploads <= 0 {
		maxUploads = DefaultMaxConcurrentUploads
	}
	if maxUploadsPerToken <= 0 {
		maxUploadsPerToken = DefaultMaxUploadsPerToken
	}
	return &Limits{
		rate:     newLimiter(ratePerSecond, burst),
		global:   make(chan struct{}, maxUploads),
		perToken: maxUploadsPerToken,
		active:   map[string]int{},
	}
}

// Allow spends one request of the token's rate. Over it, the error is
// ERATELIMIT and carries the wait (see RetryAfter).
func (l *Limits) Allow(tokenID string) error {
	if wait, ok := l.rate.take(tokenID, time.Now()); !ok {
		return &retryError{
			err:   grader.Errorf(grader.ERATELIMIT, "too many requests with this token; slow down"),
			after: wait,
		}
	}
	return nil
}

// Upload takes an upload slot for the token before its body is read, and
// returns the function that frees it. With the token's own slots or all
// slots taken, the error is EUNAVAILABLE.
func (l *Limits) Upload(tokenID string) (release func(), err error) {
	l.mu.Lock()
	if l.active[tokenID] >= l.perToken {
		l.mu.Unlock()
		return nil, grader.Errorf(grader.EUNAVAILABLE, "this token already has %d uploads in progress; wait for them to finish", l.perToken)
	}
	l.active[tokenID]++
	l.mu.Unlock()
	untoken := func() {
		l.mu.Lock()
		if l.active[tokenID]--; l.active[tokenID] <= 0 {
			delete(l.active, tokenID)
		}
		l.mu.Unlock()
	}
	select {
	case l.global <- struct{}{}:
	default:
		untoken()
		return nil, grader.Errorf(grader.EUNAVAILABLE, "too many uploads in progress; try again shortly")
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-l.global
			untoken()
		})
	}, nil
}

// RetryAfter is the Retry-After value, in whole seconds, for an error of
// Limits (or any 429 or 503): the wait it carries, or 5.
func RetryAfter(err error) string {
	var rerr *retryError
	if errors.As(err, &rerr) {
		return retryAfterSeconds(rerr.after)
	}
	return "5"
}
