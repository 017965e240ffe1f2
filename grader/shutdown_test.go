package grader_test

import (
	"context"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// gateSandbox grades like fakeSandbox, but each run first tells started and
// then waits for release (or for its context to end, as the Docker sandbox
// does when a grading is cancelled).
type gateSandbox struct {
	fakeSandbox
	started chan string
	release chan struct{}
}

func (g *gateSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	g.started <- job.ID
	select {
	case <-g.release:
	case <-ctx.Done():
		return grader.Outcome{}, ctx.Err()
	}
	return g.fakeSandbox.Run(ctx, job)
}

func submitDemo(t *testing.T, svc *grader.Service) *grader.Submission {
	t.Helper()
	sub, err := svc.Submit(context.Background(), "demo", "x", []grader.File{{Path: "app/views.py", Data: []byte("fast")}})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// Drain lets the grading in progress finish and claims nothing more.
func TestServiceDrainFinishesRunningWork(t *testing.T) {
	sb := &gateSandbox{started: make(chan string, 4), release: make(chan struct{})}
	svc, store := newService(t, sb)
	svc.Concurrency = 1
	first := submitDemo(t, svc)
	second := submitDemo(t, svc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	if id := <-sb.started; id != first.ID {
		t.Fatalf("started %s, want the oldest %s", id, first.ID)
	}
	svc.Drain()
	close(sb.release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Drain and the grading's end")
	}
	got, _ := store.Submission(ctx, first.ID)
	if got.Status != grader.StatusDone || got.Result.Score != 10 {
		t.Fatalf("running submission after drain: %+v", got)
	}
	got, _ = store.Submission(ctx, second.ID)
	if got.Status != grader.StatusQueued || got.Attempts != 0 {
		t.Fatalf("a draining worker claimed more work: %+v", got)
	}
}

// A grading still going when the grace period ends is cancelled: it stays
// running in the store, and the next Run requeues and grades it once.
func TestServiceCancelledGradingIsRequeuedAtNextStart(t *testing.T) {
	sb := &gateSandbox{started: make(chan string, 4), release: make(chan struct{})}
	svc, store := newService(t, sb)
	sub := submitDemo(t, svc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	<-sb.started
	svc.Drain()
	cancel() // the grace period is over
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	got, _ := store.Submission(context.Background(), sub.ID)
	if got.Status != grader.StatusRunning || got.Result != nil || got.Attempts != 1 {
		t.Fatalf("cancelled grading: %+v", got)
	}

	// The next start, on the same store.
	next := grader.NewService(grader.Config{Store: store, Sandbox: &fakeSandbox{}, Catalog: svc.Catalog, Image: "img", Concurrency: 2, Poll: 50 * time.Millisecond})
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { next.Run(ctx2); close(done2) }()
	defer func() { cancel2(); <-done2 }()
	got = waitFinal(t, next, sub.ID)
	if got.Status != grader.StatusDone || got.Attempts != 2 || got.Result == nil || len(got.History) != 0 {
		t.Fatalf("requeued grading: %+v", got)
	}
}

// Public-tests runs take at most Concurrency slots; one that finds them
// all busy past PublicWait is refused as unavailable, not queued forever.
func TestPublicRunWaitsBounded(t *testing.T) {
	sb := &gateSandbox{started: make(chan string, 4), release: make(chan struct{})}
	svc, _ := newService(t, sb)
	svc = grader.NewService(grader.Config{Sandbox: sb, Catalog: svc.Catalog, Image: "img", Concurrency: 1, PublicWait: 100 * time.Millisecond})
	files := []grader.File{{Path: "app/views.py", Data: []byte("fast")}}
	done := make(chan error, 1)
	go func() {
		_, err := svc.PublicRun(context.Background(), "demo", files)
		done <- err
	}()
	<-sb.started
	if _, err := svc.PublicRun(context.Background(), "demo", files); grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Fatalf("a second run with the one slot busy: %v, want %s", err, grader.EUNAVAILABLE)
	}
	close(sb.release)
	if err := <-done; err != nil {
		t.Fatalf("the first run: %v", err)
	}
}

// A public-tests run sends the sandbox the candidate's workspace only: no
// judge, so no hidden checks packed or sent.
func TestPublicRunSendsNoHiddenChecks(t *testing.T) {
	sb := &fakeSandbox{}
	svc, _ := newService(t, sb)
	if _, err := svc.PublicRun(context.Background(), "demo", []grader.File{{Path: "app/views.py", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if len(sb.jobs) != 1 {
		t.Fatalf("%d jobs", len(sb.jobs))
	}
	if j := sb.jobs[0]; !j.PublicOnly || j.JudgeWorkspace != nil || j.Workspace == nil {
		t.Fatalf("public run's job: PublicOnly %v, JudgeWorkspace %v, Workspace %v", j.PublicOnly, j.JudgeWorkspace, j.Workspace)
	}
}
