package grader

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// The events the service publishes itself: submission finished and
// assignment completed (override made is published by the reviews).
//
// An assignment is completed by its first submission graded done (not an
// infrastructure error, which is djgrade's failure, not the candidate's
// work) when the assignment is an assessment or a live session's; a
// practice assignment, where a candidate tries as often as they like, is
// never completed. Its id is "assignment.completed:<assignment id>", so it
// is published once whatever comes after (more submissions, regrades).
//
// Publishing happens after the store recorded the end. A crash between the
// two would lose the event, so Run starts with a sweep (SweepOutbound):
// every submission finished since the watermark the Outbox keeps
// (OutboxMarks) is published again. Ids are deterministic and the Outbox
// stores an id once, so what was already published is not sent twice.

// OutboxMarks is an Outbox that keeps the service's watermarks: how far the
// start-up sweep got, by name.
type OutboxMarks interface {
	OutboxMark(ctx context.Context, name string) (time.Time, bool, error)
	SetOutboxMark(ctx context.Context, name string, t time.Time) error
}

// markFinished is the watermark of the finished-submissions sweep.
const markFinished = "submission.finished"

// OutboundSubmission is a submission as outbound events describe it.
type OutboundSubmission struct {
	ID         string    `json:"id"`
	Exercise   string    `json:"exercise"`
	Candidate  string    `json:"candidate"`
	Assignment string    `json:"assignment,omitempty"`
	Status     Status    `json:"status"`
	Late       bool      `json:"late,omitempty"`
	Attempt    int       `json:"attempt"`
	CreatedAt  time.Time `json:"created_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Error is the infrastructure failure of a submission in error.
	Error string `json:"error,omitempty"`
}

// OutboundLinks are where people and programs read more.
type OutboundLinks struct {
	API       string `json:"api"`
	Dashboard string `json:"dashboard"`
}

// SubmissionFinishedData is the payload of OutboundSubmissionFinished.
type SubmissionFinishedData struct {
	Submission OutboundSubmission `json:"submission"`
	// Result is what leaves the server of a result (AudienceExport), in
	// the one schema of a result (ResultJSON), as exports render it.
	Result *ResultJSON   `json:"result,omitempty"`
	Links  OutboundLinks `json:"links"`
}

// AssignmentCompletedData is the payload of OutboundAssignmentCompleted.
type AssignmentCompletedData struct {
	Assignment struct {
		ID        string    `json:"id"`
		Exercise  string    `json:"exercise"`
		Candidate string    `json:"candidate"`
		Mode      string    `json:"mode"`
		Deadline  time.Time `json:"deadline,omitzero"`
		Live      string    `json:"live,omitempty"`
		CreatedAt time.Time `json:"created_at"`
	} `json:"assignment"`
	// Submission is the one that completed it.
	Submission OutboundSubmission `json:"submission"`
	Score      int                `json:"score"`
	MaxScore   int                `json:"max_score"`
	Verdict    Verdict            `json:"verdict"`
	Links      OutboundLinks      `json:"links"`
}

func (s *Service) submissionLinks(id string) OutboundLinks {
	p := url.PathEscape(id)
	return OutboundLinks{API: s.OutboundLinkURL + "/api/v1/submissions/" + p, Dashboard: s.OutboundLinkURL + "/ui/submissions/" + p}
}

func outboundSubmission(sub *Submission) OutboundSubmission {
	return OutboundSubmission{
		ID: sub.ID, Exercise: sub.Exercise, Candidate: sub.Candidate, Assignment: sub.Assignment,
		Status: sub.Status, Late: sub.Late, Attempt: sub.Attempts, CreatedAt: sub.CreatedAt.UTC(),
		FinishedAt: sub.FinishedAt.UTC(), Error: sub.Error,
	}
}

// publishFinished publishes the events of a finished submission: submission
// finished, and assignment completed if it completes one. Failures are
// logged; the first is returned.
func (s *Service) publishFinished(ctx context.Context, sub *Submission) error {
	if s.Outbox == nil || (sub.Status != StatusDone && sub.Status != StatusError) {
		return nil
	}
	d := SubmissionFinishedData{Submission: outboundSubmission(sub), Links: s.submissionLinks(sub.ID)}
	if v := sub.Result.View(AudienceExport); v != nil {
		j := v.JSON()
		d.Result = &j
	}
	data, err := json.Marshal(d)
	if err != nil {
		return Wrap(err, EINTERNAL, "encode the event of submission %s", sub.ID)
	}
	if err := s.publishOrLog(ctx, OutboundEvent{
		ID:   OutboundSubmissionFinished + ":" + sub.ID + ":" + strconv.Itoa(sub.Attempts),
		Type: OutboundSubmissionFinished, At: sub.FinishedAt, Data: data,
	}); err != nil {
		return err
	}
	if sub.Status != StatusDone || sub.Assignment == "" || s.Auth == nil || sub.Result == nil {
		return nil
	}
	a, err := s.Auth.Assignment(ctx, sub.Assignment)
	if err != nil {
		s.Logger.Error("read the assignment of a finished submission", "submission", sub.ID, "err", err)
		return err
	}
	if a.Mode != ModeAssessment && a.Live == "" {
		return nil
	}
	var c AssignmentCompletedData
	c.Assignment.ID, c.Assignment.Exercise, c.Assignment.Candidate = a.ID, a.Exercise, a.Candidate
	c.Assignment.Mode, c.Assignment.Deadline, c.Assignment.Live, c.Assignment.CreatedAt = a.Mode, a.Deadline.UTC(), a.Live, a.CreatedAt.UTC()
	c.Submission = outboundSubmission(sub)
	c.Score, c.MaxScore, c.Verdict = sub.Result.Score, sub.Result.MaxScore, sub.Result.Verdict
	c.Links = s.submissionLinks(sub.ID)
	if data, err = json.Marshal(c); err != nil {
		return Wrap(err, EINTERNAL, "encode the event of assignment %s", a.ID)
	}
	return s.publishOrLog(ctx, OutboundEvent{ID: OutboundAssignmentCompleted + ":" + a.ID, Type: OutboundAssignmentCompleted, At: sub.FinishedAt, Data: data})
}

// publishOrLog is publish that also returns the Outbox's error.
func (s *Service) publishOrLog(ctx context.Context, ev OutboundEvent) error {
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	err := s.Outbox.Publish(ctx, ev)
	if err != nil {
		s.Logger.Error("publish an outbound event", "type", ev.Type, "id", ev.ID, "err", err)
	}
	return err
}

// SweepOutbound publishes again the events of every submission finished
// since the Outbox's watermark, oldest first, then moves the watermark to
// when the sweep started; it returns how many submissions it looked at. The
// first sweep of an Outbox only sets the watermark: history from before
// webhooks existed is not sent. Without an Outbox that keeps marks it does
// nothing. Run calls it (in the background) at start-up.
func (s *Service) SweepOutbound(ctx context.Context) (int, error) {
	marks, ok := s.Outbox.(OutboxMarks)
	if s.Outbox == nil || !ok {
		return 0, nil
	}
	start := time.Now().UTC()
	since, ok, err := marks.OutboxMark(ctx, markFinished)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, marks.SetOutboxMark(ctx, markFinished, start)
	}
	// A submission can finish long after it was created (a regrade), so
	// every finished one is looked at; the listing is by creation.
	var found []*Submission
	for _, st := range []Status{StatusDone, StatusError} {
		f := SubmissionFilter{Status: st, Limit: 100}
		for {
			page, err := s.Store.ListSubmissions(ctx, f)
			if err != nil {
				return 0, err
			}
			for _, sub := range page {
				if !sub.FinishedAt.Before(since) {
					found = append(found, sub)
				}
			}
			if len(page) < f.Limit {
				break
			}
			f.Before = page[len(page)-1].ID
		}
	}
	slices.SortFunc(found, func(a, b *Submission) int { return a.FinishedAt.Compare(b.FinishedAt) })
	for _, sub := range found {
		if ctx.Err() != nil {
			return len(found), ctx.Err()
		}
		// The watermark stays where it was until every event is stored:
		// the next start tries again.
		if err := s.publishFinished(ctx, sub); err != nil {
			return len(found), err
		}
	}
	return len(found), marks.SetOutboxMark(ctx, markFinished, start)
}
