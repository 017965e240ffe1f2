package grader

import (
	"context"
	"time"
)

// A review is what staff add to a graded submission after the run: notes
// for each other and, where the automatic grade is not the one they stand
// by, an override of its score (and, optionally, its verdict). A review is
// an append-only trail of entries, each saying who, when and why; nothing
// in it is ever changed or removed, and the automatic result is never
// overwritten: the effective score is the latest override's, else the
// automatic one, and both are always shown side by side.
//
// Who sees it is decided in view.go (Review.View): staff everything, a file
// leaving the server (exports) the scores, and a candidate nothing: a
// candidate's views show the automatic grade the run produced, never a
// note, an override or its reason.
//
// This file is the contract between the service (review_service.go), the
// store (grader/bolt/review.go) and the routes and pages.

// Kinds of review entries.
const (
	// ReviewNote is a reviewer's note.
	ReviewNote = "note"
	// ReviewOverride sets the effective score (and maybe verdict).
	ReviewOverride = "override"
	// ReviewClear withdraws the overrides before it: the effective score is
	// the automatic one again.
	ReviewClear = "clear"
)

// Limits of reviews; the service enforces them before anything is stored.
const (
	// MaxReviewNoteBytes caps one note.
	MaxReviewNoteBytes = 8 << 10
	// MaxReviewReasonBytes caps an override's reason.
	MaxReviewReasonBytes = 2 << 10
	// MaxReviewEntries caps one submission's trail: past it, additions are
	// refused with ETOOLARGE.
	MaxReviewEntries = 500
)

// ReviewAuthor is who made a review entry: the token's id, and its name
// and role as they were then (a token may be revoked later; the trail keeps
// what it was).
type ReviewAuthor struct {
	Token string `json:"token"`
	Name  string `json:"name,omitempty"`
	Role  Role   `json:"role"`
}

// AuthorOf is the author of an entry made with tok.
func AuthorOf(tok *Token) ReviewAuthor {
	if tok == nil {
		return ReviewAuthor{}
	}
	return ReviewAuthor{Token: tok.ID, Name: tok.Name, Role: tok.Role}
}

// Label is how the author is shown: the name, else the token id.
func (a ReviewAuthor) Label() string {
	if a.Name != "" {
		return a.Name
	}
	return a.Token
}

// ReviewEntry is one entry of a submission's review trail.
type ReviewEntry struct {
	// Seq is the entry's place in the trail: 1, 2, … (the store assigns it).
	Seq  int          `json:"seq"`
	Kind string       `json:"kind"` // ReviewNote, ReviewOverride or ReviewClear
	At   time.Time    `json:"at"`
	By   ReviewAuthor `json:"by"`
	// Text is a note's text, or an override's (or clear's) reason.
	Text string `json:"text"`
	// Score and Verdict are an override's; Verdict is optional ("" keeps
	// the automatic verdict).
	Score   *int    `json:"score,omitempty"`
	Verdict Verdict `json:"verdict,omitempty"`
	// AutomaticScore and MaxScore are the automatic result's when the
	// override (or clear) was made, kept beside it: a regrade may change
	// the automatic score later, never the record of what was overridden.
	AutomaticScore *int `json:"automatic_score,omitempty"`
	MaxScore       int  `json:"max_score,omitempty"`
}

// ReviewSummary is what listings show of a submission's review.
type ReviewSummary struct {
	Notes     int `json:"notes"`
	Overrides int `json:"overrides"` // overrides and clears
	// Current is the override in force: the latest override, unless a
	// clear came after it (then nil).
	Current *ReviewEntry `json:"current,omitempty"`
}

// Summarize returns the summary of a trail.
func Summarize(trail []ReviewEntry) ReviewSummary {
	var s ReviewSummary
	for i := range trail {
		switch e := &trail[i]; e.Kind {
		case ReviewNote:
			s.Notes++
		case ReviewOverride:
			s.Overrides++
			s.Current = e
		case ReviewClear:
			s.Overrides++
			s.Current = nil
		}
	}
	return s
}

// Review is a submission's review: its trail, split into notes and
// overrides (clears among them), with the automatic and the effective
// scores side by side.
type Review struct {
	Submission string `json:"submission"`
	// Automatic is the run's score and verdict (nil until the submission
	// is done); never changed by a review.
	Automatic *Points `json:"automatic"`
	// Effective is the score that counts: the current override's, else
	// the automatic one (nil when there is neither).
	Effective  *Points       `json:"effective"`
	Overridden bool          `json:"overridden"`
	Notes      []ReviewEntry `json:"notes"`
	Overrides  []ReviewEntry `json:"overrides"`
}

// Points is a score out of a maximum, with its verdict.
type Points struct {
	Score    int     `json:"score"`
	MaxScore int     `json:"max_score"`
	Verdict  Verdict `json:"verdict"`
}

// AutomaticScore is the run's own score of sub, or nil while it has none.
func AutomaticScore(sub *Submission) *Points {
	if sub == nil || sub.Status != StatusDone || sub.Result == nil {
		return nil
	}
	return &Points{Score: sub.Result.Score, MaxScore: sub.Result.MaxScore, Verdict: sub.Result.Verdict}
}

// EffectiveScore is the score that counts for sub given its review
// summary: the current override's score (and verdict, if it set one) out
// of the automatic maximum, else the automatic score. The second result
// reports whether an override is in force.
func EffectiveScore(sub *Submission, sum ReviewSummary) (*Points, bool) {
	auto := AutomaticScore(sub)
	o := sum.Current
	if auto == nil || o == nil || o.Score == nil {
		return auto, false
	}
	eff := *auto
	// Never above the maximum, should a regrade under a changed rubric
	// have lowered it since.
	eff.Score = min(*o.Score, auto.MaxScore)
	if o.Verdict != "" {
		eff.Verdict = o.Verdict
	}
	return &eff, true
}

// NewReview assembles the review of sub from its trail.
func NewReview(sub *Submission, trail []ReviewEntry) *Review {
	r := &Review{Submission: sub.ID, Automatic: AutomaticScore(sub), Notes: []ReviewEntry{}, Overrides: []ReviewEntry{}}
	for _, e := range trail {
		if e.Kind == ReviewNote {
			r.Notes = append(r.Notes, e)
		} else {
			r.Overrides = append(r.Overrides, e)
		}
	}
	r.Effective, r.Overridden = EffectiveScore(sub, Summarize(trail))
	return r
}

// OverrideRequest is a reviewer's override of a submission's score, or
// with Clear the withdrawal of the override in force.
type OverrideRequest struct {
	Score *int
	// Verdict, optional, must be one of the verdicts (OverrideVerdicts).
	Verdict Verdict
	// Reason is required: the trail says why.
	Reason string
	Clear  bool
}

// OverrideVerdicts are the verdicts an override may set.
var OverrideVerdicts = []Verdict{VerdictPassed, VerdictFailed}

// ReviewStore keeps the review trails of submissions, one per submission,
// append-only. Each call is one transaction.
type ReviewStore interface {
	// AppendReview calls decide with the submission as stored and its
	// trail so far, and appends the entry decide returns, assigning its Seq
	// (1, 2, …), all in one transaction: what decide checked is what is
	// stored. An error of decide stores nothing and is returned; an unknown
	// submission is NoSuchSubmission.
	AppendReview(ctx context.Context, submission string, decide func(sub *Submission, trail []ReviewEntry) (ReviewEntry, error)) (ReviewEntry, error)
	// ReviewTrail returns the submission's entries in order (empty when it
	// has none, or when the submission is unknown).
	ReviewTrail(ctx context.Context, submission string) ([]ReviewEntry, error)
	// ReviewSummaries returns the summaries of those of the submissions
	// that have a trail, by id, in one transaction.
	ReviewSummaries(ctx context.Context, submissions []string) (map[string]ReviewSummary, error)
}

// ReviewService is what the routes and pages need of reviews and of the
// candidate view (implemented by *Service); nil in their configs answers
// those routes with EUNAVAILABLE.
type ReviewService interface {
	// Review returns the review of the submission.
	Review(ctx context.Context, submission string) (*Review, error)
	// AddReviewNote adds a note by tok to the submission's trail.
	AddReviewNote(ctx context.Context, submission string, tok *Token, text string) (*ReviewEntry, error)
	// OverrideScore adds an override (or a clear) by tok to the trail and
	// publishes OutboundOverrideMade.
	OverrideScore(ctx context.Context, submission string, tok *Token, req OverrideRequest) (*ReviewEntry, error)
	// ReviewSummaries returns the summaries of the submissions that have
	// a trail.
	ReviewSummaries(ctx context.Context, submissions []string) (map[string]ReviewSummary, error)
	// Candidate returns everything of one candidate, by name.
	Candidate(ctx context.Context, name string) (*CandidateOverview, error)
}
