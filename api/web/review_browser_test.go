package web_test

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/api/web"
	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// TestReviewBrowser drives headless Chromium through a review, without a
// container (the result is stored as a worker would): the interviewer
// opens a graded submission, adds a note, overrides the score with a
// reason, sees the automatic score beside the override, finds the marked
// score in the submissions table and opens the candidate's page. Each page
// is saved as a screenshot.
func TestReviewBrowser(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium, or make setup); skipping the browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	logger := slog.New(slog.DiscardHandler)
	svc := grader.NewService(grader.Config{Store: store, Auth: store, LiveStore: store, Reviews: store, Similarity: store, Catalog: cat, Image: "img", Logger: logger})
	httpAPI := api.New(api.Config{Grader: svc, Catalog: cat, Auth: store, Reviews: svc, Logger: logger})
	pages, err := web.New(web.Config{Grader: svc, Catalog: cat, Auth: store, Reviews: svc, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	pages.Mount(httpAPI.Echo())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go httpAPI.Serve(ln)
	defer httpAPI.Shutdown(context.Background())
	base := "http://" + ln.Addr().String()

	secret := grader.NewSecret()
	if err := store.CreateToken(ctx, &grader.Token{Name: "Iris Interviewer", Role: grader.RoleInterviewer, Hash: grader.HashSecret(secret)}); err != nil {
		t.Fatal(err)
	}
	a := &grader.Assignment{Exercise: "n-plus-one", Candidate: "Ada Lovelace", Token: "tok_ada", Mode: grader.ModeAssessment}
	if err := store.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	sub := &grader.Submission{Exercise: "n-plus-one", Candidate: "Ada Lovelace", Assignment: a.ID, Owner: "tok_ada"}
	if err := store.CreateSubmission(ctx, sub, []grader.File{{Path: "library/serializers.py", Data: []byte("# Ada's attempt\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	res := &grader.Result{Score: 4, MaxScore: 10, Verdict: grader.VerdictFailed, Reason: "1 hidden check failed",
		Categories: []grader.CategoryScore{{Name: "correctness", Score: 4, MaxScore: 4}, {Name: "performance", Score: 0, MaxScore: 6}},
		Tests:      []grader.TestResult{{Name: "Book list runs a constant number of queries", Hidden: true, Category: "performance", Outcome: "failed", MaxPoints: 6, Queries: 12}}}
	if err := store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
		t.Fatal(err)
	}

	_, staff, stopChrome := headless(ctx, chrome, 1280, 900)
	defer stopChrome()
	dir := shots(t)
	shot := func(name string) {
		t.Helper()
		if err := screenshot(staff, dir, name); err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(staff, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(staff, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	do("sign in", chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), secret), chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("table.data")))
	do("open the submission", chromedp.Navigate(base+"/ui/submissions/"+sub.ID), chromedp.WaitVisible(chromedp.CSS("#review")))
	do("add a note", chromedp.SendKeys(chromedp.CSS("#n-text"), "Explained select_related well; missed prefetch on authors."),
		chromedp.Submit(chromedp.CSS("#n-text")), chromedp.WaitVisible(chromedp.CSS("ol.notes li")))
	do("override", chromedp.SendKeys(chromedp.CSS("#o-score"), "7"), chromedp.SetValue(chromedp.CSS("#o-verdict"), "passed"),
		chromedp.SendKeys(chromedp.CSS("#o-reason"), "The failed check counts a query the fixture adds; verified by hand."),
		chromedp.Submit(chromedp.CSS("#o-reason")), chromedp.WaitVisible(chromedp.CSS("table.trail")))
	if got := text("[data-review=effective]"); !strings.Contains(got, "7 / 10") || !strings.Contains(got, "overridden") {
		t.Fatalf("effective score: %q", got)
	}
	if got := text("[data-review=automatic]"); !strings.Contains(got, "4 / 10") {
		t.Fatalf("automatic score: %q", got)
	}
	do("scroll to the review", chromedp.ScrollIntoView(chromedp.CSS("#review")))
	shot("review-01-submission-reviewed")
	do("submissions table", chromedp.Navigate(base+"/ui/submissions"), chromedp.WaitVisible(chromedp.CSS("tbody tr[data-id]")))
	if got := text("tbody tr[data-id] [data-cell=score]"); !strings.Contains(got, "7 / 10") || !strings.Contains(got, "overridden") {
		t.Fatalf("table score: %q", got)
	}
	shot("review-02-submissions-overridden")
	do("candidate page", chromedp.Click(chromedp.CSS(`tbody tr[data-id] a[href^="/ui/candidates/"]`)), chromedp.WaitVisible(chromedp.CSS("[data-cell=effective]")))
	if got := text("h1"); !strings.Contains(got, "Ada Lovelace") {
		t.Fatalf("candidate page heading: %q", got)
	}
	shot("review-03-candidate")
	do("phone width", chromedp.EmulateViewport(390, 844))
	shot("review-04-candidate-phone")
	t.Logf("screenshots in %s", dir)
}
