package grader

import (
	"context"
	"encoding/json"
	"time"
)

// Outbound events are what djgrade tells hiring tools (outbound webhooks):
// the service publishes each one to an Outbox, which stores it durably and
// delivers it to every endpoint subscribed to its type.

// The outbound event types.
const (
	// OutboundSubmissionFinished: a submission was graded (done or error).
	OutboundSubmissionFinished = "submission.finished"
	// OutboundAssignmentCompleted: an assignment's work is over (see the
	// Outbox implementation for when that is).
	OutboundAssignmentCompleted = "assignment.completed"
	// OutboundOverrideMade: a reviewer overrode a submission's score.
	OutboundOverrideMade = "override.made"
)

// OutboundEvent is one event for hiring tools.
type OutboundEvent struct {
	// ID is unique and deterministic (for example
	// "submission.finished:<submission id>:<attempt>"): publishing the same
	// event twice stores it once, so a sweep after a crash may publish
	// again what it cannot tell was published.
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"created_at"`
	// Data is the event's JSON payload, as the receiver gets it.
	Data json.RawMessage `json:"data"`
}

// Outbox takes outbound events.
type Outbox interface {
	// Publish stores ev durably before it returns; delivery happens later.
	Publish(ctx context.Context, ev OutboundEvent) error
}

// publish hands ev to the service's Outbox, if it has one; a failure is
// logged, never a grading error.
func (s *Service) publish(ctx context.Context, ev OutboundEvent) {
	if s.Outbox == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if err := s.Outbox.Publish(ctx, ev); err != nil {
		s.Logger.Error("publish an outbound event", "type", ev.Type, "id", ev.ID, "err", err)
	}
}
