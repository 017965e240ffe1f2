package api

import (
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

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

	publicRuns map[string]bool // tokens with a public run going (PublicRun)
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
	var gerr *grader.Error
	if errors.As(err, &gerr) && gerr.RetryAfter > 0 {
		return retryAfterSeconds(gerr.RetryAfter)
	}
	return "5"
}

// limiter is a token bucket (golang.org/x/time/rate) per API token, in
// memory: a restart forgives everyone, which is fine for a limit meant to
// stop runaway clients.
type limiter struct {
	mu      sync.Mutex
	limit   rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
	lastGC  time.Time
}

func newLimiter(perSecond float64, burst int) *limiter {
	return &limiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// take spends one request of key's bucket; when it is empty it returns how
// long until one is available and false.
func (l *limiter) take(key string, now time.Time) (time.Duration, bool) {
	if l == nil || l.limit <= 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > time.Minute {
		// A full bucket is the same as none: dropping them bounds memory
		// by the tokens active in the last minute or so.
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
		l.lastGC = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	// Empty: the wait until one request's worth has refilled.
	missing := 1 - b.TokensAt(now)
	return time.Duration(missing / float64(l.limit) * float64(time.Second)), false
}

// --- One public run at a time per token (api/publicrun.go).

// PublicRun claims the token's one public-tests run, returning the
// function that frees it; while one runs, another of the token's is
// ECONFLICT. The runs share Config.Concurrency slots with every other
// candidate's, live sessions' "Run tests" among them: without this one
// token could hold every slot.
func (l *Limits) PublicRun(tokenID string) (release func(), err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.publicRuns == nil {
		l.publicRuns = map[string]bool{}
	}
	if l.publicRuns[tokenID] {
		return nil, grader.Errorf(grader.ECONFLICT, "this token's public tests are running; wait for their result")
	}
	l.publicRuns[tokenID] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			delete(l.publicRuns, tokenID)
			l.mu.Unlock()
		})
	}, nil
}
