package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/api/web"
	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/sandbox"
)

// chromium finds Debian's headless-capable Chromium.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// headless starts headless Chromium at the window size for a browser
// test: its allocator and a first tab; stop closes both (defer it before
// the server's shutdown, which waits for the pages' streams).
func headless(ctx context.Context, chrome string, width, height int) (alloc, tab context.Context, stop func()) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(width, height))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(alloc)
	return alloc, tab, func() { cancelTab(); cancelAlloc() }
}

// screenshot saves the tab's whole page as dir/name.png.
func screenshot(tab context.Context, dir, name string) error {
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// shots is where screenshots go: $DJGRADE_ARTIFACTS/screenshots, or the
// test's temporary folder.
func shots(t *testing.T) string {
	dir := t.TempDir()
	if a := os.Getenv("DJGRADE_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func refZip(t *testing.T, cat grader.Catalog) string {
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	err = fs.WalkDir(ex.FS, "solutions/reference", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(ex.FS, p)
		if err != nil {
			return err
		}
		w, err := zw.Create(strings.TrimPrefix(p, "solutions/reference/"))
		if err == nil {
			_, err = w.Write(data)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zw.Close()
	path := filepath.Join(t.TempDir(), "solution.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBrowser drives headless Chromium through the whole story: an
// interviewer signs in and creates an assignment; the candidate opens the
// link, signs in with the token, uploads the n-plus-one reference solution,
// which a real container grades, watches it finish and sees the score; the
// interviewer finds it in the table and sees per-test query counts and the
// diff. Each page is saved as a screenshot.
func TestBrowser(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium, or make setup); skipping the browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
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
	sb, err := sandbox.New(sandbox.Options{Instance: "webtest-" + time.Now().Format("150405.000")})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	tag, err := sb.EnsureImage(ctx, sandbox.BuildOptions{}, io.Discard)
	if err != nil {
		t.Fatalf("sandbox image: %v", err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc := grader.NewService(grader.Config{Store: store, Sandbox: sb, Catalog: cat, Image: tag, Concurrency: 1, Poll: 200 * time.Millisecond, Logger: logger})
	wctx, stopWorkers := context.WithCancel(ctx)
	workersDone := make(chan struct{})
	go func() { defer close(workersDone); _ = svc.Run(wctx) }()
	defer func() { stopWorkers(); <-workersDone }()

	httpAPI := api.New(api.Config{Grader: svc, Catalog: cat, Auth: store, Logger: logger})
	pages, err := web.New(web.Config{Grader: svc, Catalog: cat, Auth: store, Logger: logger})
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

	_, staff, stopChrome := headless(ctx, chrome, 1280, 900)
	defer stopChrome()
	dir := shots(t)
	shot := func(c context.Context, name string) {
		t.Helper()
		if err := screenshot(c, dir, name); err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
	}
	do := func(c context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(c, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(c context.Context, sel string) string {
		t.Helper()
		s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	// The interviewer signs in and creates an assignment.
	do(staff, "open the sign-in page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	shot(staff, "01-login")
	do(staff, "sign in", chromedp.SendKeys(chromedp.CSS("#token"), secret), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("table.data")))
	do(staff, "open assignments", chromedp.Navigate(base+"/ui/assignments"), chromedp.WaitVisible(chromedp.CSS("#a-candidate")))
	do(staff, "create an assignment", chromedp.SendKeys(chromedp.CSS("#a-candidate"), "Ada Lovelace"),
		chromedp.SetValue(chromedp.CSS("#a-exercise"), "n-plus-one"), chromedp.SetValue(chromedp.CSS("#a-mode"), "assessment"),
		chromedp.Submit(chromedp.CSS("#a-candidate")), chromedp.WaitVisible(chromedp.CSS("#c-token")))
	link, err := chromedp.Run(staff, chromedp.Value(chromedp.CSS("#c-link")))
	if err != nil {
		t.Fatal(err)
	}
	token, err := chromedp.Run(staff, chromedp.Value(chromedp.CSS("#c-token")))
	if err != nil || !strings.HasPrefix(token, grader.TokenPrefix) || !strings.HasPrefix(link, base+"/ui/a/asg_") {
		t.Fatalf("created: link %q token %q (%v)", link, token, err)
	}
	shot(staff, "02-assignment-created")

	// The candidate, in a browser context of its own (no shared cookies),
	// opens the link, signs in and uploads the reference solution.
	cand, cancelCand := chromedp.NewContext(staff, chromedp.WithNewBrowserContext())
	defer cancelCand()
	do(cand, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#token")))
	do(cand, "candidate signs in", chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("#archive")))
	shot(cand, "03-candidate-assignment")
	do(cand, "upload", chromedp.SetUploadFiles(chromedp.CSS("#archive"), []string{refZip(t, cat)}),
		chromedp.Submit(chromedp.CSS("#archive")), chromedp.WaitVisible(chromedp.CSS("section.summary")))
	shot(cand, "04-candidate-progress")
	gctx, gcancel := context.WithTimeout(cand, 5*time.Minute)
	defer gcancel()
	if err := chromedp.Do(gctx, chromedp.WaitVisible(chromedp.CSS("[data-score]"))); err != nil {
		shot(cand, "04b-candidate-timeout")
		t.Fatalf("the result did not appear: %v", err)
	}
	score := text(cand, "[data-score]")
	if !strings.Contains(score, "/") {
		t.Fatalf("score %q", score)
	}
	t.Logf("candidate sees score %q", score)
	if body := text(cand, "main"); strings.Contains(body, "djgrade_hidden") {
		t.Errorf("the candidate's page shows a hidden node id")
	}
	shot(cand, "05-candidate-result")
	do(cand, "phone width", chromedp.EmulateViewport(390, 844))
	shot(cand, "06-candidate-result-phone")

	// The interviewer finds it in the table and opens it.
	do(staff, "find it", chromedp.Navigate(base+"/ui/submissions?candidate=ada"), chromedp.WaitVisible(chromedp.CSS("tbody tr[data-id] a")))
	if row := text(staff, "tbody tr[data-id]"); !strings.Contains(row, "Ada Lovelace") || !strings.Contains(row, "done") {
		t.Errorf("table row %q", row)
	}
	shot(staff, "07-submissions")
	do(staff, "open it", chromedp.Click(chromedp.CSS("tbody tr[data-id] a")), chromedp.WaitVisible(chromedp.CSS("table.diff")))
	queries, err := chromedp.Run(staff, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("[data-queries]")).map(e => e.textContent)`))
	if err != nil || len(queries) == 0 {
		t.Fatalf("per-test query counts: %v %v", queries, err)
	}
	t.Logf("per-test query counts: %v", queries)
	if diff := text(staff, "table.diff"); !strings.Contains(diff, "@@") {
		t.Errorf("diff %q", diff)
	}
	shot(staff, "08-submission")
	do(staff, "exercise page", chromedp.Navigate(base+"/ui/exercises/n-plus-one"), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
	shot(staff, "09-exercise")
	do(staff, "compare", chromedp.Navigate(base+"/ui/compare?exercise=n-plus-one"), chromedp.WaitVisible(chromedp.CSS("table.compare")))
	shot(staff, "10-compare")
	do(staff, "assignments", chromedp.Navigate(base+"/ui/assignments"), chromedp.WaitVisible(chromedp.CSS("table.data")))
	shot(staff, "11-assignments")
	t.Logf("screenshots in %s", dir)
}

// TestBrowserDashboard drives headless Chromium over the interviewer's
// pages with results stored straight in bbolt (no sandbox): a flagged pair
// side by side, the similar sections of the submission and exercise pages,
// the submissions table and compare with many candidates, and, at phone
// width (390 px), that the submissions table's wrapper scrolls sideways
// while the page itself does not. Each page is saved as a screenshot.
func TestBrowserDashboard(t *testing.T) {
	chrome := chromium()
	if chrome == "" {
		t.Skip("chromium is not installed (apt-get install -y chromium, or make setup); skipping the browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	logger := slog.New(slog.DiscardHandler)
	svc := grader.NewService(grader.Config{Store: store, Auth: store, Similarity: store, Catalog: cat, Logger: logger})
	if err := svc.SeedSimilarity(ctx); err != nil {
		t.Fatal(err)
	}

	// Ada submits the reference; Bob a disguised copy of it (comments on
	// top, the helper renamed, the views swapped); thirty more candidates
	// something of their own (the starter with a score), some under
	// assignments, some late.
	reference, err := grader.OverlayFiles(ex, "solutions/reference")
	if err != nil {
		t.Fatal(err)
	}
	starter, err := grader.OverlayFiles(ex, "starter")
	if err != nil {
		t.Fatal(err)
	}
	copied := slices.Clone(reference)
	for i, f := range copied {
		if f.Path == "library/views.py" {
			src := string(f.Data)
			at, dt := strings.Index(src, "class BookListView"), strings.Index(src, "class BookDetailView")
			src = src[:at] + strings.TrimRight(src[dt:], "\n") + "\n\n\n" + strings.TrimRight(src[at:dt], "\n") + "\n"
			src = "# My own solution to the N+1.\n# Written from scratch.\n" + strings.ReplaceAll(src, "book_queryset", "books_for_page")
			copied[i].Data = []byte(src)
		}
	}
	graded := func(sub *grader.Submission, files []grader.File, score int) *grader.Submission {
		t.Helper()
		sub.Exercise, sub.Status = "n-plus-one", grader.StatusQueued
		if sub.CreatedAt.IsZero() {
			sub.CreatedAt = time.Now().UTC()
		}
		if err := store.CreateSubmission(ctx, sub, files); err != nil {
			t.Fatal(err)
		}
		if _, err := store.ClaimNext(ctx); err != nil {
			t.Fatal(err)
		}
		verdict := grader.VerdictFailed
		if score == 10 {
			verdict = grader.VerdictPassed
		}
		res := &grader.Result{Score: score, MaxScore: 10, Verdict: verdict,
			Categories: []grader.CategoryScore{{Name: "performance", Score: min(score, 6), MaxScore: 6}, {Name: "correctness", Score: max(score-6, 0), MaxScore: 4}},
			Tests: []grader.TestResult{
				{Name: "List runs a constant number of queries", Hidden: true, Category: "performance", Outcome: map[bool]string{true: "passed", false: "failed"}[score >= 6], Queries: 3 + 10 - score},
				{Name: "Detail answers as before", Hidden: true, Category: "correctness", Outcome: map[bool]string{true: "passed", false: "failed"}[score == 10], Queries: 2},
			}}
		if err := store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
			t.Fatal(err)
		}
		got, err := store.Submission(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	names := []string{"Grace Hopper", "Alan Turing", "Barbara Liskov", "Donald Knuth", "Edsger Dijkstra", "Frances Allen", "Ken Thompson",
		"Margaret Hamilton", "Niklaus Wirth", "Radia Perlman", "Tony Hoare", "Leslie Lamport", "John Backus", "Adele Goldberg", "Butler Lampson",
		"Dennis Ritchie", "Shafi Goldwasser", "Robin Milner", "Jean Sammet", "Ivan Sutherland", "Sophie Wilson", "Guido van Rossum",
		"Anita Borg", "Jim Gray", "Karen Spärck Jones", "Peter Naur", "Lynn Conway", "Alan Kay", "Hedy Lamarr", "Fran Bilas"}
	start := time.Now().UTC().Add(-48 * time.Hour)
	for i, name := range names {
		sub := &grader.Submission{Candidate: name, CreatedAt: start.Add(time.Duration(i) * time.Hour)}
		if i%3 == 0 {
			secret := grader.NewSecret()
			tok := &grader.Token{Name: name, Role: grader.RoleCandidate, Hash: grader.HashSecret(secret)}
			if err := store.CreateToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			a := &grader.Assignment{Exercise: "n-plus-one", Candidate: name, Token: tok.ID, Mode: []string{grader.ModeAssessment, grader.ModePractice}[i%2],
				Deadline: sub.CreatedAt.Add(-time.Hour)}
			if err := store.CreateAssignment(ctx, a); err != nil {
				t.Fatal(err)
			}
			sub.Assignment, sub.Owner, sub.Late = a.ID, tok.ID, i%2 == 0
		}
		graded(sub, starter, i%11)
	}
	ada := graded(&grader.Submission{Candidate: "Ada Lovelace"}, reference, 10)
	bob := graded(&grader.Submission{Candidate: "Bob Copier"}, copied, 10)
	if _, err := svc.BackfillSimilarity(ctx); err != nil {
		t.Fatal(err)
	}

	httpAPI := api.New(api.Config{Grader: svc, Catalog: cat, Auth: store, Logger: logger})
	pages, err := web.New(web.Config{Grader: svc, Catalog: cat, Auth: store, Logger: logger, Similarity: svc})
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
	eval := func(what, expr string) int {
		t.Helper()
		n, err := chromedp.Run(staff, chromedp.Evaluate[int](expr))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return n
	}
	do("sign in", chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), secret), chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("table.subs")))

	// The pair, side by side: both panes, lines highlighted on each, and
	// block 1's marker on the left leads to block 1 on the right.
	do("pair page", chromedp.Navigate(base+"/ui/submissions/"+bob.ID+"/similar/"+ada.ID), chromedp.WaitVisible(chromedp.CSS(".pair-grid")))
	if n := eval("left highlights", `document.querySelectorAll('.pane[data-side=left] tr.hl').length`); n == 0 {
		t.Errorf("no highlighted line on the left")
	}
	if n := eval("right highlights", `document.querySelectorAll('.pane[data-side=right] tr.hl').length`); n == 0 {
		t.Errorf("no highlighted line on the right")
	}
	// Side by side at desktop width: the right pane starts beside the left.
	if n := eval("side by side", `(() => { const [l, r] = document.querySelectorAll('.pair-file .pane'); return r.getBoundingClientRect().left > l.getBoundingClientRect().right - 1 ? 1 : 0; })()`); n != 1 {
		t.Errorf("the panes are not side by side")
	}
	shot("12-similar-pair")
	do("follow block 1", chromedp.Click(chromedp.CSS(`.pane[data-side=left] a.mk[href="#R1"]`)))
	if n := eval("target", `location.hash === '#R1' && document.querySelector('#R1').closest('.pane').dataset.side === 'right' ? 1 : 0`); n != 1 {
		t.Errorf("block 1's marker does not lead to the right side")
	}
	do("catalog pair", chromedp.Navigate(base+"/ui/submissions/"+bob.ID+"/similar/catalog/solutions/reference"), chromedp.WaitVisible(chromedp.CSS(".pair-grid")))
	if n := eval("catalog right side", `document.querySelectorAll('.pane[data-side=right]').length`); n != 0 {
		t.Errorf("the catalog's answer is shown")
	}
	shot("12b-similar-catalog")
	do("submission page", chromedp.Navigate(base+"/ui/submissions/"+bob.ID), chromedp.WaitVisible(chromedp.CSS("table.similar")))
	do("scroll to the section", chromedp.ScrollIntoView(chromedp.CSS("#similar-h")))
	shot("13-submission-similar")
	do("exercise page", chromedp.Navigate(base+"/ui/exercises/n-plus-one"), chromedp.WaitVisible(chromedp.CSS("table.similar")))
	shot("14-exercise-similar")
	do("an exercise nobody took", chromedp.Navigate(base+"/ui/exercises/oversell"), chromedp.WaitVisible(chromedp.CSS(".no-chart")))
	if n := eval("no chart", `document.querySelectorAll('svg.chart').length`); n != 0 {
		t.Errorf("an exercise with no grades shows a chart")
	}
	shot("15-exercise-no-grades")
	do("compare", chromedp.Navigate(base+"/ui/compare?exercise=n-plus-one"), chromedp.WaitVisible(chromedp.CSS("table.compare")))
	if n := eval("compare rows", `document.querySelectorAll('table.compare tbody tr a[href^="/ui/submissions/"]').length`); n != len(names)+2 {
		t.Errorf("compare links %d candidates, want %d", n, len(names)+2)
	}
	shot("16-compare")
	do("submissions", chromedp.Navigate(base+"/ui/submissions"), chromedp.WaitVisible(chromedp.CSS("table.subs")))
	shot("17-submissions")

	// At phone width the table's wrapper scrolls sideways, every column
	// kept; the page itself does not overflow.
	do("phone width", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/ui/submissions"), chromedp.WaitVisible(chromedp.CSS("table.subs")))
	wide := eval("wrapper", `(() => { const w = document.querySelector('table.subs').closest('.table-wrap'); return w.scrollWidth - w.clientWidth; })()`)
	if wide <= 0 {
		t.Errorf("the submissions table does not scroll sideways at 390 px (scrollWidth - clientWidth = %d)", wide)
	}
	if n := eval("columns", `document.querySelectorAll('table.subs thead th').length`); n != 9 {
		t.Errorf("%d columns at phone width, want 9", n)
	}
	over := func(page string) {
		t.Helper()
		if n := eval("page overflow", `document.documentElement.scrollWidth - document.documentElement.clientWidth`); n > 0 {
			// Name the outermost elements that stick out, to fix them.
			culprits, _ := chromedp.Run(staff, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('body *')).filter(e => {
				const w = document.documentElement.clientWidth + 1, out = x => x.getBoundingClientRect().right > w;
				for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
					if (getComputedStyle(a).overflowX !== 'visible' || out(a)) return false;
				}
				return out(e); })
				.slice(0, 5).map(e => e.tagName + '.' + e.className + ' right=' + Math.round(e.getBoundingClientRect().right))`))
			t.Errorf("%s at 390 px: the page is %d px wider than the screen: %v", page, n, culprits)
		}
		if n := eval("body overflow", `document.body.scrollWidth - document.body.clientWidth`); n > 0 {
			t.Errorf("%s at 390 px: the body is %d px wider than the screen", page, n)
		}
	}
	over("the submissions table")
	shot("18-submissions-phone")
	do("scroll the table", chromedp.Evaluate[chromedp.Void](`document.querySelector('table.subs').closest('.table-wrap').scrollLeft = 10000`))
	if n := eval("scrolled", `document.querySelector('table.subs').closest('.table-wrap').scrollLeft`); n <= 0 {
		t.Errorf("the table's wrapper did not scroll")
	}
	shot("19-submissions-phone-scrolled")
	for _, p := range []struct{ path, sel, name string }{
		{"/ui/submissions/" + bob.ID + "/similar/" + ada.ID, ".pair-grid", "20-similar-pair-phone"},
		{"/ui/compare?exercise=n-plus-one", "table.compare", "21-compare-phone"},
		{"/ui/submissions/" + bob.ID, "table.similar", "22-submission-phone"},
		{"/ui/exercises/n-plus-one", "table.similar", "23-exercise-phone"},
		{"/ui/exercises", ".cards", "24-exercises-phone"},
		{"/ui/assignments", "table.data", "25-assignments-phone"},
		{"/ui/live", "main h1", "26-live-phone"},
	} {
		do(p.name, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		over(p.path)
		shot(p.name)
	}
	t.Logf("screenshots in %s", dir)
}
