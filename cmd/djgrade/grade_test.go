package main

import (
	"bytes"
	"encoding/json"
	"slices"
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
			if err := writeResult(&b, "n-plus-one", res, asJSON, details); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if asJSON {
				var back gradeJSON
				if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.MaxScore == nil || *back.MaxScore != 6 || len(back.Tests) != 1 || back.Exercise != "n-plus-one" {
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

// TestGradeJSONSchema: `grade --json` prints the one schema of a result
// (grader.ResultJSON, the API's field names): "duration" in seconds, never
// "duration_s"; lists are never null; the exercise is named.
func TestGradeJSONSchema(t *testing.T) {
	res := &grader.Result{Score: 2, MaxScore: 6, Verdict: grader.VerdictFailed, Reason: "1 failed",
		Categories: []grader.CategoryScore{{Name: "performance", Score: 2, MaxScore: 6}},
		Tests: []grader.TestResult{{Name: "tests/test_api.py::test_list", NodeID: "tests/test_api.py::test_list",
			Category: "correctness", Outcome: grader.OutcomePassed, Queries: 3, Duration: 0.25}},
		Timings: map[string]int64{"total": 1200}, ExitCode: 1}
	var b bytes.Buffer
	if err := writeResult(&b, "n-plus-one", res, true, false); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"exercise", "score", "max_score", "verdict", "reason", "categories", "tests", "refused", "timings_ms", "exit_code"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no %q in %s", k, b.String())
		}
	}
	if doc["refused"] == nil {
		t.Errorf("refused is null: %s", b.String())
	}
	test := doc["tests"].([]any)[0].(map[string]any)
	var keys []string
	for k := range test {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"category", "duration", "hidden", "max_points", "message", "name", "node_id", "outcome", "points", "queries"}
	if !slices.Equal(keys, want) || test["duration"] != 0.25 {
		t.Errorf("a test's keys %q, want %q: %s", keys, want, b.String())
	}
}
