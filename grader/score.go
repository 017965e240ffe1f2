package grader

import (
	"fmt"
	"strings"

	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/internal/text"
	"github.com/djgrade/djgrade/grader/pytest"
)

// MaxLogBytes caps each log kept with a result.
const MaxLogBytes = 64 << 10

// Score turns a sandbox outcome into a result, by the exercise's rubric:
// the points of every hidden check that passed, per category, in integers,
// with the points taken from the exercise's inventory (ex.Checks), never
// from the report.
//
// A run stopped at a limit scores nothing. The judge's report must name
// exactly the exercise's checks with every number in bounds; a judge that
// wrote none, or wrote one that does not fit, is djgrade's failure, not
// the candidate's: Score returns an EINTERNAL error then. The public tests
// come from the candidate's container and decide no point; failing ones
// keep the verdict from being passed.
func Score(ex *Exercise, out Outcome) (*Result, error) {
	res := &Result{
		MaxScore: ex.MaxScore(),
		ExitCode: out.JudgeExit,
		Log:      text.Cap(string(out.CandidateLog), MaxLogBytes),
		JudgeLog: text.Cap(string(out.JudgeLog), MaxLogBytes),
		Timings:  map[string]int64{},
	}
	for k, v := range out.Timings {
		res.Timings[k] = v.Milliseconds()
	}
	res.Categories = make([]CategoryScore, len(ex.Categories))
	catIndex := map[string]int{}
	for i, c := range ex.Categories {
		res.Categories[i] = CategoryScore{Name: c.Name, MaxScore: c.Points}
		catIndex[c.Name] = i
	}
	public := pytest.ParsePublic(out.Public)

	if v, reason := stopped(ex, out.Verdict, "the hidden checks were"); v != "" {
		return res.fail(v, reason), nil
	}
	if out.Report == nil {
		return nil, Errorf(EINTERNAL, "the judge wrote no report (pytest exit %d): %s", out.JudgeExit, lastLines(string(out.JudgeLog), 3))
	}
	rep, err := pytest.ParseReport(out.Report, ex.CheckIDs())
	if err != nil {
		return nil, Wrap(err, EINTERNAL, "the judge's report cannot be used: %v", err)
	}
	res.Seed = rep.Seed

	outcomes := make(map[string]pytest.Check, len(rep.Checks))
	for _, c := range rep.Checks {
		outcomes[c.ID] = c
	}
	passed, errored := 0, 0
	for _, c := range ex.Checks {
		rc := outcomes[c.ID]
		tr := TestResult{
			Name:      c.Name,
			NodeID:    c.ID,
			Hidden:    true,
			Category:  c.Category,
			Outcome:   rc.Outcome,
			MaxPoints: c.Points,
			Message:   text.Cap(rc.Message, pytest.MaxMessageBytes),
			Duration:  rc.Duration,
		}
		if rc.Queries != nil {
			tr.Queries = *rc.Queries
		}
		switch rc.Outcome {
		case OutcomePassed:
			tr.Points = c.Points
			res.Categories[catIndex[c.Category]].Score += c.Points
			passed++
		case OutcomeError:
			errored++
		}
		res.Tests = append(res.Tests, tr)
	}
	publicFailed := -1 // unknown
	if public != nil {
		publicFailed = 0
		for _, t := range public.Tests {
			res.Tests = append(res.Tests, TestResult{
				Name: t.NodeID, NodeID: t.NodeID, Category: "public", Outcome: t.Outcome,
				Message: t.Message, Duration: t.Duration,
			})
			if t.Outcome == OutcomeFailed || t.Outcome == OutcomeError {
				publicFailed++
			}
		}
	}
	for _, c := range res.Categories {
		res.Score += c.Score
	}
	hidden := len(ex.Checks)
	switch {
	case res.Score == res.MaxScore && publicFailed == 0:
		res.Verdict, res.Reason = VerdictPassed, fmt.Sprintf("all %d hidden checks passed", hidden)
	case res.Score == res.MaxScore && publicFailed > 0:
		res.Verdict, res.Reason = VerdictFailed, fmt.Sprintf("all %d hidden checks passed, but %d public tests fail", hidden, publicFailed)
	case res.Score == res.MaxScore:
		res.Verdict, res.Reason = VerdictFailed, fmt.Sprintf("all %d hidden checks passed, but the public tests did not report", hidden)
	case errored == hidden:
		res.Verdict, res.Reason = VerdictError, "every hidden check failed to set up: the project does not import, migrate or serve; see the log"
	default:
		res.Verdict, res.Reason = VerdictFailed, fmt.Sprintf("%d of %d hidden checks passed", passed, hidden)
	}
	return res, nil
}

// stopped maps a run that ended at a limit (or with the candidate's
// container gone before what was being run was done) to its verdict and
// reason; "" for a run that ended as it should.
func stopped(ex *Exercise, v RunVerdict, what string) (Verdict, string) {
	lim := ex.Limits.WithDefaults()
	switch v {
	case RunTimeout:
		return VerdictTimeout, fmt.Sprintf("the run was stopped at the %s time limit", lim.Timeout)
	case RunOOM:
		return VerdictOOM, fmt.Sprintf("the run was stopped at the %s memory limit", archive.FormatBytes(lim.MemoryBytes))
	case RunOutputLimit:
		return VerdictOutputLimit, fmt.Sprintf("the run wrote more than %s of output", archive.FormatBytes(lim.OutputBytes))
	case RunProcessLimit:
		return VerdictProcessLimit, fmt.Sprintf("the run started more than %d processes", lim.Pids)
	case RunCandidateExited:
		return VerdictError, "the candidate's project stopped before " + what + " done (its container exited); see the log"
	}
	return "", ""
}

// fail gives the result a verdict that scores nothing.
func (r *Result) fail(v Verdict, reason string) *Result {
	r.Verdict, r.Reason, r.Score = v, reason, 0
	r.Tests = nil
	for i := range r.Categories {
		r.Categories[i].Score = 0
	}
	return r
}

// lastLines returns the last n non-empty lines of s, joined, capped.
func lastLines(s string, n int) string {
	var keep []string
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0 && len(keep) < n; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			keep = append([]string{l}, keep...)
		}
	}
	return text.Cap(strings.Join(keep, " / "), 500)
}
