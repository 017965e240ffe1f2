package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// The watch page shows the latest liveWatchRuns runs in full, whatever
// their number (each may hold 500 tests with their messages), with a line
// for every run in the activity and the count of them all.
func TestLiveWatchShowsLatestRuns(t *testing.T) {
	e, _ := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, staffID := e.token(grader.RoleInterviewer, "Iris Interviewer")
	l, _, err := e.svc.StartLive(ctx, grader.LiveStart{Exercise: "n-plus-one", Candidate: "Ada", CreatedBy: staffID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveLive(ctx, l.ID, []grader.File{{Path: "library/serializers.py", Data: []byte("# x\n")}}); err != nil {
		t.Fatal(err)
	}
	// Runs stored as RunLive stores them, without waiting LiveRunEvery.
	const n = liveWatchRuns + 5
	for range n {
		run := &grader.LiveRun{Snapshot: 1, Result: &grader.PublicRun{Verdict: grader.VerdictPassed, Tests: []grader.TestJSON{{Name: "tests/t.py::test_a", Outcome: grader.OutcomePassed}}}}
		if err := e.store.PutLiveRun(ctx, l.ID, run); err != nil {
			t.Fatal(err)
		}
	}
	staff := e.browser()
	staff.login(staffSecret)
	res, body := staff.get("/ui/live/" + l.ID)
	wantStatus(t, "watch", res, body, http.StatusOK)
	if got := strings.Count(body, `<details class="run" data-run=`); got != liveWatchRuns {
		t.Errorf("%d runs in full for %d runs, want the latest %d", got, n, liveWatchRuns)
	}
	if !strings.Contains(body, `data-run="25"`) || strings.Contains(body, `data-run="5" `) {
		t.Error("the runs in full are not the latest")
	}
	if !strings.Contains(body, "data-run-count>25<") || !strings.Contains(body, "data-runs-more") {
		t.Error("the page does not count every run or say where the earlier ones are")
	}
	if got := strings.Count(body, `class="feed-run"`); got != n {
		t.Errorf("%d run lines in the activity, want %d", got, n)
	}
}
