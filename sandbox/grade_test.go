package sandbox_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// hiddenMark is in the hidden test's source only: if it shows up in a
// result, the source leaked.
const hiddenMark = "HIDDEN-MARK-5c1e"

// trustExercise is a plain-Python exercise (no Django) whose hidden checks
// import the candidate's app/logic.py, and whose public test shows what the
// candidate's app/peek.py found.
func trustExercise() *grader.Exercise {
	return &grader.Exercise{
		ID:         "trust",
		Editable:   []string{"app/logic.py", "app/peek.py"},
		Categories: []grader.Category{{Name: "correctness", Points: 3}},
		Limits:     grader.Limits{Timeout: 60 * time.Second},
		FS: fstest.MapFS{
			"starter/pytest.ini":      {Data: []byte("[pytest]\npython_files = test_*.py\n")},
			"starter/app/__init__.py": {Data: []byte("")},
			"starter/app/logic.py":    {Data: []byte("def add(a, b):\n    return 0\n")},
			"starter/app/peek.py":     {Data: []byte("FOUND = {}\n")},
			"starter/tests/test_public.py": {Data: []byte(`from app.peek import FOUND

def test_show_what_the_candidate_found():
    assert FOUND == {}, FOUND
`)},
			"hidden/conftest.py": {Data: []byte(`import pytest

@pytest.fixture
def pair():
    return (1, 2)  # ` + hiddenMark + `
`)},
			"hidden/test_hidden_add.py": {Data: []byte(`import pytest
from app.logic import add

SECRET = "` + hiddenMark + `"

@pytest.mark.djgrade(points=2, category="correctness", name="Adds")
def test_adds(pair):
    assert add(*pair) == 3

@pytest.mark.djgrade(points=1, category="correctness", name="Adds negatives")
def test_negatives():
    assert add(-1, -2) == -3
`)},
		},
	}
}

func gradeTrust(t *testing.T, files ...grader.File) *grader.Result {
	t.Helper()
	d := MustOpen(t)
	svc := &grader.Service{Sandbox: d, Image: testImage}
	id := jobID(t, d)
	res, err := svc.Grade(t.Context(), trustExercise(), files, id, nil)
	if err != nil {
		t.Fatalf("Grade: %v", err)
	}
	t.Logf("%s", res.Describe())
	if strings.Contains(res.Log, hiddenMark) {
		t.Errorf("the hidden source leaked into the log:\n%s", res.Log)
	}
	for _, tr := range res.Tests {
		if strings.Contains(tr.Message, hiddenMark) {
			t.Errorf("the hidden source leaked into %s's message:\n%s", tr.Name, tr.Message)
		}
	}
	return res
}

const goodLogic = "def add(a, b):\n    return a + b\n"

// TestGradeSignedReportScores checks the whole chain on a correct answer:
// hidden tests run from memory with their conftest's fixture, and the
// signed report scores full marks.
func TestGradeSignedReportScores(t *testing.T) {
	res := gradeTrust(t, grader.File{Path: "app/logic.py", Data: []byte(goodLogic)})
	if res.Verdict != grader.VerdictPassed || res.Score != 3 {
		t.Fatalf("%s\n%s", res.Describe(), res.Log)
	}
}

// TestGradeCandidateFindsOnlyEmptyHiddenFiles checks that candidate code
// reading djgrade_hidden/ at import finds empty placeholders, and that what
// it found reaches a public test's message without any hidden source.
func TestGradeCandidateFindsOnlyEmptyHiddenFiles(t *testing.T) {
	res := gradeTrust(t,
		grader.File{Path: "app/logic.py", Data: []byte(goodLogic)},
		grader.File{Path: "app/peek.py", Data: []byte(`import os
FOUND = {}
for folder, _, files in os.walk("."):
    for f in files:
        p = os.path.join(folder, f)
        if "djgrade_hidden" in p or f.endswith(".sig"):
            with open(p, errors="replace") as fh:
                FOUND[p] = fh.read()
`)})
	var public *grader.TestResult
	for i := range res.Tests {
		if !res.Tests[i].Hidden {
			public = &res.Tests[i]
		}
	}
	if public == nil || res.Score != 3 {
		t.Fatalf("%s\n%+v", res.Describe(), res.Tests)
	}
	if !strings.Contains(public.Message, "'./djgrade_hidden/test_hidden_add.py': ''") || strings.Contains(public.Message, "conftest") {
		t.Fatalf("the candidate found something other than one empty placeholder:\n%s", public.Message)
	}
}

// TestGradeForgedReportIsTampered checks that a report written by the
// candidate's code, without the run's key, gives no points: at import time
// with an early exit, and from an atexit handler over the real report.
func TestGradeForgedReportIsTampered(t *testing.T) {
	forged := `{"version": 1, "exitstatus": 0, "collect_errors": [], "integrity": [], "tests": [
 {"nodeid": "djgrade_hidden/test_hidden_add.py::test_adds", "name": "Adds", "outcome": "passed", "duration": 0.1, "points": 2, "category": "correctness", "message": "", "queries": 0},
 {"nodeid": "djgrade_hidden/test_hidden_add.py::test_negatives", "name": "Adds negatives", "outcome": "passed", "duration": 0.1, "points": 1, "category": "correctness", "message": "", "queries": 0}]}`
	write := `import os
os.makedirs(".djgrade", exist_ok=True)
with open(".djgrade/report.json", "w") as f:
    f.write('''` + forged + `''')
with open(".djgrade/report.json.sig", "w") as f:
    f.write("0" * 64)
`
	for name, logic := range map[string]string{
		"at import":      "def add(a, b):\n    return 0\n" + write + "os._exit(0)\n",
		"at exit":        "import atexit\ndef add(a, b):\n    return 0\ndef forge():\n" + indent(write) + "atexit.register(forge)\n",
		"no sig at exit": "import atexit, os\ndef add(a, b):\n    return 0\ndef forge():\n" + indent(write) + "    os.unlink('.djgrade/report.json.sig')\natexit.register(forge)\n",
	} {
		t.Run(name, func(t *testing.T) {
			res := gradeTrust(t, grader.File{Path: "app/logic.py", Data: []byte(logic)})
			if res.Verdict != grader.VerdictTampered || res.Score != 0 || res.Reason != grader.ReasonUnsigned {
				t.Fatalf("%s, want tampered: %q\n%s", res.Describe(), grader.ReasonUnsigned, res.Log)
			}
		})
	}
}

// TestGradePatchedPytestIsTampered checks that candidate code patching
// pytest's runner at import ends as tampered, though the report is signed.
func TestGradePatchedPytestIsTampered(t *testing.T) {
	res := gradeTrust(t, grader.File{Path: "app/logic.py", Data: []byte(`import _pytest.reports

def add(a, b):
    return 0

real = _pytest.reports.TestReport.from_item_and_call.__func__

def from_item_and_call(cls, item, call):
    rep = real(cls, item, call)
    rep.outcome = "passed"
    rep.longrepr = None
    return rep

_pytest.reports.TestReport.from_item_and_call = classmethod(from_item_and_call)
`)})
	if res.Verdict != grader.VerdictTampered || res.Score != 0 || !strings.Contains(res.Reason, "_pytest.reports.TestReport") {
		t.Fatalf("%s, want tampered\n%s", res.Describe(), res.Log)
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "    " + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
