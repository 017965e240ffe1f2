package api

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// The review routes (notes and score overrides of a submission) and the
// candidate view, for staff only. A candidate gets the 404 of a submission
// (or a candidate) that does not exist on every one of them, its own
// submissions included: that reviews exist is not the candidate's to know.

const (
	pathCandidates = "/api/v1/candidates"
	pathReview     = pathSubmissions + "/:id/review"
)

// reviewRoutes registers the routes; routes calls it.
func (s *Server) reviewRoutes(authn echo.MiddlewareFunc) {
	e := s.echo
	GET(e, pathReview, s.getReview, authn, staffOrNoSubmission)
	e.POST(pathSubmissions+"/:id/notes", s.addReviewNote, authn, staffOrNoSubmission)
	e.POST(pathSubmissions+"/:id/override", s.overrideScore, authn, staffOrNoSubmission)
	GET(e, pathCandidates+"/:name", s.getCandidate, authn, staffOrNotFound)
}

// staffOrNoSubmission answers a caller who is not staff as a submission
// that does not exist.
func staffOrNoSubmission(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if tok := caller(c); tok == nil || !tok.Role.Staff() {
			return grader.NoSuchSubmission()
		}
		return next(c)
	}
}

func (s *Server) reviewService() (grader.ReviewService, error) {
	if s.cfg.Reviews == nil {
		return nil, grader.Errorf(grader.EUNAVAILABLE, "this server keeps no reviews")
	}
	return s.cfg.Reviews, nil
}

// reviewed returns the review service and the path's submission.
func (s *Server) reviewed(c echo.Context) (grader.ReviewService, *grader.Submission, error) {
	rs, err := s.reviewService()
	if err != nil {
		return nil, nil, err
	}
	sub, err := s.visible(c)
	if err != nil {
		return nil, nil, err
	}
	return rs, sub, nil
}

func (s *Server) getReview(c echo.Context) error {
	rs, sub, err := s.reviewed(c)
	if err != nil {
		return err
	}
	rv, err := rs.Review(c.Request().Context(), sub.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv.View(grader.AudienceStaff))
}

// reviewNoteRequest is the body of POST .../notes.
type reviewNoteRequest struct {
	Text string `json:"text"`
}

func (s *Server) addReviewNote(c echo.Context) error {
	rs, sub, err := s.reviewed(c)
	if err != nil {
		return err
	}
	var req reviewNoteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	n, err := rs.AddReviewNote(c.Request().Context(), sub.ID, caller(c), req.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, n)
}

// overrideRequest is the body of POST .../override.
type overrideRequest struct {
	Score   *int           `json:"score"`
	Verdict grader.Verdict `json:"verdict"`
	Reason  string         `json:"reason"`
	Clear   bool           `json:"clear"`
}

func (s *Server) overrideScore(c echo.Context) error {
	rs, sub, err := s.reviewed(c)
	if err != nil {
		return err
	}
	var req overrideRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := rs.OverrideScore(ctx, sub.ID, caller(c), grader.OverrideRequest(req)); err != nil {
		return err
	}
	rv, err := rs.Review(ctx, sub.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rv.View(grader.AudienceStaff))
}

// candidateJSON is the candidate view as the API shows it: times used in
// seconds.
type candidateJSON struct {
	Name            string                    `json:"name"`
	Assignments     []candidateAssignmentJSON `json:"assignments"`
	Live            []candidateLiveJSON       `json:"live_sessions"`
	Submissions     []candidateSubmissionJSON `json:"submissions"`
	Truncated       bool                      `json:"truncated"`
	SimilarityKnown bool                      `json:"similarity_known"`
}

type candidateAssignmentJSON struct {
	ID        string    `json:"id"`
	Exercise  string    `json:"exercise"`
	Mode      string    `json:"mode"`
	Deadline  time.Time `json:"deadline,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	Live      string    `json:"live,omitempty"`
	// Submissions, Latest and TimeUsed: see grader.CandidateAssignment.
	Submissions int     `json:"submissions"`
	Latest      string  `json:"latest_submission,omitempty"`
	Counted     string  `json:"counted_submission,omitempty"`
	TimeUsed    float64 `json:"time_used_seconds"`
}

type candidateLiveJSON struct {
	ID         string    `json:"id"`
	Exercise   string    `json:"exercise"`
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	Submission string    `json:"submission,omitempty"`
	TimeUsed   float64   `json:"time_used_seconds"`
}

type candidateSubmissionJSON struct {
	ID         string         `json:"id"`
	Exercise   string         `json:"exercise"`
	Status     grader.Status  `json:"status"`
	CreatedAt  time.Time      `json:"created_at"`
	Assignment string         `json:"assignment,omitempty"`
	Late       bool           `json:"late,omitempty"`
	Automatic  *grader.Points `json:"automatic"`
	Effective  *grader.Points `json:"effective"`
	Overridden bool           `json:"overridden"`
	Notes      int            `json:"notes"`
	Similar    int            `json:"similar"`
	TimeUsed   float64        `json:"time_used_seconds"`
}

func (s *Server) getCandidate(c echo.Context) error {
	rs, err := s.reviewService()
	if err != nil {
		return err
	}
	name := c.Param("name")
	if c.Request().URL.RawPath != "" {
		// Echo routes on the raw path when the name holds an escaped
		// slash, and then leaves the parameter escaped.
		if u, err := url.PathUnescape(name); err == nil {
			name = u
		}
	}
	if len(name) > maxTextField {
		return grader.Errorf(grader.EINVALID, "the candidate's name is too long")
	}
	ov, err := rs.Candidate(c.Request().Context(), name)
	if err != nil {
		return err
	}
	out := candidateJSON{Name: ov.Name, Truncated: ov.Truncated, SimilarityKnown: ov.SimilarityKnown,
		Assignments: []candidateAssignmentJSON{}, Live: []candidateLiveJSON{}, Submissions: []candidateSubmissionJSON{}}
	for _, a := range ov.Assignments {
		out.Assignments = append(out.Assignments, candidateAssignmentJSON{ID: a.ID, Exercise: a.Exercise, Mode: a.Mode,
			Deadline: a.Deadline, CreatedAt: a.CreatedAt, Live: a.Assignment.Live, Submissions: a.Submissions, Latest: a.Latest, Counted: a.Counted, TimeUsed: a.TimeUsed.Seconds()})
	}
	for _, l := range ov.Live {
		out.Live = append(out.Live, candidateLiveJSON{ID: l.ID, Exercise: l.Exercise, State: l.State, CreatedAt: l.CreatedAt,
			StartedAt: l.StartedAt, EndedAt: l.EndedAt, Submission: l.LiveSession.Submission, TimeUsed: l.TimeUsed.Seconds()})
	}
	for _, cs := range ov.Submissions {
		out.Submissions = append(out.Submissions, candidateSubmissionJSON{ID: cs.ID, Exercise: cs.Exercise, Status: cs.Status,
			CreatedAt: cs.CreatedAt, Assignment: cs.Assignment, Late: cs.Late, Automatic: cs.Automatic, Effective: cs.Effective,
			Overridden: cs.Overridden, Notes: cs.Notes, Similar: cs.Similar, TimeUsed: cs.TimeUsed.Seconds()})
	}
	return c.JSON(http.StatusOK, out)
}
