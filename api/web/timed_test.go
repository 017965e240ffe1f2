package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

var webT0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// newTimedEnv is newEnv whose pages and service share a clock the test
// moves, with the service applying assignments' rules (Auth set).
func newTimedEnv(t *testing.T) (*env, *time.Time) {
	now := webT0
	clock := func() time.Time { return now }
	e := newEnv(t, func(c *Config) { c.Now = clock })
	e.svc.Auth, e.svc.Now = e.store, clock
	return e, &now
}

var (
	tokenRE   = regexp.MustCompile(`id="c-token" readonly value="([^"]+)"`)
	asgLinkRE = regexp.MustCompile(`href="/ui/assignments/(asg_[0-9a-f]+)"`)
)

func (e *env) assignmentByID(id string) *grader.Assignment {
	e.t.Helper()
	a, err := e.store.Assignment(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) submissionCount() int {
	e.t.Helper()
	list, err := e.store.ListSubmissions(context.Background(), grader.SubmissionFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(list)
}

func TestTimedAssignmentPages(t *testing.T) {
	e, now := newTimedEnv(t)
	staffSecret, staffID := e.token(grader.RoleInterviewer, "Grace")
	staff := e.browser()
	staff.login(staffSecret)
	staff.get("/ui/assignments")

	// A bad time limit is refused and stores nothing.
	res, body := staff.post("/ui/assignments", url.Values{"csrf": {staff.csrf}, "candidate": {"Ada"}, "exercise": {"n-plus-one"},
		"mode": {"assessment"}, "time_limit": {"20000"}})
	wantStatus(t, "bad time limit", res, body, http.StatusBadRequest)
	if !strings.Contains(body, "time limit must be between") {
		t.Errorf("no message for a bad time limit: %.300s", body)
	}
	if list, _ := e.store.Assignments(context.Background(), ""); len(list) != 0 {
		t.Fatalf("a refused form stored %d assignments", len(list))
	}

	res, body = staff.post("/ui/assignments", url.Values{"csrf": {staff.csrf}, "candidate": {"Ada Lovelace"}, "exercise": {"n-plus-one"},
		"mode": {"assessment"}, "time_limit": {"90"}, "after_time": {"refuse"}, "counts": {"best"}})
	wantStatus(t, "create", res, body, http.StatusCreated)
	m, l := tokenRE.FindStringSubmatch(body), asgLinkRE.FindStringSubmatch(body)
	if m == nil || l == nil {
		t.Fatalf("no token or assignment link on the created page: %.2000s", body)
	}
	secret, id := m[1], l[1]
	for _, want := range []string{`data-copy-from="c-link"`, `data-copy-from="c-message"`, "You have 1h30m from the moment you first open the link",
		"submissions after that are not accepted", "your best-scored submission counts", "/ui/a/" + id, secret, `src="/ui/static/timed.js"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the created page lacks %q", want)
		}
	}
	a := e.assignmentByID(id)
	if a.TimeLimit != 90*time.Minute || a.AfterTime != grader.AfterRefuse || a.Counts != grader.CountsBest {
		t.Fatalf("stored %+v", a)
	}

	// Staff look (their page, the candidate's page's preview): not opened.
	*now = webT0.Add(time.Hour)
	res, body = staff.get("/ui/assignments/" + id)
	wantStatus(t, "staff page", res, body, http.StatusOK)
	if !strings.Contains(body, "not opened") || !strings.Contains(body, `data-copy-from="s-message"`) || !strings.Contains(body, "sign in with the token you were sent") {
		t.Errorf("staff page before the open: %.3000s", body)
	}
	// It links its exports (README: "Exports") and the candidate's page.
	for _, want := range []string{`href="/ui/assignments/` + id + `/results.csv"`, `href="/ui/assignments/` + id + `/results.json"`, `href="/ui/candidates/`} {
		if !strings.Contains(body, want) {
			t.Errorf("staff page lacks %s", want)
		}
	}
	res, body = staff.get("/ui/a/" + id)
	wantStatus(t, "preview", res, body, http.StatusOK)
	if !e.assignmentByID(id).OpenedAt.IsZero() {
		t.Fatal("staff's views opened the assignment")
	}

	// The candidate opens it: the countdown starts, 90 minutes.
	cand := e.browser()
	cand.login(secret)
	*now = webT0.Add(2 * time.Hour)
	res, body = cand.get("/ui/a/" + id)
	wantStatus(t, "candidate page", res, body, http.StatusOK)
	if got := e.assignmentByID(id).OpenedAt; !got.Equal(*now) {
		t.Fatalf("opened at %v, want %v", got, *now)
	}
	for _, want := range []string{`data-countdown`, `data-ends="` + now.Add(90*time.Minute).Format(time.RFC3339Nano) + `"`, ">1:30:00<",
		"the best-scored graded submission counts", "Submissions after the end are not accepted", `action="/ui/a/` + id + `/submit"`} {
		if !strings.Contains(body, want) {
			t.Errorf("candidate page lacks %q", want)
		}
	}
	res, body = cand.get("/ui/a/")
	if !strings.Contains(body, "data-countdown") || !strings.Contains(body, "time limit 1h30m") {
		t.Errorf("my assignments: %.2000s", body)
	}

	// After the time: no form, and an upload anyway is refused, storing nothing.
	*now = webT0.Add(2*time.Hour + 91*time.Minute)
	res, body = cand.get("/ui/a/" + id)
	if !strings.Contains(body, "Your time is up; submissions are no longer accepted") || strings.Contains(body, `action="/ui/a/`+id+`/submit"`) {
		t.Errorf("after time: %.3000s", body)
	}
	n := e.submissionCount()
	res, body = cand.upload("/ui/a/"+id+"/submit", map[string]string{"csrf": cand.csrf, "nonce": "n1"}, referenceZip(t, e.cat))
	wantStatus(t, "refused upload", res, body, http.StatusForbidden)
	if !strings.Contains(body, "ended at") || e.submissionCount() != n {
		t.Errorf("refused upload: stored %d→%d: %.500s", n, e.submissionCount(), body)
	}

	// Extend: CSRF checked, bad input explained, then 30 minutes added.
	res, body = staff.post("/ui/assignments/"+id+"/extend", url.Values{"add_minutes": {"30"}})
	wantStatus(t, "extend without CSRF", res, body, http.StatusForbidden)
	staff.get("/ui/assignments/" + id)
	res, body = staff.post("/ui/assignments/"+id+"/extend", url.Values{"csrf": {staff.csrf}, "add_minutes": {"lots"}})
	wantStatus(t, "extend, bad minutes", res, body, http.StatusBadRequest)
	res, body = staff.post("/ui/assignments/"+id+"/extend", url.Values{"csrf": {staff.csrf}, "add_minutes": {"30"}, "deadline": {"2027-01-01T10:00"}})
	wantStatus(t, "extend, both", res, body, http.StatusBadRequest)
	if len(e.assignmentByID(id).Extensions) != 0 {
		t.Fatal("a refused extension was stored")
	}
	res, body = staff.post("/ui/assignments/"+id+"/extend", url.Values{"csrf": {staff.csrf}, "add_minutes": {"30"}})
	wantStatus(t, "extend", res, body, http.StatusSeeOther)
	if x := e.assignmentByID(id).Extensions; len(x) != 1 || x[0].By != staffID || x[0].Added != 30*time.Minute || !x[0].At.Equal(*now) {
		t.Fatalf("extensions %+v", x)
	}
	res, body = cand.get("/ui/a/" + id)
	if !strings.Contains(body, ">0:29:00<") && !strings.Contains(body, ">29:00<") {
		t.Errorf("after the extension the countdown shows: %.3000s", body)
	}
	res, body = cand.upload("/ui/a/"+id+"/submit", map[string]string{"csrf": cand.csrf, "nonce": "n2"}, referenceZip(t, e.cat))
	wantStatus(t, "upload after the extension", res, body, http.StatusSeeOther)

	// A candidate cannot reach the staff's page or actions (404, as missing).
	res, body = cand.get("/ui/assignments/" + id)
	wantStatus(t, "candidate on the staff page", res, body, http.StatusNotFound)
	cand.get("/ui/a/" + id)
	res, body = cand.post("/ui/assignments/"+id+"/revoke", url.Values{"csrf": {cand.csrf}})
	wantStatus(t, "candidate revokes", res, body, http.StatusNotFound)
	if e.assignmentByID(id).IsRevoked() {
		t.Fatal("a candidate revoked it")
	}

	// Revoke: CSRF checked; then the candidate sees it revoked and cannot submit.
	res, body = staff.post("/ui/assignments/"+id+"/revoke", url.Values{})
	wantStatus(t, "revoke without CSRF", res, body, http.StatusForbidden)
	staff.get("/ui/assignments/" + id)
	res, body = staff.post("/ui/assignments/"+id+"/revoke", url.Values{"csrf": {staff.csrf}})
	wantStatus(t, "revoke", res, body, http.StatusSeeOther)
	if a := e.assignmentByID(id); !a.IsRevoked() || a.RevokedBy != staffID {
		t.Fatalf("not revoked: %+v", a)
	}
	res, body = cand.get("/ui/a/" + id)
	if !strings.Contains(body, "This assignment was revoked") || strings.Contains(body, `action="/ui/a/`+id+`/submit"`) {
		t.Errorf("revoked, the candidate sees: %.3000s", body)
	}
	n = e.submissionCount()
	res, body = cand.upload("/ui/a/"+id+"/submit", map[string]string{"csrf": cand.csrf, "nonce": "n3"}, referenceZip(t, e.cat))
	wantStatus(t, "upload when revoked", res, body, http.StatusForbidden)
	if e.submissionCount() != n {
		t.Fatal("a revoked assignment's upload was stored")
	}
	res, body = staff.get("/ui/assignments/" + id)
	if strings.Contains(body, `action="/ui/assignments/`+id+`/revoke"`) || !strings.Contains(body, "revoked") {
		t.Errorf("staff page once revoked: %.3000s", body)
	}
}

// TestTimedLatePolicyAndCounts: after the time with the late policy the
// upload is graded and marked late; the page marks the attempt that counts.
func TestTimedLatePolicyAndCounts(t *testing.T) {
	e, now := newTimedEnv(t)
	secret, tokID := e.token(grader.RoleCandidate, "Ada")
	a := &grader.Assignment{Exercise: "n-plus-one", Candidate: "Ada", Token: tokID, Mode: grader.ModeAssessment, TimeLimit: time.Hour, Counts: grader.CountsBest}
	if err := e.store.CreateAssignment(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	cand := e.browser()
	cand.login(secret)
	res, body := cand.get("/ui/a/" + a.ID)
	if !strings.Contains(body, "Submissions after the end are graded and marked late") {
		t.Errorf("late policy not said: %.2000s", body)
	}
	res, body = cand.upload("/ui/a/"+a.ID+"/submit", map[string]string{"csrf": cand.csrf, "nonce": "n1"}, referenceZip(t, e.cat))
	wantStatus(t, "in time", res, body, http.StatusSeeOther)
	first := e.finish() // score 3
	*now = webT0.Add(61 * time.Minute)
	res, body = cand.get("/ui/a/" + a.ID)
	if !strings.Contains(body, "You can still submit; the submission will be marked late") {
		t.Errorf("after time, late policy: %.2000s", body)
	}
	res, body = cand.upload("/ui/a/"+a.ID+"/submit", map[string]string{"csrf": cand.csrf, "nonce": "n2"}, referenceZip(t, e.cat))
	wantStatus(t, "late", res, body, http.StatusSeeOther)
	second, err := e.store.ClaimNext(context.Background())
	if err != nil || second == nil || !second.Late {
		t.Fatalf("the late upload: %+v %v", second, err)
	}
	if err := e.store.Finish(context.Background(), second.ID, grader.StatusDone, &grader.Result{Score: 1, MaxScore: 10, Verdict: grader.VerdictFailed}, ""); err != nil {
		t.Fatal(err)
	}
	// Best: the first (3 > 1) counts, on both sides.
	_, body = cand.get("/ui/a/" + a.ID)
	if !regexp.MustCompile(`/s/` + first.ID + `">[^<]*</a>[^\n]*data-counted`).MatchString(body) {
		t.Errorf("the candidate's page does not mark %s as counting: %.3000s", first.ID, body)
	}
	staffSecret, _ := e.token(grader.RoleInterviewer, "Grace")
	staff := e.browser()
	staff.login(staffSecret)
	_, body = staff.get("/ui/assignments/" + a.ID)
	if !regexp.MustCompile(`(?s)<tr class="counted">\s*<td><a href="/ui/submissions/` + first.ID).MatchString(body) {
		t.Errorf("the staff page does not mark %s as counting: %.4000s", first.ID, body)
	}
}
