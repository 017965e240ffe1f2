package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

type reviewOutbox struct {
	mu  sync.Mutex
	ids []string
}

func (o *reviewOutbox) Publish(_ context.Context, ev grader.OutboundEvent) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids = append(o.ids, ev.ID)
	return nil
}

// reviewWorld is a world whose service keeps reviews in its bbolt file.
func reviewWorld(t *testing.T) (*world, *reviewOutbox) {
	t.Helper()
	w := newWorld(t, &gateSandbox{}, false, func(c *Config) { c.Reviews = c.Grader.(*grader.Service) })
	out := &reviewOutbox{}
	w.svc.Reviews, w.svc.Outbox, w.svc.Similarity = w.store, out, w.store
	return w, out
}

type reviewDoc struct {
	Submission string `json:"submission"`
	Automatic  *struct {
		Score, MaxScore int
		Verdict         string
	} `json:"automatic"`
	Effective *struct {
		Score   int    `json:"score"`
		Verdict string `json:"verdict"`
	} `json:"effective"`
	Overridden bool                 `json:"overridden"`
	Notes      []grader.ReviewEntry `json:"notes"`
	Overrides  []grader.ReviewEntry `json:"overrides"`
}

// Reviews over real HTTP on a real bbolt file: staff add notes and
// overrides; every refused input stores nothing and says why; the
// automatic score stays beside the override, in the review and in the
// stored result; the candidate gets the 404 of a missing submission on
// every review route, its own submission included, and its own view of
// the submission shows no trace of the review.
func TestReviewRoutes(t *testing.T) {
	w, out := reviewWorld(t)
	res, own := w.submit(t, grader.ModePractice, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", res.StatusCode, own)
	}
	id := own["id"].(string)
	w.finish(t, id)
	base := "/api/v1/submissions/" + id

	var rv reviewDoc
	if res, body := w.jsonDo(t, "interviewer", "GET", base+"/review", nil, &rv); res.StatusCode != 200 || rv.Overridden || rv.Effective.Score != 4 || len(rv.Notes) != 0 {
		t.Fatalf("empty review: %d %s", res.StatusCode, body)
	}

	// Refusals, with the status and a message that says why.
	for _, c := range []struct {
		name, path, ctype, body string
		status                  int
		msg                     string
	}{
		{"empty note", "/notes", "application/json", `{"text":"  "}`, 400, "empty"},
		{"long note", "/notes", "application/json", `{"text":"` + strings.Repeat("n", grader.MaxReviewNoteBytes+1) + `"}`, 413, "at most 8 KiB"},
		{"unknown field", "/notes", "application/json", `{"text":"x","score":1}`, 400, "unknown field"},
		{"not json", "/notes", "text/plain", `text`, 415, "application/json"},
		{"huge body", "/notes", "application/json", `{"text":"` + strings.Repeat("n", 70<<10) + `"}`, 413, ""},
		{"no reason", "/override", "application/json", `{"score":5}`, 400, "reason is empty: say why"},
		{"no score", "/override", "application/json", `{"reason":"r"}`, 400, "needs a score"},
		{"over max", "/override", "application/json", `{"score":11,"reason":"r"}`, 400, "0 to 10"},
		{"negative", "/override", "application/json", `{"score":-1,"reason":"r"}`, 400, "0 to 10"},
		{"bad verdict", "/override", "application/json", `{"score":5,"verdict":"timeout","reason":"r"}`, 400, "passed or failed"},
		{"nothing to clear", "/override", "application/json", `{"clear":true,"reason":"r"}`, 409, "no override"},
		{"string score", "/override", "application/json", `{"score":"5","reason":"r"}`, 400, "malformed"},
	} {
		res, body := w.do(t, "interviewer", "POST", base+c.path, c.ctype, strings.NewReader(c.body), nil)
		if res.StatusCode != c.status || !strings.Contains(string(body), c.msg) {
			t.Errorf("%s: %d %s", c.name, res.StatusCode, body)
		}
	}
	if len(out.ids) != 0 {
		t.Fatalf("refusals published %v", out.ids)
	}
	if trail, _ := w.store.ReviewTrail(context.Background(), id); len(trail) != 0 {
		t.Fatalf("refusals stored %+v", trail)
	}

	var note grader.ReviewEntry
	if res, body := w.jsonDo(t, "interviewer", "POST", base+"/notes", map[string]string{"text": "SECRET-NOTE solid tests"}, &note); res.StatusCode != 201 ||
		note.Seq != 1 || note.By.Token != w.ids["interviewer"] || note.By.Role != grader.RoleInterviewer {
		t.Fatalf("note: %d %s", res.StatusCode, body)
	}
	if res, body := w.jsonDo(t, "admin", "POST", base+"/override", map[string]any{"score": 8, "verdict": "passed", "reason": "SECRET-REASON flaky check"}, &rv); res.StatusCode != 201 ||
		!rv.Overridden || rv.Effective.Score != 8 || rv.Effective.Verdict != "passed" || rv.Automatic.Score != 4 || len(rv.Overrides) != 1 ||
		*rv.Overrides[0].AutomaticScore != 4 || rv.Overrides[0].By.Role != grader.RoleAdmin || rv.Overrides[0].Text != "SECRET-REASON flaky check" {
		t.Fatalf("override: %d %s", res.StatusCode, body)
	}
	if len(out.ids) != 1 || out.ids[0] != "override.made:"+id+":2" {
		t.Fatalf("published %v", out.ids)
	}
	// The stored result is the automatic one still.
	var sub map[string]any
	w.jsonDo(t, "interviewer", "GET", base, nil, &sub)
	if sub["score"].(float64) != 4 || sub["verdict"] != "failed" {
		t.Fatalf("staff submission after override: %v", sub)
	}
	if res, body := w.jsonDo(t, "interviewer", "POST", base+"/override", map[string]any{"clear": true, "reason": "back"}, &rv); res.StatusCode != 201 ||
		rv.Overridden || rv.Effective.Score != 4 || len(rv.Overrides) != 2 || rv.Overrides[1].Kind != grader.ReviewClear {
		t.Fatalf("clear: %d %s", res.StatusCode, body)
	}

	// The candidate: 404, the same as a missing submission, on every route.
	missing := "/api/v1/submissions/sub_missing"
	for _, r := range []struct{ method, suffix, body string }{{"GET", "/review", ""}, {"HEAD", "/review", ""}, {"POST", "/notes", `{"text":"x"}`}, {"POST", "/override", `{"score":1,"reason":"r"}`}} {
		for _, who := range []string{grader.ModePractice, grader.ModeAssessment, "unassigned"} {
			res, body := w.do(t, who, r.method, base+r.suffix, "application/json", strings.NewReader(r.body), nil)
			res2, body2 := w.do(t, who, r.method, missing+r.suffix, "application/json", strings.NewReader(r.body), nil)
			if res.StatusCode != 404 || res2.StatusCode != 404 || stripRID(body) != stripRID(body2) {
				t.Errorf("%s %s as %s: %d %s / %d %s", r.method, r.suffix, who, res.StatusCode, body, res2.StatusCode, body2)
			}
		}
	}
	if trail, _ := w.store.ReviewTrail(context.Background(), id); len(trail) != 3 {
		t.Fatalf("trail: %+v", trail)
	}
	// What the candidate sees of its submission holds nothing of the review.
	_, body := w.do(t, grader.ModePractice, "GET", base, "", nil, nil)
	for _, leak := range []string{"SECRET-NOTE", "SECRET-REASON", "overrid", "effective"} {
		if strings.Contains(string(body), leak) {
			t.Fatalf("candidate's view holds %q: %s", leak, body)
		}
	}
	if !strings.Contains(string(body), `"score":4`) {
		t.Fatalf("candidate's view lost the automatic score: %s", body)
	}
	// No token: 401.
	if res, _ := w.do(t, "", "GET", base+"/review", "", nil, nil); res.StatusCode != 401 {
		t.Fatalf("no token: %d", res.StatusCode)
	}
}

func stripRID(b []byte) string {
	s := string(b)
	if i := strings.Index(s, `"request_id"`); i >= 0 {
		return s[:i]
	}
	return s
}

// A server without reviews says so (503) to staff; the candidate still
// gets its 404.
func TestReviewRoutesUnavailable(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, own := w.submit(t, "interviewer", nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatal(own)
	}
	base := "/api/v1/submissions/" + own["id"].(string)
	if res, body := w.do(t, "interviewer", "GET", base+"/review", "", nil, nil); res.StatusCode != 503 {
		t.Fatalf("staff: %d %s", res.StatusCode, body)
	}
	if res, _ := w.do(t, grader.ModePractice, "GET", "/api/v1/candidates/x", "", nil, nil); res.StatusCode != 404 {
		t.Fatalf("candidate: %d", res.StatusCode)
	}
}

// The candidate view over HTTP: the candidate's assignment and its
// submissions (any case of the name), automatic and effective scores,
// note counts and time used; 404 for a name with nothing and for a
// candidate token; 400 for a name no candidate may have.
func TestCandidateRoute(t *testing.T) {
	w, _ := reviewWorld(t)
	res, own := w.submit(t, grader.ModeAssessment, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatal(own)
	}
	id := own["id"].(string)
	w.finish(t, id)
	w.jsonDo(t, "interviewer", "POST", "/api/v1/submissions/"+id+"/override", map[string]any{"score": 9, "reason": "r"}, nil)
	w.jsonDo(t, "interviewer", "POST", "/api/v1/submissions/"+id+"/notes", map[string]any{"text": "n"}, nil)

	var doc struct {
		Name        string
		Assignments []struct {
			ID          string  `json:"id"`
			Submissions int     `json:"submissions"`
			Latest      string  `json:"latest_submission"`
			Counted     string  `json:"counted_submission"`
			TimeUsed    float64 `json:"time_used_seconds"`
		}
		Submissions []struct {
			ID         string `json:"id"`
			Automatic  struct{ Score int }
			Effective  struct{ Score int }
			Overridden bool    `json:"overridden"`
			Notes      int     `json:"notes"`
			Similar    int     `json:"similar"`
			TimeUsed   float64 `json:"time_used_seconds"`
		}
		Live            []any `json:"live_sessions"`
		SimilarityKnown bool  `json:"similarity_known"`
	}
	path := "/api/v1/candidates/" + url.PathEscape("cand ASSESSMENT")
	if res, body := w.jsonDo(t, "interviewer", "GET", path, nil, &doc); res.StatusCode != 200 {
		t.Fatalf("candidate: %d %s", res.StatusCode, body)
	}
	if doc.Name != "Cand assessment" || len(doc.Assignments) != 1 || doc.Assignments[0].ID != w.asg[grader.ModeAssessment] ||
		doc.Assignments[0].Submissions != 1 || doc.Assignments[0].Latest != id || doc.Assignments[0].Counted != id || len(doc.Submissions) != 1 || !doc.SimilarityKnown || doc.Live == nil {
		t.Fatalf("candidate: %+v", doc)
	}
	if s := doc.Submissions[0]; s.ID != id || s.Automatic.Score != 4 || s.Effective.Score != 9 || !s.Overridden || s.Notes != 1 || s.TimeUsed <= 0 {
		t.Fatalf("submission row: %+v", s)
	}
	for _, c := range []struct {
		who, name string
		status    int
	}{
		{"interviewer", "Nobody At All", 404},
		{"admin", strings.Repeat("x", 300), 400},
		{grader.ModeAssessment, "Cand assessment", 404},
		{"unassigned", "Cand assessment", 404},
	} {
		if res, body := w.do(t, c.who, "GET", "/api/v1/candidates/"+url.PathEscape(c.name), "", nil, nil); res.StatusCode != c.status {
			t.Errorf("%s as %s: %d %s", c.name, c.who, res.StatusCode, body)
		}
	}
}

// Names with a slash, a percent sign, a query's characters or beyond
// ASCII reach the candidate view as they were typed.
func TestCandidateRouteNames(t *testing.T) {
	w, _ := reviewWorld(t)
	for _, n := range []string{"A/B", "50% off", "a?b#c", "Zoë", "a%2Fb"} {
		sub := &grader.Submission{Exercise: "n-plus-one", Candidate: n}
		if err := w.store.CreateSubmission(context.Background(), sub, []grader.File{{Path: "library/serializers.py", Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Name        string
			Submissions []struct{ ID string }
		}
		res, body := w.jsonDo(t, "interviewer", "GET", "/api/v1/candidates/"+url.PathEscape(n), nil, &doc)
		if res.StatusCode != 200 || doc.Name != n || len(doc.Submissions) != 1 || doc.Submissions[0].ID != sub.ID {
			t.Errorf("%q: %d %s", n, res.StatusCode, body)
		}
	}
}
