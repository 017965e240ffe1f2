package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
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

// revokeAfterRead is the store, where the service's k-th read of an
// assignment is followed at once by a revocation that commits before the
// submission does: what a staff member's revoke racing a candidate's submit
// does, at every point the service reads the assignment.
type revokeAfterRead struct {
	*bolt.Store
	reads, at int
	fired     bool
}

func (r *revokeAfterRead) Assignment(ctx context.Context, id string) (*grader.Assignment, error) {
	a, err := r.Store.Assignment(ctx, id)
	if err == nil && r.at > 0 {
		if r.reads++; r.reads == r.at {
			r.fired = true
			if _, err := r.Store.RevokeAssignment(ctx, id, "tok_staff", timedT0); err != nil {
				return nil, err
			}
		}
	}
	return a, err
}

// A revocation that commits while a submission is on its way refuses it:
// the admission is decided in the transaction that stores the submission,
// not on an assignment read before it.
func TestTimedRevokeRacingASubmissionRefusesIt(t *testing.T) {
	for k := 1; ; k++ {
		e := newTimedEnv(t)
		cat, err := exercises.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		racing := &revokeAfterRead{Store: e.store}
		clock := func() time.Time { return e.now }
		svc := grader.NewService(grader.Config{Store: e.store, Auth: racing, Catalog: cat, Logger: slog.New(slog.DiscardHandler), Now: clock})
		srv := httptest.NewServer(New(Config{Grader: svc, Catalog: cat, Auth: e.store, Now: clock, RatePerSecond: -1}).Handler())
		e.srv = srv

		a := e.create(t, map[string]any{"time_limit": "90m"})
		e.ok(t, http.MethodGet, "/api/v1/assignments/"+a.ID, a.Secret, nil) // opened
		n := e.count(t)
		racing.at = k
		res, body := e.submit(t, a.Secret)
		srv.Close()
		if !racing.fired {
			if k == 1 {
				t.Fatal("the service never read the assignment")
			}
			return
		}
		if res.StatusCode != http.StatusForbidden || e.count(t) != n {
			t.Fatalf("revoked after the service's read %d of the assignment: %d %s, %d stored before, %d after", k, res.StatusCode, body, n, e.count(t))
		}
	}
}

// A revoked assignment gives its candidate nothing more: not even a run of
// the public tests (a sandbox run on the server's workers).
func TestTimedRevokedAssignmentRunsNoPublicTests(t *testing.T) {
	e := newTimedEnv(t)
	a := e.create(t, nil)
	e.ok(t, http.MethodPost, "/api/v1/assignments/"+a.ID+"/revoke", e.staff, nil)
	body, ctype := multipartBody(t, part{name: "archive", filename: "a.zip", data: zipArchive(t, map[string]string{"library/views.py": "# mine\n"})})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/exercises/n-plus-one/public-run", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+a.Secret)
	res, data := do(t, req)
	ae := wantError(t, res, data, http.StatusForbidden, grader.EFORBIDDEN)
	if !strings.Contains(ae.Error.Message, "revoked") {
		t.Errorf("message %q", ae.Error.Message)
	}
}

// A new deadline on an assignment whose time limit ended it changes
// nothing the candidate sees (the earlier of the two ends it): it is
// refused with what to do instead, rather than recorded as an extension
// that leaves the candidate refused.
func TestTimedNewDeadlineThatExtendsNothingIsRefused(t *testing.T) {
	e := newTimedEnv(t)
	a := e.create(t, map[string]any{"time_limit": "60m", "after_time": "refuse"})
	path := "/api/v1/assignments/" + a.ID
	e.ok(t, http.MethodGet, path, a.Secret, nil) // opened at T0
	e.now = timedT0.Add(2 * time.Hour)
	res, body := e.call(t, http.MethodPost, path+"/extend", e.staff, map[string]any{"deadline": timedT0.Add(5 * time.Hour).Format(time.RFC3339)})
	if res.StatusCode == http.StatusOK {
		got := e.ok(t, http.MethodGet, path, e.staff, nil)
		sres, sbody := e.submit(t, a.Secret)
		t.Fatalf("extension recorded (state %s, ends %v) yet the candidate's submission answers %d %s", got.State, got.EndsAt, sres.StatusCode, sbody)
	}
	ae := wantError(t, res, body, http.StatusBadRequest, grader.EINVALID)
	if !strings.Contains(ae.Error.Message, "add_minutes") && !strings.Contains(ae.Error.Message, "minutes") {
		t.Errorf("message %q does not say what to do", ae.Error.Message)
	}
	if got := e.ok(t, http.MethodGet, path, e.staff, nil); len(got.Extensions) != 0 {
		t.Fatalf("a refused extension was stored: %+v", got.Extensions)
	}
}

// A bare number of minutes too large for a duration is out of bounds, not
// wrapped around into one: 2^53+90 minutes is not 1h30m.
func TestTimedTimeLimitMinutesDoNotOverflow(t *testing.T) {
	e := newTimedEnv(t)
	for _, v := range []string{"9007199254741082", "-9007199254740902", "153722867280912931"} {
		res, body := e.call(t, http.MethodPost, "/api/v1/assignments", e.staff, map[string]any{"exercise": "n-plus-one", "candidate": "Ada", "time_limit": v})
		wantError(t, res, body, http.StatusBadRequest, grader.EINVALID)
	}
}
