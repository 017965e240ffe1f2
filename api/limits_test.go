package api

import (
	"testing"
	"time"
)

// TestLimiterRefills checks the per-token bucket: burst requests at once,
// then a wait of one request's refill, and one bucket per key.
func TestLimiterRefills(t *testing.T) {
	l := newLimiter(2, 3) // 2 per second, burst 3
	now := time.Unix(1_000_000, 0)
	for i := range 3 {
		if _, ok := l.take("a", now); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	wait, ok := l.take("a", now)
	if ok || wait < 400*time.Millisecond || wait > 500*time.Millisecond {
		t.Fatalf("over the burst: ok %v wait %v, want refused with about 500ms", ok, wait)
	}
	if _, ok := l.take("b", now); !ok {
		t.Fatal("another key shares the bucket")
	}
	if _, ok := l.take("a", now.Add(500*time.Millisecond)); !ok {
		t.Fatal("refused after one request's refill")
	}
	if _, ok := l.take("a", now.Add(500*time.Millisecond)); ok {
		t.Fatal("a refill of one allowed two")
	}
	if _, ok := newLimiter(-1, 1).take("a", now); !ok {
		t.Fatal("a negative rate limits")
	}
}
