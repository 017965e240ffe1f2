package web

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// env is the pages over the real grader.Service (no workers: submissions
// stay queued unless a test finishes them in the store), a bbolt file and
// the embedded catalog, served on 127.0.0.1 through Echo as in serve.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	store *bolt.Store
	svc   *grader.Service
	cat   grader.Catalog
	h     *Handler
}

func newEnv(t *testing.T, edit ...func(*Config)) *env {
	t.Helper()
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := grader.NewService(grader.Config{Store: store, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	cfg := Config{Grader: svc, Catalog: cat, Auth: store}
	for _, f := range edit {
		f(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.GET("/api/v1/ping", func(c echo.Context) error { return c.String(200, "pong") })
	h.Mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store, svc: svc, cat: cat, h: h}
}

// token stores a token with the role and returns its secret and id.
func (e *env) token(role grader.Role, name string) (string, string) {
	e.t.Helper()
	secret := grader.NewSecret()
	tok := &grader.Token{Name: name, Role: role, Hash: grader.HashSecret(secret)}
	if err := e.store.CreateToken(context.Background(), tok); err != nil {
		e.t.Fatal(err)
	}
	return secret, tok.ID
}

// assign creates a candidate token and an assignment for it.
func (e *env) assign(name, mode string) (secret string, a *grader.Assignment) {
	e.t.Helper()
	secret, id := e.token(grader.RoleCandidate, name)
	a = &grader.Assignment{Exercise: "n-plus-one", Candidate: name, Token: id, Mode: mode}
	if err := e.store.CreateAssignment(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	return secret, a
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that tests see them.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfRE.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

func (b *browser) login(secret string) {
	b.e.t.Helper()
	b.get("/ui/login")
	res, body := b.post("/ui/login", url.Values{"csrf": {b.csrf}, "token": {secret}})
	if res.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	b.get("/ui/") // picks up the session's CSRF token from the next page
	res, _ = b.get(res.Header.Get("Location"))
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		b.get(res.Header.Get("Location"))
	}
}

func wantStatus(t *testing.T, what string, res *http.Response, body string, want int) {
	t.Helper()
	if res.StatusCode != want {
		t.Errorf("%s: status %d, want %d; body %.300s", what, res.StatusCode, want, body)
	}
}

// referenceZip zips the exercise's reference solution.
func referenceZip(t testing.TB, cat grader.Catalog) []byte {
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
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func (b *browser) upload(path string, fields map[string]string, archive []byte) (*http.Response, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if archive != nil {
		w, _ := mw.CreateFormFile("archive", "solution.zip")
		w.Write(archive)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

// finish grades the oldest queued submission by hand, with a result that
// holds a hidden check's message, a public test's and a log, so that tests
// can see who is shown what.
func (e *env) finish() *grader.Submission {
	e.t.Helper()
	ctx := context.Background()
	sub, err := e.store.ClaimNext(ctx)
	if err != nil || sub == nil {
		e.t.Fatalf("claim: %v %v", sub, err)
	}
	// The reason stands for text the candidate's run wrote (a collect error
	// quoting hidden source); the last hidden check has no published name.
	res := &grader.Result{Score: 3, MaxScore: 10, Verdict: grader.VerdictFailed, Reason: "collect error REASON-LEAK-MARKER",
		Categories: []grader.CategoryScore{{Name: "performance", Score: 3, MaxScore: 6}, {Name: "correctness", Score: 0, MaxScore: 4}},
		Tests: []grader.TestResult{
			{Name: "List runs constant queries", NodeID: "djgrade_hidden/test_perf.py::test_const", Hidden: true, Category: "performance", Outcome: "passed", Points: 3, MaxPoints: 3, Queries: 4},
			{Name: "Detail unchanged", NodeID: "djgrade_hidden/test_api.py::test_detail", Hidden: true, Category: "correctness", Outcome: "failed", MaxPoints: 4, Message: "HIDDEN-SECRET-MESSAGE", Queries: 2},
			{Name: "tests/test_public.py::test_list", NodeID: "tests/test_public.py::test_list", Category: "public", Outcome: "failed", Message: "PUBLIC-MESSAGE", Queries: 31},
			{Name: "djgrade_hidden/test_NAME-LEAK-MARKER.py::test_x", NodeID: "djgrade_hidden/test_NAME-LEAK-MARKER.py::test_x", Hidden: true, Category: "correctness", Outcome: "failed"},
		},
		Log: "LOG-WITH-HIDDEN-OUTPUT"}
	if err := e.store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
		e.t.Fatal(err)
	}
	got, err := e.store.Submission(ctx, sub.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

// TestRoles checks every page for each role: staff see the dashboard, a
// candidate sees only its own assignment and submissions, and nothing
// hidden; without a session every page sends to the sign-in form.
func TestRoles(t *testing.T) {
	e := newEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	aliceSecret, alice := e.assign("Alice Candidate", grader.ModeAssessment)
	bobSecret, bob := e.assign("Bob Candidate", grader.ModePractice)
	zipData := referenceZip(t, e.cat)

	ab := e.browser()
	ab.login(aliceSecret)
	res, body := ab.get("/ui/a/" + alice.ID)
	wantStatus(t, "alice's assignment", res, body, 200)
	if !strings.Contains(body, "Fix the N+1") || !strings.Contains(body, `enctype="multipart/form-data"`) {
		t.Errorf("assignment page lacks the prompt or the form: %.500s", body)
	}
	res, body = ab.upload("/ui/a/"+alice.ID+"/submit", map[string]string{"csrf": ab.csrf, "nonce": "n1"}, zipData)
	wantStatus(t, "alice's upload", res, body, http.StatusSeeOther)
	aliceResult := res.Header.Get("Location")
	aliceSub := e.finish()
	if !strings.HasSuffix(aliceResult, "/s/"+aliceSub.ID) {
		t.Fatalf("upload went to %q, graded %s", aliceResult, aliceSub.ID)
	}

	bb := e.browser()
	bb.login(bobSecret)
	bb.get("/ui/a/" + bob.ID)
	res, body = bb.upload("/ui/a/"+bob.ID+"/submit", map[string]string{"csrf": bb.csrf, "nonce": "n2"}, zipData)
	wantStatus(t, "bob's upload", res, body, http.StatusSeeOther)
	bobResult := res.Header.Get("Location")
	bobSub := e.finish()

	// Assessment: category scores and the failed check's name only.
	res, body = ab.get(aliceResult)
	wantStatus(t, "alice's result", res, body, 200)
	for _, want := range []string{"3<small> / 10</small>", "performance", "Detail unchanged", "1 of 3 hidden checks passed", "hidden check 3"} {
		if !strings.Contains(body, want) {
			t.Errorf("alice's result lacks %q", want)
		}
	}
	for _, secret := range []string{"HIDDEN-SECRET-MESSAGE", "LOG-WITH-HIDDEN-OUTPUT", "djgrade_hidden", "PUBLIC-MESSAGE", "List runs constant queries", "LEAK-MARKER"} {
		if strings.Contains(body, secret) {
			t.Errorf("assessment result shows %q", secret)
		}
	}
	// Practice: public tests in detail, hidden checks by name, no hidden message.
	res, body = bb.get(bobResult)
	wantStatus(t, "bob's result", res, body, 200)
	for _, want := range []string{"PUBLIC-MESSAGE", "Detail unchanged", "List runs constant queries", "1 of 3 hidden checks passed", "hidden check 3"} {
		if !strings.Contains(body, want) {
			t.Errorf("bob's practice result lacks %q", want)
		}
	}
	for _, secret := range []string{"HIDDEN-SECRET-MESSAGE", "LOG-WITH-HIDDEN-OUTPUT", "djgrade_hidden", "LEAK-MARKER"} {
		if strings.Contains(body, secret) {
			t.Errorf("practice result shows %q", secret)
		}
	}

	// Nothing of anyone else's: bob's assignment, result and stream are 404
	// to alice, as are made-up ids.
	for _, p := range []string{"/ui/a/" + bob.ID, bobResult, bobResult + "/events", "/ui/a/" + bob.ID + "/starter.zip", "/ui/a/" + alice.ID + "/s/" + bobSub.ID, "/ui/a/asg_nope"} {
		res, body = ab.get(p)
		wantStatus(t, "alice GET "+p, res, body, 404)
	}
	res, body = ab.upload("/ui/a/"+bob.ID+"/submit", map[string]string{"csrf": ab.csrf}, zipData)
	wantStatus(t, "alice uploads to bob's assignment", res, body, 404)
	// No staff page for a candidate.
	staffPages := []string{"/ui/submissions", "/ui/submissions/" + aliceSub.ID, "/ui/exercises", "/ui/exercises/n-plus-one",
		"/ui/assignments", "/ui/compare?exercise=n-plus-one", "/ui/compare.csv?exercise=n-plus-one", "/ui/events?id=" + aliceSub.ID}
	for _, p := range staffPages {
		res, body = ab.get(p)
		wantStatus(t, "candidate GET "+p, res, body, 404)
		if strings.Contains(body, "Bob Candidate") || strings.Contains(body, "HIDDEN-SECRET") {
			t.Errorf("candidate GET %s leaks: %.300s", p, body)
		}
	}
	res, body = ab.post("/ui/submissions/"+aliceSub.ID+"/regrade", url.Values{"csrf": {ab.csrf}})
	wantStatus(t, "candidate regrade", res, body, 404)
	// The candidate's own list holds only its assignment.
	res, body = ab.get("/ui/a/")
	if res.StatusCode != 200 || !strings.Contains(body, alice.ID) || strings.Contains(body, bob.ID) {
		t.Errorf("alice's list: %d %.500s", res.StatusCode, body)
	}

	// Staff see everything, hidden messages and logs included.
	sb := e.browser()
	sb.login(staffSecret)
	for _, p := range staffPages {
		res, body = sb.get(p)
		wantStatus(t, "staff GET "+p, res, body, 200)
	}
	res, body = sb.get("/ui/submissions/" + aliceSub.ID)
	for _, want := range []string{"HIDDEN-SECRET-MESSAGE", "LOG-WITH-HIDDEN-OUTPUT", "REASON-LEAK-MARKER", "NAME-LEAK-MARKER", "data-queries>4<", "data-queries>31<", "Regrade", "class=\"diff\"", "Attempts by Alice Candidate"} {
		if !strings.Contains(body, want) {
			t.Errorf("staff submission page lacks %q", want)
		}
	}
	res, body = sb.get("/ui/submissions?candidate=alice")
	if !strings.Contains(body, aliceSub.ID) || strings.Contains(body, bobSub.ID) {
		t.Errorf("candidate filter: %.800s", body)
	}
	res, body = sb.get("/ui/submissions?verdict=passed")
	if strings.Contains(body, aliceSub.ID) {
		t.Errorf("verdict filter kept a failed submission")
	}
	res, body = sb.get("/ui/compare.csv?exercise=n-plus-one")
	if res.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(body, "Alice Candidate,"+aliceSub.ID) || !strings.HasPrefix(body, "candidate,submission") {
		t.Errorf("csv: %s %s", res.Header.Get("Content-Type"), body)
	}
	res, body = sb.get("/ui/exercises/n-plus-one")
	if !strings.Contains(body, "<svg class=\"chart\"") || !strings.Contains(body, "<h3>The situation</h3>") {
		t.Errorf("exercise page lacks the chart or the rendered prompt")
	}
	// Staff preview a candidate's page but cannot submit there.
	res, body = sb.get("/ui/a/" + alice.ID)
	if res.StatusCode != 200 || strings.Contains(body, `enctype="multipart/form-data"`) {
		t.Errorf("staff preview: %d", res.StatusCode)
	}

	// Without a session: every page sends to the sign-in form.
	anon := e.browser()
	for _, p := range append(staffPages, "/ui/a/"+alice.ID, aliceResult) {
		res, _ = anon.get(p)
		if strings.Contains(p, "/events") {
			// An event stream cannot redirect; it is refused.
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("anonymous GET %s: %d", p, res.StatusCode)
			}
			continue
		}
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/ui/login?next=") {
			t.Errorf("anonymous GET %s: %d %s", p, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// The API's routes are untouched by the mount.
	res, body = anon.get("/api/v1/ping")
	if res.StatusCode != 200 || body != "pong" {
		t.Errorf("API route through the mount: %d %s", res.StatusCode, body)
	}
}

// TestCSRF checks that every POST needs the session's token (or, for the
// sign-in form, the double-submit cookie) and that a refused POST changes
// nothing.
func TestCSRF(t *testing.T) {
	e := newEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris")
	aliceSecret, alice := e.assign("Alice", grader.ModeAssessment)
	ctx := context.Background()

	sb := e.browser()
	sb.login(staffSecret)
	good := sb.csrf
	if good == "" {
		t.Fatal("no CSRF token on the staff pages")
	}
	before, _ := e.store.Assignments(ctx, "")
	form := url.Values{"candidate": {"Mallory"}, "exercise": {"n-plus-one"}, "mode": {"practice"}}
	for _, tok := range []string{"", "wrong", good + "x"} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if tok != "" {
			f.Set("csrf", tok)
		}
		res, body := sb.post("/ui/assignments", f)
		wantStatus(t, "create assignment with csrf "+tok, res, body, http.StatusForbidden)
	}
	after, _ := e.store.Assignments(ctx, "")
	if len(after) != len(before) {
		t.Fatalf("a refused POST created an assignment")
	}
	// A cross-site POST is refused even with the right token.
	f := url.Values{"csrf": {good}}
	for k, v := range form {
		f[k] = v
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/ui/assignments", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	res, body := sb.do(req)
	wantStatus(t, "cross-origin POST", res, body, http.StatusForbidden)
	// With the token: created, and the link and token are shown once.
	res, body = sb.post("/ui/assignments", f)
	wantStatus(t, "create assignment", res, body, http.StatusCreated)
	if !strings.Contains(body, "/ui/a/asg_") || !strings.Contains(body, grader.TokenPrefix) {
		t.Errorf("created page lacks the link or token: %.600s", body)
	}
	if after, _ = e.store.Assignments(ctx, ""); len(after) != len(before)+1 {
		t.Errorf("assignments %d, want %d", len(after), len(before)+1)
	}

	// The candidate's upload and sign-out.
	ab := e.browser()
	ab.login(aliceSecret)
	ab.get("/ui/a/" + alice.ID)
	for _, tok := range []string{"", "wrong"} {
		res, body = ab.upload("/ui/a/"+alice.ID+"/submit", map[string]string{"csrf": tok}, referenceZip(t, e.cat))
		wantStatus(t, "upload with csrf "+tok, res, body, http.StatusForbidden)
	}
	if subs, _ := e.store.ListSubmissions(ctx, grader.SubmissionFilter{}); len(subs) != 0 {
		t.Fatalf("a refused upload stored %d submissions", len(subs))
	}
	res, body = ab.post("/ui/logout", url.Values{"csrf": {"wrong"}})
	wantStatus(t, "logout with a wrong csrf", res, body, http.StatusForbidden)
	res, body = ab.get("/ui/a/" + alice.ID)
	wantStatus(t, "still signed in", res, body, 200)

	// Regrade and cancel need the token too and change nothing without.
	res, body = ab.upload("/ui/a/"+alice.ID+"/submit", map[string]string{"csrf": ab.csrf, "nonce": "k"}, referenceZip(t, e.cat))
	wantStatus(t, "upload", res, body, http.StatusSeeOther)
	subs, _ := e.store.ListSubmissions(ctx, grader.SubmissionFilter{})
	if len(subs) != 1 {
		t.Fatalf("%d submissions", len(subs))
	}
	res, body = sb.post("/ui/submissions/"+subs[0].ID+"/cancel", url.Values{"csrf": {"nope"}})
	wantStatus(t, "cancel without the token", res, body, http.StatusForbidden)
	if s, _ := e.store.Submission(ctx, subs[0].ID); s.Status != grader.StatusQueued {
		t.Errorf("refused cancel changed the status to %s", s.Status)
	}
	res, body = sb.post("/ui/submissions/"+subs[0].ID+"/cancel", url.Values{"csrf": {good}})
	wantStatus(t, "cancel", res, body, http.StatusSeeOther)
	if s, _ := e.store.Submission(ctx, subs[0].ID); s.Status != grader.StatusCancelled {
		t.Errorf("cancel left %s", s.Status)
	}
	res, body = sb.post("/ui/submissions/"+subs[0].ID+"/regrade", url.Values{})
	wantStatus(t, "regrade without the token", res, body, http.StatusForbidden)
	if s, _ := e.store.Submission(ctx, subs[0].ID); s.Status != grader.StatusCancelled {
		t.Errorf("refused regrade changed the status to %s", s.Status)
	}

	// Sign-in itself: without the login cookie's value, refused.
	anon := e.browser()
	res, body = anon.post("/ui/login", url.Values{"token": {aliceSecret}, "csrf": {"forged"}})
	wantStatus(t, "login without the form's csrf", res, body, http.StatusForbidden)
	if len(anon.c.Jar.Cookies(mustURL(e.srv.URL+"/ui/"))) != 0 {
		t.Errorf("a refused sign-in set a cookie")
	}

	// Sign-out with the token ends the session.
	res, body = ab.post("/ui/logout", url.Values{"csrf": {ab.csrf}})
	wantStatus(t, "logout", res, body, http.StatusSeeOther)
	res, _ = ab.get("/ui/a/" + alice.ID)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", res.StatusCode)
	}
}

func mustURL(s string) *url.URL {
	u, _ := url.Parse(s)
	return u
}

// TestSessionCookie checks the cookie's flags, that it never holds the
// token, the pages' headers, bad tokens, revocation and expiry.
func TestSessionCookie(t *testing.T) {
	e := newEnv(t)
	secret, id := e.token(grader.RoleInterviewer, "Iris")
	b := e.browser()
	res, body := b.get("/ui/login")
	wantStatus(t, "login form", res, body, 200)
	hd := res.Header
	if csp := hd.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cache-Control": "no-store"} {
		if hd.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, hd.Get(k), v)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
		t.Errorf("inline script or style on the login page")
	}
	res, body = b.post("/ui/login", url.Values{"csrf": {b.csrf}, "token": {"djg_not-a-token"}})
	wantStatus(t, "bad token", res, body, http.StatusUnauthorized)
	if !strings.Contains(body, "not valid") {
		t.Errorf("bad token page: %.300s", body)
	}
	res, _ = b.post("/ui/login", url.Values{"csrf": {b.csrf}, "token": {secret}, "next": {"https://evil.example/"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ui/" {
		t.Errorf("open redirect: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var sc *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == cookieSession {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Value == "" || strings.Contains(sc.Value, secret) || strings.Contains(secret, sc.Value) {
		t.Fatalf("session cookie %+v", sc)
	}
	res, _ = b.get("/ui/submissions")
	wantStatus(t, "signed in", res, "", 200)
	// Revoking the token ends its sessions at the next request.
	if _, err := e.store.RevokeToken(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	res, _ = b.get("/ui/submissions")
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("revoked token's session still works: %d", res.StatusCode)
	}
	// Static assets are served, directory listings are not.
	res, body = b.get("/ui/static/app.css")
	wantStatus(t, "css", res, body, 200)
	res, body = b.get("/ui/static/")
	wantStatus(t, "static listing", res, body, 404)
}

func TestSessionExpiry(t *testing.T) {
	now := time.Now()
	ss := newSessions(time.Hour, 2*time.Hour, func() time.Time { return now })
	s := ss.create(&grader.Token{ID: "tok_1", Role: grader.RoleInterviewer})
	now = now.Add(59 * time.Minute)
	if ss.get(s.id) == nil {
		t.Fatal("session gone before its idle time")
	}
	now = now.Add(59 * time.Minute)
	if ss.get(s.id) == nil {
		t.Fatal("a used session expired")
	}
	now = now.Add(3 * time.Minute) // 2h01 after sign-in
	if ss.get(s.id) != nil {
		t.Fatal("session outlived its maximum")
	}
}

// TestSessionLimits: a token keeps its 5 newest sessions; expired sessions
// are swept at most once a minute, at a sign-in.
func TestSessionLimits(t *testing.T) {
	now := time.Now()
	ss := newSessions(time.Hour, 2*time.Hour, func() time.Time { return now })
	var ids []string
	for range maxSessionsPerToken + 2 {
		ids = append(ids, ss.create(&grader.Token{ID: "tok_a", Role: grader.RoleCandidate}).id)
	}
	other := ss.create(&grader.Token{ID: "tok_b", Role: grader.RoleCandidate})
	if n := ss.count(); n != maxSessionsPerToken+1 {
		t.Fatalf("%d sessions held, want %d", n, maxSessionsPerToken+1)
	}
	for i, id := range ids {
		if alive := ss.get(id) != nil; alive != (i >= 2) {
			t.Errorf("session %d alive = %v", i, alive)
		}
	}
	if ss.get(other.id) == nil {
		t.Error("another token's session was evicted")
	}
	ss.delete(ids[2])
	if got := len(ss.byToken["tok_a"]); got != maxSessionsPerToken-1 {
		t.Errorf("token index holds %d after a sign-out, want %d", got, maxSessionsPerToken-1)
	}
	// All expire; a sign-in within a minute of the last sweep does not
	// scan, the first one after does.
	now = now.Add(2 * time.Hour)
	ss.lastPrune = now.Add(-30 * time.Second)
	ss.create(&grader.Token{ID: "tok_c"})
	if n := ss.count(); n != maxSessionsPerToken+1 {
		t.Errorf("swept within a minute of the last sweep: %d sessions", n)
	}
	now = now.Add(pruneEvery)
	ss.create(&grader.Token{ID: "tok_d"})
	if n := ss.count(); n != 2 || len(ss.byToken) != 2 {
		t.Errorf("after the sweep: %d sessions, %d tokens, want 2 and 2", n, len(ss.byToken))
	}
}

// TestSignInRateLimit: sign-ins from one address are limited whether they
// succeed or not, and one token's sessions stay capped however often it
// signs in.
func TestSignInRateLimit(t *testing.T) {
	e := newEnv(t)
	secret, _ := e.token(grader.RoleInterviewer, "Iris")
	signIn := func(b *browser) int {
		b.get("/ui/login")
		res, _ := b.post("/ui/login", url.Values{"csrf": {b.csrf}, "token": {secret}})
		return res.StatusCode
	}
	for i := range maxSignIns {
		if st := signIn(e.browser()); st != http.StatusSeeOther {
			t.Fatalf("sign-in %d: %d", i+1, st)
		}
	}
	if n := e.h.sessions.count(); n != maxSessionsPerToken {
		t.Errorf("%d sessions after %d sign-ins of one token, want %d", n, maxSignIns, maxSessionsPerToken)
	}
	b := e.browser()
	b.get("/ui/login")
	res, body := b.post("/ui/login", url.Values{"csrf": {b.csrf}, "token": {secret}})
	wantStatus(t, "sign-in over the limit", res, body, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" || res.Header.Get("Set-Cookie") != "" && strings.Contains(res.Header.Get("Set-Cookie"), cookieSession+"=") {
		t.Errorf("refused sign-in: Retry-After %q, Set-Cookie %q", res.Header.Get("Retry-After"), res.Header.Get("Set-Cookie"))
	}
}

func TestMarkdown(t *testing.T) {
	got := string(renderMarkdown("# Title\n\nSome *em* and **strong** and `a<b>` and [x](javascript:alert(1)) and [ok](https://example.com).\n<script>alert(1)</script>\n\n- one\n- two_three_four\n\n1. first\n2. second\n\n```python\nif a < b:\n    print('<i>')\n```\n\n| check | points |\n|---|--:|\n| `a` <x> | 2 |\n"))
	for _, want := range []string{"<h2>Title</h2>", "<em>em</em>", "<strong>strong</strong>", "<code>a&lt;b&gt;</code>",
		`<a href="https://example.com" rel="noopener noreferrer">ok</a>`, "&lt;script&gt;", "<ul>\n<li>one</li>\n<li>two_three_four</li>\n</ul>",
		"<ol>\n<li>first</li>", `<pre><code class="language-python">if a &lt; b:`, `<th scope="col">check</th>`, "<td>2</td>", "&lt;x&gt;"} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "javascript:") || strings.Contains(got, "<script>") {
		t.Errorf("markdown let script through:\n%s", got)
	}
}

func TestLineDiff(t *testing.T) {
	a := splitLines([]byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\n"))
	b := splitLines([]byte("a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\nl\n"))
	lines := lineDiff(a, b)
	var got []string
	for _, l := range lines {
		if l.Kind != lineSame {
			got = append(got, string(l.Kind)+l.Text)
		}
	}
	if strings.Join(got, ",") != "-c,+C,+l" {
		t.Errorf("edits %v", got)
	}
	hs := hunks(lines)
	if len(hs) != 2 || hs[0].Header != "@@ -1,6 +1,6 @@" || hs[1].Header != "@@ -9,3 +9,4 @@" {
		for _, h := range hs {
			t.Logf("%s %v", h.Header, h.Lines)
		}
		t.Errorf("%d hunks", len(hs))
	}
	d := diffFiles([]grader.File{{Path: "x.py", Data: []byte("1\n")}}, []grader.File{{Path: "x.py", Data: []byte("1\n")}, {Path: "new.py", Data: []byte("n\n")}, {Path: "bin", Data: []byte{0, 1}}}, nil)
	if len(d) != 3 || d[0].Status != "binary" || d[1].Status != "added" || d[1].Added != 1 || d[2].Status != "unchanged" {
		t.Errorf("diffFiles %+v", d)
	}
}

func TestHistogram(t *testing.T) {
	bins := scoreBins([]int{0, 10, 10, 5, 99}, 10)
	total := 0
	for _, b := range bins {
		total += b.Count
	}
	if total != 5 || bins[len(bins)-1].Hi != 10 || bins[0].Lo != 0 {
		t.Errorf("bins %+v", bins)
	}
	svg := string(histogram(`<b>"x"</b>`, []int{1, 2}, 10))
	if strings.Contains(svg, "<b>") || !strings.Contains(svg, "<svg") {
		t.Errorf("svg label not escaped: %s", svg)
	}
}

// TestUploadLimitsShared: a candidate's upload through the pages takes the
// same per-token rate and upload slots as the API's (one api.Limits): with
// the token's slots held by API uploads, the page refuses with 503; over
// the token's rate, with 429; both with Retry-After.
func TestUploadLimitsShared(t *testing.T) {
	limits := api.NewLimits(0.001, 3, 8, 2)
	e := newEnv(t, func(c *Config) { c.Limits = limits })
	secret, a := e.assign("Carol Candidate", grader.ModePractice)
	zipData := referenceZip(t, e.cat)
	b := e.browser()
	b.login(secret)
	b.get("/ui/a/" + a.ID)

	// Two uploads of the same token in progress through the API.
	var releases []func()
	for range 2 {
		release, err := limits.Upload(a.Token)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	res, body := b.upload("/ui/a/"+a.ID+"/submit", map[string]string{"csrf": b.csrf, "nonce": "u1"}, zipData)
	wantStatus(t, "upload with the token's slots taken", res, body, http.StatusServiceUnavailable)
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	// Another token's slots are its own.
	if release, err := limits.Upload("some-other-token"); err != nil {
		t.Errorf("another token is blocked: %v", err)
	} else {
		release()
	}
	for _, r := range releases {
		r()
	}
	res, body = b.upload("/ui/a/"+a.ID+"/submit", map[string]string{"csrf": b.csrf, "nonce": "u2"}, zipData)
	wantStatus(t, "upload with slots free", res, body, http.StatusSeeOther)
	// The burst of 3 is spent (two uploads, and the API request below):
	// the next upload is over the token's rate.
	if err := limits.Allow(a.Token); err == nil {
		res, body = b.upload("/ui/a/"+a.ID+"/submit", map[string]string{"csrf": b.csrf, "nonce": "u3"}, zipData)
		wantStatus(t, "upload over the rate", res, body, http.StatusTooManyRequests)
		if res.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	} else {
		t.Fatalf("the token's burst ran out early: %v", err)
	}
}

// TestUploadOneReader checks that the candidate's form is read by the one
// upload reader (api/upload), as the API's is: a form with the archive
// twice is refused (the page's own reader kept the last), and a body that
// outgrows the cap while it is read (no Content-Length to refuse it
// earlier) is the reader's coded ETOOLARGE, worded with the page's limit.
func TestUploadOneReader(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxUploadBytes = 64 << 10 })
	secret, a := e.assign("Dana Candidate", grader.ModePractice)
	zipData := referenceZip(t, e.cat)
	b := e.browser()
	b.login(secret)
	b.get("/ui/a/" + a.ID)
	path := "/ui/a/" + a.ID + "/submit"

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	for range 2 {
		w, _ := mw.CreateFormFile("archive", "solution.zip")
		w.Write(zipData)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.srv.URL)
	res, body := b.do(req)
	wantStatus(t, "archive twice", res, body, http.StatusBadRequest)
	if !strings.Contains(body, "appears twice") {
		t.Errorf("archive twice: body %.300s", body)
	}

	buf.Reset()
	mw = multipart.NewWriter(&buf)
	mw.WriteField("csrf", b.csrf)
	w, _ := mw.CreateFormFile("archive", "solution.zip")
	w.Write(bytes.Repeat([]byte("x"), 100<<10))
	mw.Close()
	// A reader of unknown length: the request is sent chunked.
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+path, io.MultiReader(&buf))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", e.srv.URL)
	res, body = b.do(req)
	wantStatus(t, "over the cap", res, body, http.StatusRequestEntityTooLarge)
	if !strings.Contains(body, "over the limit of 64 KiB") {
		t.Errorf("over the cap: body %.300s", body)
	}
	if n, _ := e.store.ListSubmissions(context.Background(), grader.SubmissionFilter{}); len(n) != 0 {
		t.Errorf("%d submissions stored", len(n))
	}
}
