package grader

import (
	"context"
	"slices"
	"strings"
	"unicode"
)

// What each audience may see of a result is a security rule, so it is
// decided here once: every renderer (the API, the candidate and staff pages,
// the exports, the GitHub summary, the CLI) asks Result.View for its
// audience and shows what it gets, without filtering of its own.

// Audience is who a view of a result is for.
type Audience int

// The audiences of a result.
const (
	// AudienceStaff is an interviewer or admin: everything.
	AudienceStaff Audience = iota
	// AudiencePractice is a candidate on a practice assignment: every test;
	// public tests in full but for the node id (it is the test's name),
	// hidden checks by published name, outcome and points only.
	AudiencePractice
	// AudienceAssessment is a candidate on an assessment (or without an
	// assignment): categories and the names of failed hidden checks.
	AudienceAssessment
	// AudienceGitHub is the summary posted on a candidate's repository:
	// public tests by node id and outcome, hidden checks by published name,
	// category and points; no message, no log.
	AudienceGitHub
	// AudienceCLI is `djgrade grade` without --details: hidden checks by
	// published name, no hidden message or node id, no judge log and only
	// the last lines of the candidate's log.
	AudienceCLI
	// AudienceCLIDetails is `djgrade grade --details` (exercise authors):
	// everything.
	AudienceCLIDetails
	// AudienceExport is a file leaving the server (staff CSV and JSON
	// exports): scores, categories and every check's name, outcome and
	// points; no message, node id, log or finding.
	AudienceExport
)

// Audiences lists every audience, for tables that must cover them all.
var Audiences = []Audience{AudienceStaff, AudiencePractice, AudienceAssessment, AudienceGitHub, AudienceCLI, AudienceCLIDetails, AudienceExport}

// String names the audience.
func (a Audience) String() string {
	switch a {
	case AudienceStaff:
		return "staff"
	case AudiencePractice:
		return "practice"
	case AudienceAssessment:
		return "assessment"
	case AudienceGitHub:
		return "github"
	case AudienceCLI:
		return "cli"
	case AudienceCLIDetails:
		return "cli-details"
	case AudienceExport:
		return "export"
	}
	return "unknown"
}

// CandidateAudience is the audience of a candidate on an assignment of the
// mode: practice, or the stricter assessment for any other mode (none too).
func CandidateAudience(mode string) Audience {
	if mode == ModePractice {
		return AudiencePractice
	}
	return AudienceAssessment
}

// CLILogLines is how many of the candidate log's last lines the CLI shows
// without --details.
const CLILogLines = 40

// ResultView is what one audience may see of a result: a copy of the Result
// holding only the allowed fields (the rest zero), with hidden checks named
// as the audience may see them, and the names of failed hidden checks.
// Its Reason is already the audience's reason: do not call PublicReason on
// a view.
type ResultView struct {
	Result
	// FailedChecks names the hidden checks not passed, as the audience
	// may see them, in the order of Tests.
	FailedChecks []string `json:"failed_checks,omitempty"`
}

// rules is what an audience may see; View applies it.
type rules struct {
	rawReason    bool // the run's own reason, else PublicReason
	tests        bool // rows for tests at all
	rawNames     bool // hidden checks' stored names, else PublicName
	hiddenDetail bool // hidden messages, node ids
	hiddenCounts bool // hidden queries and durations
	publicDetail bool // public tests' messages, queries and durations
	nodeIDs      bool // public tests' node ids
	log          int  // candidate log: 0 none, -1 full, n last lines
	judgeLog     bool
	staffOnly    bool // seed, findings
	timings      bool // timings and exit code
}

var audienceRules = map[Audience]rules{
	AudienceStaff:      {rawReason: true, tests: true, rawNames: true, hiddenDetail: true, hiddenCounts: true, publicDetail: true, nodeIDs: true, log: -1, judgeLog: true, staffOnly: true, timings: true},
	AudiencePractice:   {tests: true, publicDetail: true},
	AudienceAssessment: {},
	AudienceGitHub:     {tests: true, nodeIDs: true},
	AudienceCLI:        {rawReason: true, tests: true, hiddenCounts: true, publicDetail: true, nodeIDs: true, log: CLILogLines, staffOnly: true, timings: true},
	AudienceCLIDetails: {rawReason: true, tests: true, rawNames: true, hiddenDetail: true, hiddenCounts: true, publicDetail: true, nodeIDs: true, log: -1, judgeLog: true, staffOnly: true, timings: true},
	AudienceExport:     {rawReason: true, tests: true},
}

// View returns what the audience may see of r (nil for a nil r). It never
// shares slices or maps with r. An unknown audience gets the assessment
// view, the strictest.
func (r *Result) View(a Audience) *ResultView {
	if r == nil {
		return nil
	}
	ru, ok := audienceRules[a]
	if !ok {
		ru = audienceRules[AudienceAssessment]
	}
	v := &ResultView{Result: Result{
		Score: r.Score, MaxScore: r.MaxScore, Verdict: r.Verdict,
		Categories: slices.Clone(r.Categories), Refused: slices.Clone(r.Refused),
	}}
	v.Reason = r.PublicReason()
	if ru.rawReason {
		v.Reason = r.Reason
	}
	hidden := 0
	for _, t := range r.Tests {
		if t.Hidden {
			name := PublicName(t, hidden)
			hidden++
			if ru.rawNames {
				name = t.Name
			}
			if t.Outcome != OutcomePassed {
				v.FailedChecks = append(v.FailedChecks, name)
			}
			if !ru.tests {
				continue
			}
			tv := TestResult{Name: name, Hidden: true, Category: t.Category, Outcome: t.Outcome, Points: t.Points, MaxPoints: t.MaxPoints}
			if ru.hiddenDetail {
				tv.NodeID, tv.Message = t.NodeID, t.Message
			}
			if ru.hiddenCounts {
				tv.Queries, tv.Duration = t.Queries, t.Duration
			}
			v.Tests = append(v.Tests, tv)
			continue
		}
		if !ru.tests {
			continue
		}
		tv := TestResult{Name: t.Name, Category: t.Category, Outcome: t.Outcome, Points: t.Points, MaxPoints: t.MaxPoints}
		if ru.nodeIDs {
			tv.NodeID = t.NodeID
		}
		if ru.publicDetail {
			tv.Message, tv.Queries, tv.Duration = t.Message, t.Queries, t.Duration
		}
		v.Tests = append(v.Tests, tv)
	}
	switch {
	case ru.log < 0:
		v.Log = r.Log
	case ru.log > 0:
		v.Log = tailLines(r.Log, ru.log)
	}
	if ru.judgeLog {
		v.JudgeLog = r.JudgeLog
	}
	if ru.staffOnly {
		v.Seed, v.Findings = r.Seed, slices.Clone(r.Findings)
	}
	if ru.timings {
		v.ExitCode = r.ExitCode
		if r.Timings != nil {
			v.Timings = make(map[string]int64, len(r.Timings))
			for k, d := range r.Timings {
				v.Timings[k] = d
			}
		}
	}
	return v
}

// tailLines is the last n lines of s.
func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// maxSubmissionID bounds the ids LookupSubmission asks the store about.
const maxSubmissionID = 128

// NoSuchSubmission is the one answer for a submission a caller may not
// see, whether it does not exist or belongs to someone else: the two must
// be indistinguishable, so every route asks LookupSubmission, and a Store
// answers an unknown id with this error too.
func NoSuchSubmission() error { return Errorf(ENOTFOUND, "submission not found") }

// LookupSubmission returns the submission with the id through get if
// mayView allows it. A malformed id and one mayView refuses get
// NoSuchSubmission, as an unknown one does from the store, so that a caller
// cannot tell another's submission from a missing one; errors of get pass
// through.
func LookupSubmission(ctx context.Context, get func(context.Context, string) (*Submission, error), id string, mayView func(*Submission) bool) (*Submission, error) {
	if id == "" || len(id) > maxSubmissionID || strings.ContainsFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return nil, NoSuchSubmission()
	}
	sub, err := get(ctx, id)
	if err != nil {
		return nil, err
	}
	if sub == nil || !mayView(sub) {
		return nil, NoSuchSubmission()
	}
	return sub, nil
}

// View returns what the audience may see of a review (review.go): staff
// all of it; a file leaving the server (AudienceExport) the automatic and
// effective scores and whether an override is in force, without notes,
// authors or reasons; every other audience nothing (nil). A candidate, on
// any route or page, sees the automatic grade the run produced (whose
// score is what its categories and checks add up to), never that an
// override was made, its score or its reason, nor any note: an override is
// the reviewers' decision, for hiring, not feedback.
func (r *Review) View(a Audience) *Review {
	if r == nil {
		return nil
	}
	switch a {
	case AudienceStaff:
		v := *r
		v.Notes, v.Overrides = slices.Clone(r.Notes), slices.Clone(r.Overrides)
		return &v
	case AudienceExport:
		return &Review{Submission: r.Submission, Automatic: r.Automatic, Effective: r.Effective, Overridden: r.Overridden,
			Notes: []ReviewEntry{}, Overrides: []ReviewEntry{}}
	}
	return nil
}
