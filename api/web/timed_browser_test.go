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

// TestTimedBrowser drives headless Chromium through a timed assignment (no
// grading, so no Docker): the interviewer creates one with a time limit and
// copies the ready-to-send message with its button; the candidate opens the
// link and timed.js ticks the countdown; the interviewer's page of the
// assignment shows it open. Screenshots: timed-*.png.
func TestTimedBrowser(t *testing.T) {
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
	svc := grader.NewService(grader.Config{Store: store, Auth: store, Catalog: cat, Logger: logger})
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
			shot(c, "timed-failed")
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(c context.Context, expr string) string {
		t.Helper()
		s, err := chromedp.Run(c, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	// waitJS waits until expr is true on the page (a guard against a hang;
	// nothing asserts on time).
	waitJS := func(c context.Context, what, expr string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := chromedp.Run(c, chromedp.Evaluate[bool](`!!(() => { try { return `+expr+`; } catch (e) { return false; } })()`))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				shot(c, "timed-failed")
				t.Fatalf("%s: not so after 30s (%v)", what, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The interviewer creates a timed assignment.
	do(staff, "sign in", chromedp.Navigate(base+"/ui/login"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), secret), chromedp.Submit(chromedp.CSS("#token")), chromedp.WaitVisible(chromedp.CSS("table.data")))
	do(staff, "create", chromedp.Navigate(base+"/ui/assignments"), chromedp.WaitVisible(chromedp.CSS("#a-candidate")),
		chromedp.SendKeys(chromedp.CSS("#a-candidate"), "Ada Lovelace"), chromedp.SetValue(chromedp.CSS("#a-exercise"), "n-plus-one"),
		chromedp.SendKeys(chromedp.CSS("#a-limit"), "90"), chromedp.SetValue(chromedp.CSS("#a-after"), "refuse"),
		chromedp.SetValue(chromedp.CSS("#a-counts"), "best"),
		chromedp.Submit(chromedp.CSS("#a-candidate")), chromedp.WaitVisible(chromedp.CSS("#c-message")))
	link, err := chromedp.Run(staff, chromedp.Value(chromedp.CSS("#c-link")))
	if err != nil {
		t.Fatal(err)
	}
	token, err := chromedp.Run(staff, chromedp.Value(chromedp.CSS("#c-token")))
	if err != nil || !strings.HasPrefix(link, base+"/ui/a/asg_") {
		t.Fatalf("link %q token %q (%v)", link, token, err)
	}
	// The copy buttons are timed.js's: hidden in the HTML, shown by it.
	waitJS(staff, "copy buttons shown", `!document.querySelector('[data-copy-from="c-message"]').hidden`)
	// What the button hands the clipboard is recorded on the way (reading
	// the clipboard back needs a permission headless Chromium denies).
	do(staff, "watch the clipboard", chromedp.Evaluate[chromedp.Void](`(() => { const w = navigator.clipboard.writeText.bind(navigator.clipboard);
		navigator.clipboard.writeText = (v) => { window.copied = v; return w(v); }; })()`))
	do(staff, "copy the message", chromedp.Click(chromedp.CSS(`[data-copy-from="c-message"]`)))
	waitJS(staff, "copy acknowledged", `document.querySelector('[data-copied-for="c-message"]').textContent !== ""`)
	note := eval(staff, `document.querySelector('[data-copied-for="c-message"]').textContent`)
	if note != "Copied" && !strings.HasPrefix(note, "Selected") {
		t.Errorf("copy note %q", note)
	}
	if copied := eval(staff, `String(window.copied)`); !strings.Contains(copied, link) || !strings.Contains(copied, token) || !strings.Contains(copied, "1h30m") {
		t.Errorf("the copy button copied %q, not the message", copied)
	}
	t.Logf("copy button: %q", note)
	shot(staff, "timed-01-created-copy-buttons")

	// The candidate opens the link: the countdown runs.
	cand, cancelCand := chromedp.NewContext(staff, chromedp.WithNewBrowserContext())
	defer cancelCand()
	do(cand, "open the link", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#token")))
	do(cand, "candidate signs in", chromedp.SendKeys(chromedp.CSS("#token"), token), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("[data-countdown]")))
	first := eval(cand, `document.querySelector("[data-countdown-time]").textContent`)
	if !strings.HasPrefix(first, "1:29:") && first != "1:30:00" {
		t.Errorf("countdown starts at %q", first)
	}
	waitJS(cand, "the countdown ticks", `document.querySelector("[data-countdown-time]").textContent !== `+jsString(first))
	if c := eval(cand, `document.querySelector("[data-counts]").textContent`); !strings.Contains(c, "best") {
		t.Errorf("counts %q", c)
	}
	shot(cand, "timed-02-candidate-countdown")
	do(cand, "phone width", chromedp.EmulateViewport(390, 844))
	shot(cand, "timed-03-candidate-countdown-phone")

	// The interviewer's page of the assignment: open, with its copy boxes.
	id := strings.TrimPrefix(link, base+"/ui/a/")
	do(staff, "the assignment's page", chromedp.Navigate(base+"/ui/assignments/"+id), chromedp.WaitVisible(chromedp.CSS("[data-countdown]")))
	waitJS(staff, "its copy buttons", `!document.querySelector('[data-copy-from="s-link"]').hidden`)
	if s := eval(staff, `document.querySelector("#state-h").textContent`); !strings.Contains(s, "open") {
		t.Errorf("state %q", s)
	}
	shot(staff, "timed-04-staff-assignment")
	t.Logf("screenshots in %s", dir)
}
