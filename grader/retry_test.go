package grader_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// flakySandbox answers EUNAVAILABLE to its first fails runs, then grades
// like fakeSandbox; it records when each run came.
type flakySandbox struct {
	fakeSandbox
	mu    sync.Mutex
	fails int
	runs  []time.Time
}

func (f *flakySandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	f.mu.Lock()
	f.runs = append(f.runs, time.Now())
	n := len(f.runs)
	f.mu.Unlock()
	if n <= f.fails {
		return grader.Outcome{}, grader.Errorf(grader.EUNAVAILABLE, "the engine cannot take work now")
	}
	return f.fakeSandbox.Run(ctx, job)
}

func runService(t *testing.T, svc *grader.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// An unavailable sandbox is not a result: the submission goes back on the
// queue (queued, not failed), waits the backoff, and is graded when the
// sandbox answers.
func TestUnavailableSandboxIsRetried(t *testing.T) {
	sb := &flakySandbox{fails: 2}
	svc, _ := newService(t, sb)
	svc.Poll = 5 * time.Millisecond
	svc.RetryBackoff = 20 * time.Millisecond
	var mu sync.Mutex
	var events []string
	svc.Listen(func(e grader.Event) {
		mu.Lock()
		events = append(events, e.Type+":"+string(e.Submission.Status))
		mu.Unlock()
	})
	runService(t, svc)
	sub, err := svc.Submit(context.Background(), "demo", "x", []grader.File{{Path: "app/views.py", Data: []byte("fast")}})
	if err != nil {
		t.Fatal(err)
	}
	got := waitFinal(t, svc, sub.ID)
	if got.Status != grader.StatusDone || got.Attempts != 3 || got.Result.Verdict != grader.VerdictPassed {
		t.Fatalf("got %+v %+v", got, got.Result)
	}
	sb.mu.Lock()
	runs := append([]time.Time(nil), sb.runs...)
	sb.mu.Unlock()
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3", len(runs))
	}
	// The backoff is a lower bound, so this cannot pass by luck: 20 ms,
	// then 40 ms.
	for i, min := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond} {
		if gap := runs[i+1].Sub(runs[i]); gap < min {
			t.Errorf("run %d came %s after the one before, want at least %s", i+2, gap, min)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(events, " "), "running:running queued:queued running:running") {
		t.Errorf("events %v: a retry should be told as queued", events)
	}
}

// After MaxUnavailableAttempts unavailable answers the submission ends as an
// infrastructure error, no points held against the candidate.
func TestUnavailableSandboxGivesUp(t *testing.T) {
	sb := &flakySandbox{fails: 1000}
	svc, _ := newService(t, sb)
	svc.Poll = 5 * time.Millisecond
	svc.RetryBackoff = time.Millisecond
	runService(t, svc)
	sub, err := svc.Submit(context.Background(), "demo", "x", []grader.File{{Path: "app/views.py", Data: []byte("fast")}})
	if err != nil {
		t.Fatal(err)
	}
	got := waitFinal(t, svc, sub.ID)
	if got.Status != grader.StatusError || got.Attempts != grader.MaxUnavailableAttempts || got.Result == nil ||
		got.Result.Verdict != grader.VerdictInfraError || got.Result.Score != 0 || !strings.Contains(got.Error, fmt.Sprintf("gave up after %d attempts", grader.MaxUnavailableAttempts)) {
		t.Fatalf("got %+v %+v", got, got.Result)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if len(sb.runs) != grader.MaxUnavailableAttempts {
		t.Fatalf("%d runs, want %d", len(sb.runs), grader.MaxUnavailableAttempts)
	}
}

// Any other failure of the sandbox is not retried: one attempt, then an
// infrastructure error (a candidate's failing code is a result, graded once).
func TestOtherSandboxFailureIsNotRetried(t *testing.T) {
	sb := &fakeSandbox{err: grader.Errorf(grader.EINTERNAL, "broken")}
	svc, _ := newService(t, sb)
	svc.Poll = 5 * time.Millisecond
	svc.RetryBackoff = time.Millisecond
	runService(t, svc)
	sub, err := svc.Submit(context.Background(), "demo", "x", []grader.File{{Path: "app/views.py", Data: []byte("fast")}})
	if err != nil {
		t.Fatal(err)
	}
	got := waitFinal(t, svc, sub.ID)
	if got.Status != grader.StatusError || got.Attempts != 1 {
		t.Fatalf("got %+v", got)
	}
}

// Priority is the service's to set: a known one is stored, an unknown one
// is refused.
func TestSubmitPriority(t *testing.T) {
	svc, _ := newService(t, &fakeSandbox{})
	ctx := context.Background()
	files := []grader.File{{Path: "app/views.py", Data: []byte("x")}}
	sub, err := svc.Create(ctx, grader.SubmitRequest{Exercise: "demo", Candidate: "c", Files: files, Priority: grader.PriorityLive})
	if err != nil || sub.Priority != grader.PriorityLive {
		t.Fatalf("live: %+v, %v", sub, err)
	}
	_, err = svc.Create(ctx, grader.SubmitRequest{Exercise: "demo", Candidate: "c", Files: files, Priority: "urgent"})
	if grader.ErrorCode(err) != grader.EINVALID {
		t.Fatalf("unknown priority: %v, want EINVALID", err)
	}
}
