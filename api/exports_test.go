package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/export"
)

// Text of a result that no export may hold: hidden checks' messages and
// node ids, the logs, the findings, a public test's message.
const (
	exportHiddenMsg  = "EXPORT-HIDDEN-MESSAGE"
	exportHiddenNode = "djgrade_hidden/test_export_secret.py::test_x"
	exportLogs       = "EXPORT-LOG-MARKER"
	exportPublicMsg  = "EXPORT-PUBLIC-MESSAGE"
)

// exportResult is a graded result holding every kind of text the export
// view must drop.
func exportResult(score int) *grader.Result {
	return &grader.Result{
		Score: score, MaxScore: 13, Verdict: grader.VerdictFailed, Reason: "1 of 2 hidden checks passed",
		Categories: []grader.CategoryScore{{Name: "correctness", Score: score, MaxScore: 7}, {Name: "performance", Score: 0, MaxScore: 6}},
		Tests: []grader.TestResult{
			{Name: "List returns every field of every book", NodeID: exportHiddenNode, Hidden: true, Category: "correctness", Outcome: "passed", Points: score, MaxPoints: 2, Message: exportHiddenMsg},
			{Name: exportHiddenNode, NodeID: exportHiddenNode, Hidden: true, Category: "performance", Outcome: "failed", MaxPoints: 4, Message: exportHiddenMsg + ": 12 != 3"},
			{Name: "tests/test_books_api.py::test_list", NodeID: "tests/test_books_api.py::test_list", Category: "correctness", Outcome: "failed", Message: exportPublicMsg},
		},
		Log: exportLogs, JudgeLog: exportLogs + " " + exportHiddenMsg, Findings: []grader.Finding{{Path: "a.py", Line: 1, What: exportLogs}},
		Seed: 918273645,
	}
}

// exportWorld is newWorld with graded submissions stored directly: Alice's
// two under the assessment assignment, a formula-named candidate's, Bob's
// (queued, no result) and one of another exercise.
type exportWorld struct {
	*world
	alice1, alice2, evil, bob, other string
}

func newExportWorld(t *testing.T) *exportWorld {
	w := newWorld(t, &gateSandbox{}, false, nil)
	ctx := context.Background()
	x := &exportWorld{world: w}
	files := []grader.File{{Path: "library/serializers.py", Data: []byte("# attempt\n")}}
	add := func(exercise, candidate, owner, asg string, res *grader.Result) string {
		t.Helper()
		f := files
		if exercise != "n-plus-one" {
			cat, err := exercises.Embedded()
			if err != nil {
				t.Fatal(err)
			}
			ex, err := cat.Exercise(exercise)
			if err != nil {
				t.Fatal(err)
			}
			f = []grader.File{{Path: ex.Editable[0], Data: []byte("# attempt\n")}}
		}
		sub, err := w.svc.Create(ctx, grader.SubmitRequest{Exercise: exercise, Candidate: candidate, Files: f,
			Source: &grader.Source{Kind: grader.SourceUpload}, Owner: owner, Assignment: asg})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if res == nil {
			return sub.ID
		}
		claimed, err := w.store.ClaimNext(ctx)
		if err != nil || claimed == nil || claimed.ID != sub.ID {
			t.Fatalf("claim %s: %v %v", sub.ID, claimed, err)
		}
		if err := w.store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct created_at, for since/until
		return sub.ID
	}
	x.alice1 = add("n-plus-one", "Cand assessment", w.ids[grader.ModeAssessment], w.asg[grader.ModeAssessment], exportResult(1))
	x.alice2 = add("n-plus-one", "Cand assessment", w.ids[grader.ModeAssessment], w.asg[grader.ModeAssessment], exportResult(2))
	x.evil = add("n-plus-one", "=HYPERLINK(\"http://evil\")", w.ids["interviewer"], "", exportResult(0))
	x.other = add("on-commit", "Carol", w.ids["interviewer"], "", exportResult(0))
	x.bob = add("n-plus-one", "Bob", w.ids["interviewer"], "", nil)
	return x
}

func noExportLeak(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, m := range []string{exportHiddenMsg, exportHiddenNode, "djgrade_hidden", exportLogs, exportPublicMsg, "918273645"} {
		if strings.Contains(string(body), m) {
			t.Errorf("%s holds %q", what, m)
		}
	}
}

func readCSV(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, body)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func TestExportExerciseResults(t *testing.T) {
	x := newExportWorld(t)
	res, body := x.do(t, "interviewer", "GET", "/api/v1/exercises/n-plus-one/results.csv", "", nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("csv: %d %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename=n-plus-one-results.csv` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if res.Header.Get("X-Export-Truncated") != "" || res.Header.Get("Link") != "" {
		t.Errorf("untruncated export says truncated: %v", res.Header)
	}
	noExportLeak(t, "results.csv", body)
	rows := readCSV(t, body)
	if len(rows) != 4 { // newest first: bob, evil, alice2, alice1; not the other exercise's
		t.Fatalf("%d rows: %s", len(rows), body)
	}
	if rows[0]["submission"] != x.bob || rows[0]["score"] != "" || rows[0]["status"] != "queued" {
		t.Errorf("queued row: %v", rows[0])
	}
	if rows[1]["candidate"] != `'=HYPERLINK("http://evil")` {
		t.Errorf("formula not defused: %q", rows[1]["candidate"])
	}
	if r := rows[2]; r["submission"] != x.alice2 || r["score"] != "2" || r["assignment"] != x.asg[grader.ModeAssessment] ||
		r["check:List returns every field of every book"] != "2" || r["check:hidden check 2"] != "0" || r["category:correctness"] != "2" {
		t.Errorf("alice's row: %v", r)
	}

	res, body = x.do(t, "admin", "GET", "/api/v1/exercises/n-plus-one/results.json", "", nil, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename=n-plus-one-results.json` {
		t.Fatalf("json: %d %v %s", res.StatusCode, res.Header, body)
	}
	noExportLeak(t, "results.json", body)
	var doc export.Document
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Exercise != "n-plus-one" || len(doc.Results) != 4 || doc.Truncated || doc.NextCursor != nil ||
		strings.Join(doc.Categories, ",") != "correctness,performance" {
		t.Errorf("document: %+v", doc)
	}
	if r := doc.Results[2].Result; r == nil || *r.Score != 2 || len(r.Tests) != 3 || r.Tests[1].Name != "hidden check 2" {
		t.Errorf("alice's result: %+v", r)
	}
	if doc.Results[0].Result != nil {
		t.Errorf("a queued submission has a result: %+v", doc.Results[0])
	}

	// HEAD answers the headers.
	if res, _ := x.do(t, "interviewer", "HEAD", "/api/v1/exercises/n-plus-one/results.csv", "", nil, nil); res.StatusCode != http.StatusOK ||
		res.Header.Get("Content-Disposition") == "" {
		t.Errorf("HEAD: %d %v", res.StatusCode, res.Header)
	}
	if res, body := x.do(t, "interviewer", "GET", "/api/v1/exercises/no-such/results.csv", "", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown exercise: %d %s", res.StatusCode, body)
	}
}

func TestExportFilters(t *testing.T) {
	x := newExportWorld(t)
	get := func(query string) (*http.Response, []map[string]string) {
		t.Helper()
		res, body := x.do(t, "interviewer", "GET", "/api/v1/exercises/n-plus-one/results.csv?"+query, "", nil, nil)
		if res.StatusCode != http.StatusOK {
			return res, nil
		}
		return res, readCSV(t, body)
	}
	ids := func(rows []map[string]string) string {
		var s []string
		for _, r := range rows {
			s = append(s, r["submission"])
		}
		return strings.Join(s, ",")
	}
	if _, rows := get("candidate=CAND"); ids(rows) != x.alice2+","+x.alice1 {
		t.Errorf("candidate: %s", ids(rows))
	}
	if _, rows := get("status=done"); ids(rows) != x.evil+","+x.alice2+","+x.alice1 {
		t.Errorf("status: %s", ids(rows))
	}
	if _, rows := get("verdict=failed&candidate=hyperlink"); ids(rows) != x.evil {
		t.Errorf("verdict: %s", ids(rows))
	}
	sub, err := x.svc.Submission(context.Background(), x.alice2)
	if err != nil {
		t.Fatal(err)
	}
	at := sub.CreatedAt.UTC()
	if _, rows := get(url.Values{"since": {at.Format(time.RFC3339Nano)}, "candidate": {"cand"}}.Encode()); rows == nil {
		// RFC 3339 with fractions parses as RFC 3339 too.
		t.Errorf("since with fractions refused")
	} else if ids(rows) != x.alice2 {
		t.Errorf("since: %s", ids(rows))
	}
	if _, rows := get(url.Values{"until": {at.Format(time.RFC3339Nano)}}.Encode()); ids(rows) != x.alice1 {
		t.Errorf("until: %s", ids(rows))
	}
	for _, bad := range []string{"status=finished", "verdict=great", "since=yesterday", "limit=0", "limit=5001", "limit=x", "cursor=bm9wZQ", "candidate=" + strings.Repeat("a", 201)} {
		res, body := x.do(t, "interviewer", "GET", "/api/v1/exercises/n-plus-one/results.json?"+bad, "", nil, nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d", bad, res.StatusCode)
			continue
		}
		wantError(t, res, body, http.StatusBadRequest, grader.EINVALID)
	}

	// The cap: limit=2 gives two rows, says so, and links the next page,
	// which gives the rest.
	res, rows := get("limit=2")
	if len(rows) != 2 || res.Header.Get("X-Export-Truncated") != "true" {
		t.Fatalf("limit: %d rows, %v", len(rows), res.Header)
	}
	link := res.Header.Get("Link")
	next, ok := strings.CutPrefix(link, "<")
	next, _, ok2 := strings.Cut(next, `>; rel="next"`)
	if !ok || !ok2 || !strings.HasPrefix(next, "/api/v1/exercises/n-plus-one/results.csv?") {
		t.Fatalf("Link %q", link)
	}
	res, body := x.do(t, "interviewer", "GET", next, "", nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("next page: %d %s", res.StatusCode, body)
	}
	rest := readCSV(t, body)
	if ids(append(rows, rest...)) != strings.Join([]string{x.bob, x.evil, x.alice2, x.alice1}, ",") || res.Header.Get("X-Export-Truncated") != "" {
		t.Errorf("pages: %s then %s (%v)", ids(rows), ids(rest), res.Header)
	}
	// JSON says the same in its body.
	_, body = x.do(t, "interviewer", "GET", "/api/v1/exercises/n-plus-one/results.json?limit=3", "", nil, nil)
	var doc export.Document
	json.Unmarshal(body, &doc)
	if !doc.Truncated || doc.NextCursor == nil || len(doc.Results) != 3 {
		t.Errorf("json page: %+v", doc)
	}
}

func TestExportAssignmentResults(t *testing.T) {
	x := newExportWorld(t)
	asg := x.asg[grader.ModeAssessment]
	res, body := x.do(t, "interviewer", "GET", "/api/v1/assignments/"+asg+"/results.csv", "", nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("csv: %d %s", res.StatusCode, body)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != "attachment; filename="+asg+"-n-plus-one-results.csv" {
		t.Errorf("Content-Disposition %q", cd)
	}
	noExportLeak(t, "assignment csv", body)
	rows := readCSV(t, body)
	if len(rows) != 2 || rows[0]["submission"] != x.alice2 || rows[1]["submission"] != x.alice1 {
		t.Errorf("rows: %v", rows)
	}
	res, body = x.do(t, "interviewer", "GET", "/api/v1/assignments/"+asg+"/results.json", "", nil, nil)
	var doc export.Document
	if err := json.Unmarshal(body, &doc); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("json: %d %s", res.StatusCode, body)
	}
	if doc.Assignment != asg || len(doc.Results) != 2 {
		t.Errorf("document: %+v", doc)
	}
	noExportLeak(t, "assignment json", body)
	// The practice assignment has no submission: an empty table.
	_, body = x.do(t, "interviewer", "GET", "/api/v1/assignments/"+x.asg[grader.ModePractice]+"/results.json", "", nil, nil)
	doc = export.Document{}
	json.Unmarshal(body, &doc)
	if len(doc.Results) != 0 || doc.Results == nil {
		t.Errorf("empty assignment: %s", body)
	}
	res, body = x.do(t, "interviewer", "GET", "/api/v1/assignments/asg_nope/results.csv", "", nil, nil)
	wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)
}

func TestExportSubmission(t *testing.T) {
	x := newExportWorld(t)
	res, body := x.do(t, "interviewer", "GET", "/api/v1/submissions/"+x.alice2+"/junit.xml", "", nil, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/xml; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != "attachment; filename="+x.alice2+"-junit.xml" {
		t.Fatalf("junit: %d %v %s", res.StatusCode, res.Header, body)
	}
	noExportLeak(t, "junit.xml", body)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("junit: %v", err)
	}
	if doc.Tests != 3 || doc.Failures != 2 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 3 || doc.Suites[0].Cases[1].Name != "hidden check 2" {
		t.Errorf("junit: %+v", doc)
	}

	res, body = x.do(t, "admin", "GET", "/api/v1/submissions/"+x.alice2+"/gradescope.json", "", nil, nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Disposition") != "attachment; filename="+x.alice2+"-results.json" {
		t.Fatalf("gradescope: %d %v %s", res.StatusCode, res.Header, body)
	}
	noExportLeak(t, "gradescope.json", body)
	var gs export.GradescopeResults
	if err := json.Unmarshal(body, &gs); err != nil {
		t.Fatal(err)
	}
	if gs.Score != 2 || gs.MaxScore != 13 || len(gs.Tests) != 3 || gs.Tests[1].Visibility != "after_published" || gs.Tests[2].Visibility != "visible" || gs.Tests[0].Status != "passed" {
		t.Errorf("gradescope: %+v", gs)
	}

	// Not graded: nothing to export.
	for _, suffix := range []string{"/junit.xml", "/gradescope.json"} {
		res, body := x.do(t, "interviewer", "GET", "/api/v1/submissions/"+x.bob+suffix, "", nil, nil)
		wantError(t, res, body, http.StatusConflict, grader.ECONFLICT)
		res, body = x.do(t, "interviewer", "GET", "/api/v1/submissions/sub_nope"+suffix, "", nil, nil)
		wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)
	}
}

// TestExportAccess: the exports take the bearer token alone (no cookie);
// without one they are 401, and a candidate gets the same 403 on every one,
// for its own things, another's and ones that do not exist.
func TestExportAccess(t *testing.T) {
	x := newExportWorld(t)
	routes := func(sub, asg string) []string {
		return []string{
			"/api/v1/exercises/n-plus-one/results.csv", "/api/v1/exercises/n-plus-one/results.json",
			"/api/v1/assignments/" + asg + "/results.csv", "/api/v1/assignments/" + asg + "/results.json",
			"/api/v1/submissions/" + sub + "/junit.xml", "/api/v1/submissions/" + sub + "/gradescope.json",
		}
	}
	own := routes(x.alice2, x.asg[grader.ModeAssessment])
	missing := routes("sub_nope", "asg_nope")
	others := routes(x.evil, x.asg[grader.ModePractice])
	for i := range own {
		for _, who := range []string{"", "bad"} {
			res, body := x.do(t, who, "GET", own[i], "", nil, nil)
			wantError(t, res, body, http.StatusUnauthorized, grader.EUNAUTHORIZED)
		}
		for _, who := range []string{grader.ModeAssessment, grader.ModePractice, "unassigned"} {
			var first string
			for j, p := range []string{own[i], others[i], missing[i]} {
				res, body := x.do(t, who, "GET", p, "", nil, nil)
				e := wantError(t, res, body, http.StatusForbidden, grader.EFORBIDDEN)
				if j == 0 {
					first = e.Error.Message
				} else if e.Error.Message != first {
					t.Errorf("%s %s: %q differs from %q", who, p, e.Error.Message, first)
				}
			}
		}
		// Staff with the token alone.
		res, body := x.do(t, "interviewer", "GET", own[i], "", nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("interviewer %s: %d %s", own[i], res.StatusCode, body)
		}
		noExportLeak(t, own[i], body)
	}
}

// TestExportHead: HEAD on every export answers with GET's status and
// headers (Content-Length included) and no body.
func TestExportHead(t *testing.T) {
	x := newExportWorld(t)
	for _, path := range []string{
		"/api/v1/exercises/n-plus-one/results.csv", "/api/v1/exercises/n-plus-one/results.json?limit=1",
		"/api/v1/assignments/" + x.asg[grader.ModeAssessment] + "/results.csv", "/api/v1/assignments/" + x.asg[grader.ModeAssessment] + "/results.json",
		"/api/v1/submissions/" + x.alice1 + "/junit.xml", "/api/v1/submissions/" + x.alice1 + "/gradescope.json",
		"/api/v1/submissions/" + x.bob + "/junit.xml", "/api/v1/exercises/nope/results.csv?status=nope",
	} {
		for _, who := range []string{"admin", grader.ModeAssessment, ""} {
			get, getBody := x.do(t, who, http.MethodGet, path, "", nil, nil)
			head, headBody := x.do(t, who, http.MethodHead, path, "", nil, nil)
			if head.StatusCode != get.StatusCode || len(headBody) != 0 {
				t.Errorf("HEAD %s as %q: %d with %d bytes, GET %d", path, who, head.StatusCode, len(headBody), get.StatusCode)
			}
			for _, h := range []string{"Content-Type", "Content-Disposition", "X-Export-Truncated", "Link"} {
				if head.Header.Get(h) != get.Header.Get(h) {
					t.Errorf("HEAD %s as %q: %s %q, GET %q", path, who, h, head.Header.Get(h), get.Header.Get(h))
				}
			}
			if cl := head.Header.Get("Content-Length"); cl != "" && cl != strconv.Itoa(len(getBody)) {
				t.Errorf("HEAD %s as %q: Content-Length %s, GET sent %d bytes", path, who, cl, len(getBody))
			}
		}
	}
}
