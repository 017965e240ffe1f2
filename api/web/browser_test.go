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

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	staff, cancelStaff := chromedp.NewContext(alloc)
	defer cancelStaff()
	dir := shots(t)
	shot := func(c context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(c, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
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
