package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// liveSandbox answers every public run with a report of one passing and
// one failing test, with their query counts, and counts the runs.
type liveSandbox struct {
	mu   sync.Mutex
	runs int
}

func (p *liveSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	p.mu.Lock()
	p.runs++
	p.mu.Unlock()
	return grader.Outcome{Verdict: grader.RunOK, Public: []byte(`{"exitstatus": 1, "tests": [
		{"nodeid": "tests/test_books_api.py::test_list", "outcome": "passed", "duration": 0.1, "message": "", "queries": 3},
		{"nodeid": "tests/test_books_api.py::test_queries", "outcome": "failed", "duration": 0.2, "message": "31 queries, want at most 4", "queries": 31}]}`)}, nil
}

// newLiveEnv is newEnv with live sessions: the real grader.Service over
// the bbolt file as its LiveStore and Auth, and the fake sandbox above.
func newLiveEnv(t *testing.T) (*env, *liveSandbox) {
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
	sb := &liveSandbox{}
	svc := grader.NewService(grader.Config{Store: store, LiveStore: store, Auth: store, Sandbox: sb, Catalog: cat,
		Image: "djgrade-test", Logger: slog.New(slog.DiscardHandler)})
	h, err := New(Config{Grader: svc, Catalog: cat, Auth: store, Live: svc})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	h.Mount(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store, svc: svc, cat: cat, h: h}, sb
}

// sendJSON posts a JSON body as the editor's script does: the session's
// CSRF token in its header and the page's Origin.
func (b *browser) sendJSON(path, csrf string, v any) (*http.Response, string) {
	data, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", b.e.srv.URL)
	if csrf != "" {
		req.Header.Set(headerCSRF, csrf)
	}
	return b.do(req)
}

type fileIn struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

func filesBody(files ...fileIn) map[string][]fileIn { return map[string][]fileIn{"files": files} }

var (
	liveLinkRE  = regexp.MustCompile(`id="c-link" readonly value="([^"]+)"`)
	liveTokenRE = regexp.MustCompile(`id="c-token" readonly value="([^"]+)"`)
)

// startLive starts a session through the interviewer's form and returns
// its id and the candidate's token.
func startLive(t *testing.T, staff *browser, candidate, mode string) (id, secret string) {
	t.Helper()
	staff.get("/ui/live")
	res, body := staff.post("/ui/live", url.Values{"csrf": {staff.csrf}, "candidate": {candidate}, "exercise": {"n-plus-one"}, "mode": {mode}, "limit": {"30"}})
	wantStatus(t, "start a live session", res, body, http.StatusCreated)
	link, tok := liveLinkRE.FindStringSubmatch(body), liveTokenRE.FindStringSubmatch(body)
	if link == nil || tok == nil || !strings.HasPrefix(tok[1], grader.TokenPrefix) {
		t.Fatalf("the started page lacks the link or the token: %.800s", body)
	}
	id = link[1][strings.LastIndex(link[1], "/")+1:]
	if !strings.HasPrefix(link[1], staff.e.srv.URL+"/ui/l/") || id == "" {
		t.Fatalf("link %q", link[1])
	}
	return id, tok[1]
}

type filesOut struct {
	State     string `json:"state"`
	Snapshots int    `json:"snapshots"`
	Files     []struct {
		Path     string `json:"path"`
		Content  string `json:"content"`
		Editable bool   `json:"editable"`
	} `json:"files"`
}

func getFiles(t *testing.T, b *browser, id string) filesOut {
	t.Helper()
	res, body := b.get("/ui/l/" + id + "/files")
	wantStatus(t, "files", res, body, http.StatusOK)
	var out filesOut
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("files: %v: %s", err, body)
	}
	return out
}

func fileData(f filesOut, path string) (string, bool) {
	for _, x := range f.Files {
		if x.Path == path {
			return x.Content, x.Editable
		}
	}
	return "", false
}

// errCode returns the code of a JSON error body.
func errCode(body string) string {
	var e liveErrorJSON
	_ = json.Unmarshal([]byte(body), &e)
	return e.Error.Code
}

// A reload in the middle of editing loses nothing: what the editor saved
// through the endpoint is what the files endpoint and the page give back,
// merged over the other editable files; saving needs the session's CSRF
// token and the page's origin; the body cap fits a snapshot at the limit,
// and over it the refusal is clear and JSON.
func TestLiveReloadLosesNothing(t *testing.T) {
	e, _ := newLiveEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	staff := e.browser()
	staff.login(staffSecret)
	id, secret := startLive(t, staff, "Ada Lovelace", grader.ModePractice)

	cand := e.browser()
	cand.login(secret)
	res, body := cand.get("/ui/l/" + id)
	wantStatus(t, "the editor page", res, body, http.StatusOK)
	for _, want := range []string{"Fix the N+1", `data-path="library/serializers.py"`, `data-editable="true"`, `data-path="manage.py"`, "read-only", "data-run", "data-submit", "Time left", "/ui/static/editor.js"} {
		if !strings.Contains(body, want) {
			t.Errorf("the editor page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
		t.Errorf("inline script or style on the editor page")
	}
	csrf := cand.csrf
	f := getFiles(t, cand, id)
	starterSer, editable := fileData(f, "library/serializers.py")
	if !editable || !strings.Contains(starterSer, "def get_review_count") {
		t.Fatalf("serializers.py from the starter: editable %v, %q", editable, starterSer)
	}
	if _, ed := fileData(f, "manage.py"); ed {
		t.Errorf("manage.py is editable")
	}

	// Typing, debounced into saves: the second replaces the first.
	edit1 := starterSer + "# first thought\n"
	edit2 := starterSer + "# second thought, halfway thro"
	for _, text := range []string{edit1, edit2} {
		res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"library/serializers.py", text}))
		wantStatus(t, "save", res, body, http.StatusOK)
	}
	res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"library/views.py", "# views, edited\n"}))
	wantStatus(t, "save the other file", res, body, http.StatusOK)

	// The reload: a new page and the files again.
	res, body = cand.get("/ui/l/" + id)
	wantStatus(t, "reload", res, body, http.StatusOK)
	f = getFiles(t, cand, id)
	if got, _ := fileData(f, "library/serializers.py"); got != edit2 {
		t.Errorf("after the reload serializers.py is %q, want the last save %q", got, edit2)
	}
	if got, _ := fileData(f, "library/views.py"); got != "# views, edited\n" {
		t.Errorf("after the reload views.py is %q", got)
	}
	if f.Snapshots != 3 || f.State != grader.LiveActive {
		t.Errorf("snapshots %d state %s, want 3 active", f.Snapshots, f.State)
	}

	// Refused saves store nothing.
	before := f.Snapshots
	res, body = cand.sendJSON("/ui/l/"+id+"/save", "", filesBody(fileIn{"library/serializers.py", "x"}))
	wantStatus(t, "save without the CSRF header", res, body, http.StatusForbidden)
	res, body = cand.sendJSON("/ui/l/"+id+"/save", "wrong", filesBody(fileIn{"library/serializers.py", "x"}))
	wantStatus(t, "save with a wrong CSRF header", res, body, http.StatusForbidden)
	data, _ := json.Marshal(filesBody(fileIn{"library/serializers.py", "x"}))
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/ui/l/"+id+"/save", bytes.NewReader(data))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set(headerCSRF, csrf)
	res, body = cand.do(req)
	wantStatus(t, "cross-site save", res, body, http.StatusForbidden)
	res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"manage.py", "import os\n"}))
	wantStatus(t, "save of a read-only file", res, body, http.StatusBadRequest)
	if errCode(body) != grader.EINVALID {
		t.Errorf("read-only save: %s", body)
	}
	res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"../library/serializers.py", "x"}))
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("save outside the project: %d %s", res.StatusCode, body)
	}
	// At the snapshot cap, as JSON: every byte a control character (six
	// bytes escaped) still fits the body cap, and the service words the
	// refusal of one byte more.
	atCap := strings.Repeat("\x01", grader.LiveMaxSnapshotBytes-len("# views, edited\n"))
	res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"library/serializers.py", atCap}))
	wantStatus(t, "a save at the snapshot cap", res, body, http.StatusOK)
	res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"library/serializers.py", atCap + "\x01"}))
	wantStatus(t, "a save one byte over", res, body, http.StatusRequestEntityTooLarge)
	if errCode(body) != grader.ETOOLARGE {
		t.Errorf("over the snapshot cap: %s", body)
	}
	res, body = cand.sendJSON("/ui/l/"+id+"/save", csrf, filesBody(fileIn{"library/serializers.py", strings.Repeat("\x01", liveBodyMax/6+1)}))
	wantStatus(t, "a body over the cap", res, body, http.StatusRequestEntityTooLarge)
	if errCode(body) != grader.ETOOLARGE || !strings.Contains(body, "512 KiB") {
		t.Errorf("over the body cap: %s", body)
	}
	// The same refusal for a chunked body, read until it outgrows the cap.
	big, _ := json.Marshal(filesBody(fileIn{"library/serializers.py", strings.Repeat("y", liveBodyMax)}))
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/ui/l/"+id+"/save", io.MultiReader(bytes.NewReader(big)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set(headerCSRF, csrf)
	res, body = cand.do(req)
	wantStatus(t, "a chunked body over the cap", res, body, http.StatusRequestEntityTooLarge)
	if errCode(body) != grader.ETOOLARGE {
		t.Errorf("chunked over the cap: %s", body)
	}
	f = getFiles(t, cand, id)
	if f.Snapshots != before+1 {
		t.Errorf("snapshots %d after the refused saves, want %d (the one at the cap)", f.Snapshots, before+1)
	}
}

// readEvents reads the SSE stream of path into lines until stop() or the
// context ends.
func readEvents(ctx context.Context, t *testing.T, b *browser, path string) (<-chan string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.e.srv.URL+path, nil)
	res, err := b.c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines, cancel
}

// waitEvent reads lines until an "event: name" line and its data, and
// returns every line read.
func waitEvent(t *testing.T, lines <-chan string, name string) []string {
	t.Helper()
	var seen []string
	guard := time.After(30 * time.Second) // a guard against a hang, not a measure
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before %q; read %q", name, seen)
			}
			seen = append(seen, l)
			if len(seen) >= 2 && seen[len(seen)-2] == "event: "+name {
				return seen
			}
		case <-guard:
			t.Fatalf("no %q event; read %q", name, seen)
		}
	}
}

// TestLiveRoles: a session's pages and endpoints answer its candidate and
// staff only, each their own: another candidate (and staff on the
// candidate's editor) get the same 404 as a page that does not exist and
// change nothing; a candidate gets 404 on every interviewer page; notes
// never reach the candidate, on a page or on its stream.
func TestLiveRoles(t *testing.T) {
	e, sb := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	staff := e.browser()
	staff.login(staffSecret)
	id, secret := startLive(t, staff, "Ada Lovelace", grader.ModePractice)
	otherID, otherSecret := startLive(t, staff, "Bob Other", grader.ModePractice)

	ada := e.browser()
	ada.login(secret)
	res, body := ada.get("/ui/l/" + id)
	wantStatus(t, "ada's editor", res, body, http.StatusOK)
	adaCSRF := ada.csrf
	res, body = ada.sendJSON("/ui/l/"+id+"/save", adaCSRF, filesBody(fileIn{"library/serializers.py", "# ADA-WORK\n"}))
	wantStatus(t, "ada saves", res, body, http.StatusOK)

	// Bob: signed in with his own session's token, on Ada's session.
	bob := e.browser()
	bob.login(otherSecret)
	res, body = bob.get("/ui/l/" + otherID)
	wantStatus(t, "bob's own editor", res, body, http.StatusOK)
	bobCSRF := bob.csrf
	for _, p := range []string{"/ui/l/" + id, "/ui/l/" + id + "/files", "/ui/l/" + id + "/events", "/ui/l/live_nope", "/ui/l/live_nope/files"} {
		res, body = bob.get(p)
		wantStatus(t, "bob GET "+p, res, body, http.StatusNotFound)
		if strings.Contains(body, "ADA-WORK") || strings.Contains(body, "Ada Lovelace") {
			t.Errorf("bob GET %s leaks ada's session: %.300s", p, body)
		}
	}
	for _, p := range []string{"save", "run", "submit"} {
		res, body = bob.sendJSON("/ui/l/"+id+"/"+p, bobCSRF, filesBody(fileIn{"library/serializers.py", "# BOB WAS HERE\n"}))
		wantStatus(t, "bob POST "+p, res, body, http.StatusNotFound)
		if errCode(body) != grader.ENOTFOUND {
			t.Errorf("bob POST %s: %s", p, body)
		}
	}
	l, err := e.svc.Live(ctx, id)
	if err != nil || l.Snapshots != 1 || l.Runs != 0 || l.State(time.Now()) != grader.LiveActive || l.Submission != "" {
		t.Errorf("after bob's tries ada's session is %+v (%v)", l, err)
	}
	if sb.runs != 0 {
		t.Errorf("bob's run reached the sandbox")
	}
	// Ada's list links the session's editor, and its assignment's upload
	// page sends her there.
	res, body = ada.get("/ui/a/")
	if !strings.Contains(body, `href="/ui/l/`+id+`"`) {
		t.Errorf("ada's list lacks the session's link: %.600s", body)
	}
	if res, _ = ada.get("/ui/a/" + l.Assignment); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ui/l/"+id {
		t.Errorf("the session's assignment page: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// Staff do not open the candidate's editor either.
	for _, p := range []string{"/ui/l/" + id, "/ui/l/" + id + "/files"} {
		res, body = staff.get(p)
		wantStatus(t, "staff GET "+p, res, body, http.StatusNotFound)
	}
	// No interviewer page for a candidate.
	staffPages := []string{"/ui/live", "/ui/live/" + id, "/ui/live/" + id + "/events", "/ui/live/" + id + "/diff",
		"/ui/live/" + id + "/playback", "/ui/live/" + id + "/snapshots/1", "/ui/live/" + id + "/preview", "/ui/live/" + id + "/preview/files"}
	for _, p := range staffPages {
		res, body = ada.get(p)
		wantStatus(t, "ada GET "+p, res, body, http.StatusNotFound)
	}
	res, body = ada.post("/ui/live/"+id+"/notes", url.Values{"csrf": {adaCSRF}, "text": {"I am the interviewer"}})
	wantStatus(t, "ada posts a note", res, body, http.StatusNotFound)
	res, body = ada.post("/ui/live/"+id+"/end", url.Values{"csrf": {adaCSRF}})
	wantStatus(t, "ada ends her session", res, body, http.StatusNotFound)
	if notes, _ := e.svc.LiveNotes(ctx, id); len(notes) != 0 {
		t.Errorf("a candidate's note was stored: %+v", notes)
	}

	// Notes: the interviewer's page shows them, the candidate's stream
	// carries the save after a note and not the note.
	events, stop := readEvents(ctx, t, ada, "/ui/l/"+id+"/events")
	defer stop()
	const note = "PRIVATE-NOTE: asks good questions"
	res, body = staff.post("/ui/live/"+id+"/notes", url.Values{"csrf": {staff.csrf}, "text": {note}})
	wantStatus(t, "staff adds a note", res, body, http.StatusSeeOther)
	res, body = ada.sendJSON("/ui/l/"+id+"/save", adaCSRF, filesBody(fileIn{"library/serializers.py", "# ADA-WORK 2\n"}))
	wantStatus(t, "ada saves again", res, body, http.StatusOK)
	seen := strings.Join(waitEvent(t, events, "save"), "\n")
	if strings.Contains(seen, "event: note") || strings.Contains(seen, "PRIVATE-NOTE") {
		t.Errorf("the candidate's stream carried the note:\n%s", seen)
	}
	if !strings.Contains(seen, `"snapshot":{"seq":2`) || !strings.Contains(seen, `{"path":"library/serializers.py","content":"# ADA-WORK 2\n"}`) {
		t.Errorf("the save event: %s", seen)
	}
	res, body = staff.get("/ui/live/" + id)
	wantStatus(t, "watch page", res, body, http.StatusOK)
	for _, want := range []string{note, "ADA-WORK 2", `class="diff"`, "Saved snapshot #2", "End the session"} {
		if !strings.Contains(body, want) {
			t.Errorf("the watch page lacks %q", want)
		}
	}
	for _, p := range []string{"/ui/l/" + id, "/ui/l/" + id + "/files"} {
		if _, body = ada.get(p); strings.Contains(body, "PRIVATE-NOTE") {
			t.Errorf("the candidate's %s shows the note", p)
		}
	}
	res, body = staff.post("/ui/live/"+id+"/notes", url.Values{"csrf": {staff.csrf}, "text": {"  "}})
	wantStatus(t, "an empty note", res, body, http.StatusBadRequest)

	// A run: each test's outcome, message and query count; a second at
	// once is refused (one per LiveRunEvery).
	res, body = ada.sendJSON("/ui/l/"+id+"/run", adaCSRF, filesBody())
	wantStatus(t, "ada runs the tests", res, body, http.StatusOK)
	var run grader.LiveRun
	if err := json.Unmarshal([]byte(body), &run); err != nil || run.Result == nil || len(run.Result.Tests) != 2 ||
		run.Result.Tests[1].Queries != 31 || run.Result.Tests[1].Message != "31 queries, want at most 4" || run.Snapshot != 2 {
		t.Fatalf("run: %v %s", err, body)
	}
	res, body = ada.sendJSON("/ui/l/"+id+"/run", adaCSRF, filesBody())
	wantStatus(t, "a second run at once", res, body, http.StatusTooManyRequests)
	res, body = staff.get("/ui/live/" + id)
	if !strings.Contains(body, "31 queries, want at most 4") || !strings.Contains(body, "data-queries>31<") {
		t.Errorf("the watch page lacks the run's tests")
	}
	res, body = staff.get("/ui/live/" + id + "/playback")
	wantStatus(t, "playback", res, body, http.StatusOK)
	for _, want := range []string{`type="range" min="1" max="2"`, `data-seq="1"`, `data-seq="2"`, "Run #1", "Where the time went"} {
		if !strings.Contains(body, want) {
			t.Errorf("the playback lacks %q", want)
		}
	}
	if strings.Index(body, `data-seq="1"`) > strings.Index(body, `data-seq="2"`) {
		t.Errorf("the playback's snapshots are out of order")
	}
	res, body = staff.get("/ui/live/" + id + "/snapshots/1")
	wantStatus(t, "snapshot 1", res, body, http.StatusOK)
	if !strings.Contains(body, `{"path":"library/serializers.py","content":"# ADA-WORK\n"}`) {
		t.Errorf("snapshot 1: %s", body)
	}
	res, body = staff.get("/ui/live/" + id + "/playback?a=1&b=2")
	if !strings.Contains(body, "ADA-WORK 2") || !strings.Contains(body, `class="ins"`) {
		t.Errorf("comparing snapshots 1 and 2 shows no diff")
	}

	// The submit ends the session: the page is read-only with the result
	// as practice mode shows it, and a save is refused.
	res, body = ada.sendJSON("/ui/l/"+id+"/submit", adaCSRF, filesBody(fileIn{"library/serializers.py", "# ADA-FINAL\n"}))
	wantStatus(t, "submit", res, body, http.StatusOK)
	res, body = ada.sendJSON("/ui/l/"+id+"/submit", adaCSRF, filesBody())
	wantStatus(t, "a second submit", res, body, http.StatusConflict)
	res, body = ada.sendJSON("/ui/l/"+id+"/save", adaCSRF, filesBody(fileIn{"library/serializers.py", "# late\n"}))
	wantStatus(t, "a save after the end", res, body, http.StatusConflict)
	// While the judge grades, the ended page follows the submission's own
	// stream, which tells its state first.
	res, body = ada.get("/ui/l/" + id)
	l, _ = e.svc.Live(ctx, id)
	follow := "/ui/a/" + l.Assignment + "/s/" + l.Submission + "/events"
	if l.Submission == "" || !strings.Contains(body, `data-live-result="`+follow+`"`) {
		t.Errorf("the ended page does not follow the grading at %s: %.400s", follow, body)
	} else {
		status, stopStatus := readEvents(ctx, t, ada, follow)
		if got := strings.Join(waitEvent(t, status, "status"), "\n"); !strings.Contains(got, `"status":"queued"`) {
			t.Errorf("the submission's stream: %s", got)
		}
		stopStatus()
	}
	e.finish()
	res, body = ada.get("/ui/l/" + id)
	wantStatus(t, "the editor after the end", res, body, http.StatusOK)
	for _, want := range []string{"The candidate submitted", "read-only", "3<small> / 10</small>", "PUBLIC-MESSAGE"} {
		if !strings.Contains(body, want) {
			t.Errorf("the ended editor lacks %q", want)
		}
	}
	for _, secret := range []string{"HIDDEN-SECRET-MESSAGE", "LOG-WITH-HIDDEN-OUTPUT", "djgrade_hidden", "data-run>", "PRIVATE-NOTE"} {
		if strings.Contains(body, secret) {
			t.Errorf("the ended editor shows %q", secret)
		}
	}
	res, body = staff.get("/ui/live/" + id)
	if !strings.Contains(body, "3<small> / 10</small>") || !strings.Contains(body, "data-end hidden") {
		t.Errorf("the watch page after the grade: %.300s", body)
	}
}

// Without a LiveService every live page says so.
// Staff preview the candidate's page: the same editor over the session's
// files as they are now, read-only (no run or submit, no stream, no save),
// and the preview does not open the session: the countdown waits for the
// candidate.
func TestLivePreview(t *testing.T) {
	e, _ := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	staff := e.browser()
	staff.login(staffSecret)
	id, secret := startLive(t, staff, "Ada Lovelace", grader.ModePractice)

	res, body := staff.get("/ui/live/" + id + "/preview")
	wantStatus(t, "the preview", res, body, http.StatusOK)
	for _, want := range []string{`data-live-editor="/ui/live/` + id + `/preview"`, `data-preview="true"`, "data-preview-note", "library/serializers.py"} {
		if !strings.Contains(body, want) {
			t.Errorf("the preview lacks %q", want)
		}
	}
	for _, not := range []string{"data-run>", "data-submit>", `"/ui/l/` + id} {
		if strings.Contains(body, not) {
			t.Errorf("the preview holds %q", not)
		}
	}
	if l, _ := e.svc.Live(ctx, id); !l.StartedAt.IsZero() {
		t.Errorf("the preview opened the session: started at %v", l.StartedAt)
	}
	if res, body = staff.get("/ui/live/" + id); !strings.Contains(body, `href="/ui/live/`+id+`/preview"`) {
		t.Errorf("the watch page does not link the preview")
	}

	// The candidate's saved work shows in the preview's files.
	ada := e.browser()
	ada.login(secret)
	ada.get("/ui/l/" + id)
	res, body = ada.sendJSON("/ui/l/"+id+"/save", ada.csrf, filesBody(fileIn{"library/serializers.py", "# ADA-WORK\n"}))
	wantStatus(t, "ada saves", res, body, http.StatusOK)
	res, body = staff.get("/ui/live/" + id + "/preview/files")
	wantStatus(t, "the preview's files", res, body, http.StatusOK)
	var files struct {
		Files []struct {
			Path, Content string
			Editable      bool
		}
	}
	if err := json.Unmarshal([]byte(body), &files); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range files.Files {
		if f.Path == "library/serializers.py" {
			found = f.Content == "# ADA-WORK\n" && f.Editable
		}
	}
	if !found {
		t.Errorf("the preview's files lack the candidate's save: %.400s", body)
	}
	// Nothing to write through the preview.
	for _, p := range []string{"save", "run", "submit"} {
		res, body = staff.sendJSON("/ui/live/"+id+"/preview/"+p, staff.csrf, filesBody(fileIn{"library/serializers.py", "# STAFF\n"}))
		if res.StatusCode < 400 {
			t.Errorf("POST preview/%s answered %d", p, res.StatusCode)
		}
	}
	if l, _ := e.svc.Live(ctx, id); l.Snapshots != 1 || l.Runs != 0 {
		t.Errorf("the preview wrote to the session: %+v", l)
	}
}

func TestLiveNotConfigured(t *testing.T) {
	e := newEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris")
	candSecret, _ := e.token(grader.RoleCandidate, "Cy")
	staff, cand := e.browser(), e.browser()
	staff.login(staffSecret)
	cand.login(candSecret)
	for _, p := range []string{"/ui/live", "/ui/live/live_x"} {
		res, body := staff.get(p)
		wantStatus(t, p, res, body, http.StatusServiceUnavailable)
		if !strings.Contains(body, "this server does not run live sessions") {
			t.Errorf("%s: %.300s", p, body)
		}
	}
	res, body := cand.get("/ui/l/live_x/files")
	wantStatus(t, "files", res, body, http.StatusServiceUnavailable)
	if errCode(body) != grader.EUNAVAILABLE {
		t.Errorf("files: %s", body)
	}
}
