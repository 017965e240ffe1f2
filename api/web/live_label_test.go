package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// Where staff see a session's public-test runs (the watch page, the
// playback), the page says they are the candidate's own report: they run
// beside the candidate's code, which can make up any outcome or query
// count, and only the hidden judge's grade counts.
func TestLiveRunsLabelledCandidates(t *testing.T) {
	e, _ := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, staffID := e.token(grader.RoleInterviewer, "Iris Interviewer")
	l, _, err := e.svc.StartLive(ctx, grader.LiveStart{Exercise: "n-plus-one", Candidate: "Ada", CreatedBy: staffID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RunLive(ctx, l.ID, []grader.File{{Path: "library/serializers.py", Data: []byte("# x\n")}}); err != nil {
		t.Fatal(err)
	}
	staff := e.browser()
	staff.login(staffSecret)
	for _, p := range []string{"/ui/live/" + l.ID, "/ui/live/" + l.ID + "/playback"} {
		res, body := staff.get(p)
		wantStatus(t, p, res, body, http.StatusOK)
		if !strings.Contains(body, "data-runs-label") || !strings.Contains(body, "candidate's own public tests") {
			t.Errorf("%s shows the candidate's runs without saying they are the candidate's own report", p)
		}
	}
}
