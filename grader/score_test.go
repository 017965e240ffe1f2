package grader_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/djgrade/djgrade/grader"
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

func TestAssemble(t *testing.T) {
	ex := testExercise()
	candidate := []grader.File{
		{Path: "app/views.py", Data: []byte("fast\n")},
		{Path: "app/models.py", Data: []byte("models\n")},                 // unchanged copy: ignored silently
		{Path: "tests/test_public.py", Data: []byte("def test_x(): 1\n")}, // changed, not editable
		{Path: "djgrade_hidden/test_hidden_perf.py", Data: []byte("pass")},
		{Path: ".djgrade/report.json", Data: []byte("{}")},
		{Path: "app/extra/new.py", Data: []byte("new\n")},
	}
	ws, refused, err := grader.Assemble(ex, candidate)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range ws {
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
}

// TestPrivatePayload checks the private channel's JSON: the key in hex and
// every hidden file with its path below HiddenDir.
func TestPrivatePayload(t *testing.T) {
	ex := testExercise()
	hidden, err := grader.HiddenFiles(ex)
	if err != nil {
		t.Fatal(err)
	}
	data, err := grader.PrivatePayload([]byte{0xde, 0xad}, hidden)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Key    string `json:"key"`
		Hidden []struct{ Path, Source string }
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range doc.Hidden {
		got[h.Path] = h.Source
	}
	if doc.Key != "dead" || len(got) != 2 || got["djgrade_hidden/test_hidden_perf.py"] != "hidden\n" || got["djgrade_hidden/conftest.py"] != "fixtures\n" {
		t.Fatalf("payload %s", data)
	}
	if _, err := grader.PrivatePayload(nil, []grader.File{{Path: "djgrade_hidden/x.py", Data: []byte{0xff}}}); err == nil {
		t.Fatal("a hidden file that is not UTF-8 was packed")
	}
}

func TestAssembleStripsWrapper(t *testing.T) {
	ex := testExercise()
	ws, refused, err := grader.Assemble(ex, []grader.File{
		{Path: "octo-repo-1a2b3c/app/views.py", Data: []byte("fast\n")},
		{Path: "octo-repo-1a2b3c/README.md", Data: []byte("hi")},
	})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range ws {
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

func TestWriteTar(t *testing.T) {
	var buf bytes.Buffer
	err := grader.WriteTar(&buf, []grader.File{{Path: "a/b/c.py", Data: []byte("c")}, {Path: "run.sh", Data: []byte("#!"), Exec: true}})
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "run.sh" && h.Mode != 0o755 {
			t.Errorf("run.sh mode %o", h.Mode)
		}
	}
	if strings.Join(names, ",") != "a/,a/b/,a/b/c.py,run.sh" {
		t.Fatalf("entries %v", names)
	}
}

// testKey is the report key of the scoring tests.
var testKey = []byte("0123456789abcdef0123456789abcdef")

// signed returns an outcome of a run that ended by itself with the report,
// signed with testKey as the plugin would.
func signed(exit int, report []byte) grader.Outcome {
	return grader.Outcome{Verdict: grader.RunOK, ExitCode: exit, Report: report, ReportSignature: grader.SignReport(testKey, report)}
}

// report builds a report JSON from tests.
func report(t *testing.T, tests []grader.ReportTest, collect ...grader.CollectError) []byte {
	t.Helper()
	b, err := json.Marshal(grader.Report{Version: 1, Tests: tests, CollectErrors: collect})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hiddenTests(perfOutcome string) []grader.ReportTest {
	return []grader.ReportTest{
		{NodeID: "djgrade_hidden/test_h.py::test_body", Name: "Body unchanged", Outcome: "passed", Points: 4, Category: "correctness", Queries: 3},
		{NodeID: "djgrade_hidden/test_h.py::test_q1", Name: "Constant queries", Outcome: perfOutcome, Points: 4, Category: "performance", Queries: 12, Message: "assert 12 == 3"},
		{NodeID: "djgrade_hidden/test_h.py::test_q2", Name: "Small bound", Outcome: "passed", Points: 2, Category: "performance"},
		{NodeID: "tests/test_public.py::test_shape", Outcome: "passed", Points: 99, Category: "performance"},
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
		{"all pass", signed(0, report(t, hiddenTests("passed"))), 10, grader.VerdictPassed, "all 3"},
		{"one fails", signed(1, report(t, hiddenTests("failed"))), 6, grader.VerdictFailed, "2 of 3"},
		{"hidden skipped", signed(0, report(t, hiddenTests("skipped"))), 0, grader.VerdictTampered, "never skip"},
		{"hidden xfailed", signed(0, report(t, hiddenTests("xfailed"))), 0, grader.VerdictTampered, "never skip"},
		{"hidden missing", signed(0, report(t, hiddenTests("passed")[:2])), 0, grader.VerdictTampered, "missing"},
		{"collect error", signed(2, report(t, hiddenTests("passed")[:1],
			grader.CollectError{NodeID: "djgrade_hidden/test_h.py", Message: "Traceback\nE   ImportError: cannot import name 'BookSerializer'"})), 0, grader.VerdictError, "cannot import name"},
		{"no report", grader.Outcome{Verdict: grader.RunOK, ExitCode: 1}, 0, grader.VerdictError, "did not run"},
		{"garbage report", signed(0, []byte("{not json")), 0, grader.VerdictTampered, "cannot be trusted"},
		{"wrong version", signed(0, []byte(`{"version":7}`)), 0, grader.VerdictTampered, "version"},
		{"timeout with full report", grader.Outcome{Verdict: grader.RunTimeout, Report: report(t, hiddenTests("passed"))}, 0, grader.VerdictTimeout, "time limit"},
		{"oom", grader.Outcome{Verdict: grader.RunOOM}, 0, grader.VerdictOOM, "memory"},
		{"output", grader.Outcome{Verdict: grader.RunOutputLimit, Report: report(t, hiddenTests("passed"))}, 0, grader.VerdictOutputLimit, "output"},
		{"pids", grader.Outcome{Verdict: grader.RunProcessLimit}, 0, grader.VerdictProcessLimit, "processes"},
		{"inflated points", signed(0, report(t, append(hiddenTests("passed"),
			grader.ReportTest{NodeID: "djgrade_hidden/test_h.py::test_extra", Outcome: "passed", Points: 5, Category: "performance"}))), 0, grader.VerdictTampered, "missing"},
		{"unknown category", signed(0, report(t, []grader.ReportTest{
			{NodeID: "djgrade_hidden/x.py::t", Outcome: "passed", Points: 10, Category: "bonus"}})), 0, grader.VerdictTampered, "unknown category"},
		{"all hidden error", signed(1, report(t, []grader.ReportTest{
			{NodeID: "djgrade_hidden/test_h.py::a", Outcome: "error", Points: 4, Category: "correctness"},
			{NodeID: "djgrade_hidden/test_h.py::b", Outcome: "error", Points: 6, Category: "performance"}})), 0, grader.VerdictError, "set up"},
		{"unsigned", grader.Outcome{Verdict: grader.RunOK, Report: report(t, hiddenTests("passed"))}, 0, grader.VerdictTampered, grader.ReasonUnsigned},
		{"signed with another key", grader.Outcome{Verdict: grader.RunOK, Report: report(t, hiddenTests("passed")),
			ReportSignature: grader.SignReport([]byte("another key, another run........"), report(t, hiddenTests("passed")))}, 0, grader.VerdictTampered, grader.ReasonUnsigned},
		{"signature of other bytes", grader.Outcome{Verdict: grader.RunOK, Report: report(t, hiddenTests("passed")),
			ReportSignature: grader.SignReport(testKey, report(t, hiddenTests("failed")))}, 0, grader.VerdictTampered, grader.ReasonUnsigned},
		{"signature with a newline", grader.Outcome{Verdict: grader.RunOK, Report: report(t, hiddenTests("passed")),
			ReportSignature: append(grader.SignReport(testKey, report(t, hiddenTests("passed"))), '\n')}, 10, grader.VerdictPassed, "all 3"},
		{"empty signature", grader.Outcome{Verdict: grader.RunOK, Report: report(t, hiddenTests("passed")), ReportSignature: []byte{}}, 0, grader.VerdictTampered, grader.ReasonUnsigned},
		{"integrity problems", signed(0, integrityReport(t, hiddenTests("passed"), "_pytest.runner.call_and_report was replaced", "x")), 0, grader.VerdictTampered, "call_and_report was replaced (and 1 more)"},
		{"no integrity field", signed(0, []byte(`{"version":1,"exitstatus":0,"collect_errors":[],"tests":[]}`)), 0, grader.VerdictTampered, "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.out.Timings = map[string]time.Duration{"run": 1500 * time.Millisecond}
			res := grader.Score(ex, tc.out, testKey)
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

func TestScoreDetails(t *testing.T) {
	out := signed(1, report(t, hiddenTests("failed")))
	out.Timings = map[string]time.Duration{"run": 1500 * time.Millisecond}
	res := grader.Score(testExercise(), out, testKey)
	if len(res.Tests) != 4 {
		t.Fatalf("tests %+v", res.Tests)
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

// integrityReport builds a report JSON whose integrity list holds problems.
func integrityReport(t *testing.T, tests []grader.ReportTest, problems ...string) []byte {
	t.Helper()
	b, err := json.Marshal(grader.Report{Version: 1, Tests: tests, Integrity: problems})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRedactHidden(t *testing.T) {
	hidden := []grader.File{{Path: "djgrade_hidden/test_h.py", Data: []byte("def test_secret():\n    assert compute_the_answer() == 42, 'distinctive'\n    x = 1\n")}}
	msg := "AssertionError: boom\nE   leaked:     assert compute_the_answer() == 42, 'distinctive'\nE   x = 1\n"
	got := grader.RedactHidden(msg, hidden)
	if strings.Contains(got, "compute_the_answer") || !strings.Contains(got, "AssertionError: boom") || !strings.Contains(got, "x = 1") {
		t.Fatalf("redacted:\n%s", got)
	}
	if grader.RedactHidden("plain message", hidden) != "plain message" {
		t.Fatal("changed a clean message")
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
