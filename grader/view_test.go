package grader

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Markers planted in a result; each must reach only the audiences allowed.
const (
	mHiddenMsg    = "HIDDEN-MESSAGE-MARKER"
	mHiddenNode   = "HIDDEN-NODE-MARKER"
	mUnnamedNode  = "UNNAMED-NODE-MARKER"
	mPublicMsg    = "PUBLIC-MESSAGE-MARKER"
	mPublicNode   = "PUBLIC-NODE-MARKER"
	mLogHead      = "LOG-HEAD-MARKER"
	mLogTail      = "LOG-TAIL-MARKER"
	mJudgeLog     = "JUDGE-LOG-MARKER"
	mRawReason    = "RAW-REASON-MARKER"
	mFinding      = "FINDING-MARKER"
	mPublishedSet = "Book list runs a constant number of queries"
)

func viewFixture() *Result {
	var log strings.Builder
	log.WriteString(mLogHead + "\n")
	for i := 0; i < 2*CLILogLines; i++ {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	log.WriteString(mLogTail + "\n")
	return &Result{
		Score: 4, MaxScore: 10, Verdict: VerdictFailed, Reason: "collect error " + mRawReason,
		Categories: []CategoryScore{{Name: "correctness", Score: 4, MaxScore: 4}, {Name: "performance", Score: 0, MaxScore: 6}},
		Tests: []TestResult{
			{Name: mPublishedSet, NodeID: "djgrade_hidden/test_" + mHiddenNode + ".py::test_q", Hidden: true,
				Category: "performance", Outcome: OutcomeFailed, MaxPoints: 6, Message: mHiddenMsg + ": 12 != 3", Queries: 12, Duration: 0.5},
			{Name: "hidden/test_" + mUnnamedNode + ".py::t", NodeID: "hidden/test_" + mUnnamedNode + ".py::t", Hidden: true,
				Category: "correctness", Outcome: OutcomePassed, Points: 4, MaxPoints: 4, Message: mHiddenMsg},
			{Name: "tests/test_" + mPublicNode + ".py::test_list", NodeID: "tests/test_" + mPublicNode + ".py::test_list",
				Category: "correctness", Outcome: OutcomeFailed, Message: mPublicMsg, Queries: 3},
		},
		Findings: []Finding{{Path: "library/" + mFinding + ".py", Line: 1, What: "import _pytest"}},
		Log:      log.String(), JudgeLog: mJudgeLog, Seed: 42, Timings: map[string]int64{"judge": 1}, ExitCode: 1,
	}
}

// TestResultViewAudiences proves, for every audience, which planted texts
// reach its view (marshalled as JSON, so no field escapes the check).
func TestResultViewAudiences(t *testing.T) {
	all := []string{mHiddenMsg, mHiddenNode, mUnnamedNode, mPublicMsg, mPublicNode, mLogHead, mLogTail, mJudgeLog, mRawReason, mFinding, mPublishedSet}
	for _, tc := range []struct {
		aud  Audience
		want []string // markers that must appear; every other must not
		// tests is the number of rows; failed the failed hidden names.
		tests  int
		failed []string
	}{
		{AudienceStaff, all, 3, []string{mPublishedSet}},
		{AudienceCLIDetails, all, 3, []string{mPublishedSet}},
		{AudiencePractice, []string{mPublicMsg, mPublicNode, mPublishedSet}, 3, []string{mPublishedSet}},
		{AudienceAssessment, []string{mPublishedSet}, 0, []string{mPublishedSet}},
		{AudienceGitHub, []string{mPublicNode, mPublishedSet}, 3, []string{mPublishedSet}},
		{AudienceCLI, []string{mPublicMsg, mPublicNode, mLogTail, mRawReason, mFinding, mPublishedSet}, 3, []string{mPublishedSet}},
		{AudienceExport, []string{mRawReason, mPublicNode, mPublishedSet}, 3, []string{mPublishedSet}},
	} {
		t.Run(tc.aud.String(), func(t *testing.T) {
			v := viewFixture().View(tc.aud)
			data, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			text := string(data)
			for _, m := range all {
				allowed := false
				for _, w := range tc.want {
					allowed = allowed || w == m
				}
				if got := strings.Contains(text, m); got != allowed {
					t.Errorf("%s in the %s view: %v, want %v\n%s", m, tc.aud, got, allowed, text)
				}
			}
			if len(v.Tests) != tc.tests {
				t.Errorf("%d test rows, want %d", len(v.Tests), tc.tests)
			}
			if fmt.Sprint(v.FailedChecks) != fmt.Sprint(tc.failed) {
				t.Errorf("failed checks %q, want %q", v.FailedChecks, tc.failed)
			}
			if v.Score != 4 || v.MaxScore != 10 || v.Verdict != VerdictFailed || len(v.Categories) != 2 {
				t.Errorf("scores: %+v", v.Result)
			}
			if tc.aud != AudienceStaff && tc.aud != AudienceCLIDetails {
				// Only the two full views hold a hidden check's message,
				// queries and duration, or any hidden node id.
				for _, row := range v.Tests {
					if row.Hidden && (row.NodeID != "" || row.Message != "") {
						t.Errorf("hidden row %+v", row)
					}
					// A candidate gets no node id at all: a public
					// test's is its name already.
					if tc.aud == AudiencePractice && row.NodeID != "" {
						t.Errorf("practice row with a node id %+v", row)
					}
				}
			}
		})
	}
}

// TestResultViewUnnamedHidden: a hidden check without a published name is
// numbered for candidates, GitHub, the CLI and exports.
func TestResultViewUnnamedHidden(t *testing.T) {
	for _, aud := range []Audience{AudiencePractice, AudienceGitHub, AudienceCLI, AudienceExport} {
		v := viewFixture().View(aud)
		if v.Tests[1].Name != "hidden check 2" {
			t.Errorf("%s: unnamed hidden check shown as %q", aud, v.Tests[1].Name)
		}
	}
}

// TestResultViewCopies: a view shares nothing with its result, and an
// unknown audience gets the strictest view.
func TestResultViewCopies(t *testing.T) {
	r := viewFixture()
	v := r.View(AudienceStaff)
	v.Tests[0].Message, v.Categories[0].Name, v.Findings[0].Path, v.Timings["judge"] = "x", "x", "x", 9
	if r.Tests[0].Message == "x" || r.Categories[0].Name == "x" || r.Findings[0].Path == "x" || r.Timings["judge"] == 9 {
		t.Error("view shares memory with the result")
	}
	if (*Result)(nil).View(AudienceStaff) != nil {
		t.Error("nil result gives a view")
	}
	u := r.View(Audience(99))
	if len(u.Tests) != 0 || u.Log != "" || u.Reason != r.PublicReason() {
		t.Errorf("unknown audience: %+v", u)
	}
	for _, a := range Audiences {
		if _, ok := audienceRules[a]; !ok {
			t.Errorf("audience %s has no rules", a)
		}
	}
}

// TestLookupSubmission: missing (from the store), malformed and not-allowed ids give the
// very same error; other errors pass through.
func TestLookupSubmission(t *testing.T) {
	subs := map[string]*Submission{"mine": {ID: "mine", Owner: "me"}, "theirs": {ID: "theirs", Owner: "them"}}
	get := func(_ context.Context, id string) (*Submission, error) {
		if id == "broken" {
			return nil, Errorf(EUNAVAILABLE, "store down")
		}
		if s, ok := subs[id]; ok {
			return s, nil
		}
		return nil, NoSuchSubmission() // as a Store answers an unknown id
	}
	mine := func(s *Submission) bool { return s.Owner == "me" }
	ctx := context.Background()
	if s, err := LookupSubmission(ctx, get, "mine", mine); err != nil || s.ID != "mine" {
		t.Fatalf("own: %v %v", s, err)
	}
	want := NoSuchSubmission().Error()
	for _, id := range []string{"theirs", "nope", "", strings.Repeat("x", 200), "a\x00b"} {
		s, err := LookupSubmission(ctx, get, id, mine)
		if s != nil || err == nil || err.Error() != want || ErrorCode(err) != ENOTFOUND {
			t.Errorf("%q: %v %v, want %q", id, s, err, want)
		}
	}
	if _, err := LookupSubmission(ctx, get, "broken", mine); ErrorCode(err) != EUNAVAILABLE {
		t.Errorf("store error: %v", err)
	}
}
