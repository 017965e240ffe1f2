package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/export"
)

// TestExportPages: the dashboard's exercise and assignments pages link the
// result exports, which staff download with the session cookie (the API's
// routes take only tokens); a candidate gets the 404 of a page that does
// not exist; no export holds a hidden check's message or a log.
func TestExportPages(t *testing.T) {
	e := newEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	aliceSecret, alice := e.assign("=Alice Candidate", grader.ModeAssessment)
	sub, err := e.svc.Create(context.Background(), grader.SubmitRequest{Exercise: "n-plus-one", Candidate: alice.Candidate,
		Files: []grader.File{{Path: "library/serializers.py", Data: []byte("# attempt\n")}}, Owner: alice.Token, Assignment: alice.ID,
		Source: &grader.Source{Kind: grader.SourceUpload}})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.finish(); got.ID != sub.ID {
		t.Fatalf("finished %s, want %s", got.ID, sub.ID)
	}

	sb := e.browser()
	sb.login(staffSecret)
	res, body := sb.get("/ui/exercises/n-plus-one")
	wantStatus(t, "exercise page", res, body, 200)
	for _, link := range []string{`href="/ui/exercises/n-plus-one/results.csv"`, `href="/ui/exercises/n-plus-one/results.json"`} {
		if !strings.Contains(body, link) {
			t.Errorf("exercise page lacks %s", link)
		}
	}
	res, body = sb.get("/ui/assignments")
	wantStatus(t, "assignments page", res, body, 200)
	for _, link := range []string{`href="/ui/assignments/` + alice.ID + `/results.csv"`, `href="/ui/assignments/` + alice.ID + `/results.json"`} {
		if !strings.Contains(body, link) {
			t.Errorf("assignments page lacks %s", link)
		}
	}

	leaks := []string{"HIDDEN-SECRET-MESSAGE", "LOG-WITH-HIDDEN-OUTPUT", "djgrade_hidden", "PUBLIC-MESSAGE", "NAME-LEAK-MARKER"}
	for _, p := range []string{"/ui/exercises/n-plus-one/results.csv", "/ui/assignments/" + alice.ID + "/results.csv"} {
		res, body = sb.get(p)
		wantStatus(t, p, res, body, 200)
		if res.Header.Get("Content-Type") != export.ContentTypeCSV || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment; filename=") {
			t.Errorf("%s: headers %v", p, res.Header)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("%s: %v %q", p, err, recs)
		}
		if recs[1][0] != sub.ID || recs[1][2] != "'=Alice Candidate" {
			t.Errorf("%s: row %q", p, recs[1])
		}
		for _, l := range leaks {
			if strings.Contains(body, l) {
				t.Errorf("%s holds %q", p, l)
			}
		}
	}
	res, body = sb.get("/ui/assignments/" + alice.ID + "/results.json")
	wantStatus(t, "assignment json", res, body, 200)
	var doc export.Document
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc.Assignment != alice.ID || len(doc.Results) != 1 {
		t.Errorf("json: %v %s", err, body)
	}
	for _, l := range leaks {
		if strings.Contains(body, l) {
			t.Errorf("json holds %q", l)
		}
	}
	res, body = sb.get("/ui/exercises/n-plus-one/results.csv?status=bogus")
	wantStatus(t, "bad filter", res, body, http.StatusBadRequest)
	res, body = sb.get("/ui/assignments/asg_nope/results.csv")
	wantStatus(t, "unknown assignment", res, body, http.StatusNotFound)

	// compare.csv still works, with the shared defusal.
	res, body = sb.get("/ui/compare.csv?exercise=n-plus-one")
	wantStatus(t, "compare.csv", res, body, 200)
	if !strings.Contains(body, "'=Alice Candidate,"+sub.ID) {
		t.Errorf("compare.csv: %s", body)
	}

	// A candidate: no such page, even for its own assignment.
	ab := e.browser()
	ab.login(aliceSecret)
	for _, p := range []string{"/ui/exercises/n-plus-one/results.csv", "/ui/assignments/" + alice.ID + "/results.csv", "/ui/assignments/" + alice.ID + "/results.json"} {
		res, body = ab.get(p)
		wantStatus(t, "candidate "+p, res, body, http.StatusNotFound)
	}
	// Signed out: to the sign-in form.
	res, body = e.browser().get("/ui/exercises/n-plus-one/results.csv")
	wantStatus(t, "signed out", res, body, http.StatusSeeOther)
}
