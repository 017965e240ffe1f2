package grader

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/internal/text"
)

var _ ReviewService = (*Service)(nil)

// The service's side of reviews (review.go) and of the candidate view:
// it checks every input before the store sees it, and the store checks,
// in the same transaction that appends, what depends on the stored
// submission (that it is graded, that a score is within its maximum).

func (s *Service) reviews() error {
	if s.Reviews == nil {
		return Errorf(EUNAVAILABLE, "this server keeps no reviews")
	}
	return nil
}

// Review returns the submission's review: its notes and overrides, the
// automatic and the effective score.
func (s *Service) Review(ctx context.Context, id string) (*Review, error) {
	if err := s.reviews(); err != nil {
		return nil, err
	}
	sub, err := s.Store.Submission(ctx, id)
	if err != nil {
		return nil, err
	}
	trail, err := s.Reviews.ReviewTrail(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	return NewReview(sub, trail), nil
}

// ReviewSummaries returns the summaries of those of the submissions that
// have a trail.
func (s *Service) ReviewSummaries(ctx context.Context, ids []string) (map[string]ReviewSummary, error) {
	if err := s.reviews(); err != nil {
		return nil, err
	}
	return s.Reviews.ReviewSummaries(ctx, ids)
}

// cleanReviewText trims and checks a note or a reason; hint says what an
// empty one should hold.
func cleanReviewText(what, hint, t string, max int) (string, error) {
	t = strings.TrimSpace(t)
	switch {
	case t == "":
		return "", Errorf(EINVALID, "the %s is empty: %s", what, hint)
	case !utf8.ValidString(t):
		return "", Errorf(EINVALID, "the %s is not UTF-8 text", what)
	case len(t) > max:
		return "", Errorf(ETOOLARGE, "the %s is %s; it may hold at most %s",
			what, archive.FormatBytes(int64(len(t))), archive.FormatBytes(int64(max)))
	}
	return t, nil
}

// checkAuthor refuses an entry without a staff author.
func checkAuthor(tok *Token) error {
	if tok == nil || tok.ID == "" || !tok.Role.Staff() {
		return Errorf(EFORBIDDEN, "only staff review submissions")
	}
	return nil
}

// fullTrail refuses an append to a trail that holds MaxReviewEntries.
func fullTrail(trail []ReviewEntry) error {
	if len(trail) >= MaxReviewEntries {
		return Errorf(ETOOLARGE, "this submission's review holds %d entries, the most it may keep", len(trail))
	}
	return nil
}

// AddReviewNote adds a note by tok (staff) to the submission's trail; the
// submission may be in any state.
func (s *Service) AddReviewNote(ctx context.Context, id string, tok *Token, note string) (*ReviewEntry, error) {
	if err := s.reviews(); err != nil {
		return nil, err
	}
	if err := checkAuthor(tok); err != nil {
		return nil, err
	}
	note, err := cleanReviewText("note", "write the note's text", note, MaxReviewNoteBytes)
	if err != nil {
		return nil, err
	}
	e, err := s.Reviews.AppendReview(ctx, id, func(_ *Submission, trail []ReviewEntry) (ReviewEntry, error) {
		if err := fullTrail(trail); err != nil {
			return ReviewEntry{}, err
		}
		return ReviewEntry{Kind: ReviewNote, At: time.Now().UTC(), By: AuthorOf(tok), Text: note}, nil
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// OverrideScore adds an override of the submission's score (or, with
// req.Clear, the withdrawal of the override in force) by tok (staff) to
// its trail, and publishes OutboundOverrideMade. The submission must be
// done (it has an automatic score); the score must be within 0 and the
// automatic maximum; the reason is required.
func (s *Service) OverrideScore(ctx context.Context, id string, tok *Token, req OverrideRequest) (*ReviewEntry, error) {
	if err := s.reviews(); err != nil {
		return nil, err
	}
	if err := checkAuthor(tok); err != nil {
		return nil, err
	}
	reason, err := cleanReviewText("reason", "say why the score is overridden or cleared (required; kept in the review's trail)", req.Reason, MaxReviewReasonBytes)
	if err != nil {
		return nil, err
	}
	switch {
	case req.Clear && (req.Score != nil || req.Verdict != ""):
		return nil, Errorf(EINVALID, "clearing the override takes a reason only, no score or verdict")
	case !req.Clear && req.Score == nil:
		return nil, Errorf(EINVALID, "the override needs a score")
	case req.Verdict != "" && !slices.Contains(OverrideVerdicts, req.Verdict):
		return nil, Errorf(EINVALID, "verdict %q is not one an override may set (passed or failed)", text.Printable(clipText(string(req.Verdict), 32)))
	}
	var sub *Submission
	e, err := s.Reviews.AppendReview(ctx, id, func(stored *Submission, trail []ReviewEntry) (ReviewEntry, error) {
		sub = stored
		if err := fullTrail(trail); err != nil {
			return ReviewEntry{}, err
		}
		auto := AutomaticScore(stored)
		if auto == nil {
			return ReviewEntry{}, Errorf(ECONFLICT, "the submission is %s: only a graded submission's score may be overridden", stored.Status)
		}
		e := ReviewEntry{Kind: ReviewOverride, At: time.Now().UTC(), By: AuthorOf(tok), Text: reason,
			AutomaticScore: &auto.Score, MaxScore: auto.MaxScore}
		if req.Clear {
			if Summarize(trail).Current == nil {
				return ReviewEntry{}, Errorf(ECONFLICT, "no override is in force to clear")
			}
			e.Kind = ReviewClear
			return e, nil
		}
		if *req.Score < 0 || *req.Score > auto.MaxScore {
			return ReviewEntry{}, Errorf(EINVALID, "the score must be 0 to %d (the exercise's maximum)", auto.MaxScore)
		}
		score := *req.Score
		e.Score, e.Verdict = &score, req.Verdict
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, overrideEvent(sub, e))
	return &e, nil
}

// OverrideEventData is the payload of an OutboundOverrideMade event: for
// hiring tools (staff's own systems), so the reason is in it; a clear has
// Cleared set, and Effective is then the automatic score.
type OverrideEventData struct {
	Submission string       `json:"submission"`
	Exercise   string       `json:"exercise"`
	Candidate  string       `json:"candidate"`
	Assignment string       `json:"assignment,omitempty"`
	Seq        int          `json:"seq"`
	At         time.Time    `json:"at"`
	By         ReviewAuthor `json:"by"`
	Reason     string       `json:"reason"`
	Cleared    bool         `json:"cleared"`
	Automatic  Points       `json:"automatic"`
	Effective  Points       `json:"effective"`
}

// OverrideEventID is the event's deterministic id: the same entry
// published twice is one event.
func OverrideEventID(submission string, seq int) string {
	return fmt.Sprintf("%s:%s:%d", OutboundOverrideMade, submission, seq)
}

func overrideEvent(sub *Submission, e ReviewEntry) OutboundEvent {
	auto := Points{MaxScore: e.MaxScore}
	if e.AutomaticScore != nil {
		auto.Score = *e.AutomaticScore
	}
	if sub.Result != nil {
		auto.Verdict = sub.Result.Verdict
	}
	eff := auto
	if e.Kind == ReviewOverride && e.Score != nil {
		eff.Score = *e.Score
		if e.Verdict != "" {
			eff.Verdict = e.Verdict
		}
	}
	data, _ := json.Marshal(OverrideEventData{ // plain fields: Marshal cannot fail
		Submission: sub.ID, Exercise: sub.Exercise, Candidate: sub.Candidate, Assignment: sub.Assignment,
		Seq: e.Seq, At: e.At, By: e.By, Reason: e.Text, Cleared: e.Kind == ReviewClear, Automatic: auto, Effective: eff,
	})
	return OutboundEvent{ID: OverrideEventID(sub.ID, e.Seq), Type: OutboundOverrideMade, At: e.At, Data: data}
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
