package grader

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// HiddenDir is the workspace folder the hidden tests are placed in. A test
// is hidden if and only if its node id starts with HiddenDir + "/"; the
// grader decides this from the node id, never from what the report claims.
const HiddenDir = "djgrade_hidden"

// ReportPath is where, relative to the workspace, the in-container pytest
// plugin (sandbox/image/python/djgrade_pytest.py) writes its report.
const ReportPath = ".djgrade/report.json"

// SignatureSuffix names the signature file: ReportPath + SignatureSuffix
// holds the hex HMAC-SHA256 of the report's exact bytes under the run's key.
const SignatureSuffix = ".sig"

// ReportVersion is the version of the report format this grader reads.
const ReportVersion = 1

// MaxMessageBytes caps a test's failure message in the report and the result.
const MaxMessageBytes = 4096

// Report is the JSON document the in-container pytest plugin writes.
//
//	{
//	  "version": 1,
//	  "exitstatus": 1,               // pytest's exit status
//	  "collect_errors": [{"nodeid": "...", "message": "..."}],
//	  "integrity": [],               // problems the plugin's own checks found; [] = none
//	                                 // (a pytest internal, a plugin hook or a hidden test replaced,
//	                                 // an unknown hook implementation, a stray file in djgrade_hidden/)
//	  "tests": [{
//	    "nodeid": "djgrade_hidden/test_perf.py::test_constant_queries",
//	    "name": "List endpoint runs a constant number of queries",  // from the marker; "" if none
//	    "outcome": "passed",        // passed | failed | error | skipped | xfailed | xpassed
//	    "duration": 0.123,          // seconds, setup+call+teardown
//	    "points": 3,                // from @pytest.mark.djgrade(points=..); 0 if unmarked
//	    "category": "performance",  // from the marker; "" if unmarked
//	    "message": "...",           // failure text, capped at 4096 bytes
//	    "queries": 4                // SQL queries in the call phase, SAVEPOINT/RELEASE left out
//	  }]
//	}
//
// Next to it, at ReportPath + SignatureSuffix, the plugin writes the hex
// HMAC-SHA256 of the report's exact bytes under the run's key, which Grade
// gave it on the private channel (Job.Private) and which never touches the
// disk. A report without a valid signature, or with integrity problems, is
// not trusted (verdict tampered). An older report without "integrity" reads
// as having none; only the signature makes a report count.
type Report struct {
	Version       int            `json:"version"`
	ExitStatus    int            `json:"exitstatus"`
	CollectErrors []CollectError `json:"collect_errors"`
	Integrity     []string       `json:"integrity"`
	Tests         []ReportTest   `json:"tests"`
}

// CollectError is a module pytest could not collect (an import error, say).
type CollectError struct {
	NodeID  string `json:"nodeid"`
	Message string `json:"message"`
}

// ReportTest is one test in a Report.
type ReportTest struct {
	NodeID   string  `json:"nodeid"`
	Name     string  `json:"name"`
	Outcome  string  `json:"outcome"`
	Duration float64 `json:"duration"`
	Points   int     `json:"points"`
	Category string  `json:"category"`
	Message  string  `json:"message"`
	Queries  int     `json:"queries"`
}

// Test outcomes in a report.
const (
	OutcomePassed  = "passed"
	OutcomeFailed  = "failed"
	OutcomeError   = "error"
	OutcomeSkipped = "skipped"
	OutcomeXFailed = "xfailed"
	OutcomeXPassed = "xpassed"
	// OutcomeMissing marks a hidden check the report should hold but does not.
	OutcomeMissing = "missing"
)

// SignReport returns the signature the plugin writes for report under key:
// HMAC-SHA256 in lower-case hex.
func SignReport(key, report []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(report)
	return []byte(hex.EncodeToString(m.Sum(nil)))
}

// VerifyReport reports whether sig is report's signature under key, in
// constant time. Surrounding white space in sig is ignored.
func VerifyReport(key, report, sig []byte) bool {
	if len(key) == 0 || sig == nil {
		return false
	}
	return hmac.Equal(SignReport(key, report), bytes.TrimSpace(sig))
}

// ParseReport decodes and sanity-checks a report.
func ParseReport(data []byte) (*Report, error) {
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("report version %d, want %d", r.Version, ReportVersion)
	}
	seen := make(map[string]bool, len(r.Tests))
	for _, t := range r.Tests {
		if t.NodeID == "" {
			return nil, fmt.Errorf("report has a test without a node id")
		}
		if seen[t.NodeID] {
			return nil, fmt.Errorf("report lists %q twice", t.NodeID)
		}
		seen[t.NodeID] = true
		if t.Points < 0 || t.Queries < 0 {
			return nil, fmt.Errorf("report test %q has negative points or queries", t.NodeID)
		}
		switch t.Outcome {
		case OutcomePassed, OutcomeFailed, OutcomeError, OutcomeSkipped, OutcomeXFailed, OutcomeXPassed:
		default:
			return nil, fmt.Errorf("report test %q has unknown outcome %q", t.NodeID, t.Outcome)
		}
	}
	return &r, nil
}
