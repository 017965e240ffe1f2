package grader

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Kinds of answer an exercise is validated with.
const (
	KindSolution = "solution"
	KindStarter  = "starter"
	KindVariant  = "variant"
)

// Check is one answer of an exercise to grade during validation and the
// score range it must land in.
type Check struct {
	Exercise string     `json:"exercise"`
	Kind     string     `json:"kind"`
	Name     string     `json:"name"`
	Want     ScoreRange `json:"want"`
	// Dir is the overlay folder in the exercise ("" for the starter).
	Dir string `json:"-"`
}

// ValidationRow is the outcome of one Check over every repeat.
type ValidationRow struct {
	Check
	Scores   []int         `json:"scores"`
	Verdicts []Verdict     `json:"verdicts"`
	Reason   string        `json:"reason,omitempty"`
	Took     time.Duration `json:"took_ns"`
	// OK is set when every repeat landed in range with the same score.
	OK bool `json:"ok"`
	// Problem says why the row is not OK.
	Problem string `json:"problem,omitempty"`
	// Lost lists, per repeat, the hidden checks that did not get full points
	// with the points they got ("id 1/2"): what a miss's Problem is read from.
	Lost [][]string `json:"lost,omitempty"`
}

// Checks lists what proves an exercise's grading: every solution must score
// full marks, the starter and every variant their declared ranges.
func Checks(ex *Exercise) []Check {
	full := ScoreRange{Min: ex.MaxScore(), Max: ex.MaxScore()}
	var cs []Check
	for _, s := range ex.Solutions {
		cs = append(cs, Check{Exercise: ex.ID, Kind: KindSolution, Name: s, Want: full, Dir: "solutions/" + s})
	}
	cs = append(cs, Check{Exercise: ex.ID, Kind: KindStarter, Name: "starter", Want: ex.StarterScore})
	for _, v := range ex.Variants {
		cs = append(cs, Check{Exercise: ex.ID, Kind: KindVariant, Name: v.Name, Want: v.Score, Dir: "variants/" + v.Name})
	}
	return cs
}

// Validate grades each check repeat times through the service's sandbox,
// running up to parallel gradings at once, and calls done as each row
// finishes. Rows come back in the order of checks. An error means the
// grading infrastructure failed.
func (s *Service) Validate(ctx context.Context, catalog Catalog, checks []Check, repeat, parallel int, done func(ValidationRow)) ([]ValidationRow, error) {
	if repeat < 1 {
		repeat = 1
	}
	if parallel < 1 {
		parallel = 1
	}
	rows := make([]ValidationRow, len(checks))
	errs := make([]error, len(checks))
	sem := make(chan struct{}, parallel)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rows[i], errs[i] = s.validateOne(ctx, catalog, c, repeat)
			if errs[i] == nil && done != nil {
				mu.Lock()
				done(rows[i])
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return rows, err
		}
	}
	return rows, nil
}

func (s *Service) validateOne(ctx context.Context, catalog Catalog, c Check, repeat int) (ValidationRow, error) {
	row := ValidationRow{Check: c}
	ex, err := catalog.Exercise(c.Exercise)
	if err != nil {
		return row, err
	}
	var files []File
	if c.Dir != "" {
		if files, err = OverlayFiles(ex, c.Dir); err != nil {
			return row, Wrap(err, EINTERNAL, "read %s/%s", ex.ID, c.Dir)
		}
	}
	start := time.Now()
	for i := 0; i < repeat; i++ {
		res, err := s.Grade(ctx, ex, files, fmt.Sprintf("validate-%s-%s-%d", ex.ID, c.Name, i), nil)
		if err != nil {
			return row, err
		}
		row.Scores = append(row.Scores, res.Score)
		row.Lost = append(row.Lost, lostChecks(res))
		row.Verdicts = append(row.Verdicts, res.Verdict)
		row.Reason = res.Reason
	}
	row.Took = time.Since(start) / time.Duration(repeat)
	row.OK = true
	for _, sc := range row.Scores {
		if sc != row.Scores[0] {
			row.OK, row.Problem = false, fmt.Sprintf("not deterministic: scores %v; checks that varied: %s",
				row.Scores, strings.Join(varied(row.Lost), ", "))
			return row, nil
		}
	}
	if !c.Want.Contains(row.Scores[0]) {
		row.OK, row.Problem = false, fmt.Sprintf("scored %d, want %d..%d; lost: %s",
			row.Scores[0], c.Want.Min, c.Want.Max, strings.Join(row.Lost[0], ", "))
	}
	return row, nil
}

// lostChecks names the hidden checks of a result that got less than their
// points, with what they got.
func lostChecks(res *Result) []string {
	var lost []string
	for _, t := range res.Tests {
		if t.Hidden && t.Points < t.MaxPoints {
			lost = append(lost, fmt.Sprintf("%s %d/%d", t.Name, t.Points, t.MaxPoints))
		}
	}
	if len(lost) == 0 {
		lost = []string{"none"}
	}
	return lost
}

// varied lists what is not the same in every repeat's lost checks.
func varied(lost [][]string) []string {
	count := map[string]int{}
	var order []string
	for _, run := range lost {
		for _, l := range run {
			if count[l] == 0 {
				order = append(order, l)
			}
			count[l]++
		}
	}
	var out []string
	for _, l := range order {
		if count[l] != len(lost) {
			out = append(out, fmt.Sprintf("%s (in %d of %d runs)", l, count[l], len(lost)))
		}
	}
	return out
}
