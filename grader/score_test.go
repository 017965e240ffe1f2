package grader_test

import (
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/pytest"
)

// testExercise is a small exercise held in memory.
func testExercise() *grader.Exercise {
	return &grader.Exercise{
		ID:       "demo",
		Editable: []string{"app/views.py", "app/extra/**", "app/*_helpers.py"},
		Categories: []grader.Category{
			{Name: "correctness", Points: 4},
			{Name: "performance", Points: 6},
		},
		Checks: []grader.HiddenCheck{
			{ID: "body", Name: "Body unchanged", Category: "correctness", Points: 4},
			{ID: "q1", Name: "Constant queries", Category: "performance", Points: 4},
			{ID: "q2", Name: "Small bound", Category: "performance", Points: 2},
		},
		Settings: "app.settings",
		FS: fstest.MapFS{
			"starter/pytest.ini":               {Data: []byte("[pytest]\n")},
			"starter/app/views.py":             {Data: []byte("slow\n")},
			"starter/app/models.py":            {Data: []byte("models\n")},
			"starter/tests/test_public.py":     {Data: []byte("def test_x(): pass\n")},
			"starter/app/__pycache__/x.pyc":    {Data: []byte("junk")},
			"hidden/test_hidden_perf.py":       {Data: []byte("hidden\n")},
			"hidden/conftest.py":               {Data: []byte("fixtures\n")},
			"solutions/reference/app/views.py": {Data: []byte("fast\n")},
		},
	}
}

func TestIsEditable(t *testing.T) {
	ex := testExercise()
	for p, want := range map[string]bool{
		"app/views.py":          true,
		"app/extra/a/b.py":      true,
		"app/extra":             false,
		"app/db_helpers.py":     true,
		"app/sub/db_helpers.py": false,
		"app/models.py":         false,
		"app/views.pyc":         false,
		"tests/test_public.py":  false,
	} {
		if got := ex.IsEditable(p); got != want {
			t.Errorf("IsEditable(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestNewWorkspace(t *testing.T) {
	ex := testExercise()
	candidate := []grader.File{
		{Path: "app/views.py", Data: []byte("fast\n")},
		{Path: "app/models.py", Data: []byte("models\n")},                 // unchanged copy: ignored silently
		{Path: "tests/test_public.py", Data: []byte("def test_x(): 1\n")}, // changed, not editable
		{Path: "djgrade_hidden/test_hidden_perf.py", Data: []byte("pass")},
		{Path: ".djgrade/report.json", Data: []byte("{}")},
		{Path: "app/extra/new.py", Data: []byte("new\n")},
	}
	w, err := grader.NewWorkspace(ex, candidate)
	if err != nil {
		t.Fatal(err)
	}
	refused := w.Refused
	got := map[string]string{}
	for _, f := range w.Files {
		got[f.Path] = string(f.Data)
	}
	want := map[string]string{
		"pytest.ini":           "[pytest]\n",
		"app/views.py":         "fast\n",
		"app/models.py":        "models\n",
		"app/extra/new.py":     "new\n",
		"tests/test_public.py": "def test_x(): pass\n",
	}
	if len(got) != len(want) {
		t.Fatalf("workspace %v, want %v", got, want)
	}
	for p, w := range want {
		if got[p] != w {
			t.Errorf("%s = %q, want %q", p, got[p], w)
		}
	}
	reasons := map[string]string{}
	for _, r := range refused {
		reasons[r.Path] = r.Reason
	}
	if len(reasons) != 3 || reasons["tests/test_public.py"] != grader.ReasonNotEditable ||
		reasons["djgrade_hidden/test_hidden_perf.py"] != grader.ReasonReserved || reasons[".djgrade/report.json"] != grader.ReasonReserved {
		t.Fatalf("refused %+v", refused)
	}
	var applied []string
	for _, f := range w.Applied {
		applied = append(applied, f.Path)
	}
	if strings.Join(applied, ",") != "app/views.py,app/extra/new.py" {
		t.Fatalf("applied %v", applied)
	}
}

// TestWorkspaceJudge checks that the judge gets the untouched starter and the
// hidden checks, and never a candidate's file.
func TestWorkspaceJudge(t *testing.T) {
	w, err := grader.NewWorkspace(testExercise(), []grader.File{
		{Path: "app/views.py", Data: []byte("fast\n")},
		{Path: "app/extra/new.py", Data: []byte("new\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range w.Judge {
		got[f.Path] = string(f.Data)
	}
	if got["app/views.py"] != "slow\n" || got["djgrade_hidden/conftest.py"] != "fixtures\n" || got["djgrade_hidden/test_hidden_perf.py"] != "hidden\n" || got["app/extra/new.py"] != "" {
		t.Fatalf("judge files %v", got)
	}
}

func TestNewWorkspaceStripsWrapper(t *testing.T) {
	ex := testExercise()
	w, err := grader.NewWorkspace(ex, []grader.File{
		{Path: "octo-repo-1a2b3c/app/views.py", Data: []byte("fast\n")},
		{Path: "octo-repo-1a2b3c/README.md", Data: []byte("hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	refused := w.Refused
	found := false
	for _, f := range w.Files {
		if f.Path == "app/views.py" {
			found = string(f.Data) == "fast\n"
		}
	}
	if !found || len(refused) != 1 || refused[0].Path != "README.md" {
		t.Fatalf("wrapper not stripped: refused %+v", refused)
	}
	// A lone top-level folder that the starter has is not a wrapper.
	files := []grader.File{{Path: "app/views.py", Data: []byte("x")}}
	if got := grader.StripWrapper(files, []grader.File{{Path: "app/models.py"}}); got[0].Path != "app/views.py" {
		t.Fatalf("stripped a real folder: %v", got[0].Path)
	}
}

// ran returns the outcome of a run that ended by itself with the report.
func ran(exit int, report []byte, public ...pytest.PublicTest) grader.Outcome {
	out := grader.Outcome{Verdict: grader.RunOK, JudgeExit: exit, Report: report}
	if public != nil {
		out.Public, _ = json.Marshal(pytest.PublicReport{Tests: public})
	}
	return out
}

var passingPublic = []pytest.PublicTest{{NodeID: "tests/test_public.py::test_shape", Outcome: "passed"}}

// report builds a judge's report JSON from checks.
func report(t *testing.T, checks []pytest.Check, errs ...string) []byte {
	t.Helper()
	b, err := json.Marshal(pytest.Report{Version: pytest.Version, Seed: 99, Checks: checks, Errors: errs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func n(v int) *int { return &v }

func checks(perfOutcome string) []pytest.Check {
	return []pytest.Check{
		{ID: "body", Outcome: "passed", Queries: n(3)},
		{ID: "q1", Outcome: perfOutcome, Queries: n(12), Message: "expected 3 statements, saw 12"},
		{ID: "q2", Outcome: "passed"},
	}
}

func TestScore(t *testing.T) {
	ex := testExercise()
	cases := []struct {
		name    string
		out     grader.Outcome
		score   int
		verdict grader.Verdict
		reason  string
	}{
		{"all pass", ran(0, report(t, checks("passed")), passingPublic...), 10, grader.VerdictPassed, "all 3"},
		{"one fails", ran(1, report(t, checks("failed")), passingPublic...), 6, grader.VerdictFailed, "2 of 3"},
		{"skipped scores nothing", ran(0, report(t, checks("skipped")), passingPublic...), 6, grader.VerdictFailed, "2 of 3"},
		{"public test fails", ran(0, report(t, checks("passed")), pytest.PublicTest{NodeID: "tests/t.py::a", Outcome: "failed"}), 10, grader.VerdictFailed, "1 public tests fail"},
		{"public tests silent", ran(0, report(t, checks("passed"))), 10, grader.VerdictFailed, "did not report"},
		{"timeout with full report", grader.Outcome{Verdict: grader.RunTimeout, Report: report(t, checks("passed"))}, 0, grader.VerdictTimeout, "time limit"},
		{"oom", grader.Outcome{Verdict: grader.RunOOM}, 0, grader.VerdictOOM, "memory"},
		{"output", grader.Outcome{Verdict: grader.RunOutputLimit, Report: report(t, checks("passed"))}, 0, grader.VerdictOutputLimit, "output"},
		{"pids", grader.Outcome{Verdict: grader.RunProcessLimit}, 0, grader.VerdictProcessLimit, "processes"},
		{"candidate exited", grader.Outcome{Verdict: grader.RunCandidateExited}, 0, grader.VerdictError, "container exited"},
		{"all hidden error", ran(1, report(t, []pytest.Check{
			{ID: "body", Outcome: "error"}, {ID: "q1", Outcome: "error"}, {ID: "q2", Outcome: "error"}}), passingPublic...), 0, grader.VerdictError, "set up"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.out.Timings = map[string]time.Duration{"run": 1500 * time.Millisecond}
			res, err := grader.Score(ex, tc.out)
			if err != nil {
				t.Fatal(err)
			}
			if res.Score != tc.score || res.Verdict != tc.verdict || !strings.Contains(res.Reason, tc.reason) {
				t.Fatalf("got %d %s %q, want %d %s ~%q", res.Score, res.Verdict, res.Reason, tc.score, tc.verdict, tc.reason)
			}
			if res.MaxScore != 10 {
				t.Fatalf("max %d", res.MaxScore)
			}
			sum := 0
			for _, c := range res.Categories {
				sum += c.Score
			}
			if sum != res.Score {
				t.Fatalf("categories add to %d, score %d", sum, res.Score)
			}
		})
	}
}

// TestScoreRefusesReports checks that the grader believes only a report
// that names exactly the exercise's checks with every number in bounds:
// anything else is djgrade's failure (EINTERNAL), never points.
func TestScoreRefusesReports(t *testing.T) {
	ex := testExercise()
	big := int(^uint(0) >> 1)
	cases := map[string][]byte{
		"no report":        nil,
		"garbage":          []byte("{not json"),
		"wrong version":    []byte(`{"version":1,"checks":[]}`),
		"missing check":    report(t, checks("passed")[:2]),
		"extra check":      report(t, append(checks("passed"), pytest.Check{ID: "bonus", Outcome: "passed"})),
		"duplicate check":  report(t, append(checks("passed"), pytest.Check{ID: "q2", Outcome: "passed"})),
		"unknown outcome":  report(t, []pytest.Check{{ID: "body", Outcome: "xpassed"}, {ID: "q1", Outcome: "passed"}, {ID: "q2", Outcome: "passed"}}),
		"negative queries": report(t, []pytest.Check{{ID: "body", Outcome: "passed", Queries: n(-1)}, {ID: "q1", Outcome: "passed"}, {ID: "q2", Outcome: "passed"}}),
		"huge queries":     report(t, []pytest.Check{{ID: "body", Outcome: "passed", Queries: n(big)}, {ID: "q1", Outcome: "passed"}, {ID: "q2", Outcome: "passed"}}),
		"negative time":    report(t, []pytest.Check{{ID: "body", Outcome: "passed", Duration: -1}, {ID: "q1", Outcome: "passed"}, {ID: "q2", Outcome: "passed"}}),
		"judge errors":     report(t, checks("passed"), "hidden test x has no check marker"),
		// Points in a report are not read at all: a report claiming more
		// still scores by the inventory (see TestScoreIgnoresReportedPoints).
	}
	for name, rep := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := grader.Score(ex, ran(0, rep, passingPublic...))
			if grader.ErrorCode(err) != grader.EINTERNAL || res != nil {
				t.Fatalf("got %+v, %v; want an EINTERNAL error", res, err)
			}
		})
	}
}

// TestScoreIgnoresReportedPoints: a report that carries points (as the
// old format did) cannot move the score past the inventory's.
func TestScoreIgnoresReportedPoints(t *testing.T) {
	rep := []byte(`{"version":2,"checks":[{"id":"body","outcome":"passed","points":1000000},{"id":"q1","outcome":"failed","points":99},{"id":"q2","outcome":"passed"}]}`)
	res, err := grader.Score(testExercise(), ran(0, rep, passingPublic...))
	if err != nil {
		t.Fatal(err)
	}
	if res.Score != 6 || res.Categories[0].Score != 4 || res.Categories[1].Score != 2 {
		t.Fatalf("score %d categories %+v", res.Score, res.Categories)
	}
}

func TestScoreDetails(t *testing.T) {
	out := ran(1, report(t, checks("failed")), passingPublic...)
	out.Timings = map[string]time.Duration{"run": 1500 * time.Millisecond}
	res, err := grader.Score(testExercise(), out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tests) != 4 || res.Seed != 99 {
		t.Fatalf("tests %+v seed %d", res.Tests, res.Seed)
	}
	first := res.Tests[0]
	if !first.Hidden || first.Name != "Body unchanged" || first.Points != 4 || first.MaxPoints != 4 || first.Queries != 3 {
		t.Fatalf("first %+v", first)
	}
	pub := res.Tests[3]
	if pub.Hidden || pub.Points != 0 || pub.MaxPoints != 0 || pub.Category != "public" {
		t.Fatalf("public test earned points: %+v", pub)
	}
	if res.Categories[0] != (grader.CategoryScore{Name: "correctness", Score: 4, MaxScore: 4}) ||
		res.Categories[1] != (grader.CategoryScore{Name: "performance", Score: 2, MaxScore: 6}) {
		t.Fatalf("categories %+v", res.Categories)
	}
	if res.Timings["run"] != 1500 {
		t.Fatalf("timings %v", res.Timings)
	}
}

func TestPublicReasonHidesRunText(t *testing.T) {
	for _, v := range []grader.Verdict{grader.VerdictPassed, grader.VerdictFailed, grader.VerdictError, grader.VerdictTampered, grader.VerdictInfraError} {
		r := &grader.Result{Verdict: v, Reason: "SECRET hidden source line", Tests: []grader.TestResult{{Hidden: true, Outcome: "passed"}, {Hidden: true, Outcome: "failed"}}}
		if got := r.PublicReason(); got == "" || strings.Contains(got, "SECRET") {
			t.Errorf("%s: %q", v, got)
		}
	}
	if got := grader.PublicName(grader.TestResult{Hidden: true, Name: "djgrade_hidden/x.py::t", NodeID: "djgrade_hidden/x.py::t"}, 2); got != "hidden check 3" {
		t.Fatalf("PublicName %q", got)
	}
}
