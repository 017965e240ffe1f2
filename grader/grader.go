// Package grader is djgrade's domain: submissions, exercises, results and
// verdicts, the scoring rules, workspace assembly, and the queue and workers
// that grade. It declares the interfaces it needs from its neighbours (a
// Sandbox that runs a workspace, a Store that keeps submissions, a Catalog of
// exercises) and knows nothing of HTTP, Docker or bbolt.
//
// Its toolbox lives in packages of its own, each with one reason to change,
// that know nothing of grader and take plain values: grader/archive reads
// and writes archives (File is its type), grader/pyscan scans Python source,
// and grader/pytest reads the judge's and the public reports.
package grader

import (
	"time"

	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/pyscan"
	"github.com/djgrade/djgrade/grader/pytest"
)

// Status is where a submission is in its life.
type Status string

// Submission statuses. queued -> running -> done | error; queued -> cancelled;
// running -> queued when the server stopped mid-grade; a final status ->
// queued for a regrade. The transitions are Submission's methods (lifecycle.go).
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusDone      Status = "done"
	StatusError     Status = "error"
	StatusCancelled Status = "cancelled"
)

// Final reports whether s is a status that no worker will change again.
func (s Status) Final() bool {
	return s == StatusDone || s == StatusError || s == StatusCancelled
}

// Verdict is how a graded run ended, in one word.
type Verdict string

// Verdicts. Every way a run can end maps to exactly one.
const (
	VerdictPassed       Verdict = "passed"         // every hidden check passed
	VerdictFailed       Verdict = "failed"         // the tests ran and some failed
	VerdictError        Verdict = "error"          // the candidate's project does not import or set up
	VerdictTimeout      Verdict = "timeout"        // killed at the wall-clock limit
	VerdictOOM          Verdict = "out_of_memory"  // killed at the memory limit
	VerdictOutputLimit  Verdict = "output_limit"   // wrote more output than allowed
	VerdictProcessLimit Verdict = "process_limit"  // hit the process-count limit
	VerdictTampered     Verdict = "tampered"       // kept for stored results; no run ends so now
	VerdictInfraError   Verdict = "infrastructure" // djgrade itself failed; not the candidate's fault
)

// Submission is one candidate's attempt at one exercise.
type Submission struct {
	ID         string    `json:"id"`
	Exercise   string    `json:"exercise"`
	Candidate  string    `json:"candidate"`
	Status     Status    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Error is the reason for StatusError: an infrastructure failure.
	Error string `json:"error,omitempty"`
	// Refused lists the candidate's files that were not applied.
	Refused []RefusedFile `json:"refused,omitempty"`
	// Result is set once the submission is done.
	Result *Result `json:"result,omitempty"`
	// Attempts counts how many times a worker has started grading it.
	Attempts int `json:"attempts"`
	// Source says where the submission came from (an upload, a GitHub push).
	Source *Source `json:"source,omitempty"`
	// Owner is the id of the API token that made it ("" when none did).
	Owner string `json:"owner,omitempty"`
	// Assignment is the id of the assignment it was made under, if any.
	Assignment string `json:"assignment,omitempty"`
	// Late marks a submission made after its assignment's deadline.
	Late bool `json:"late,omitempty"`
	// History holds the earlier results of a regraded submission, oldest first.
	History []*Result `json:"history,omitempty"`
	// Priority is its scheduling class: live before normal before batch.
	// The service sets it; candidates cannot choose it.
	Priority Priority `json:"priority,omitempty"`
	// RetryAt, while it is queued, is when a submission put back because
	// the sandbox was unavailable may be claimed again (zero: now).
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// Priority is a submission's scheduling class. Workers claim every waiting
// live submission before any normal one, and every normal one before any
// batch one; within a class they take turns across tenants (see Tenant).
type Priority string

// Priorities.
const (
	PriorityLive   Priority = "live"  // a live session: two people are waiting
	PriorityNormal Priority = ""      // an ordinary submission
	PriorityBatch  Priority = "batch" // regrades and other bulk work
)

// Valid reports whether p is one of the priorities above.
func (p Priority) Valid() bool {
	return p == PriorityLive || p == PriorityNormal || p == PriorityBatch
}

// Tenant is whom the scheduler takes turns between at its first level: the
// assignment a submission was made under, else the token that made it, else
// its candidate. The kind is part of the value, so an assignment and a
// token with the same id are two tenants.
func (s *Submission) Tenant() string {
	switch {
	case s.Assignment != "":
		return "assignment:" + s.Assignment
	case s.Owner != "":
		return "token:" + s.Owner
	}
	return "candidate:" + s.Candidate
}

// Member is whom the scheduler takes turns between inside a tenant, its
// second level: within an assignment, the candidate's token (else name);
// within a token's or a candidate's submissions, the candidate's name.
func (s *Submission) Member() string {
	if s.Assignment != "" && s.Owner != "" {
		return "token:" + s.Owner
	}
	return "candidate:" + s.Candidate
}

// Source kinds.
const (
	SourceUpload = "upload"
	SourceGitHub = "github"
	SourceCLI    = "cli"
	SourceLive   = "live" // a live session's submit (Source.Live)
)

// Source says where a submission came from.
type Source struct {
	Kind string `json:"kind"`
	// Repo is "owner/name" for a GitHub submission.
	Repo string `json:"repo,omitempty"`
	// SHA is the commit graded.
	SHA string `json:"sha,omitempty"`
	// Ref is the branch or tag pushed, if any.
	Ref string `json:"ref,omitempty"`
	// PullRequest is the pull request number, if any.
	PullRequest int `json:"pull_request,omitempty"`
	// Live is the live session's id, for a live session's submit.
	Live string `json:"live,omitempty"`
}

// RefusedFile is a candidate file that was not applied to the workspace, and why.
type RefusedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Result is the graded outcome of a submission.
type Result struct {
	Score      int             `json:"score"`
	MaxScore   int             `json:"max_score"`
	Verdict    Verdict         `json:"verdict"`
	Reason     string          `json:"reason"`
	Categories []CategoryScore `json:"categories"`
	Tests      []TestResult    `json:"tests"`
	Refused    []RefusedFile   `json:"refused,omitempty"`
	// Findings are places in the candidate's files that look like an
	// attempt on the grader (see pyscan.Scan): a signal for the interviewer only;
	// no point depends on them.
	Findings []Finding `json:"findings,omitempty"`
	// Log is what the candidate's container wrote: its server, its
	// commands, its public tests. The candidate's own code talking.
	Log string `json:"log,omitempty"`
	// JudgeLog is the judge's pytest output: hidden checks' names and
	// messages, for staff only.
	JudgeLog string `json:"judge_log,omitempty"`
	// Seed is the data seed the hidden checks ran with, so that a failure
	// can be replayed.
	Seed     int64            `json:"seed,omitempty"`
	Timings  map[string]int64 `json:"timings_ms,omitempty"`
	ExitCode int              `json:"exit_code"`
}

// CategoryScore is the score within one rubric category.
type CategoryScore struct {
	Name     string `json:"name"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
}

// Test outcomes, as TestResult.Outcome holds them: pytest's, and one of
// djgrade's own.
const (
	OutcomePassed  = pytest.Passed
	OutcomeFailed  = pytest.Failed
	OutcomeError   = pytest.Error
	OutcomeSkipped = pytest.Skipped
	// OutcomeMissing marks a public test the candidate's container did not report.
	OutcomeMissing = "missing"
)

// TestResult is one test's outcome as graded.
type TestResult struct {
	// Name is the published name of a hidden check, or the node id of a public test.
	Name      string  `json:"name"`
	NodeID    string  `json:"node_id"`
	Hidden    bool    `json:"hidden"`
	Category  string  `json:"category"`
	Outcome   string  `json:"outcome"`
	Points    int     `json:"points"`
	MaxPoints int     `json:"max_points"`
	Message   string  `json:"message,omitempty"`
	Queries   int     `json:"queries"`
	Duration  float64 `json:"duration_s"`
}

// Finding is one place in a candidate's Python file that looks like an
// attempt on the grader (see pyscan.Finding).
type Finding = pyscan.Finding

// File is one file of a workspace or a submission, addressed by a clean,
// slash-separated, relative path. It is the archive package's type, so that
// files read from an archive need no copying into the domain.
type File = archive.File
