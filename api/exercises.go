package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// exerciseJSON is the API's summary of an exercise. The rubric, solutions,
// variants and hidden tests are the interviewer's and never appear here.
type exerciseJSON struct {
	ID         string             `json:"id"`
	Title      string             `json:"title"`
	Summary    string             `json:"summary"`
	MaxScore   int                `json:"max_score"`
	Topics     []string           `json:"topics"`
	Difficulty string             `json:"difficulty"`
	TimeBudget string             `json:"time_budget"`
	Database   string             `json:"database"`
	Categories []exerciseCategory `json:"categories"`
}

type exerciseCategory struct {
	Name   string `json:"name"`
	Points int    `json:"points"`
}

// exerciseDetailJSON adds what a candidate needs to start: the prompt and
// the paths they may change.
type exerciseDetailJSON struct {
	exerciseJSON
	Version  int      `json:"version"`
	Editable []string `json:"editable"`
	Prompt   string   `json:"prompt"`
}

type exerciseListJSON struct {
	Exercises []exerciseJSON `json:"exercises"`
}

func (s *Server) listExercises(c echo.Context) error {
	list := exerciseListJSON{Exercises: []exerciseJSON{}}
	for _, e := range s.cfg.Catalog.Exercises() {
		list.Exercises = append(list.Exercises, exerciseSummary(e))
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
	return c.JSON(http.StatusOK, exerciseDetailJSON{
		exerciseJSON: exerciseSummary(e),
		Version:      e.Version,
		Editable:     nonNil(e.Editable),
		Prompt:       e.Prompt,
	})
}

func exerciseSummary(e *grader.Exercise) exerciseJSON {
	cats := make([]exerciseCategory, 0, len(e.Categories))
	for _, c := range e.Categories {
		cats = append(cats, exerciseCategory{Name: c.Name, Points: c.Points})
	}
	return exerciseJSON{
		ID:         e.ID,
		Title:      e.Title,
		Summary:    e.Summary,
		MaxScore:   e.MaxScore(),
		Topics:     nonNil(e.Topics),
		Difficulty: e.Difficulty,
		TimeBudget: formatBudget(e.TimeBudget),
		Database:   e.Database,
		Categories: cats,
	}
}

// formatBudget writes a duration as Go's ParseDuration reads it, without
// the zero tails ("45m", "1h30m" rather than "45m0s", "1h30m0s"); "" when
// the exercise has no budget.
func formatBudget(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
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
