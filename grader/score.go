package grader

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxLogBytes caps the log kept with a result.
const MaxLogBytes = 64 << 10

// ReasonUnsigned is the reason given to a report whose signature is missing
// or wrong.
const ReasonUnsigned = "the test report was not written by djgrade's plugin"

// Score turns a sandbox outcome into a result, by the exercise's rubric:
// the points of every hidden test that passed, per category, in integers.
// key is the run's report key (see Report): only a report signed with it
// counts.
//
// It trusts nothing the run produced: a run that was killed scores nothing
// (a partial report could be chosen by the candidate), a report without a
// valid signature or with integrity problems is not trusted, a report that
// lacks hidden checks or shows a hidden check skipped is not trusted, and
// only node ids below HiddenDir count as hidden.
func Score(ex *Exercise, out Outcome, key []byte) *Result {
	res := &Result{
		MaxScore: ex.MaxScore(),
		ExitCode: out.ExitCode,
		Log:      capString(string(out.Stdout)+string(out.Stderr), MaxLogBytes),
		Timings:  map[string]int64{},
	}
	for k, v := range out.Timings {
		res.Timings[k] = v.Milliseconds()
	}
	res.Categories = make([]CategoryScore, len(ex.Categories))
	for i, c := range ex.Categories {
		res.Categories[i] = CategoryScore{Name: c.Name, MaxScore: c.Points}
	}

	switch out.Verdict {
	case RunTimeout:
		return res.fail(VerdictTimeout, fmt.Sprintf("the run was stopped at the %s time limit", ex.Limits.WithDefaults().Timeout))
	case RunOOM:
		return res.fail(VerdictOOM, fmt.Sprintf("the run was stopped at the %s memory limit", FormatBytes(ex.Limits.WithDefaults().MemoryBytes)))
	case RunOutputLimit:
		return res.fail(VerdictOutputLimit, fmt.Sprintf("the run wrote more than %s of output", FormatBytes(ex.Limits.WithDefaults().OutputBytes)))
	case RunProcessLimit:
		return res.fail(VerdictProcessLimit, fmt.Sprintf("the run started more than %d processes", ex.Limits.WithDefaults().Pids))
	}
	if out.Report == nil {
		return res.fail(VerdictError, fmt.Sprintf("the tests did not run (exit code %d): the project fails before pytest can report; see the log", out.ExitCode))
	}
	if !VerifyReport(key, out.Report, out.ReportSignature) {
		return res.fail(VerdictTampered, ReasonUnsigned)
	}
	rep, err := ParseReport(out.Report)
	if err != nil {
		return res.fail(VerdictTampered, "the test report cannot be trusted: "+err.Error())
	}
	if n := len(rep.Integrity); n > 0 {
		reason := "the test run was tampered with: " + capString(rep.Integrity[0], 300)
		if n > 1 {
			reason += fmt.Sprintf(" (and %d more)", n-1)
		}
		return res.fail(VerdictTampered, reason)
	}

	catIndex := map[string]int{}
	for i, c := range ex.Categories {
		catIndex[c.Name] = i
	}
	reported := make([]int, len(ex.Categories)) // points of hidden tests seen, per category
	var hiddenCollectErr string
	for _, ce := range rep.CollectErrors {
		if hiddenCollectErr == "" {
			hiddenCollectErr = firstLine(ce.Message)
		}
	}
	for _, t := range rep.Tests {
		tr := TestResult{
			Name:     t.NodeID,
			NodeID:   t.NodeID,
			Hidden:   strings.HasPrefix(t.NodeID, HiddenDir+"/"),
			Outcome:  t.Outcome,
			Message:  capString(t.Message, MaxMessageBytes),
			Queries:  t.Queries,
			Duration: t.Duration,
			Category: "public",
		}
		if tr.Hidden {
			i, ok := catIndex[t.Category]
			if !ok || t.Points <= 0 {
				return res.fail(VerdictTampered, fmt.Sprintf("hidden check %s reports an unknown category or no points", t.NodeID))
			}
			if t.Name != "" {
				tr.Name = t.Name
			}
			tr.Category, tr.MaxPoints = t.Category, t.Points
			reported[i] += t.Points
			switch t.Outcome {
			case OutcomePassed:
				tr.Points = t.Points
				res.Categories[i].Score += t.Points
			case OutcomeSkipped, OutcomeXFailed, OutcomeXPassed:
				return res.fail(VerdictTampered, fmt.Sprintf("hidden check %q was %s: hidden checks never skip", tr.Name, t.Outcome))
			}
		}
		res.Tests = append(res.Tests, tr)
	}
	sort.SliceStable(res.Tests, func(i, j int) bool { return res.Tests[i].Hidden && !res.Tests[j].Hidden })

	for i, c := range ex.Categories {
		if reported[i] == c.Points {
			continue
		}
		if reported[i] < c.Points && hiddenCollectErr != "" {
			return res.fail(VerdictError, "the hidden tests could not be collected: "+hiddenCollectErr)
		}
		if reported[i] < c.Points && out.ExitCode >= 2 && out.ExitCode <= 4 {
			return res.fail(VerdictError, fmt.Sprintf("pytest stopped early (exit code %d); see the log", out.ExitCode))
		}
		return res.fail(VerdictTampered, fmt.Sprintf("the report holds %d of the %d %s points: hidden checks are missing", reported[i], c.Points, c.Name))
	}

	for _, c := range res.Categories {
		res.Score += c.Score
	}
	hidden, passed, errored := 0, 0, 0
	for _, t := range res.Tests {
		if t.Hidden {
			hidden++
			switch t.Outcome {
			case OutcomePassed:
				passed++
			case OutcomeError:
				errored++
			}
		}
	}
	switch {
	case res.Score == res.MaxScore && hidden > 0:
		res.Verdict, res.Reason = VerdictPassed, fmt.Sprintf("all %d hidden checks passed", hidden)
	case hidden > 0 && errored == hidden:
		res.Verdict, res.Reason = VerdictError, "every hidden check failed to set up: the project does not import or migrate; see the log"
	default:
		res.Verdict, res.Reason = VerdictFailed, fmt.Sprintf("%d of %d hidden checks passed", passed, hidden)
	}
	return res
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

// capString cuts s to at most n bytes on a UTF-8 boundary, marking the cut.
func capString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "\n... [truncated]"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	lines := strings.Split(s, "\n")
	// pytest puts the real error last ("E   ModuleNotFoundError: ...").
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "E ") {
			return capString(strings.TrimSpace(strings.TrimPrefix(l, "E")), 300)
		}
	}
	return capString(lines[0], 300)
}
