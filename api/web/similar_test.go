package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/similar"
)

// newSimilarEnv is newEnv with the similarity index on (the bbolt store)
// and the catalog's answers seeded, as serve runs it.
func newSimilarEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t, func(c *Config) { c.Similarity = c.Grader.(*grader.Service) })
	e.svc.Similarity = e.store
	if err := e.svc.SeedSimilarity(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// graded stores a done submission of files with the result, straight in
// the store (no sandbox), and returns it as stored.
func (e *env) graded(sub *grader.Submission, files []grader.File, res *grader.Result) *grader.Submission {
	e.t.Helper()
	ctx := context.Background()
	if sub.Exercise == "" {
		sub.Exercise = "n-plus-one"
	}
	sub.Status = grader.StatusQueued
	if sub.CreatedAt.IsZero() {
		sub.CreatedAt = time.Now().UTC()
	}
	if err := e.store.CreateSubmission(ctx, sub, files); err != nil {
		e.t.Fatal(err)
	}
	if got, err := e.store.ClaimNext(ctx); err != nil || got == nil || got.ID != sub.ID {
		e.t.Fatalf("claim %s: %v %v", sub.ID, got, err)
	}
	if res == nil {
		res = &grader.Result{Score: 10, MaxScore: 10, Verdict: grader.VerdictPassed}
	}
	if err := e.store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
		e.t.Fatal(err)
	}
	got, err := e.store.Submission(ctx, sub.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// answerFiles reads an answer folder of n-plus-one.
func answerFiles(t *testing.T, cat grader.Catalog, dir string) []grader.File {
	t.Helper()
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	files, err := grader.OverlayFiles(ex, dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// disguise copies the reference answer the way a candidate hiding a copy
// would: three comment lines on top of views.py (every line moves down),
// the helper renamed, and the two view classes swapped.
func disguise(t *testing.T, files []grader.File) []grader.File {
	t.Helper()
	out := slices.Clone(files)
	for i, f := range out {
		if f.Path != "library/views.py" {
			continue
		}
		src := string(f.Data)
		list := src[strings.Index(src, "class BookListView"):strings.Index(src, "class BookDetailView")]
		detail := src[strings.Index(src, "class BookDetailView"):]
		src = src[:strings.Index(src, "class BookListView")] + strings.TrimRight(detail, "\n") + "\n\n\n" + strings.TrimRight(list, "\n") + "\n"
		src = strings.ReplaceAll(src, "book_queryset", "books_for_page")
		src = "# My own solution to the N+1.\n# Written from scratch.\n# (c) Bob\n" + src
		if strings.Contains(src, "book_queryset") || !strings.Contains(src, "class BookDetailView") {
			t.Fatalf("disguise: %s", src)
		}
		out[i] = grader.File{Path: f.Path, Data: []byte(src)}
	}
	return out
}

// similarWorld is Ada's reference answer, Bob's disguised copy of it and
// Cara's untouched starter (nothing to compare), all graded.
type similarWorld struct {
	e               *env
	ada, bob, cara  *grader.Submission
	adaSrc, bobSrc  []grader.File
	staff, stranger string
}

func newSimilarWorld(t *testing.T) *similarWorld {
	e := newSimilarEnv(t)
	w := &similarWorld{e: e}
	w.adaSrc = answerFiles(t, e.cat, "solutions/reference")
	w.bobSrc = disguise(t, w.adaSrc)
	w.ada = e.graded(&grader.Submission{Candidate: "Ada Lovelace"}, w.adaSrc, nil)
	w.bob = e.graded(&grader.Submission{Candidate: "Bob Copier"}, w.bobSrc, nil)
	w.cara = e.graded(&grader.Submission{Candidate: "Cara Starter"}, answerFiles(t, e.cat, "starter"), &grader.Result{Score: 0, MaxScore: 10, Verdict: grader.VerdictFailed})
	if _, err := e.svc.BackfillSimilarity(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.staff, _ = e.token(grader.RoleInterviewer, "Iris Interviewer")
	return w
}

// paneLines reads the pair page: per side ("left", "right") and path, the
// highlighted lines with their block number, and the text of every line.
type paneLine struct {
	Block int
	Text  string
}

var (
	pairFileRE = regexp.MustCompile(`(?s)<section class="pair-file" aria-label="([^"]+)">(.*?)</section>`)
	paneRE     = regexp.MustCompile(`(?s)<div class="pane" data-side="(left|right)">(.*?)</table>`)
	lineRE     = regexp.MustCompile(`<tr(?: class="hl m\d" data-block="(\d+)")?(?: id="[LR]\d+")? data-line="(\d+)"><td class="ln">\d+</td><td class="mkc">.*?</td><td class="code">(.*?)</td></tr>`)
)

func paneLines(t *testing.T, body string) map[string]map[string]map[int]paneLine {
	t.Helper()
	out := map[string]map[string]map[int]paneLine{"left": {}, "right": {}}
	for _, f := range pairFileRE.FindAllStringSubmatch(body, -1) {
		path := html.UnescapeString(f[1])
		for _, p := range paneRE.FindAllStringSubmatch(f[2], -1) {
			lines := map[int]paneLine{}
			for _, l := range lineRE.FindAllStringSubmatch(p[2], -1) {
				n, _ := strconv.Atoi(l[2])
				b, _ := strconv.Atoi(l[1])
				lines[n] = paneLine{Block: b, Text: html.UnescapeString(l[3])}
			}
			if len(lines) == 0 {
				t.Fatalf("no lines in the %s pane of %s: %.500s", p[1], path, p[2])
			}
			out[p[1]][path] = lines
		}
	}
	return out
}

// highlighted is the set of a pane's highlighted lines.
func highlighted(lines map[int]paneLine) []int {
	var out []int
	for n, l := range lines {
		if l.Block > 0 {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// regionSet is the lines of path the regions cover.
func regionSet(rs []similar.Region, path string) []int {
	var out []int
	for _, r := range rs {
		for n := r.Start; n <= r.End && r.Path == path; n++ {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// lineWith is the number of the first line of a pane holding text.
func lineWith(t *testing.T, lines map[int]paneLine, text string) int {
	t.Helper()
	for n := 1; n <= len(lines); n++ {
		if strings.Contains(lines[n].Text, text) {
			return n
		}
	}
	t.Fatalf("no line holds %q", text)
	return 0
}

// TestSimilarPairPage: the pair page shows both candidates' files side by
// side; the highlighted lines on each side are exactly the regions of the
// fingerprints they share, and a block on the left is the same block on
// the right although Bob moved every line and swapped the classes.
func TestSimilarPairPage(t *testing.T) {
	w := newSimilarWorld(t)
	sb := w.e.browser()
	sb.login(w.staff)
	res, body := sb.get("/ui/submissions/" + w.bob.ID + "/similar/" + w.ada.ID)
	wantStatus(t, "pair page", res, body, 200)
	for _, want := range []string{"Bob Copier", "Ada Lovelace", `href="/ui/submissions/` + w.ada.ID + `"`, `href="/ui/submissions/` + w.bob.ID + `"`, "Matching blocks"} {
		if !strings.Contains(body, want) {
			t.Errorf("pair page lacks %q", want)
		}
	}
	panes := paneLines(t, body)
	bobViews, adaViews := panes["left"]["library/views.py"], panes["right"]["library/views.py"]
	if bobViews == nil || adaViews == nil {
		t.Fatalf("views.py is not on both sides: %v", panes)
	}
	if !strings.Contains(bobViews[1].Text, "# My own solution") || !strings.Contains(bobViews[lineWith(t, bobViews, "def ")].Text, "books_for_page") {
		t.Errorf("the left side is not Bob's file: %v", bobViews[1])
	}
	if strings.Contains(adaViews[1].Text, "My own solution") {
		t.Errorf("the right side is not Ada's file")
	}

	// The highlighted lines are the shared fingerprints' regions, worked
	// out here from the two sets of files.
	ex, _ := w.e.cat.Exercise("n-plus-one")
	bobFPs, _ := grader.SubmissionFingerprints(ex, w.bobSrc)
	adaFPs, _ := grader.SubmissionFingerprints(ex, w.adaSrc)
	m := similar.Compare(bobFPs, w.ada.ID, adaFPs)
	if !m.Flagged() {
		t.Fatalf("the disguised copy is not flagged: %+v", m)
	}
	for _, c := range []struct {
		side  string
		lines map[int]paneLine
		want  []int
	}{{"left", bobViews, regionSet(m.Query, "library/views.py")}, {"right", adaViews, regionSet(m.Other, "library/views.py")}} {
		if got := highlighted(c.lines); !slices.Equal(got, c.want) || len(got) == 0 {
			t.Errorf("%s side highlights lines %v of views.py, want %v", c.side, got, c.want)
		}
	}
	// Bob's comment lines are not evidence; the same statement is
	// highlighted on both sides, at different lines, in the same block.
	for n := 1; n <= 3; n++ {
		if bobViews[n].Block != 0 {
			t.Errorf("Bob's comment line %d is highlighted", n)
		}
	}
	for _, text := range []string{`.prefetch_related("tags")`, "class BookListView", "class BookDetailView"} {
		l, r := bobViews[lineWith(t, bobViews, text)], adaViews[lineWith(t, adaViews, text)]
		if l.Block == 0 || l.Block != r.Block {
			t.Errorf("%q: block %d on the left, %d on the right", text, l.Block, r.Block)
		}
	}
	if lineWith(t, bobViews, "class BookListView") == lineWith(t, adaViews, "class BookListView")+3 {
		t.Errorf("the classes were swapped on Bob's side, yet BookListView is only shifted by the comments")
	}
	// Each block's number links to the same block on the other side.
	if !regexp.MustCompile(`id="L1"`).MatchString(body) || !strings.Contains(body, `href="#R1"`) || !strings.Contains(body, `id="R1"`) {
		t.Errorf("block 1 is not linked across: %.300s", body)
	}

	// A pair that is not flagged, or a made-up one, has no page.
	for _, p := range []string{
		"/ui/submissions/" + w.ada.ID + "/similar/" + w.cara.ID,
		"/ui/submissions/" + w.ada.ID + "/similar/" + w.ada.ID,
		"/ui/submissions/" + w.ada.ID + "/similar/sub_nope",
		"/ui/submissions/sub_nope/similar/" + w.ada.ID,
		"/ui/submissions/" + w.ada.ID + "/similar/catalog/solutions/nope",
		"/ui/submissions/" + w.ada.ID + "/similar/catalog/starter/x",
	} {
		res, body := sb.get(p)
		wantStatus(t, "GET "+p, res, body, 404)
	}
}

// TestSimilarCatalogPair: a match with the catalog's answer shows the
// candidate's side only; the answer is named, its code never shown.
func TestSimilarCatalogPair(t *testing.T) {
	w := newSimilarWorld(t)
	sb := w.e.browser()
	sb.login(w.staff)
	res, body := sb.get("/ui/submissions/" + w.bob.ID + "/similar/catalog/solutions/reference")
	wantStatus(t, "catalog pair", res, body, 200)
	if !strings.Contains(body, "solutions/reference") || strings.Contains(body, `data-side="right"`) {
		t.Errorf("catalog pair page: %.500s", body)
	}
	// The reference names its helper book_queryset; Bob renamed it, so the
	// name on the page could only come from the catalog's code.
	if strings.Contains(body, "book_queryset") {
		t.Errorf("the catalog's code is shown")
	}
	panes := paneLines(t, body)
	if got := highlighted(panes["left"]["library/views.py"]); len(got) == 0 {
		t.Errorf("no highlighted lines on Bob's side")
	}
	if strings.Contains(body, `href="#R`) {
		t.Errorf("links to a right side that is not there")
	}
}

// TestSimilarSections: the submission page lists its flagged pairs (the
// other candidate linked, score, shared fingerprints, the pair page), the
// exercise page lists the exercise's, each once.
func TestSimilarSections(t *testing.T) {
	w := newSimilarWorld(t)
	sb := w.e.browser()
	sb.login(w.staff)
	res, body := sb.get("/ui/submissions/" + w.bob.ID)
	wantStatus(t, "bob's submission", res, body, 200)
	i := strings.Index(body, `<h2 id="similar-h">Similar submissions</h2>`)
	if i < 0 {
		t.Fatalf("no similar section: %.300s", body)
	}
	section := body[i : strings.Index(body[i:], "</section>")+i]
	matches, err := w.e.svc.Similar(context.Background(), w.bob.ID)
	if err != nil || len(matches) < 2 {
		t.Fatalf("similar: %v %v", matches, err)
	}
	for _, m := range matches {
		if m.Submission != nil {
			for _, want := range []string{`<a href="/ui/submissions/` + w.ada.ID + `">Ada Lovelace</a>`, fmt.Sprintf(">%d<", m.Shared), percent(m.Score),
				`href="/ui/submissions/` + w.bob.ID + `/similar/` + w.ada.ID + `"`} {
				if !strings.Contains(section, want) {
					t.Errorf("the section lacks %q: %s", want, section)
				}
			}
		}
	}
	if !strings.Contains(section, "<code>solutions/reference</code>") || !strings.Contains(section, "/similar/catalog/solutions/reference") {
		t.Errorf("the catalog's answer is not named: %s", section)
	}
	if strings.Contains(section, "Cara Starter") {
		t.Errorf("an unflagged submission is listed")
	}
	// Cara's starter shares nothing.
	_, body = sb.get("/ui/submissions/" + w.cara.ID)
	if !strings.Contains(body, "Similar submissions") || !strings.Contains(body, "None: no other candidate") {
		t.Errorf("cara's page: no empty similar section")
	}

	res, body = sb.get("/ui/exercises/n-plus-one")
	wantStatus(t, "exercise", res, body, 200)
	i = strings.Index(body, `<h2 id="similar-h">`)
	if i < 0 {
		t.Fatalf("no similar section on the exercise page")
	}
	section = body[i : strings.Index(body[i:], "</section>")+i]
	pair := regexp.MustCompile(`data-pair="(` + w.ada.ID + `~` + w.bob.ID + `|` + w.bob.ID + `~` + w.ada.ID + `)"`)
	if n := len(pair.FindAllString(section, -1)); n != 1 {
		t.Errorf("the Ada~Bob pair is listed %d times: %s", n, section)
	}
	if !strings.Contains(section, "solutions/reference") || strings.Contains(section, "Cara Starter") {
		t.Errorf("exercise pairs: %s", section)
	}
	// Every "side by side" link of the exercise's list opens.
	for _, m := range regexp.MustCompile(`href="(/ui/submissions/[^"]+/similar/[^"]+)"`).FindAllStringSubmatch(section, -1) {
		res, body := sb.get(html.UnescapeString(m[1]))
		wantStatus(t, "GET "+m[1], res, body, 200)
	}
}

// TestSimilarHiddenFromCandidates: a candidate gets 404 from every
// similarity page, even of its own submission, and its result page says
// nothing of similarity.
func TestSimilarHiddenFromCandidates(t *testing.T) {
	w := newSimilarWorld(t)
	secret, a := w.e.assign("Dan Candidate", grader.ModePractice)
	own := w.e.graded(&grader.Submission{Candidate: "Dan Candidate", Assignment: a.ID, Owner: a.Token}, w.adaSrc, nil)
	if _, err := w.e.svc.BackfillSimilarity(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m, err := w.e.svc.Similar(context.Background(), own.ID); err != nil || len(m) == 0 {
		t.Fatalf("dan's copy is not flagged: %v %v", m, err)
	}
	cb := w.e.browser()
	cb.login(secret)
	for _, p := range []string{
		"/ui/submissions/" + own.ID + "/similar/" + w.ada.ID,
		"/ui/submissions/" + w.bob.ID + "/similar/" + w.ada.ID,
		"/ui/submissions/" + own.ID + "/similar/catalog/solutions/reference",
		"/ui/submissions/" + own.ID,
		"/ui/exercises/n-plus-one",
	} {
		res, body := cb.get(p)
		wantStatus(t, "candidate GET "+p, res, body, 404)
		if strings.Contains(body, "Ada Lovelace") || strings.Contains(body, "Similar") {
			t.Errorf("candidate GET %s leaks: %.300s", p, body)
		}
	}
	res, body := cb.get("/ui/a/" + a.ID + "/s/" + own.ID)
	wantStatus(t, "dan's result", res, body, 200)
	if strings.Contains(body, "imilar") || strings.Contains(body, "Ada Lovelace") {
		t.Errorf("the candidate's result mentions similarity: %.500s", body)
	}
}

// TestSimilarOff: without an index the sections are left out and the pair
// page says so.
func TestSimilarOff(t *testing.T) {
	e := newEnv(t)
	staff, _ := e.token(grader.RoleInterviewer, "Iris")
	ada := e.graded(&grader.Submission{Candidate: "Ada"}, answerFiles(t, e.cat, "solutions/reference"), nil)
	sb := e.browser()
	sb.login(staff)
	for _, p := range []string{"/ui/submissions/" + ada.ID, "/ui/exercises/n-plus-one"} {
		res, body := sb.get(p)
		wantStatus(t, p, res, body, 200)
		if strings.Contains(body, "Similar submissions") {
			t.Errorf("%s has a similarity section without an index", p)
		}
	}
	res, body := sb.get("/ui/submissions/" + ada.ID + "/similar/" + ada.ID)
	wantStatus(t, "pair page without an index", res, body, http.StatusServiceUnavailable)
}
