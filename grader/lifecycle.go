package grader

import (
	"fmt"
	"time"
)

// The life of a submission, as methods that change a Submission in memory.
// They hold every rule about which status may follow which, what each
// transition records, and the wording of a refusal; a Store loads the
// submission, calls one of them and persists what it decided (or nothing,
// when it refuses) in one transaction. None of them reads a clock or does
// I/O: the caller passes now, in UTC.
//
//	new       -> queued               Queue
//	queued    -> running              Claim
//	running   -> done | error         Finish
//	queued    -> cancelled            Cancel
//	running   -> queued               Requeue (the server stopped mid-grade)
//	running   -> error                GiveUp (after MaxAttempts such stops)
//	running   -> queued               Retry (the sandbox was unavailable; not before a time)
//	done | error | cancelled -> queued  Regrade (result kept in History)
//
// A refused transition returns an *Error (ECONFLICT for a status that
// forbids it, EINVALID for a bad argument) and leaves the submission as it
// was.

// InfraReasonPrefix starts the Reason of a result that says djgrade itself
// failed to grade a submission.
const InfraReasonPrefix = "djgrade could not grade this submission: "

// InfraResult is the result of a submission djgrade failed to grade for the
// reason given: verdict infrastructure, no points held against the candidate.
func InfraResult(reason string) *Result {
	return &Result{Verdict: VerdictInfraError, Reason: InfraReasonPrefix + reason}
}

// Queue makes s a new submission waiting to be graded, created at now. The
// life-cycle fields are the domain's, so Status, StartedAt, FinishedAt,
// Error, Result, Attempts and History are reset whatever the caller set.
func (s *Submission) Queue(now time.Time) {
	s.Status = StatusQueued
	s.CreatedAt = now
	s.StartedAt, s.FinishedAt, s.RetryAt = time.Time{}, time.Time{}, time.Time{}
	s.Error, s.Result, s.Attempts, s.History = "", nil, 0, nil
}

// Claim starts grading a queued submission: it becomes running, started at
// now, with one more attempt. Any other status is ECONFLICT.
func (s *Submission) Claim(now time.Time) error {
	if s.Status != StatusQueued {
		return Errorf(ECONFLICT, "submission %s is %s, not queued", s.ID, s.Status)
	}
	s.Status = StatusRunning
	s.StartedAt = now
	s.RetryAt = time.Time{}
	s.Attempts++
	return nil
}

// CheckFinish reports whether status, result and reason can end a grading:
// done with a result, or error with a reason (and a result if there is one).
// Anything else is EINVALID. It looks at no submission, so a store may call
// it before it reads one.
func CheckFinish(status Status, result *Result, reason string) error {
	switch {
	case status == StatusDone && result == nil:
		return Errorf(EINVALID, "a done submission needs a result")
	case status == StatusError && reason == "":
		return Errorf(EINVALID, "a submission in error needs a reason")
	case status != StatusDone && status != StatusError:
		return Errorf(EINVALID, "cannot finish a submission as %q", status)
	}
	return nil
}

// Finish records the end of grading at now: status done with its result, or
// status error with the reason (see CheckFinish, whose refusals it shares).
// A submission that is not running is ECONFLICT, so that a late worker
// cannot overwrite a finished one.
func (s *Submission) Finish(now time.Time, status Status, result *Result, reason string) error {
	if err := CheckFinish(status, result, reason); err != nil {
		return err
	}
	if s.Status != StatusRunning {
		return Errorf(ECONFLICT, "submission %s is %s, not running", s.ID, s.Status)
	}
	s.Status = status
	s.FinishedAt = now
	s.Result = result
	s.Error = ""
	if status == StatusError {
		s.Error = reason
	}
	return nil
}

// Cancel withdraws a queued submission at now. Any other status is
// ECONFLICT: a running one is a worker's, a finished one is history.
func (s *Submission) Cancel(now time.Time) error {
	if s.Status != StatusQueued {
		return Errorf(ECONFLICT, "only a queued submission can be cancelled; this one is %s", s.Status)
	}
	s.Status = StatusCancelled
	s.FinishedAt = now
	return nil
}

// Requeue puts a running submission whose grading was cut off (the server
// stopped) back on the queue. Attempts is kept, so that GiveUp can end a
// submission that keeps killing workers. Any other status is ECONFLICT.
func (s *Submission) Requeue() error {
	if s.Status != StatusRunning {
		return Errorf(ECONFLICT, "submission %s is %s, not running", s.ID, s.Status)
	}
	s.Status = StatusQueued
	s.StartedAt, s.RetryAt = time.Time{}, time.Time{}
	return nil
}

// Retry puts a running submission back on the queue because the sandbox
// could not take it (EUNAVAILABLE), to be claimed again no earlier than at.
// Attempts is kept, so that the worker gives up after MaxAttempts. Any
// other status is ECONFLICT; a zero at is EINVALID.
func (s *Submission) Retry(at time.Time) error {
	if at.IsZero() {
		return Errorf(EINVALID, "a retry needs a time")
	}
	if err := s.Requeue(); err != nil {
		return err
	}
	s.RetryAt = at
	return nil
}

// GiveUp ends a running submission at now with an infrastructure result:
// every attempt ended with the server gone, and grading it again would only
// take the server down again. Any other status is ECONFLICT.
func (s *Submission) GiveUp(now time.Time) error {
	if s.Status != StatusRunning {
		return Errorf(ECONFLICT, "submission %s is %s, not running", s.ID, s.Status)
	}
	s.Status = StatusError
	s.FinishedAt = now
	s.Error = fmt.Sprintf("gave up after %d attempts: the server stopped while grading it each time", s.Attempts)
	s.Result = InfraResult(s.Error)
	return nil
}

// Interrupted is what becomes of a running submission when the server
// restarts: it is requeued (and Interrupted returns true) unless it has been
// started MaxAttempts times, when it is given up at now. Any other status is
// ECONFLICT.
func (s *Submission) Interrupted(now time.Time) (requeued bool, err error) {
	if s.Status == StatusRunning && s.Attempts >= MaxAttempts {
		return false, s.GiveUp(now)
	}
	if err := s.Requeue(); err != nil {
		return false, err
	}
	return true, nil
}

// Regrade puts a finished submission (done, error or cancelled) back on the
// queue. Its result moves to History, without its log, and History keeps
// the last MaxHistory results. A regrade is batch work (PriorityBatch): it
// waits behind live and normal submissions. A queued or running one is
// ECONFLICT.
func (s *Submission) Regrade() error {
	if !s.Status.Final() {
		return Errorf(ECONFLICT, "a %s submission cannot be regraded until it ends", s.Status)
	}
	if s.Result != nil {
		// History keeps what a timeline shows, not every log: a
		// submission regraded many times stays a small record.
		old := *s.Result
		old.Log = ""
		s.History = append(s.History, &old)
		if len(s.History) > MaxHistory {
			s.History = append([]*Result(nil), s.History[len(s.History)-MaxHistory:]...)
		}
	}
	s.Status = StatusQueued
	s.Priority = PriorityBatch
	s.Result, s.Error = nil, ""
	s.StartedAt, s.FinishedAt, s.RetryAt = time.Time{}, time.Time{}, time.Time{}
	return nil
}
