package export

import (
	"encoding/json"
	"io"

	"github.com/djgrade/djgrade/grader"
)

// Gradescope's autograder results.json, as its specification describes it
// (gradescope-autograders.readthedocs.io, "Autograder Specifications"): the
// submission's score and one test per test of the export view. A test's
// status is "passed" for a passed outcome and "failed" for any other; its
// tags are its category. Visibility follows what the candidate could see on
// djgrade: public tests are "visible", hidden checks "after_published"
// (shown to students once the instructor publishes grades; by published
// name, outcome and points only, never a message, since the export view
// holds none). An instructor who wants hidden checks never shown edits the
// field to "hidden" before the upload. The document has no "output" (nor
// any log): Gradescope shows it to students, and the export view's reason
// is the run's own words, written for staff.

// Visibility values of Gradescope's tests.
const (
	GradescopeVisible        = "visible"
	GradescopeAfterPublished = "after_published"
)

// GradescopeResults is the results.json document.
type GradescopeResults struct {
	Score      int              `json:"score"`
	MaxScore   int              `json:"max_score"`
	Visibility string           `json:"visibility"`
	Tests      []GradescopeTest `json:"tests"`
	// ExtraData carries djgrade's identity of the submission, which
	// Gradescope stores without showing it.
	ExtraData map[string]string `json:"extra_data"`
}

// GradescopeTest is one test or hidden check.
type GradescopeTest struct {
	Name       string   `json:"name"`
	Score      int      `json:"score"`
	MaxScore   int      `json:"max_score"`
	Status     string   `json:"status"`
	Visibility string   `json:"visibility"`
	Tags       []string `json:"tags"`
	// Number orders the tests on Gradescope's page: "1", "2", ...
	Number string `json:"number"`
}

// Gradescope is the row's result as Gradescope's results.json. The row must
// have a result; the caller refuses rows that are not done.
func Gradescope(r Row) GradescopeResults {
	out := GradescopeResults{
		Visibility: GradescopeVisible, Tests: []GradescopeTest{},
		ExtraData: map[string]string{"djgrade_submission": r.Submission, "exercise": r.Exercise, "candidate": r.Candidate},
	}
	if r.Assignment != "" {
		out.ExtraData["assignment"] = r.Assignment
	}
	v := r.Result
	if v == nil {
		return out
	}
	out.Score, out.MaxScore = v.Score, v.MaxScore
	out.ExtraData["verdict"] = string(v.Verdict)
	for i, t := range v.Tests {
		gt := GradescopeTest{
			Name: t.Name, Score: t.Points, MaxScore: t.MaxPoints, Status: "failed",
			Visibility: GradescopeVisible, Tags: []string{}, Number: itoa(i + 1),
		}
		if t.Outcome == grader.OutcomePassed {
			gt.Status = "passed"
		}
		if t.Hidden {
			gt.Visibility = GradescopeAfterPublished
		}
		if t.Category != "" {
			gt.Tags = append(gt.Tags, t.Category)
		}
		out.Tests = append(out.Tests, gt)
	}
	return out
}

// WriteGradescope writes the row's results.json, indented.
func WriteGradescope(w io.Writer, r Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(Gradescope(r))
}
