package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// The API's exercises are grader.ExerciseJSON, the one schema `djgrade
// exercises list --json` prints too. The rubric, solutions, variants and
// hidden tests are the interviewer's and never appear there.

// exerciseDetailJSON adds what a candidate needs to start: the prompt and
// the paths they may change.
type exerciseDetailJSON struct {
	grader.ExerciseJSON
	Version  int      `json:"version"`
	Editable []string `json:"editable"`
	Prompt   string   `json:"prompt"`
}

func (s *Server) listExercises(c echo.Context) error {
	list := grader.ExerciseListJSON{Exercises: []grader.ExerciseJSON{}}
	for _, e := range s.cfg.Catalog.Exercises() {
		list.Exercises = append(list.Exercises, grader.ExerciseSummaryJSON(e))
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getExercise(c echo.Context) error {
	id := c.Param("id")
	if id == "" || len(id) > maxIDLen {
		return grader.Errorf(grader.ENOTFOUND, "no such exercise")
	}
	e, err := s.cfg.Catalog.Exercise(id)
	if err != nil {
		return err
	}
	// The prompt is the task: a candidate reading it opens the assignment.
	if err := s.openOnRead(c, e.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, exerciseDetailJSON{
		ExerciseJSON: grader.ExerciseSummaryJSON(e),
		Version:      e.Version,
		Editable:     nonNil(e.Editable),
		Prompt:       e.Prompt,
	})
}

// nonNil makes a nil list encode as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// starterFiles returns what a candidate downloads to start: the starter
// project, which holds the public tests. Hidden tests, solutions and
// variants live in other folders of the exercise and are never read here.
func (s *Server) starterFiles(c echo.Context) (*grader.Exercise, []grader.File, error) {
	id := c.Param("id")
	if id == "" || len(id) > maxIDLen {
		return nil, nil, grader.Errorf(grader.ENOTFOUND, "no such exercise")
	}
	e, err := s.cfg.Catalog.Exercise(id)
	if err != nil {
		return nil, nil, err
	}
	files, err := grader.StarterDownload(e)
	if err != nil {
		return nil, nil, grader.Wrap(err, grader.EINTERNAL, "cannot read the starter")
	}
	// The task is in the starter too: downloading it opens the assignment.
	if err := s.openOnRead(c, e.ID); err != nil {
		return nil, nil, err
	}
	return e, files, nil
}

func (s *Server) starterZip(c echo.Context) error {
	e, files, err := s.starterFiles(c)
	if err != nil {
		return err
	}
	return sendZip(c, e.ID+"-starter.zip", files)
}

func (s *Server) starterTarGz(c echo.Context) error {
	e, files, err := s.starterFiles(c)
	if err != nil {
		return err
	}
	return sendTarGz(c, e.ID+"-starter.tar.gz", files)
}
