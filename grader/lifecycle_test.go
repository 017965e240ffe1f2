package grader

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now = t0.Add(time.Hour)
)

var allStatuses = []Status{StatusQueued, StatusRunning, StatusDone, StatusError, StatusCancelled}

// inStatus is a submission in st with every life-cycle field filled in the
// way that status leaves them, so that a test sees what a transition changes.
func inStatus(st Status) *Submission {
	s := &Submission{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Exercise: "ex", Candidate: "ann", Status: st, CreatedAt: t0, Attempts: 1}
	switch st {
	case StatusRunning:
		s.StartedAt = t0.Add(time.Minute)
	case StatusDone:
		s.StartedAt, s.FinishedAt = t0.Add(time.Minute), t0.Add(2*time.Minute)
		s.Result = &Result{Score: 3, MaxScore: 5, Verdict: VerdictFailed, Log: "the log"}
	case StatusError:
		s.StartedAt, s.FinishedAt = t0.Add(time.Minute), t0.Add(2*time.Minute)
		s.Error = "docker went away"
		s.Result = InfraResult(s.Error)
	case StatusCancelled:
		s.FinishedAt = t0.Add(time.Minute)
	}
	return s
}

func clone(s *Submission) *Submission {
	c := *s
	if s.Result != nil {
		r := *s.Result
		c.Result = &r
	}
	c.History = append([]*Result(nil), s.History...)
	if s.History == nil {
		c.History = nil
	}
	return &c
}

// TestTransitionsRefused checks that every transition refuses every status
// it does not start from, with ECONFLICT and the submission left untouched.
func TestTransitionsRefused(t *testing.T) {
	ops := []struct {
		name    string
		from    []Status
		do      func(*Submission) error
		message string
	}{
		{"claim", []Status{StatusQueued}, func(s *Submission) error { return s.Claim(now) }, "not queued"},
		{"finish", []Status{StatusRunning}, func(s *Submission) error {
			return s.Finish(now, StatusDone, &Result{Verdict: VerdictPassed}, "")
		}, "not running"},
		{"cancel", []Status{StatusQueued}, func(s *Submission) error { return s.Cancel(now) }, "only a queued submission can be cancelled"},
		{"requeue", []Status{StatusRunning}, func(s *Submission) error { return s.Requeue() }, "not running"},
		{"give up", []Status{StatusRunning}, func(s *Submission) error { return s.GiveUp(now) }, "not running"},
		{"retry", []Status{StatusRunning}, func(s *Submission) error { return s.Retry(now.Add(time.Second)) }, "not running"},
		{"interrupted", []Status{StatusRunning}, func(s *Submission) error { _, err := s.Interrupted(now); return err }, "not running"},
		{"regrade", []Status{StatusDone, StatusError, StatusCancelled}, func(s *Submission) error { return s.Regrade() }, "cannot be regraded until it ends"},
	}
	for _, op := range ops {
		for _, st := range allStatuses {
			allowed := false
			for _, f := range op.from {
				allowed = allowed || f == st
			}
			t.Run(fmt.Sprintf("%s from %s", op.name, st), func(t *testing.T) {
				s := inStatus(st)
				before := clone(s)
				err := op.do(s)
				if allowed {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					if s.Status == st && op.name != "interrupted" {
						t.Fatalf("status stayed %s", st)
					}
					return
				}
				if ErrorCode(err) != ECONFLICT {
					t.Fatalf("err = %v, want ECONFLICT", err)
				}
				if msg := ErrorMessage(err); !strings.Contains(msg, op.message) || !strings.Contains(msg, string(st)) {
					t.Errorf("message %q should say %q and the status %s", msg, op.message, st)
				}
				if !reflect.DeepEqual(s, before) {
					t.Errorf("a refused %s changed the submission:\n got %+v\nwant %+v", op.name, s, before)
				}
			})
		}
	}
}

func TestQueue(t *testing.T) {
	for _, st := range allStatuses {
		s := inStatus(st)
		s.Attempts = 2
		s.History = []*Result{{Score: 1}}
		s.Owner, s.Assignment, s.Late = "tok", "asg", true
		s.Queue(now)
		want := &Submission{ID: s.ID, Exercise: "ex", Candidate: "ann", Status: StatusQueued, CreatedAt: now, Owner: "tok", Assignment: "asg", Late: true}
		if !reflect.DeepEqual(s, want) {
			t.Errorf("from %s: got %+v, want %+v", st, s, want)
		}
	}
}

func TestClaim(t *testing.T) {
	s := inStatus(StatusQueued)
	s.Attempts = 0
	for i := 1; i <= 2; i++ {
		if err := s.Claim(now); err != nil {
			t.Fatal(err)
		}
		if s.Status != StatusRunning || !s.StartedAt.Equal(now) || s.Attempts != i {
			t.Fatalf("claim %d: %+v", i, s)
		}
		if err := s.Requeue(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFinish(t *testing.T) {
	res := &Result{Score: 5, MaxScore: 5, Verdict: VerdictPassed}
	tests := []struct {
		name      string
		status    Status
		result    *Result
		reason    string
		code      string
		wantError string
	}{
		{"done", StatusDone, res, "", "", ""},
		{"done ignores a reason", StatusDone, res, "ignored", "", ""},
		{"error with a result", StatusError, InfraResult("boom"), "boom", "", "boom"},
		{"error without a result", StatusError, nil, "boom", "", "boom"},
		{"done without a result", StatusDone, nil, "", EINVALID, ""},
		{"error without a reason", StatusError, res, "", EINVALID, ""},
		{"as queued", StatusQueued, res, "x", EINVALID, ""},
		{"as running", StatusRunning, res, "x", EINVALID, ""},
		{"as cancelled", StatusCancelled, res, "x", EINVALID, ""},
		{"as nothing", "", res, "x", EINVALID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(CheckFinish(tt.status, tt.result, tt.reason)); got != tt.code {
				t.Fatalf("CheckFinish code %q, want %q", got, tt.code)
			}
			s := inStatus(StatusRunning)
			before := clone(s)
			err := s.Finish(now, tt.status, tt.result, tt.reason)
			if got := ErrorCode(err); got != tt.code {
				t.Fatalf("Finish code %q (%v), want %q", got, err, tt.code)
			}
			if tt.code != "" {
				if !reflect.DeepEqual(s, before) {
					t.Errorf("a refused finish changed the submission: %+v", s)
				}
				return
			}
			if s.Status != tt.status || !s.FinishedAt.Equal(now) || s.Result != tt.result || s.Error != tt.wantError {
				t.Errorf("got %+v", s)
			}
			if !s.StartedAt.Equal(before.StartedAt) || s.Attempts != before.Attempts {
				t.Errorf("finish changed when it started or how often: %+v", s)
			}
		})
	}
	// Bad arguments are refused before the status is looked at.
	s := inStatus(StatusDone)
	if code := ErrorCode(s.Finish(now, StatusDone, nil, "")); code != EINVALID {
		t.Errorf("bad arguments on a done submission: %q, want EINVALID", code)
	}
	// A finished submission cannot be finished again, so that a late
	// worker does not overwrite it.
	s = inStatus(StatusRunning)
	if err := s.Finish(now, StatusDone, res, ""); err != nil {
		t.Fatal(err)
	}
	if code := ErrorCode(s.Finish(now.Add(time.Second), StatusError, nil, "late")); code != ECONFLICT {
		t.Errorf("second finish: %q, want ECONFLICT", code)
	}
	if s.Status != StatusDone || s.Error != "" {
		t.Errorf("second finish changed it: %+v", s)
	}
}

func TestCancel(t *testing.T) {
	s := inStatus(StatusQueued)
	if err := s.Cancel(now); err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusCancelled || !s.FinishedAt.Equal(now) || !s.StartedAt.IsZero() || s.Result != nil {
		t.Errorf("got %+v", s)
	}
	if !s.Status.Final() {
		t.Error("cancelled should be final")
	}
}

func TestRequeueAndGiveUp(t *testing.T) {
	tests := []struct {
		attempts int
		requeued bool
	}{
		{1, true},
		{MaxAttempts - 1, true},
		{MaxAttempts, false},
		{MaxAttempts + 1, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempts), func(t *testing.T) {
			s := inStatus(StatusRunning)
			s.Attempts = tt.attempts
			requeued, err := s.Interrupted(now)
			if err != nil {
				t.Fatal(err)
			}
			if requeued != tt.requeued {
				t.Fatalf("requeued = %v, want %v", requeued, tt.requeued)
			}
			if s.Attempts != tt.attempts {
				t.Errorf("attempts changed to %d", s.Attempts)
			}
			if requeued {
				if s.Status != StatusQueued || !s.StartedAt.IsZero() || !s.FinishedAt.IsZero() || s.Result != nil || s.Error != "" {
					t.Errorf("requeued: %+v", s)
				}
				return
			}
			wantErr := fmt.Sprintf("gave up after %d attempts: the server stopped while grading it each time", tt.attempts)
			if s.Status != StatusError || !s.FinishedAt.Equal(now) || s.Error != wantErr {
				t.Errorf("given up: %+v", s)
			}
			if s.Result == nil || s.Result.Verdict != VerdictInfraError || s.Result.Reason != InfraReasonPrefix+wantErr || s.Result.Score != 0 {
				t.Errorf("given up result: %+v", s.Result)
			}
		})
	}
	// GiveUp itself does not count attempts: it ends a running one now.
	s := inStatus(StatusRunning)
	if err := s.GiveUp(now); err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusError || s.Result.Verdict != VerdictInfraError {
		t.Errorf("got %+v", s)
	}
}

func TestRetry(t *testing.T) {
	s := inStatus(StatusRunning)
	s.Attempts = 2
	at := now.Add(time.Second)
	if err := s.Retry(at); err != nil {
		t.Fatal(err)
	}
	if s.Status != StatusQueued || !s.RetryAt.Equal(at) || s.Attempts != 2 || !s.StartedAt.IsZero() {
		t.Fatalf("after Retry: %+v", s)
	}
	if err := s.Claim(now); err != nil || !s.RetryAt.IsZero() || s.Attempts != 3 {
		t.Fatalf("Claim after Retry: %+v, %v", s, err)
	}
	if err := s.Retry(time.Time{}); ErrorCode(err) != EINVALID {
		t.Fatalf("Retry with no time: %v, want EINVALID", err)
	}
}

func TestRegradeIsBatch(t *testing.T) {
	s := inStatus(StatusDone)
	s.Priority = PriorityLive
	if err := s.Regrade(); err != nil || s.Priority != PriorityBatch {
		t.Fatalf("Regrade: priority %q, %v; want batch", s.Priority, err)
	}
}

func TestRegrade(t *testing.T) {
	for _, st := range []Status{StatusDone, StatusError, StatusCancelled} {
		t.Run(string(st), func(t *testing.T) {
			s := inStatus(st)
			old := s.Result
			if err := s.Regrade(); err != nil {
				t.Fatal(err)
			}
			if s.Status != StatusQueued || s.Result != nil || s.Error != "" || !s.StartedAt.IsZero() || !s.FinishedAt.IsZero() {
				t.Errorf("got %+v", s)
			}
			if s.Attempts != 1 || !s.CreatedAt.Equal(t0) {
				t.Errorf("regrade changed attempts or creation: %+v", s)
			}
			if old == nil {
				if len(s.History) != 0 {
					t.Errorf("history without a result: %v", s.History)
				}
				return
			}
			if len(s.History) != 1 {
				t.Fatalf("history %v", s.History)
			}
			h := s.History[0]
			if h.Log != "" || h.Score != old.Score || h.Verdict != old.Verdict || h.Reason != old.Reason {
				t.Errorf("history keeps %+v of %+v", h, old)
			}
			if old.Log == "" && st == StatusDone {
				t.Error("the regrade emptied the log of the result it moved")
			}
		})
	}
}

func TestRegradeBoundsHistory(t *testing.T) {
	s := inStatus(StatusDone)
	for i := 0; i < MaxHistory+3; i++ {
		s.Status = StatusDone
		s.Result = &Result{Score: i, Log: "log"}
		if err := s.Regrade(); err != nil {
			t.Fatal(err)
		}
		want := i + 1
		if want > MaxHistory {
			want = MaxHistory
		}
		if len(s.History) != want {
			t.Fatalf("after %d regrades history has %d, want %d", i+1, len(s.History), want)
		}
		// Oldest first, and the newest is the one just moved.
		if last := s.History[len(s.History)-1]; last.Score != i {
			t.Fatalf("newest history entry %d, want %d", last.Score, i)
		}
		for j := 1; j < len(s.History); j++ {
			if s.History[j].Score != s.History[j-1].Score+1 {
				t.Fatalf("history out of order: %v", scores(s.History))
			}
		}
	}
	if first := s.History[0].Score; first != 3 {
		t.Errorf("oldest kept %d, want 3 (the first ones dropped)", first)
	}
}

func scores(rs []*Result) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Score)
	}
	return out
}

// TestLifecycle walks one submission through a full life.
func TestLifecycle(t *testing.T) {
	s := &Submission{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Status: StatusDone, Attempts: 9}
	s.Queue(t0)
	steps := []struct {
		do   func() error
		want Status
	}{
		{func() error { return s.Claim(t0) }, StatusRunning},
		{func() error { return s.Requeue() }, StatusQueued},
		{func() error { return s.Claim(t0) }, StatusRunning},
		{func() error { return s.Finish(now, StatusDone, &Result{Score: 1}, "") }, StatusDone},
		{func() error { return s.Regrade() }, StatusQueued},
		{func() error { return s.Cancel(now) }, StatusCancelled},
		{func() error { return s.Regrade() }, StatusQueued},
		{func() error { return s.Claim(now) }, StatusRunning},
		{func() error { return s.GiveUp(now) }, StatusError},
	}
	for i, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if s.Status != st.want {
			t.Fatalf("step %d: %s, want %s", i, s.Status, st.want)
		}
	}
	if s.Attempts != 3 || len(s.History) != 1 {
		t.Errorf("attempts %d history %d, want 3 and 1", s.Attempts, len(s.History))
	}
}
