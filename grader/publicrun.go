package grader

import (
	"context"
	"fmt"
	"time"

	"github.com/djgrade/djgrade/grader/internal/text"
	"github.com/djgrade/djgrade/grader/pytest"
)

// PublicRun is a run of a candidate's public tests only: the fast path for
// feedback (practice, a live session's "Run tests"). It runs in the
// candidate's container alone (Job.PublicOnly): no judge, no hidden check,
// no server. It scores nothing and is not stored: the public tests are
// the candidate's own code talking.
type PublicRun struct {
	Exercise string `json:"exercise"`
	// Verdict is passed when every public test passed, failed when some
	// failed, error when they could not run (the project does not import,
	// or its container ended first), or the limit the run was stopped at.
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	// Tests are the public tests' outcomes, in the order pytest ran them,
	// in the one schema of a test (duration in seconds, as in a result).
	Tests   []TestJSON    `json:"tests"`
	Refused []RefusedFile `json:"refused,omitempty"`
	// Log is what the candidate's container wrote, capped.
	Log string `json:"log,omitempty"`
	// Timings of each phase in milliseconds ("total" among them).
	Timings map[string]int64 `json:"timings_ms,omitempty"`
}

// PublicRun runs the public tests of the candidate's files (which may be
// wrapped in one folder) against the exercise with the id; see RunPublic.
// At most Concurrency public runs go at once (besides the workers'
// grades); the others wait their turn, up to Config.PublicWait, then get
// EUNAVAILABLE.
func (s *Service) PublicRun(ctx context.Context, exercise string, files []File) (*PublicRun, error) {
	ex, err := s.Catalog.Exercise(exercise)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, Errorf(EINVALID, "no files to run")
	}
	wait := time.NewTimer(s.PublicWait)
	defer wait.Stop()
	select {
	case s.publicSlots <- struct{}{}:
		defer func() { <-s.publicSlots }()
	case <-wait.C:
		return nil, Errorf(EUNAVAILABLE, "every public-tests slot stayed busy for %s; try again", s.PublicWait)
	case <-ctx.Done():
		return nil, Wrap(ctx.Err(), EUNAVAILABLE, "every public-tests slot stayed busy; try again")
	}
	return s.RunPublic(ctx, ex, files, "public-"+ex.ID)
}

// RunPublic runs the candidate's files' public tests against ex, now.
// Like Grade, a candidate's failing code is a PublicRun; an error means the
// run itself could not be done.
func (s *Service) RunPublic(ctx context.Context, ex *Exercise, files []File, id string) (*PublicRun, error) {
	start := time.Now()
	job, ws, err := s.job(ex, files, id, true)
	if err != nil {
		return nil, err
	}
	out, err := s.run(ctx, job)
	if err != nil {
		return nil, err
	}
	r := &PublicRun{
		Exercise: ex.ID, Refused: ws.Refused, Tests: []TestJSON{},
		Log:     text.Cap(string(out.CandidateLog), MaxLogBytes),
		Timings: map[string]int64{},
	}
	for k, v := range out.Timings {
		r.Timings[k] = v.Milliseconds()
	}
	r.Timings["total"] = time.Since(start).Milliseconds()
	if v, reason := stopped(ex, out.Verdict, "its public tests were"); v != "" {
		r.Verdict, r.Reason = v, reason
		return r, nil
	}
	rep := pytest.ParsePublic(out.Public)
	if rep == nil {
		r.Verdict, r.Reason = VerdictError, "the public tests did not report (the project may not import); see the log"
		return r, nil
	}
	failed := 0
	for _, t := range rep.Tests {
		r.Tests = append(r.Tests, testJSON(TestResult{
			Name: t.NodeID, NodeID: t.NodeID, Category: "public", Outcome: t.Outcome,
			Message: t.Message, Duration: t.Duration, Queries: t.Queries,
		}))
		if t.Outcome == OutcomeFailed || t.Outcome == OutcomeError {
			failed++
		}
	}
	switch {
	case len(rep.Tests) == 0:
		r.Verdict, r.Reason = VerdictError, fmt.Sprintf("no public test ran (pytest exit %d); see the log", rep.ExitStatus)
	case failed > 0:
		r.Verdict, r.Reason = VerdictFailed, fmt.Sprintf("%d of %d public tests failed", failed, len(rep.Tests))
	default:
		r.Verdict, r.Reason = VerdictPassed, fmt.Sprintf("all %d public tests passed", len(rep.Tests))
	}
	return r, nil
}
