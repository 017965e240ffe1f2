package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// assignmentJSON is an assignment as the API shows it. TokenSecret is set
// only in the answer that created the candidate's token with it.
type assignmentJSON struct {
	ID          string     `json:"id"`
	Exercise    string     `json:"exercise"`
	Candidate   string     `json:"candidate"`
	Token       string     `json:"token_id"`
	Mode        string     `json:"mode"`
	Deadline    *time.Time `json:"deadline"`
	CreatedAt   time.Time  `json:"created_at"`
	CreatedBy   string     `json:"created_by"`
	TokenSecret string     `json:"token,omitempty"`
	timedJSON
}

func assignmentView(a *grader.Assignment, now time.Time) assignmentJSON {
	return assignmentJSON{ID: a.ID, Exercise: a.Exercise, Candidate: a.Candidate, Token: a.Token, Mode: a.Mode,
		Deadline: timePtr(a.EffectiveDeadline()), CreatedAt: a.CreatedAt.UTC(), CreatedBy: a.CreatedBy,
		timedJSON: timedView(a, now)}
}

// assignmentRequest creates an assignment. Without token_id a candidate
// token is created for it and returned once.
type assignmentRequest struct {
	Exercise  string `json:"exercise"`
	Candidate string `json:"candidate"`
	Mode      string `json:"mode"`
	// Deadline is text so that a wrong one is explained in words, with the
	// format (grader.ParseDeadline), rather than by Go's layout string.
	Deadline *string `json:"deadline"`
	TokenID  string  `json:"token_id"`
	timedRequest
}

// requestExercise is the exercise a request names: an unknown id is the
// caller's mistake (400), said with where the ids are listed. Uploads,
// assignments and take-homes share it.
func (s *Server) requestExercise(id string) (*grader.Exercise, error) {
	ex, err := s.cfg.Catalog.Exercise(strings.TrimSpace(id))
	if grader.ErrorCode(err) == grader.ENOTFOUND {
		return nil, grader.Errorf(grader.EINVALID, "unknown exercise %q; GET /api/v1/exercises lists the exercise ids", truncate(id, 64))
	}
	return ex, err
}

func (s *Server) createAssignment(c echo.Context) error {
	var req assignmentRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ex, err := s.requestExercise(req.Exercise)
	if err != nil {
		return err
	}
	if req.Mode == "" {
		req.Mode = grader.ModeAssessment
	}
	if req.Mode != grader.ModePractice && req.Mode != grader.ModeAssessment {
		return grader.Errorf(grader.EINVALID, "mode must be practice or assessment")
	}
	name, err := cleanCandidate(req.Candidate)
	if err != nil {
		return err
	}
	a := &grader.Assignment{Exercise: ex.ID, Candidate: name, Mode: req.Mode, CreatedBy: caller(c).ID}
	if req.Deadline != nil {
		if a.Deadline, err = grader.ParseDeadline(*req.Deadline, s.now()); err != nil {
			return err
		}
	}
	if err := req.timedRequest.apply(a); err != nil {
		return err
	}
	ctx := c.Request().Context()
	secret := ""
	if req.TokenID != "" {
		tok, err := s.cfg.Auth.Token(ctx, req.TokenID)
		if err != nil {
			if grader.ErrorCode(err) == grader.ENOTFOUND {
				return grader.Errorf(grader.EINVALID, "no token %q", truncate(req.TokenID, 64))
			}
			return err
		}
		if tok.Role != grader.RoleCandidate || tok.Revoked() {
			return grader.Errorf(grader.EINVALID, "token %s is not an active candidate token", tok.ID)
		}
		a.Token = tok.ID
	} else {
		tok, sec, err := s.issueToken(c, grader.RoleCandidate, name)
		if err != nil {
			return err
		}
		a.Token, secret = tok.ID, sec
	}
	if err := s.cfg.Auth.CreateAssignment(ctx, a); err != nil {
		return err
	}
	out := assignmentView(a, s.now())
	out.TokenSecret = secret
	c.Response().Header().Set(echo.HeaderLocation, pathAssignments+"/"+url.PathEscape(a.ID))
	return c.JSON(http.StatusCreated, out)
}

type assignmentListJSON struct {
	Assignments []assignmentJSON `json:"assignments"`
}

// listAssignments lists every assignment for staff and a candidate's own.
func (s *Server) listAssignments(c echo.Context) error {
	owner := ""
	if tok := caller(c); !tok.Role.Staff() {
		owner = tok.ID
	}
	list, err := s.cfg.Auth.Assignments(c.Request().Context(), owner)
	if err != nil {
		return err
	}
	out := assignmentListJSON{Assignments: make([]assignmentJSON, 0, len(list))}
	for _, a := range list {
		out.Assignments = append(out.Assignments, assignmentView(a, s.now()))
	}
	return c.JSON(http.StatusOK, out)
}

// getAssignment shows one; a candidate asking for another's gets 404. The
// candidate's first GET opens it (starts its time limit); staff's never do.
func (s *Server) getAssignment(c echo.Context) error {
	ctx := c.Request().Context()
	a, err := s.cfg.Auth.Assignment(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	tok := caller(c)
	if !tok.Role.Staff() && a.Token != tok.ID {
		return grader.Errorf(grader.ENOTFOUND, "assignment not found")
	}
	if a, err = grader.OpenAssignment(ctx, s.cfg.Auth, a, tok, s.now()); err != nil {
		return err
	}
	return s.assignmentAnswer(c, a)
}

// bindJSON decodes a JSON body strictly: unknown fields and trailing data
// are errors, so that a typo in a field name is not silently ignored.
func bindJSON(c echo.Context, v any) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "the body must be application/json")
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return grader.Errorf(grader.EINVALID, "the body must hold one JSON object")
	}
	return nil
}

func bodyJSONError(err error) error {
	var merr *http.MaxBytesError
	if errors.As(err, &merr) {
		return tooLarge(merr.Limit)
	}
	// A field's own decoder (a time limit's) says what it wants.
	var gerr *grader.Error
	if errors.As(err, &gerr) {
		return gerr
	}
	return grader.Wrap(err, grader.EINVALID, "malformed JSON body: %s", truncate(err.Error(), 200))
}
