package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// A candidate who reads the task through the API (the exercise's prompt,
// the starter download) has seen it: that starts the assignment's clock,
// as the page and the page's starter download do. Otherwise a candidate
// reads the prompt, works offline for days and submits "on time": the first
// submission would open the assignment only then.
func TestTimedAssignmentOpensWhenTheCandidateReadsTheTaskThroughTheAPI(t *testing.T) {
	for _, path := range []string{
		"/api/v1/exercises/n-plus-one",
		"/api/v1/exercises/n-plus-one/starter.zip",
		"/api/v1/exercises/n-plus-one/starter.tar.gz",
	} {
		t.Run(path, func(t *testing.T) {
			e := newTimedEnv(t)
			a := e.create(t, map[string]any{"time_limit": "90m", "after_time": "refuse"})
			// Staff reading the exercise start nothing.
			if res, body := e.call(t, http.MethodGet, path, e.staff, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("staff GET %s: %d %s", path, res.StatusCode, body)
			}
			if got := e.ok(t, http.MethodGet, "/api/v1/assignments/"+a.ID, e.staff, nil); got.OpenedAt != nil {
				t.Fatalf("staff's read opened it: %+v", got)
			}
			e.now = timedT0.Add(time.Hour)
			if res, body := e.call(t, http.MethodGet, path, a.Secret, nil); res.StatusCode != http.StatusOK {
				t.Fatalf("candidate GET %s: %d %s", path, res.StatusCode, body)
			}
			got := e.ok(t, http.MethodGet, "/api/v1/assignments/"+a.ID, e.staff, nil)
			if got.OpenedAt == nil || !got.OpenedAt.Equal(e.now) {
				t.Fatalf("reading the task did not open the assignment: %+v", got)
			}
			// Three days later the 90 minutes are long over.
			e.now = timedT0.Add(72 * time.Hour)
			n := e.count(t)
			res, body := e.submit(t, a.Secret)
			wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
			if e.count(t) != n {
				t.Fatal("a refused submission was stored")
			}
		})
	}
}
