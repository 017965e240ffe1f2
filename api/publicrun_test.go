package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// publicSandbox answers every run with a public report of one passing and
// one failing test, and keeps the jobs it was given.
type publicSandbox struct {
	mu   sync.Mutex
	jobs []grader.Job
}

func (p *publicSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	p.mu.Lock()
	p.jobs = append(p.jobs, job)
	p.mu.Unlock()
	return grader.Outcome{Verdict: grader.RunOK, Public: []byte(`{"exitstatus": 1, "tests": [
		{"nodeid": "tests/test_api.py::test_list", "outcome": "passed", "duration": 0.1, "message": ""},
		{"nodeid": "tests/test_api.py::test_queries", "outcome": "failed", "duration": 0.2, "message": "11 queries, want 2"}]}`)}, nil
}

// POST /api/v1/exercises/{id}/public-run runs the public tests only (a
// PublicOnly job, no hidden checks sent) and answers with their outcomes,
// for staff and for a candidate assigned the exercise; nothing is queued.
func TestPublicRunRoute(t *testing.T) {
	sb := &publicSandbox{}
	w := newWorld(t, sb, false, nil)
	archive := tarGzArchive(t, map[string]string{"library/serializers.py": "# attempt\n"})
	post := func(who, exercise string, parts ...part) (*http.Response, []byte) {
		body, ctype := multipartBody(t, parts...)
		return w.do(t, who, http.MethodPost, "/api/v1/exercises/"+exercise+"/public-run", ctype, body, nil)
	}
	arch := part{name: "archive", filename: "a.tar.gz", data: archive}
	for _, who := range []string{"interviewer", grader.ModePractice, grader.ModeAssessment} {
		res, body := post(who, "n-plus-one", arch)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %s", who, res.StatusCode, body)
		}
		var run grader.PublicRun
		if err := json.Unmarshal(body, &run); err != nil {
			t.Fatal(err)
		}
		// A test is in the one schema of a test: "duration", never "duration_s".
		if !strings.Contains(string(body), `"duration":`) || strings.Contains(string(body), "duration_s") {
			t.Errorf("%s: tests not in the result's shape: %s", who, body)
		}
		if run.Verdict != grader.VerdictFailed || len(run.Tests) != 2 || run.Tests[1].Message != "11 queries, want 2" {
			t.Errorf("%s: run %+v", who, run)
		}
	}
	for _, tc := range []struct {
		who, exercise string
		parts         []part
		want          int
	}{
		{"", "n-plus-one", []part{arch}, http.StatusUnauthorized},
		{"unassigned", "n-plus-one", []part{arch}, http.StatusForbidden},
		{"interviewer", "no-such-exercise", []part{arch}, http.StatusNotFound},
		{"interviewer", "n-plus-one", nil, http.StatusBadRequest},
		{"interviewer", "n-plus-one", []part{{name: "archive", filename: "a.tar.gz", data: []byte("not an archive")}}, http.StatusBadRequest},
		{"interviewer", "n-plus-one", []part{arch, {name: "candidate", data: []byte("x")}}, http.StatusBadRequest},
	} {
		if res, body := post(tc.who, tc.exercise, tc.parts...); res.StatusCode != tc.want {
			t.Errorf("%q on %s with %d parts: status %d, want %d: %s", tc.who, tc.exercise, len(tc.parts), res.StatusCode, tc.want, body)
		}
	}
	// A project's archive is an upload, not a small body: past 64 KiB it
	// is still taken.
	noise := make([]byte, 75<<10)
	rand.Read(noise)
	big := tarGzArchive(t, map[string]string{"library/serializers.py": "# attempt\n", "notes.txt": hex.EncodeToString(noise)})
	if len(big) <= 64<<10 {
		t.Fatalf("the big archive is only %d bytes", len(big))
	}
	if res, body := post("interviewer", "n-plus-one", part{name: "archive", filename: "a.tar.gz", data: big}); res.StatusCode != http.StatusOK {
		t.Errorf("a %d-byte archive: status %d: %s", len(big), res.StatusCode, body)
	}
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if len(sb.jobs) != 4 {
		t.Fatalf("%d sandbox runs, want 4", len(sb.jobs))
	}
	for _, j := range sb.jobs {
		if !j.PublicOnly || j.JudgeWorkspace != nil {
			t.Errorf("job %s: PublicOnly %v, judge workspace %v", j.ID, j.PublicOnly, j.JudgeWorkspace)
		}
	}
	subs, err := w.store.ListSubmissions(context.Background(), grader.SubmissionFilter{})
	if err != nil || len(subs) != 0 {
		t.Errorf("public runs stored %d submissions (%v)", len(subs), err)
	}
}
