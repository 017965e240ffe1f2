package pytest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader/pytest"
)

func intp(n int) *int { return &n }

func TestParseReport(t *testing.T) {
	ids := []string{"a", "b"}
	good := func() pytest.Report {
		return pytest.Report{Version: pytest.Version, Seed: 7, Checks: []pytest.Check{
			{ID: "a", Outcome: pytest.Passed, Duration: 0.5, Queries: intp(3)},
			{ID: "b", Outcome: pytest.Failed, Message: "boom"},
		}}
	}
	cases := []struct {
		name   string
		change func(r *pytest.Report)
		err    string // "" when the report must be accepted
	}{
		{"good", func(r *pytest.Report) {}, ""},
		{"old version", func(r *pytest.Report) { r.Version = 1 }, "version 1"},
		{"broken checks", func(r *pytest.Report) { r.Errors = []string{"collecting failed"} }, "broken"},
		{"unknown check", func(r *pytest.Report) { r.Checks[1].ID = "z" }, `"z"`},
		{"twice", func(r *pytest.Report) { r.Checks[1].ID = "a" }, "twice"},
		{"missing", func(r *pytest.Report) { r.Checks = r.Checks[:1] }, `lacks check "b"`},
		{"negative duration", func(r *pytest.Report) { r.Checks[0].Duration = -1 }, "duration"},
		{"too many queries", func(r *pytest.Report) { r.Checks[0].Queries = intp(1 << 31) }, "queries"},
		{"unknown outcome", func(r *pytest.Report) { r.Checks[0].Outcome = "xpassed" }, "unknown outcome"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := good()
			tc.change(&r)
			data, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pytest.ParseReport(data, ids)
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err == "":
				if got.Seed != 7 || len(got.Checks) != 2 || *got.Checks[0].Queries != 3 {
					t.Fatalf("parsed %+v", got)
				}
			case err == nil:
				t.Fatalf("accepted %+v", got)
			case !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error %q lacks %q", err, tc.err)
			}
		})
	}
	if _, err := pytest.ParseReport([]byte("{"), ids); err == nil {
		t.Fatal("accepted malformed JSON")
	}
}

func TestParsePublic(t *testing.T) {
	if pytest.ParsePublic(nil) != nil || pytest.ParsePublic([]byte("not json")) != nil {
		t.Fatal("a missing or malformed public report must be nil")
	}
	data, _ := json.Marshal(pytest.PublicReport{ExitStatus: 1, Tests: []pytest.PublicTest{
		{NodeID: "tests/test_a.py::test_ok", Outcome: pytest.Passed, Duration: 0.1, Queries: 3},
		{NodeID: "tests/test_a.py::test_\x1bbad", Outcome: pytest.Failed, Message: strings.Repeat("m", 2*pytest.MaxMessageBytes), Queries: -4},
		{NodeID: "tests/test_a.py::test_odd", Outcome: "xfailed"},
		{NodeID: "", Outcome: pytest.Passed},
		{NodeID: "tests/test_a.py::test_slow", Outcome: pytest.Passed, Duration: -1},
	}})
	p := pytest.ParsePublic(data)
	if p == nil || p.ExitStatus != 1 || len(p.Tests) != 2 {
		t.Fatalf("kept %+v", p)
	}
	if p.Tests[0].Queries != 3 || p.Tests[1].Queries != 0 {
		t.Errorf("queries %d and %d, want 3 and 0 (a negative count is not believed)", p.Tests[0].Queries, p.Tests[1].Queries)
	}
	if p.Tests[1].NodeID != "tests/test_a.py::test_?bad" {
		t.Errorf("node id not made printable: %q", p.Tests[1].NodeID)
	}
	if len(p.Tests[1].Message) > pytest.MaxMessageBytes {
		t.Errorf("message of %d bytes not capped", len(p.Tests[1].Message))
	}
}
