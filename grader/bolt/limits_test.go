package bolt

import (
	"context"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// A submission whose every attempt ended with the server gone is given up
// on, not claimed forever.
func TestRequeueRunningGivesUpAfterMaxAttempts(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	sub := mustCreate(t, s, "n-plus-one", "Poison")
	for i := 1; i <= grader.MaxAttempts; i++ {
		claimed, err := s.ClaimNext(ctx)
		if err != nil || claimed == nil || claimed.ID != sub.ID || claimed.Attempts != i {
			t.Fatalf("attempt %d: %+v %v", i, claimed, err)
		}
		if _, err := s.RequeueRunning(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Submission(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != grader.StatusError || !strings.Contains(got.Error, "gave up") || got.Result == nil || got.Result.Verdict != grader.VerdictInfraError {
		t.Fatalf("got %+v", got)
	}
	if next, _ := s.ClaimNext(ctx); next != nil {
		t.Fatalf("claimed again: %+v", next)
	}
}

// Regrading keeps at most MaxHistory earlier results, without their logs.
func TestRegradeHistoryIsBounded(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	sub := mustCreate(t, s, "n-plus-one", "Ada")
	for i := 0; i < grader.MaxHistory+5; i++ {
		if _, err := s.ClaimNext(ctx); err != nil {
			t.Fatal(err)
		}
		res := &grader.Result{Score: i, MaxScore: 100, Verdict: grader.VerdictFailed, Log: strings.Repeat("x", 60<<10)}
		if err := s.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RequeueSubmission(ctx, sub.ID); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Submission(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != grader.MaxHistory || got.History[len(got.History)-1].Score != grader.MaxHistory+4 {
		t.Fatalf("history %d entries", len(got.History))
	}
	for _, h := range got.History {
		if h.Log != "" {
			t.Fatal("history kept a log")
		}
	}
}
