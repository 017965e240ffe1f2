// Package pytest reads the reports of pytest-style runs: the judge's report
// of the hidden checks, which decides points, and the candidate container's
// account of its public tests, which decides none. Its one reason to change
// is those formats (written by the plugins in sandbox/image/python, which
// also own pytest's command line and the report's path in the container);
// it knows nothing of exercises or scoring.
package pytest

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/djgrade/djgrade/grader/internal/text"
)

// Version is the version of the judge's report this package reads.
const Version = 2

// MaxMessageBytes caps a test's message as it is kept.
const MaxMessageBytes = 4096

// maxCheckSeconds and maxQueries bound the report's numbers: anything
// larger is not a measurement.
const (
	maxCheckSeconds = 24 * 3600
	maxQueries      = 1 << 30
)

// Report is the JSON document the judge's pytest plugin
// (sandbox/image/python/djgrade_judge.py) writes in the judge's container:
//
//	{
//	  "version": 2,
//	  "seed": 1234,                 // the run's data seed
//	  "exitstatus": 1,              // pytest's exit status
//	  "errors": [],                 // problems of the hidden checks themselves
//	  "checks": [{
//	    "id": "list-queries-constant",   // a check id of the manifest
//	    "outcome": "passed",             // passed | failed | error | skipped
//	    "duration": 0.123,               // seconds, every test of the check
//	    "message": "...",                // for staff: what failed
//	    "queries": 4                     // statements the app ran in the last measured block, or null
//	  }]
//	}
//
// The report carries no points: the grader takes them from the exercise's
// own inventory of checks, and accepts a report only if it names exactly
// those checks (see ParseReport).
type Report struct {
	Version    int      `json:"version"`
	Seed       int64    `json:"seed"`
	ExitStatus int      `json:"exitstatus"`
	Errors     []string `json:"errors"`
	Checks     []Check  `json:"checks"`
}

// Check is one check's outcome in a Report.
type Check struct {
	ID       string  `json:"id"`
	Outcome  string  `json:"outcome"`
	Duration float64 `json:"duration"`
	Message  string  `json:"message"`
	Queries  *int    `json:"queries"`
}

// Test outcomes, as pytest names them.
const (
	Passed  = "passed"
	Failed  = "failed"
	Error   = "error"
	Skipped = "skipped"
)

// ParseReport decodes a judge's report and checks it against the
// exercise's inventory, the ids of its checks: exactly those ids, each
// once, known outcomes and every number in bounds. An error means the
// report cannot be used.
func ParseReport(data []byte, checks []string) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("report version %d, want %d", r.Version, Version)
	}
	if len(r.Errors) > 0 {
		return nil, fmt.Errorf("the hidden checks are broken: %s", text.Cap(r.Errors[0], 500))
	}
	want := make(map[string]bool, len(checks))
	for _, id := range checks {
		want[id] = true
	}
	seen := make(map[string]bool, len(r.Checks))
	for _, c := range r.Checks {
		switch {
		case !want[c.ID]:
			return nil, fmt.Errorf("report names check %q, which the exercise does not have", text.Cap(c.ID, 80))
		case seen[c.ID]:
			return nil, fmt.Errorf("report lists check %q twice", c.ID)
		case math.IsNaN(c.Duration) || c.Duration < 0 || c.Duration > maxCheckSeconds:
			return nil, fmt.Errorf("check %q has duration %v", c.ID, c.Duration)
		case c.Queries != nil && (*c.Queries < 0 || *c.Queries > maxQueries):
			return nil, fmt.Errorf("check %q has %d queries", c.ID, *c.Queries)
		}
		switch c.Outcome {
		case Passed, Failed, Error, Skipped:
		default:
			return nil, fmt.Errorf("check %q has unknown outcome %q", c.ID, text.Cap(c.Outcome, 40))
		}
		seen[c.ID] = true
	}
	for _, id := range checks {
		if !seen[id] {
			return nil, fmt.Errorf("report lacks check %q", id)
		}
	}
	return &r, nil
}

// PublicReport is the candidate container's account of its public tests.
// It comes from the candidate's side and is believed for nothing but
// showing the candidate their own tests (and keeping a result with
// failing public tests from being "passed").
type PublicReport struct {
	ExitStatus int          `json:"exitstatus"`
	Tests      []PublicTest `json:"tests"`
}

// PublicTest is one public test in a PublicReport.
type PublicTest struct {
	NodeID   string  `json:"nodeid"`
	Outcome  string  `json:"outcome"`
	Duration float64 `json:"duration"`
	Message  string  `json:"message"`
	// Queries is how many queries the test's body ran, as the candidate's
	// own process counted them: feedback, never a point.
	Queries int `json:"queries"`
}

// maxPublicTests bounds the public tests kept in a result.
const maxPublicTests = 500

// ParsePublic decodes a public report, or returns nil if it is not one.
func ParsePublic(data []byte) *PublicReport {
	if len(data) == 0 {
		return nil
	}
	var p PublicReport
	if err := json.Unmarshal(data, &p); err != nil {
		return nil
	}
	if len(p.Tests) > maxPublicTests {
		p.Tests = p.Tests[:maxPublicTests]
	}
	out := p.Tests[:0]
	for _, t := range p.Tests {
		switch t.Outcome {
		case Passed, Failed, Error, Skipped:
		default:
			continue
		}
		if t.NodeID == "" || math.IsNaN(t.Duration) || t.Duration < 0 || t.Duration > maxCheckSeconds {
			continue
		}
		if t.Queries < 0 || t.Queries > maxQueries {
			t.Queries = 0 // not believed
		}
		t.NodeID = text.Printable(t.NodeID)
		t.Message = text.Cap(t.Message, MaxMessageBytes)
		out = append(out, t)
	}
	p.Tests = out
	return &p
}
