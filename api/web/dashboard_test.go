package web

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// cellsOf returns, per row of the submissions table (by submission id),
// the text of each data-cell, tags stripped.
func cellsOf(body string) map[string]map[string]string {
	rowRE := regexp.MustCompile(`(?s)<tr data-id="([^"]+)"[^>]*>(.*?)</tr>`)
	cellRE := regexp.MustCompile(`(?s)<td data-cell="([a-z]+)"[^>]*>(.*?)</td>`)
	tagRE := regexp.MustCompile(`<[^>]+>`)
	out := map[string]map[string]string{}
	for _, r := range rowRE.FindAllStringSubmatch(body, -1) {
		cells := map[string]string{}
		for _, c := range cellRE.FindAllStringSubmatch(r[2], -1) {
			cells[c[1]] = html.UnescapeString(strings.Join(strings.Fields(tagRE.ReplaceAllString(c[2], " ")), " "))
		}
		out[r[1]] = cells
	}
	return out
}

// TestSubmissionsTableColumns: the table shows each submission's mode,
// whether it was late and its assignment, with the exercise's title; the
// headers are in that order; the exercise filter reads titles.
func TestSubmissionsTableColumns(t *testing.T) {
	e := newEnv(t)
	staff, _ := e.token(grader.RoleInterviewer, "Iris")
	ctx := context.Background()
	ref := answerFiles(t, e.cat, "solutions/reference")
	assign := func(name, mode string, deadline time.Time) *grader.Assignment {
		_, tok := e.token(grader.RoleCandidate, name)
		a := &grader.Assignment{Exercise: "n-plus-one", Candidate: name, Token: tok, Mode: mode, Deadline: deadline}
		if err := e.store.CreateAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	late := assign("Lena Late", grader.ModeAssessment, time.Now().Add(-time.Hour).UTC())
	practice := assign("Pia Practice", grader.ModePractice, time.Now().Add(24*time.Hour).UTC())
	lateSub := e.graded(&grader.Submission{Candidate: "Lena Late", Assignment: late.ID, Owner: late.Token, Late: true}, ref, nil)
	practiceSub := e.graded(&grader.Submission{Candidate: "Pia Practice", Assignment: practice.ID, Owner: practice.Token}, ref, nil)
	apiSub := e.graded(&grader.Submission{Candidate: "Andy API", Source: &grader.Source{Kind: grader.SourceUpload}}, ref, nil)
	otherEx := e.graded(&grader.Submission{Exercise: "oversell", Candidate: "Olga Oversell"}, nil, nil)

	sb := e.browser()
	sb.login(staff)
	res, body := sb.get("/ui/submissions")
	wantStatus(t, "submissions", res, body, 200)
	head := body[strings.Index(body, "<thead>"):strings.Index(body, "</thead>")]
	var cols []string
	for _, m := range regexp.MustCompile(`<th scope="col" [^>]*>(?:<a [^>]*>)?([A-Za-z]+)`).FindAllStringSubmatch(head, -1) {
		cols = append(cols, m[1])
	}
	if want := "Submitted Candidate Exercise Mode Late Assignment Status Score Verdict"; strings.Join(cols, " ") != want {
		t.Errorf("columns %v, want %s", cols, want)
	}
	rows := cellsOf(body)
	for _, c := range []struct {
		sub                              *grader.Submission
		exercise, mode, late, assignment string
	}{
		{lateSub, "Fix the N+1 in the books API", "assessment", "late", late.ID[:12] + "…"},
		{practiceSub, "Fix the N+1 in the books API", "practice", "on time", practice.ID[:12] + "…"},
		{apiSub, "Fix the N+1 in the books API", "upload", "—", "—"},
		{otherEx, "Stop the checkout from overselling", "—", "—", "—"},
	} {
		got := rows[c.sub.ID]
		if got == nil {
			t.Errorf("no row for %s", c.sub.Candidate)
			continue
		}
		for k, want := range map[string]string{"exercise": c.exercise, "mode": c.mode, "late": c.late, "assignment": c.assignment, "candidate": c.sub.Candidate} {
			if got[k] != want {
				t.Errorf("%s: %s cell %q, want %q", c.sub.Candidate, k, got[k], want)
			}
		}
	}
	if !strings.Contains(body, `title="`+late.ID+`"`) {
		t.Errorf("the whole assignment id is not on the page")
	}
	if !strings.Contains(body, `<option value="n-plus-one">Fix the N&#43;1 in the books API</option>`) {
		t.Errorf("the exercise filter does not read titles")
	}
	// Sorting by exercise sorts by the title shown: "Fix..." before "Stop...".
	_, body = sb.get("/ui/submissions?sort=exercise&dir=asc")
	if i, j := strings.Index(body, `data-id="`+lateSub.ID+`"`), strings.Index(body, `data-id="`+otherEx.ID+`"`); i < 0 || j < 0 || i > j {
		t.Errorf("sorted by exercise title: Fix at %d, Stop at %d", i, j)
	}
}

// TestExerciseWithoutGradesHasNoChart: no grades, no chart (and a line that
// says so); with one grade, the chart.
func TestExerciseWithoutGradesHasNoChart(t *testing.T) {
	e := newEnv(t)
	staff, _ := e.token(grader.RoleInterviewer, "Iris")
	sb := e.browser()
	sb.login(staff)
	res, body := sb.get("/ui/exercises/n-plus-one")
	wantStatus(t, "exercise", res, body, 200)
	if strings.Contains(body, "<svg") || !strings.Contains(body, "No graded submissions yet") {
		t.Errorf("an exercise with no grades: %.2000s", body[strings.Index(body, "<h2>Scores"):])
	}
	e.graded(&grader.Submission{Candidate: "Ada"}, answerFiles(t, e.cat, "solutions/reference"), nil)
	_, body = sb.get("/ui/exercises/n-plus-one")
	if !strings.Contains(body, `<svg class="chart"`) || strings.Contains(body, "No graded submissions yet") {
		t.Errorf("an exercise with a grade has no chart")
	}
}

// TestCompareManyCandidates: forty candidates are forty rows, best first,
// each name linked to its submission; the columns do not grow with them.
func TestCompareManyCandidates(t *testing.T) {
	e := newEnv(t)
	staff, _ := e.token(grader.RoleInterviewer, "Iris")
	ref := answerFiles(t, e.cat, "solutions/reference")
	const n = 40
	subs := map[string]*grader.Submission{}
	for i := range n {
		name := "Candidate " + string(rune('A'+i%26)) + string(rune('a'+i/26))
		res := &grader.Result{Score: i % 11, MaxScore: 10, Verdict: grader.VerdictFailed,
			Categories: []grader.CategoryScore{{Name: "performance", Score: i % 7, MaxScore: 6}},
			Tests:      []grader.TestResult{{Name: "List runs constant queries", Hidden: true, Category: "performance", Outcome: "passed", Queries: i}}}
		subs[name] = e.graded(&grader.Submission{Candidate: name}, ref, res)
	}
	sb := e.browser()
	sb.login(staff)
	res, body := sb.get("/ui/compare?exercise=n-plus-one")
	wantStatus(t, "compare", res, body, 200)
	rowRE := regexp.MustCompile(`(?s)<tr data-sub="([^"]+)">(.*?)</tr>`)
	rows := rowRE.FindAllStringSubmatch(body, -1)
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	last := 11
	for _, r := range rows {
		var sub *grader.Submission
		for name, s := range subs {
			if s.ID == r[1] {
				sub = s
				if !strings.Contains(r[2], `<a href="/ui/submissions/`+s.ID+`">`+name+`</a>`) {
					t.Errorf("%s's row does not link the name to the submission: %s", name, r[2])
				}
			}
		}
		if sub == nil {
			t.Fatalf("a row of an unknown submission %s", r[1])
		}
		if sub.Result.Score > last {
			t.Errorf("rows are not best first: %d after %d", sub.Result.Score, last)
		}
		last = sub.Result.Score
		if !strings.Contains(r[2], ">passed</span>") {
			t.Errorf("the check's outcome is not in the row: %s", r[2])
		}
	}
	head := body[strings.Index(body, `<table class="data compare">`):]
	head = head[:strings.Index(head, "</thead>")]
	if cols := strings.Count(head, `<th scope="col"`); cols != 4+2+1+1 { // #, candidate, score, verdict; 2 categories; 1 check; submitted
		t.Errorf("%d columns for %d candidates: %s", cols, n, head)
	}
	if strings.Contains(head, "Candidate Aa") {
		t.Errorf("candidates are columns")
	}
}
