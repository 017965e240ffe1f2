package grader

import (
	"context"
	"time"
)

// DefaultMaxQueued is the queue cap when Service.MaxQueued is zero.
const DefaultMaxQueued = 1000

func (s *Service) maxQueued() int {
	switch {
	case s.MaxQueued == 0:
		return DefaultMaxQueued
	case s.MaxQueued < 0:
		return 0
	}
	return s.MaxQueued
}

// DefaultMaxQueuedPerOwner is the per-token cap of waiting submissions when
// Service.MaxQueuedPerOwner is zero.
const DefaultMaxQueuedPerOwner = 5

// MaxAttempts is how many times a submission is started before the grader
// gives up on it when each attempt ended with the server stopping
// mid-grade.
const MaxAttempts = 3

// MaxUnavailableAttempts is how many times a submission is started before
// the grader gives up on it when the sandbox kept answering unavailable:
// with the doubling backoff (1 s up to 30 s) that rides out an engine that
// is gone for about a minute and a half (a daemon restart, every engine
// drained) instead of failing the whole queue within seconds.
const MaxUnavailableAttempts = 8

// DefaultRetryBackoff is the first wait before a submission the sandbox
// could not take is tried again, when Service.RetryBackoff is zero; each
// further attempt waits twice as long, up to MaxRetryBackoff.
const DefaultRetryBackoff = time.Second

// MaxRetryBackoff caps the wait between attempts.
const MaxRetryBackoff = 30 * time.Second

// retryDelay is the wait after the attempt-th attempt (1-based) failed
// with the sandbox unavailable: RetryBackoff doubled attempt-1 times, at
// most MaxRetryBackoff.
func (s *Service) retryDelay(attempt int) time.Duration {
	d := s.RetryBackoff
	if d <= 0 {
		d = DefaultRetryBackoff
	}
	for i := 1; i < attempt && d < MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, MaxRetryBackoff)
}

// MaxHistory is how many earlier results a regraded submission keeps.
const MaxHistory = 10

func (s *Service) maxQueuedPerOwner(req SubmitRequest) int {
	switch {
	case req.Assignment == "" || req.Owner == "":
		return 0
	case s.MaxQueuedPerOwner == 0:
		return DefaultMaxQueuedPerOwner
	case s.MaxQueuedPerOwner < 0:
		return 0
	}
	return s.MaxQueuedPerOwner
}

// ListSubmissions returns submissions matching the filter, newest first.
func (s *Service) ListSubmissions(ctx context.Context, filter SubmissionFilter) ([]*Submission, error) {
	return s.Store.ListSubmissions(ctx, filter)
}

// SubmissionFiles returns the candidate's files stored with a submission.
func (s *Service) SubmissionFiles(ctx context.Context, id string) ([]File, error) {
	return s.Store.SubmissionFiles(ctx, id)
}

// Cancel cancels a queued submission (ECONFLICT otherwise) and tells
// listeners it is finished, so that waiters stop waiting.
func (s *Service) Cancel(ctx context.Context, id string) (*Submission, error) {
	sub, err := s.Store.CancelSubmission(ctx, id)
	if err != nil {
		return nil, err
	}
	s.emit(Event{Type: EventFinished, Submission: sub})
	return sub, nil
}

// Regrade puts a finished submission back on the queue; its result is kept
// in History and a new one is graded beside it.
func (s *Service) Regrade(ctx context.Context, id string) (*Submission, error) {
	sub, err := s.Store.RequeueSubmission(ctx, id)
	if err != nil {
		return nil, err
	}
	s.Wake()
	s.emit(Event{Type: EventQueued, Submission: sub})
	return sub, nil
}
