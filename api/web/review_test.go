package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// reviewEnv is an env whose service keeps reviews, tokens, assignments and
// live sessions in its bbolt file.
func reviewEnv(t *testing.T) *env {
	e := newEnv(t, func(c *Config) { c.Reviews = c.Grader.(*grader.Service) })
	e.svc.Reviews, e.svc.Auth, e.svc.LiveStore = e.store, e.store, e.store
	return e
}

// The review panel, the candidate page and the effective scores of the
// dashboard, over real HTTP on a real bbolt file: staff add a note and an
// override (the CSRF token and a same-origin POST required, a refused
// form storing nothing), the automatic score stays beside the override,
// the tables mark it; the candidate gets 404 on every review page and
// form, and its own result page shows the automatic grade and nothing of
// the review.
func TestReviewPages(t *testing.T) {
	e := reviewEnv(t)
	ctx := context.Background()
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris")
	aliceSecret, alice := e.assign("Alice Smith", grader.ModeAssessment)
	sub := &grader.Submission{Exercise: "n-plus-one", Candidate: "Alice Smith", Owner: alice.Token, Assignment: alice.ID}
	if err := e.store.CreateSubmission(ctx, sub, []grader.File{{Path: "library/serializers.py", Data: []byte("# mine\n")}}); err != nil {
		t.Fatal(err)
	}
	e.finish() // 3 / 10, failed
	base := "/ui/submissions/" + sub.ID

	sb := e.browser()
	sb.login(staffSecret)
	res, body := sb.get(base)
	wantStatus(t, "submission page", res, body, 200)
	for _, want := range []string{`id="review"`, "Automatic score", "No override", "No notes yet", `action="` + base + `/notes"`, `action="` + base + `/override"`,
		`href="/ui/candidates/Alice%20Smith"`, `max="10"`} {
		if !strings.Contains(body, want) {
			t.Errorf("submission page lacks %q", want)
		}
	}
	good := sb.csrf

	// Refused forms store nothing.
	trail := func() []grader.ReviewEntry {
		tr, err := e.store.ReviewTrail(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	for _, c := range []struct {
		name, path string
		form       url.Values
		status     int
		msg        string
	}{
		{"note without csrf", "/notes", url.Values{"text": {"x"}}, 403, "expired"},
		{"note with a wrong csrf", "/notes", url.Values{"text": {"x"}, "csrf": {good + "x"}}, 403, "expired"},
		{"empty note", "/notes", url.Values{"text": {" "}, "csrf": {good}}, 400, "empty"},
		{"long note", "/notes", url.Values{"text": {strings.Repeat("n", grader.MaxReviewNoteBytes+1)}, "csrf": {good}}, 413, "at most 8 KiB"},
		{"override without csrf", "/override", url.Values{"score": {"5"}, "reason": {"r"}}, 403, "expired"},
		{"override without reason", "/override", url.Values{"score": {"5"}, "csrf": {good}}, 400, "reason is empty"},
		{"override over max", "/override", url.Values{"score": {"11"}, "reason": {"r"}, "csrf": {good}}, 400, "0 to 10"},
		{"override not a number", "/override", url.Values{"score": {"ten"}, "reason": {"r"}, "csrf": {good}}, 400, "whole number"},
		{"clear with nothing", "/override", url.Values{"clear": {"1"}, "reason": {"r"}, "csrf": {good}}, 409, "no override"},
	} {
		res, body := sb.post(base+c.path, c.form)
		wantStatus(t, c.name, res, body, c.status)
		if !strings.Contains(body, c.msg) {
			t.Errorf("%s: page lacks %q: %.300s", c.name, c.msg, body)
		}
	}
	f := url.Values{"text": {"x"}, "csrf": {good}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+base+"/notes", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, body = sb.do(req)
	wantStatus(t, "cross-origin note", res, body, http.StatusForbidden)
	if tr := trail(); len(tr) != 0 {
		t.Fatalf("refused forms stored %+v", tr)
	}

	res, body = sb.post(base+"/notes", url.Values{"text": {"SECRET-NOTE: asked about select_related\nsecond line"}, "csrf": {good}})
	wantStatus(t, "note", res, body, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != base+"#review" {
		t.Errorf("note went to %q", loc)
	}
	res, body = sb.post(base+"/override", url.Values{"score": {"7"}, "verdict": {"passed"}, "reason": {"SECRET-REASON: the <flaky> check"}, "csrf": {good}})
	wantStatus(t, "override", res, body, http.StatusSeeOther)
	tr := trail()
	if len(tr) != 2 || tr[1].Kind != grader.ReviewOverride || *tr[1].Score != 7 || tr[1].By.Name != "Iris" {
		t.Fatalf("trail: %+v", tr)
	}
	res, body = sb.get(base)
	for _, want := range []string{"SECRET-NOTE: asked about select_related\nsecond line", "SECRET-REASON: the &lt;flaky&gt; check", `<strong>7 / 10</strong>`,
		`<td>3 / 10</td>`, "overridden", "Withdraw the override", "Iris"} {
		if !strings.Contains(body, want) {
			t.Errorf("submission page after review lacks %q", want)
		}
	}
	// The stored result is still the automatic one.
	if got, _ := e.store.Submission(ctx, sub.ID); got.Result.Score != 3 {
		t.Fatalf("result changed: %+v", got.Result)
	}

	// The tables show the effective score, marked.
	_, body = sb.get("/ui/submissions")
	if !strings.Contains(body, `7 / 10 <span class="tag override"`) || !strings.Contains(body, `href="/ui/candidates/Alice%20Smith"`) {
		t.Errorf("submissions table: %.2000s", body)
	}
	_, body = sb.get("/ui/compare?exercise=n-plus-one")
	if !strings.Contains(body, `7 / 10 <span class="tag override"`) {
		t.Errorf("compare: %.2000s", body)
	}

	// The candidate page.
	res, body = sb.get("/ui/candidates/" + url.PathEscape("alice smith"))
	wantStatus(t, "candidate page", res, body, 200)
	for _, want := range []string{"<h1>Alice Smith", "n-plus-one", `href="/ui/submissions/` + sub.ID + `#review">1</a>`, "<strong>7 / 10</strong>", "3 / 10", "overridden", "No live sessions", "assessment"} {
		if !strings.Contains(body, want) {
			t.Errorf("candidate page lacks %q", want)
		}
	}
	slash := &grader.Submission{Exercise: "n-plus-one", Candidate: "Team A/B"}
	if err := e.store.CreateSubmission(ctx, slash, []grader.File{{Path: "library/serializers.py", Data: []byte("#\n")}}); err != nil {
		t.Fatal(err)
	}
	res, body = sb.get(candidateURL("Team A/B"))
	wantStatus(t, "candidate page of a name with a slash", res, body, 200)
	if !strings.Contains(body, slash.ID) {
		t.Errorf("candidate page of Team A/B lacks its submission")
	}
	res, body = sb.get("/ui/candidates/Nobody")
	wantStatus(t, "unknown candidate", res, body, 404)

	// The candidate: 404 everywhere, nothing stored, nothing shown.
	ab := e.browser()
	ab.login(aliceSecret)
	ab.get("/ui/a/" + alice.ID)
	for _, p := range []string{"/ui/candidates/Alice%20Smith", base} {
		res, body := ab.get(p)
		wantStatus(t, "candidate GET "+p, res, body, 404)
	}
	for _, p := range []string{base + "/notes", base + "/override"} {
		res, body := ab.post(p, url.Values{"text": {"mine"}, "score": {"10"}, "reason": {"r"}, "csrf": {ab.csrf}})
		wantStatus(t, "candidate POST "+p, res, body, 404)
	}
	if len(trail()) != 2 {
		t.Fatalf("the candidate's posts stored something")
	}
	res, body = ab.get("/ui/a/" + alice.ID + "/s/" + sub.ID)
	wantStatus(t, "candidate's result", res, body, 200)
	for _, leak := range []string{"SECRET-NOTE", "SECRET-REASON", "overrid", "7 / 10", "Review"} {
		if strings.Contains(body, leak) {
			t.Errorf("candidate's result page shows %q", leak)
		}
	}
	if !strings.Contains(body, "3") {
		t.Errorf("candidate's result page lost the automatic score")
	}
}

// Without reviews the submission page has no panel and the candidate page
// says the server keeps none.
func TestReviewPagesNotConfigured(t *testing.T) {
	e := newEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris")
	sub := &grader.Submission{Exercise: "n-plus-one", Candidate: "Bob"}
	if err := e.store.CreateSubmission(context.Background(), sub, []grader.File{{Path: "library/serializers.py", Data: []byte("#\n")}}); err != nil {
		t.Fatal(err)
	}
	e.finish()
	sb := e.browser()
	sb.login(staffSecret)
	res, body := sb.get("/ui/submissions/" + sub.ID)
	wantStatus(t, "submission", res, body, 200)
	if strings.Contains(body, `id="review"`) {
		t.Errorf("panel shown without reviews")
	}
	res, body = sb.get("/ui/candidates/Bob")
	wantStatus(t, "candidate page", res, body, 503)
	res, body = sb.post("/ui/submissions/"+sub.ID+"/notes", url.Values{"text": {"x"}, "csrf": {sb.csrf}})
	wantStatus(t, "note", res, body, 503)
}

func TestUsedText(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "—", -time.Second: "—", 300 * time.Millisecond: "< 1 s", 42 * time.Second: "42 s",
		29*time.Minute + 40*time.Second: "30 min", 2*time.Hour + 5*time.Minute: "2 h 5 min"} {
		if got := usedText(d); got != want {
			t.Errorf("usedText(%s) = %q, want %q", d, got, want)
		}
	}
}
