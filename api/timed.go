package api

// Timed assessments through the API: an assignment's time limit, what
// happens after it, which attempt counts, and the staff's revoke and extend.

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// now is the server's clock (Config.Now).
func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// timedJSON is the timed part of an assignment as the API shows it, to both
// sides. Deadline (in assignmentJSON) is the effective one, extensions
// applied.
type timedJSON struct {
	TimeLimit         string          `json:"time_limit,omitempty"`
	AfterTime         string          `json:"after_time"`
	Counts            string          `json:"counts"`
	State             string          `json:"state"`
	OpenedAt          *time.Time      `json:"opened_at"`
	EndsAt            *time.Time      `json:"ends_at"`
	Remaining         *int64          `json:"remaining_seconds"`
	RevokedAt         *time.Time      `json:"revoked_at,omitempty"`
	RevokedBy         string          `json:"revoked_by,omitempty"`
	Extensions        []extensionJSON `json:"extensions,omitempty"`
	CountedSubmission string          `json:"counted_submission,omitempty"`
}

type extensionJSON struct {
	At         time.Time  `json:"at"`
	By         string     `json:"by"`
	Deadline   *time.Time `json:"deadline,omitempty"`
	AddMinutes int64      `json:"add_minutes,omitempty"`
}

func timedView(a *grader.Assignment, now time.Time) timedJSON {
	out := timedJSON{AfterTime: a.AfterTimePolicy(), Counts: a.CountsRule(), State: a.State(now),
		OpenedAt: timePtr(a.OpenedAt), EndsAt: timePtr(a.Ends()), RevokedAt: timePtr(a.RevokedAt), RevokedBy: a.RevokedBy}
	if l := a.EffectiveTimeLimit(); l > 0 {
		out.TimeLimit = grader.FormatTimeLimit(l)
	}
	if !a.Ends().IsZero() {
		left := int64(a.Remaining(now) / time.Second)
		out.Remaining = &left
	}
	for _, e := range a.Extensions {
		out.Extensions = append(out.Extensions, extensionJSON{At: e.At.UTC(), By: e.By, Deadline: timePtr(e.Deadline), AddMinutes: int64(e.Added / time.Minute)})
	}
	return out
}

// addCounted sets the attempt that counts (grader.CountedSubmission) among
// the assignment's submissions.
func (s *Server) addCounted(c echo.Context, a *grader.Assignment, out *assignmentJSON) error {
	subs, err := s.cfg.Grader.ListSubmissions(c.Request().Context(), grader.SubmissionFilter{Owner: a.Token, Exercise: a.Exercise, Limit: 100})
	if err != nil {
		return err
	}
	score := func(s *grader.Submission) int { return s.Result.Score }
	if tok := caller(c); tok != nil && tok.Role.Staff() && s.cfg.Reviews != nil {
		// Staff's choice follows the overrides; a candidate's does not
		// (overrides are not the candidate's to see).
		ids := make([]string, len(subs))
		for i, sub := range subs {
			ids[i] = sub.ID
		}
		sums, err := s.cfg.Reviews.ReviewSummaries(c.Request().Context(), ids)
		if err != nil {
			return err
		}
		score = grader.EffectiveScorer(sums)
	}
	if sub := grader.CountedSubmissionBy(a, subs, score); sub != nil {
		out.CountedSubmission = sub.ID
	}
	return nil
}

// assignmentAnswer answers 200 with the assignment as GET shows it, the
// attempt that counts included.
func (s *Server) assignmentAnswer(c echo.Context, a *grader.Assignment) error {
	out := assignmentView(a, s.now())
	if err := s.addCounted(c, a, &out); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// timedRequest is the timed part of a new assignment.
type timedRequest struct {
	// TimeLimit is text ("90m", "1h30m"), read by grader.ParseTimeLimit,
	// or a JSON number of minutes.
	TimeLimit *timeLimitValue `json:"time_limit"`
	AfterTime string          `json:"after_time"`
	Counts    string          `json:"counts"`
}

// timeLimitValue is a time limit as a request gives it: a string
// ("90m", "1h30m", "90": minutes) or a JSON number of whole minutes (90),
// as README says "a bare number is minutes".
type timeLimitValue string

func (v *timeLimitValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = timeLimitValue(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return grader.Errorf(grader.EINVALID, "time_limit must be a duration such as \"90m\" or \"1h30m\", or a whole number of minutes")
	}
	if _, err := n.Int64(); err != nil {
		return grader.Errorf(grader.EINVALID, "time_limit %s is not a whole number of minutes; write it like 90 or \"1h30m\"", n)
	}
	*v = timeLimitValue(n.String())
	return nil
}

func (r timedRequest) apply(a *grader.Assignment) error {
	var err error
	if r.TimeLimit != nil {
		if a.TimeLimit, err = grader.ParseTimeLimit(string(*r.TimeLimit)); err != nil {
			return err
		}
	}
	if a.AfterTime, err = grader.ParseAfterTime(r.AfterTime); err != nil {
		return err
	}
	a.Counts, err = grader.ParseCounts(r.Counts)
	return err
}

// revokeAssignment revokes an assignment: it refuses every submission from
// now on, and its candidate sees it revoked. Revoking twice keeps the first.
func (s *Server) revokeAssignment(c echo.Context) error {
	a, err := s.cfg.Auth.RevokeAssignment(c.Request().Context(), c.Param("id"), caller(c).ID, s.now())
	if err != nil {
		return err
	}
	return s.assignmentAnswer(c, a)
}

// extendRequest is one extension: a new deadline or minutes to add.
type extendRequest struct {
	Deadline   *string `json:"deadline"`
	AddMinutes int64   `json:"add_minutes"`
}

// extendAssignment records an extension, with who and when.
func (s *Server) extendAssignment(c echo.Context) error {
	var req extendRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	now := s.now()
	e := grader.Extension{At: now, By: caller(c).ID}
	if req.Deadline != nil {
		var err error
		if e.Deadline, err = grader.ParseDeadline(*req.Deadline, now); err != nil {
			return err
		}
	}
	if req.AddMinutes < 0 || req.AddMinutes > int64(grader.MaxTimeLimit/time.Minute) {
		return grader.Errorf(grader.EINVALID, "add_minutes must be between 1 and %d", int64(grader.MaxTimeLimit/time.Minute))
	}
	e.Added = time.Duration(req.AddMinutes) * time.Minute
	a, err := s.cfg.Auth.ExtendAssignment(c.Request().Context(), c.Param("id"), e)
	if err != nil {
		return err
	}
	return s.assignmentAnswer(c, a)
}

// openOnRead starts the clock of the assignment a candidate's submissions
// to the exercise would go under (assignmentFor) when the candidate reads
// the task through the API (the prompt, the starter): the same first-open
// rule as the candidate's page and its starter download. Staff, a token
// without such an assignment, and a live session's assignment (opened by
// its session) start nothing.
func (s *Server) openOnRead(c echo.Context, exercise string) error {
	tok := caller(c)
	if tok == nil || tok.Role != grader.RoleCandidate || s.cfg.Auth == nil {
		return nil
	}
	a, err := s.assignmentFor(c, tok, exercise)
	if err != nil {
		if grader.ErrorCode(err) == grader.EFORBIDDEN {
			return nil
		}
		return err
	}
	if a.Live != "" {
		return nil
	}
	_, err = grader.OpenAssignment(c.Request().Context(), s.cfg.Auth, a, tok, s.now())
	return err
}
