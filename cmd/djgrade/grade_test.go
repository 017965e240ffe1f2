package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestWriteResultDetails: `djgrade grade`, as JSON or as a table, shows
// hidden checks' messages and node ids and the judge log only with
// --details, and without it only the last lines of the candidate's log.
func TestWriteResultDetails(t *testing.T) {
	log := "LOG-HEAD\n" + strings.Repeat("line\n", 2*grader.CLILogLines) + "LOG-TAIL\n"
	res := &grader.Result{Score: 0, MaxScore: 6, Verdict: grader.VerdictFailed, Reason: "1 failed",
		Tests: []grader.TestResult{{Name: "djgrade_hidden/test_NODE.py::t", NodeID: "djgrade_hidden/test_NODE.py::t", Hidden: true,
			Category: "performance", Outcome: grader.OutcomeFailed, MaxPoints: 6, Message: "HIDDEN-MESSAGE"}},
		Log: log, JudgeLog: "JUDGE-LOG"}
	secret := []string{"HIDDEN-MESSAGE", "NODE", "JUDGE-LOG", "LOG-HEAD"}
	for _, asJSON := range []bool{true, false} {
		for _, details := range []bool{false, true} {
			var b bytes.Buffer
			if err := writeResult(&b, res, asJSON, details); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if asJSON {
				var back grader.Result
				if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.MaxScore != 6 || len(back.Tests) != 1 {
					t.Errorf("json=%v details=%v: %v %s", asJSON, details, err, out)
				}
				if !strings.Contains(out, "LOG-TAIL") {
					t.Errorf("json=%v details=%v: log tail missing", asJSON, details)
				}
			}
			for _, s := range secret {
				if s == "LOG-HEAD" || s == "JUDGE-LOG" {
					if !asJSON {
						continue // the table prints no log when it has tests
					}
				}
				if s == "NODE" && !asJSON {
					// the table names checks; without details a hidden one
					// has no published name and is numbered
					if got := strings.Contains(out, s); got != details {
						t.Errorf("table details=%v: node id shown %v\n%s", details, got, out)
					}
					continue
				}
				if got := strings.Contains(out, s); got != details {
					t.Errorf("json=%v details=%v: %s shown %v\n%s", asJSON, details, s, got, out)
				}
			}
		}
	}
}
