package api

import (
	"bytes"
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/api/upload"
	"github.com/djgrade/djgrade/grader"
)

// publicRunner is what the public-tests route needs of the grading service
// (implemented by *grader.Service); a Grader that is not one answers the
// route with 503.
type publicRunner interface {
	PublicRun(ctx context.Context, exercise string, files []grader.File) (*grader.PublicRun, error)
}

// publicRunSpec is the form of runPublicTests: the archive alone.
var publicRunSpec = upload.Spec{File: fieldArchive, TextMax: maxTextField}

// runPublicTests runs the exercise's public tests over an uploaded archive
// and answers with their outcomes when they are done: the fast path for
// feedback (practice, a live session's "Run tests"). A candidate token may
// run them for an exercise it was assigned; staff for any.
func (s *Server) runPublicTests(c echo.Context) error {
	id := c.Param("id")
	if id == "" || len(id) > maxIDLen {
		return grader.Errorf(grader.ENOTFOUND, "no such exercise")
	}
	ex, err := s.cfg.Catalog.Exercise(id)
	if err != nil {
		return err
	}
	tok := caller(c)
	if tok.Role == grader.RoleCandidate {
		if err := s.publicRunAssigned(c, tok, ex.ID); err != nil {
			return err
		}
		a, err := s.assignmentFor(c, tok, ex.ID)
		if err != nil {
			return err
		}
		// A revoked assignment runs nothing more; running the tests is
		// working on the task, which opens the assignment.
		if a.IsRevoked() {
			return grader.Errorf(grader.EFORBIDDEN, "this assignment was revoked; its tests no longer run")
		}
		if err := s.openOnRead(c, ex.ID); err != nil {
			return err
		}
	}
	runner, ok := s.cfg.Grader.(publicRunner)
	if !ok {
		return grader.Errorf(grader.EUNAVAILABLE, "this server does not run public tests")
	}
	// An upload slot while the body is read, not while the tests run:
	// runs waiting for the sandbox must not hold up submissions.
	release, err := s.limits.Upload(tok.ID)
	if err != nil {
		return err
	}
	form, err := upload.Read(c.Request(), publicRunSpec)
	if err != nil {
		release()
		return uploadError(err)
	}
	files, err := readArchive(bytes.NewReader(form.File), s.cfg.ArchiveLimits)
	release()
	if err != nil {
		return archiveError(err)
	}
	if len(files) == 0 {
		return grader.Errorf(grader.EINVALID, "the archive holds no files")
	}
	done, err := s.limits.PublicRun(tok.ID)
	if err != nil {
		return err
	}
	defer done() // once: a panic frees it too
	// Freed before the answer is written: a client that sends its next
	// run on reading this answer finds the token's run done.
	run, err := runner.PublicRun(c.Request().Context(), ex.ID, files)
	done()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, run)
}

// publicRunAssigned lets a candidate token run the public tests of an
// exercise it was assigned other than through a live session. A live
// session's runs are the session's: each is recorded and shown to the
// interviewer as it happens, one every grader.LiveRunEvery; a run here
// would be off that record.
func (s *Server) publicRunAssigned(c echo.Context, tok *grader.Token, exercise string) error {
	list, err := s.cfg.Auth.Assignments(c.Request().Context(), tok.ID)
	if err != nil {
		return err
	}
	live := ""
	for _, a := range list {
		if a.Exercise != exercise {
			continue
		}
		if a.Live == "" {
			return nil
		}
		live = a.Live
	}
	if live != "" {
		return grader.Errorf(grader.EFORBIDDEN, "exercise %q is your live session %s: run its tests from the session's page", truncate(exercise, 64), live)
	}
	return grader.Errorf(grader.EFORBIDDEN, "this token was not assigned exercise %q", truncate(exercise, 64))
}
