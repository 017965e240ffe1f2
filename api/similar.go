package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/similar"
)

// similarity is what the similarity routes need of the grading service
// (implemented by *grader.Service); a Grader that is not one answers them
// with 503.
type similarity interface {
	Similar(ctx context.Context, id string) ([]grader.SimilarMatch, error)
	ExerciseSimilar(ctx context.Context, exercise string) ([]grader.SimilarPair, error)
}

// similarSideJSON names one side of a pair: a submission, or the catalog
// answer it matches (named only: its code is never shown).
type similarSideJSON struct {
	Submission string    `json:"submission,omitempty"`
	Candidate  string    `json:"candidate,omitempty"`
	CreatedAt  time.Time `json:"created_at,omitzero"`
	Catalog    string    `json:"catalog,omitempty"`
}

func sideOf(sub *grader.Submission, catalog string) similarSideJSON {
	if sub == nil {
		return similarSideJSON{Catalog: catalog}
	}
	return similarSideJSON{Submission: sub.ID, Candidate: sub.Candidate, CreatedAt: sub.CreatedAt.UTC()}
}

// similarJSON is one flagged pair from one side: how much is shared, and
// the matching line ranges on each side.
type similarJSON struct {
	Other     similarSideJSON  `json:"other"`
	Score     float64          `json:"score"`
	Shared    int              `json:"shared"`
	QuerySize int              `json:"query_size"`
	OtherSize int              `json:"other_size"`
	Regions   []similar.Region `json:"regions"`
	// OtherRegions are empty for a catalog answer, whose code is not shown.
	OtherRegions []similar.Region `json:"other_regions"`
}

func similarView(other similarSideJSON, m similar.Match) similarJSON {
	out := similarJSON{Other: other, Score: m.Score, Shared: m.Shared, QuerySize: m.QuerySize, OtherSize: m.OtherSize,
		Regions: m.Query, OtherRegions: m.Other}
	if other.Catalog != "" {
		out.OtherRegions = []similar.Region{}
	}
	if out.Regions == nil {
		out.Regions = []similar.Region{}
	}
	if out.OtherRegions == nil {
		out.OtherRegions = []similar.Region{}
	}
	return out
}

func (s *Server) similarity() (similarity, error) {
	sim, ok := s.cfg.Grader.(similarity)
	if !ok {
		return nil, grader.Errorf(grader.EUNAVAILABLE, "this server keeps no similarity index")
	}
	return sim, nil
}

// submissionSimilar lists a submission's flagged pairs (staff only): other
// candidates' submissions and catalog answers it shares most of its code
// with, best first.
func (s *Server) submissionSimilar(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	sim, err := s.similarity()
	if err != nil {
		return err
	}
	matches, err := sim.Similar(c.Request().Context(), sub.ID)
	if err != nil {
		return err
	}
	out := struct {
		Similar []similarJSON `json:"similar"`
	}{Similar: make([]similarJSON, 0, len(matches))}
	for _, m := range matches {
		out.Similar = append(out.Similar, similarView(sideOf(m.Submission, m.Catalog), m.Match))
	}
	return c.JSON(http.StatusOK, out)
}

// exerciseSimilar lists an exercise's flagged pairs (staff only), each once.
func (s *Server) exerciseSimilar(c echo.Context) error {
	ex, err := s.cfg.Catalog.Exercise(c.Param("id"))
	if err != nil {
		return err
	}
	sim, err := s.similarity()
	if err != nil {
		return err
	}
	pairs, err := sim.ExerciseSimilar(c.Request().Context(), ex.ID)
	if err != nil {
		return err
	}
	type pairJSON struct {
		A similarSideJSON `json:"a"`
		similarJSON
	}
	out := struct {
		Pairs []pairJSON `json:"pairs"`
	}{Pairs: make([]pairJSON, 0, len(pairs))}
	for _, p := range pairs {
		out.Pairs = append(out.Pairs, pairJSON{A: sideOf(p.A, ""), similarJSON: similarView(sideOf(p.B, p.Catalog), p.Match)})
	}
	return c.JSON(http.StatusOK, out)
}
