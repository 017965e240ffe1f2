package grader

import (
	"strings"
	"time"
)

// The one JSON schema of a graded result and of an exercise, for every
// program that prints one: `djgrade grade --json` and `djgrade exercises
// list --json` print these types, and the API's submission, public-run
// and exercise documents are made of them too (README: "The result JSON").
// Result itself keeps its own tags: it is also the stored format.

// ResultJSON is a result as one audience may see it (see Result.View).
// Score, MaxScore and Verdict are null until the result is final; the
// lists are never null. Fields the audience may not see are left out.
type ResultJSON struct {
	Score      *int           `json:"score"`
	MaxScore   *int           `json:"max_score"`
	Verdict    *string        `json:"verdict"`
	Reason     string         `json:"reason,omitempty"`
	Categories []CategoryJSON `json:"categories"`
	Tests      []TestJSON     `json:"tests"`
	Refused    []RefusedJSON  `json:"refused"`
	// FailedChecks names the hidden checks not passed, as the audience may
	// see them.
	FailedChecks []string `json:"failed_checks,omitempty"`
	// Seed is the hidden checks' data seed (replay: djgrade grade --seed).
	Seed     int64     `json:"seed,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	// Log, JudgeLog, TimingsMS and ExitCode are the run's own output and
	// figures, where the audience may see them (the CLI).
	Log       string           `json:"log,omitempty"`
	JudgeLog  string           `json:"judge_log,omitempty"`
	TimingsMS map[string]int64 `json:"timings_ms,omitempty"`
	ExitCode  *int             `json:"exit_code,omitempty"`
}

// CategoryJSON is the score within one rubric category.
type CategoryJSON struct {
	Name     string `json:"name"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
}

// TestJSON is one test's or hidden check's outcome. Duration is in
// seconds.
type TestJSON struct {
	Name      string  `json:"name"`
	NodeID    string  `json:"node_id,omitempty"`
	Category  string  `json:"category"`
	Outcome   string  `json:"outcome"`
	Points    int     `json:"points"`
	MaxPoints int     `json:"max_points"`
	Message   string  `json:"message"`
	Queries   int     `json:"queries"`
	Hidden    bool    `json:"hidden"`
	Duration  float64 `json:"duration"`
}

// testJSON renders one test's row in the one schema: all of it, so only a
// row of a view (or of a public run, which holds no hidden check) should
// be rendered.
func testJSON(t TestResult) TestJSON {
	return TestJSON{
		Name: t.Name, NodeID: t.NodeID, Category: t.Category, Outcome: t.Outcome,
		Points: t.Points, MaxPoints: t.MaxPoints, Message: t.Message,
		Queries: t.Queries, Hidden: t.Hidden, Duration: t.Duration,
	}
}

// RefusedJSON is a file of the submission that was not graded, and why.
type RefusedJSON struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// JSON renders the view in the one schema: everything the view holds, and
// nothing else. A nil view renders as a result that is not final.
func (v *ResultView) JSON() ResultJSON {
	out := ResultJSON{Categories: []CategoryJSON{}, Tests: []TestJSON{}, Refused: []RefusedJSON{}}
	if v == nil {
		return out
	}
	score, maxScore, verdict := v.Score, v.MaxScore, string(v.Verdict)
	out.Score, out.MaxScore, out.Verdict = &score, &maxScore, &verdict
	out.Reason = v.Reason
	for _, c := range v.Categories {
		out.Categories = append(out.Categories, CategoryJSON{Name: c.Name, Score: c.Score, MaxScore: c.MaxScore})
	}
	for _, t := range v.Tests {
		out.Tests = append(out.Tests, testJSON(t))
	}
	for _, r := range v.Refused {
		out.Refused = append(out.Refused, RefusedJSON{Path: r.Path, Reason: r.Reason})
	}
	out.FailedChecks = v.FailedChecks
	out.Seed, out.Findings = v.Seed, v.Findings
	out.Log, out.JudgeLog = v.Log, v.JudgeLog
	if v.Timings != nil {
		// The view keeps the timings and the exit code together.
		out.TimingsMS = v.Timings
		code := v.ExitCode
		out.ExitCode = &code
	}
	return out
}

// ExerciseJSON is an exercise in a list of the catalog.
type ExerciseJSON struct {
	ID         string             `json:"id"`
	Title      string             `json:"title"`
	Summary    string             `json:"summary"`
	MaxScore   int                `json:"max_score"`
	Topics     []string           `json:"topics"`
	Difficulty string             `json:"difficulty"`
	TimeBudget string             `json:"time_budget"`
	Database   string             `json:"database"`
	Categories []ExerciseCategory `json:"categories"`
}

// ExerciseCategory is a rubric category and its points.
type ExerciseCategory struct {
	Name   string `json:"name"`
	Points int    `json:"points"`
}

// ExerciseListJSON is a list of exercises: {"exercises": [...]}.
type ExerciseListJSON struct {
	Exercises []ExerciseJSON `json:"exercises"`
}

// ExerciseSummaryJSON renders e in the one schema.
func ExerciseSummaryJSON(e *Exercise) ExerciseJSON {
	cats := make([]ExerciseCategory, 0, len(e.Categories))
	for _, c := range e.Categories {
		cats = append(cats, ExerciseCategory{Name: c.Name, Points: c.Points})
	}
	topics := e.Topics
	if topics == nil {
		topics = []string{}
	}
	return ExerciseJSON{
		ID: e.ID, Title: e.Title, Summary: e.Summary, MaxScore: e.MaxScore(),
		Topics: topics, Difficulty: e.Difficulty, TimeBudget: FormatBudget(e.TimeBudget),
		Database: e.Database, Categories: cats,
	}
}

// FormatBudget writes a duration as Go's ParseDuration reads it, without
// the zero tails ("45m", "1h30m" rather than "45m0s", "1h30m0s"); "" when
// there is no budget.
func FormatBudget(d time.Duration) string {
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
