package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// timedEnv is the API over the real grader.Service and a bbolt file, with a
// clock the test moves (both the service's and the API's), a staff token
// and nothing else: candidates come with each assignment.
type timedEnv struct {
	srv   *httptest.Server
	store *bolt.Store
	staff string
	now   time.Time
}

var timedT0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func newTimedEnv(t *testing.T) *timedEnv {
	t.Helper()
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &timedEnv{store: store, now: timedT0}
	clock := func() time.Time { return e.now }
	svc := grader.NewService(grader.Config{Store: store, Auth: store, Catalog: cat, Logger: slog.New(slog.DiscardHandler), Now: clock})
	e.staff = addToken(t, store, grader.RoleInterviewer, "interviewer")
	e.srv = httptest.NewServer(New(Config{Grader: svc, Catalog: cat, Auth: store, Now: clock, RatePerSecond: -1}).Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *timedEnv) call(t *testing.T, method, path, secret string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

type timedAssignment struct {
	ID         string     `json:"id"`
	Secret     string     `json:"token"`
	TokenID    string     `json:"token_id"`
	State      string     `json:"state"`
	TimeLimit  string     `json:"time_limit"`
	AfterTime  string     `json:"after_time"`
	Counts     string     `json:"counts"`
	OpenedAt   *time.Time `json:"opened_at"`
	EndsAt     *time.Time `json:"ends_at"`
	Remaining  *int64     `json:"remaining_seconds"`
	Deadline   *time.Time `json:"deadline"`
	RevokedBy  string     `json:"revoked_by"`
	Extensions []struct {
		By         string `json:"by"`
		AddMinutes int    `json:"add_minutes"`
	} `json:"extensions"`
	Counted string `json:"counted_submission"`
}

func decodeAssignment(t *testing.T, res *http.Response, body []byte, status int) timedAssignment {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %s", res.StatusCode, status, body)
	}
	var a timedAssignment
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// ok makes a call that must answer 200 with an assignment.
func (e *timedEnv) ok(t *testing.T, method, path, secret string, body any) timedAssignment {
	t.Helper()
	res, b := e.call(t, method, path, secret, body)
	return decodeAssignment(t, res, b, http.StatusOK)
}

// create makes an assignment of n-plus-one and returns it with its
// candidate's secret.
func (e *timedEnv) create(t *testing.T, fields map[string]any) timedAssignment {
	t.Helper()
	body := map[string]any{"exercise": "n-plus-one", "candidate": "Ada Lovelace"}
	for k, v := range fields {
		body[k] = v
	}
	res, b := e.call(t, http.MethodPost, "/api/v1/assignments", e.staff, body)
	a := decodeAssignment(t, res, b, http.StatusCreated)
	if a.Secret == "" || a.TokenID == "" {
		t.Fatalf("no candidate token: %s", b)
	}
	return a
}

func (e *timedEnv) submit(t *testing.T, secret string) (*http.Response, []byte) {
	t.Helper()
	body, ctype := multipartBody(t, part{name: "exercise", data: []byte("n-plus-one")},
		part{name: "archive", filename: "a.zip", data: zipArchive(t, map[string]string{"library/views.py": "# mine\n"})})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/submissions", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+secret)
	return do(t, req)
}

func (e *timedEnv) count(t *testing.T) int {
	t.Helper()
	list, err := e.store.ListSubmissions(context.Background(), grader.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestTimedAssignmentStartsOnTheCandidatesFirstOpen(t *testing.T) {
	e := newTimedEnv(t)
	a := e.create(t, map[string]any{"time_limit": "90m", "after_time": "refuse", "counts": "best"})
	if a.TimeLimit != "1h30m" || a.AfterTime != "refuse" || a.Counts != "best" || a.State != "not_opened" || a.OpenedAt != nil || a.EndsAt != nil || a.Remaining != nil {
		t.Fatalf("created %+v", a)
	}
	path := "/api/v1/assignments/" + a.ID
	// Staff look, later: the clock does not start.
	e.now = timedT0.Add(time.Hour)
	got := e.ok(t, http.MethodGet, path, e.staff, nil)
	if got.OpenedAt != nil || got.State != "not_opened" {
		t.Fatalf("staff's GET opened it: %+v", got)
	}
	// The candidate opens it: 90 minutes from now.
	e.now = timedT0.Add(2 * time.Hour)
	got = e.ok(t, http.MethodGet, path, a.Secret, nil)
	if got.OpenedAt == nil || !got.OpenedAt.Equal(e.now) || !got.EndsAt.Equal(e.now.Add(90*time.Minute)) || *got.Remaining != 90*60 || got.State != "open" {
		t.Fatalf("after the candidate's GET: %+v", got)
	}
	// A second open keeps the first.
	e.now = e.now.Add(30 * time.Minute)
	got = e.ok(t, http.MethodGet, path, a.Secret, nil)
	if !got.OpenedAt.Equal(timedT0.Add(2*time.Hour)) || *got.Remaining != 60*60 {
		t.Fatalf("second open: %+v", got)
	}
	// In time: accepted, not late.
	res, body := e.submit(t, a.Secret)
	if res.StatusCode != http.StatusAccepted || strings.Contains(string(body), `"late":true`) {
		t.Fatalf("in time: %d %s", res.StatusCode, body)
	}
	// After time: refused, nothing stored.
	e.now = timedT0.Add(2*time.Hour + 91*time.Minute)
	n := e.count(t)
	res, body = e.submit(t, a.Secret)
	ae := wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
	if !strings.Contains(ae.Error.Message, "ended at") {
		t.Errorf("message %q", ae.Error.Message)
	}
	if e.count(t) != n {
		t.Fatalf("a refused submission was stored")
	}
	got = e.ok(t, http.MethodGet, path, a.Secret, nil)
	if got.State != "expired" || *got.Remaining != 0 {
		t.Fatalf("after time: %+v", got)
	}

	// Extended by 30 minutes: the candidate may submit again, and sees who.
	got = e.ok(t, http.MethodPost, path+"/extend", e.staff, map[string]any{"add_minutes": 30})
	if got.TimeLimit != "2h" || len(got.Extensions) != 1 || got.Extensions[0].AddMinutes != 30 || got.Extensions[0].By == "" || got.State != "open" {
		t.Fatalf("extended: %+v", got)
	}
	if res, body := e.submit(t, a.Secret); res.StatusCode != http.StatusAccepted {
		t.Fatalf("after the extension: %d %s", res.StatusCode, body)
	}
}

func TestTimedAssignmentFirstSubmissionOpensAndLatePolicy(t *testing.T) {
	e := newTimedEnv(t)
	a := e.create(t, map[string]any{"time_limit": "1h"})
	if a.AfterTime != "late" || a.Counts != "latest" {
		t.Fatalf("defaults: %+v", a)
	}
	e.now = timedT0.Add(5 * time.Hour)
	if res, body := e.submit(t, a.Secret); res.StatusCode != http.StatusAccepted {
		t.Fatalf("first submission: %d %s", res.StatusCode, body)
	}
	got := e.ok(t, http.MethodGet, "/api/v1/assignments/"+a.ID, e.staff, nil)
	if got.OpenedAt == nil || !got.OpenedAt.Equal(e.now) {
		t.Fatalf("the first submission did not open it: %+v", got)
	}
	e.now = e.now.Add(61 * time.Minute)
	res, body := e.submit(t, a.Secret)
	if res.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `"late":true`) {
		t.Fatalf("late policy: %d %s", res.StatusCode, body)
	}
}

func TestTimedAssignmentRevoke(t *testing.T) {
	e := newTimedEnv(t)
	a := e.create(t, nil)
	path := "/api/v1/assignments/" + a.ID
	// Candidates may not revoke or extend (staff routes).
	res, body := e.call(t, http.MethodPost, path+"/revoke", a.Secret, nil)
	wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
	res, body = e.call(t, http.MethodPost, path+"/extend", a.Secret, map[string]any{"add_minutes": 5})
	wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
	res, body = e.call(t, http.MethodPost, "/api/v1/assignments/asg_nope/revoke", e.staff, nil)
	wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)

	got := e.ok(t, http.MethodPost, path+"/revoke", e.staff, nil)
	if got.State != "revoked" || got.RevokedBy == "" {
		t.Fatalf("revoked: %+v", got)
	}
	got = e.ok(t, http.MethodGet, path, a.Secret, nil)
	if got.State != "revoked" || got.OpenedAt != nil {
		t.Fatalf("the candidate sees %+v", got)
	}
	n := e.count(t)
	res, body = e.submit(t, a.Secret)
	ae := wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
	if !strings.Contains(ae.Error.Message, "revoked") || e.count(t) != n {
		t.Fatalf("revoked submission: %q, stored %d→%d", ae.Error.Message, n, e.count(t))
	}
	res, body = e.call(t, http.MethodPost, path+"/extend", e.staff, map[string]any{"add_minutes": 5})
	wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)

	// A new assignment of the same exercise to the same token takes the
	// submissions; the revoked one stays revoked.
	res, body = e.call(t, http.MethodPost, "/api/v1/assignments", e.staff, map[string]any{"exercise": "n-plus-one", "candidate": "Ada Lovelace", "token_id": a.TokenID})
	again := decodeAssignment(t, res, body, http.StatusCreated)
	res, body = e.submit(t, a.Secret)
	if res.StatusCode != http.StatusAccepted || !strings.Contains(string(body), again.ID) {
		t.Fatalf("under the new assignment: %d %s", res.StatusCode, body)
	}
}

func TestTimedAssignmentInputErrors(t *testing.T) {
	e := newTimedEnv(t)
	bad := []map[string]any{
		{"time_limit": "soon"},
		{"time_limit": "30s"},
		{"time_limit": "8d"},
		{"time_limit": "169h"},
		{"after_time": "never"},
		{"counts": "worst"},
		{"time_limit": 90.5},
		{"time_limit": true},
	}
	for _, f := range bad {
		body := map[string]any{"exercise": "n-plus-one", "candidate": "Ada"}
		for k, v := range f {
			body[k] = v
		}
		res, b := e.call(t, http.MethodPost, "/api/v1/assignments", e.staff, body)
		wantError(t, res, b, http.StatusBadRequest, grader.EINVALID)
	}
	if list, _ := e.store.Assignments(context.Background(), ""); len(list) != 0 {
		t.Fatalf("refused assignments were stored: %d", len(list))
	}
	a := e.create(t, nil)
	path := "/api/v1/assignments/" + a.ID + "/extend"
	for _, body := range []map[string]any{
		{},
		{"add_minutes": 5}, // nothing to lengthen
		{"add_minutes": 0},
		{"add_minutes": -5},
		{"add_minutes": 20000},
		{"deadline": "tomorrow"},
		{"deadline": timedT0.Add(-time.Hour).Format(time.RFC3339)},
		{"deadline": timedT0.Add(time.Hour).Format(time.RFC3339), "add_minutes": 5},
		{"minutes": 5},
	} {
		res, b := e.call(t, http.MethodPost, path, e.staff, body)
		wantError(t, res, b, http.StatusBadRequest, grader.EINVALID)
	}
	// Neither field: the message names both, so the caller knows what to send.
	if res, b := e.call(t, http.MethodPost, path, e.staff, map[string]any{}); !strings.Contains(string(b), "deadline or add_minutes") {
		t.Errorf("an empty extension: %d %s", res.StatusCode, b)
	}
	got := e.ok(t, http.MethodPost, path, e.staff, map[string]any{"deadline": timedT0.Add(48 * time.Hour).Format(time.RFC3339)})
	if got.Deadline == nil || !got.Deadline.Equal(timedT0.Add(48*time.Hour)) || len(got.Extensions) != 1 {
		t.Fatalf("new deadline: %+v", got)
	}
}

// finishSubmission stores a graded submission of the assignment directly
// in bbolt, made at the env's clock, with the score.
func (e *timedEnv) finishSubmission(t *testing.T, a timedAssignment, score int) string {
	t.Helper()
	ctx := context.Background()
	sub := &grader.Submission{Exercise: "n-plus-one", Candidate: "Ada Lovelace", Status: grader.StatusQueued, CreatedAt: e.now,
		Owner: a.TokenID, Assignment: a.ID}
	if err := e.store.CreateSubmission(ctx, sub, []grader.File{{Path: "library/views.py", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := e.store.ClaimNext(ctx)
	if err != nil || claimed == nil || claimed.ID != sub.ID {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	res := &grader.Result{Score: score, MaxScore: 10, Verdict: grader.VerdictFailed}
	if err := e.store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
		t.Fatal(err)
	}
	return sub.ID
}

func TestTimedAssignmentCounts(t *testing.T) {
	for _, counts := range []string{"latest", "best"} {
		t.Run(counts, func(t *testing.T) {
			e := newTimedEnv(t)
			a := e.create(t, map[string]any{"counts": counts})
			if got := e.ok(t, http.MethodGet, "/api/v1/assignments/"+a.ID, e.staff, nil); got.Counted != "" {
				t.Fatalf("counted before any grade: %s", got.Counted)
			}
			best := e.finishSubmission(t, a, 9)
			e.now = e.now.Add(time.Minute)
			latest := e.finishSubmission(t, a, 4)
			want := map[string]string{"latest": latest, "best": best}[counts]
			for _, secret := range []string{e.staff, a.Secret} {
				got := e.ok(t, http.MethodGet, "/api/v1/assignments/"+a.ID, secret, nil)
				if got.Counted != want || got.Counts != counts {
					t.Fatalf("counts %s: counted %s, want %s", counts, got.Counted, want)
				}
			}
			// Extend and revoke answer the assignment in the GET's shape.
			if got := e.ok(t, http.MethodPost, "/api/v1/assignments/"+a.ID+"/extend", e.staff, map[string]any{"deadline": e.now.Add(48 * time.Hour).Format(time.RFC3339)}); got.Counted != want {
				t.Errorf("extend's answer: counted %q, want %q", got.Counted, want)
			}
			if got := e.ok(t, http.MethodPost, "/api/v1/assignments/"+a.ID+"/revoke", e.staff, nil); got.Counted != want {
				t.Errorf("revoke's answer: counted %q, want %q", got.Counted, want)
			}
		})
	}
}

// A client that retries a submission made in time (the same
// Idempotency-Key) after the time is up gets the submission stored the
// first time, not a refusal; a new submission is refused and stores nothing.
func TestTimedRetryAfterTheEndGetsTheFirstSubmission(t *testing.T) {
	e := newTimedEnv(t)
	a := e.create(t, map[string]any{"time_limit": "30m", "after_time": "refuse"})
	submit := func(key string) (*http.Response, []byte) {
		t.Helper()
		body, ctype := multipartBody(t, part{name: "exercise", data: []byte("n-plus-one")},
			part{name: "archive", filename: "a.zip", data: zipArchive(t, map[string]string{"library/views.py": "# mine\n"})})
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/submissions", body)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+a.Secret)
		req.Header.Set("Idempotency-Key", key)
		return do(t, req)
	}
	e.now = timedT0.Add(time.Minute)
	res, first := submit("attempt-1")
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("in time: %d %s", res.StatusCode, first)
	}
	var sub struct{ ID string }
	json.Unmarshal(first, &sub)
	e.now = timedT0.Add(2 * time.Hour)
	n := e.count(t)
	res, again := submit("attempt-1")
	var same struct{ ID string }
	json.Unmarshal(again, &same)
	if res.StatusCode != http.StatusAccepted || same.ID != sub.ID {
		t.Fatalf("the retry after the end: %d %s, want 202 with %s", res.StatusCode, again, sub.ID)
	}
	res, body := submit("attempt-2")
	wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
	if e.count(t) != n {
		t.Fatalf("the refused submission was stored")
	}
}

// TestTimedAssignmentTimeLimitAsMinutes: README's "a bare number is
// minutes" holds for a JSON number as for a string, and a number that is
// not whole minutes is refused with a message naming the field.
func TestTimedAssignmentTimeLimitAsMinutes(t *testing.T) {
	e := newTimedEnv(t)
	for _, v := range []any{90, "90", "1h30m"} {
		if a := e.create(t, map[string]any{"time_limit": v}); a.TimeLimit != "1h30m" {
			t.Errorf("time_limit %#v: %q, want 1h30m", v, a.TimeLimit)
		}
	}
	res, b := e.call(t, http.MethodPost, "/api/v1/assignments", e.staff, map[string]any{"exercise": "n-plus-one", "candidate": "Ada", "time_limit": 1.5})
	wantError(t, res, b, http.StatusBadRequest, grader.EINVALID)
	if !strings.Contains(string(b), "time_limit") || strings.Contains(string(b), "Go struct") {
		t.Errorf("the error does not say what to write: %s", b)
	}
}
