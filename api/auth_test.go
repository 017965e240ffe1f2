package api

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/pytest"
)

// gateSandbox is a grader.Sandbox that holds every run until release is
// closed (or is nil) and answers with an empty report: the API tests need
// the queue and its events, not Django.
type gateSandbox struct {
	release chan struct{}
	started chan string
}

func (g *gateSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	if g.started != nil {
		select {
		case g.started <- job.ID:
		default:
		}
	}
	if g.release != nil {
		select {
		case <-g.release:
		case <-ctx.Done():
			return grader.Outcome{}, ctx.Err()
		}
	}
	return grader.Outcome{Verdict: grader.RunOK, Report: failingReport(job)}, nil
}

// failingReport is a judge's report in which every hidden check of
// n-plus-one (the exercise these tests assign) failed.
func failingReport(job grader.Job) []byte {
	cat, err := exercises.Embedded()
	if err != nil {
		panic(err)
	}
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		panic(err)
	}
	rep := pytest.Report{Version: pytest.Version, Seed: job.Seed}
	for _, c := range ex.Checks {
		rep.Checks = append(rep.Checks, pytest.Check{ID: c.ID, Outcome: grader.OutcomeFailed})
	}
	b, _ := json.Marshal(rep)
	return b
}

// world is a server over the real Service, a real bbolt store and the
// embedded catalog, with one token of each role and two candidates (one in
// practice mode, one in assessment mode, both assigned n-plus-one).
type world struct {
	srv     *httptest.Server
	store   *bolt.Store
	svc     *grader.Service
	secrets map[string]string // admin, interviewer, practice, assessment, unassigned
	ids     map[string]string // token ids by the same names
	asg     map[string]string // assignment ids of practice and assessment
}

const hiddenMsg = "HIDDEN-ASSERTION-MESSAGE"

// reasonMarker stands for text the candidate's run wrote into the result's
// reason (a collect error quoting a hidden test); nameMarker for a hidden
// check without a published name, whose node id names the hidden file.
const (
	reasonMarker = "REASON-LEAK-MARKER"
	nameMarker   = "NAME-LEAK-MARKER"
)

func newWorld(t *testing.T, sb grader.Sandbox, run bool, edit func(*Config)) *world {
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
	svc := grader.NewService(grader.Config{Store: store, LiveStore: store, Auth: store, Sandbox: sb, Catalog: cat, Image: "img", Concurrency: 1, Poll: 50 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if run {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); svc.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	cfg := Config{Grader: svc, Catalog: cat, Auth: store, Live: svc, RatePerSecond: -1}
	if edit != nil {
		edit(&cfg)
	}
	w := &world{store: store, svc: svc, secrets: map[string]string{}, ids: map[string]string{}, asg: map[string]string{}}
	w.srv = httptest.NewServer(New(cfg).Handler())
	t.Cleanup(w.srv.Close)
	ctx := context.Background()
	for name, role := range map[string]grader.Role{"admin": grader.RoleAdmin, "interviewer": grader.RoleInterviewer, "unassigned": grader.RoleCandidate} {
		w.secrets[name] = addToken(t, store, role, name)
		tok, _ := store.TokenBySecret(ctx, w.secrets[name])
		w.ids[name] = tok.ID
	}
	for _, mode := range []string{grader.ModePractice, grader.ModeAssessment} {
		res, body := w.do(t, "interviewer", http.MethodPost, "/api/v1/assignments", "application/json",
			strings.NewReader(`{"exercise":"n-plus-one","candidate":"Cand `+mode+`","mode":"`+mode+`"}`), nil)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create assignment: %d %s", res.StatusCode, body)
		}
		var a struct{ ID, Token, TokenID string }
		var raw map[string]any
		json.Unmarshal(body, &raw)
		a.ID, a.Token, a.TokenID = raw["id"].(string), raw["token"].(string), raw["token_id"].(string)
		if !strings.HasPrefix(a.Token, grader.TokenPrefix) {
			t.Fatalf("assignment did not return a new token: %s", body)
		}
		w.secrets[mode], w.ids[mode], w.asg[mode] = a.Token, a.TokenID, a.ID
	}
	return w
}

// do sends a request as who ("" for no token, "bad" for an unknown one).
func (w *world) do(t *testing.T, who, method, path, ctype string, body io.Reader, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch who {
	case "":
	case "bad":
		req.Header.Set("Authorization", "Bearer djg_not-a-real-token")
	default:
		req.Header.Set("Authorization", "Bearer "+w.secrets[who])
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// submit uploads a small valid n-plus-one attempt as who.
func (w *world) submit(t *testing.T, who string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	archive := tarGzArchive(t, map[string]string{"library/serializers.py": "# attempt\n"})
	body, ctype := multipartBody(t,
		part{name: "exercise", data: []byte("n-plus-one")},
		part{name: "candidate", data: []byte("Staff Tryout")},
		part{name: "archive", filename: "a.tar.gz", data: archive})
	res, data := w.do(t, who, http.MethodPost, "/api/v1/submissions", ctype, body, hdr)
	var out map[string]any
	json.Unmarshal(data, &out)
	return res, out
}

// finish grades a queued submission by hand with a result holding a
// failed hidden check with a message, and a public test with one.
func (w *world) finish(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	sub, err := w.store.ClaimNext(ctx)
	if err != nil || sub == nil || sub.ID != id {
		t.Fatalf("claim %s: got %v, %v", id, sub, err)
	}
	res := &grader.Result{Score: 4, MaxScore: 10, Verdict: grader.VerdictFailed, Reason: "collect error " + reasonMarker + ": def test_q(): " + hiddenMsg,
		Categories: []grader.CategoryScore{{Name: "correctness", Score: 4, MaxScore: 4}, {Name: "performance", Score: 0, MaxScore: 6}},
		Tests: []grader.TestResult{
			{Name: "Book list runs a constant number of queries", NodeID: "djgrade_hidden/test_hidden_performance.py::test_q", Hidden: true,
				Category: "performance", Outcome: "failed", MaxPoints: 6, Message: hiddenMsg + ": 12 != 3"},
			{Name: "hidden/test_" + nameMarker + ".py::test_n", NodeID: "hidden/test_" + nameMarker + ".py::test_n", Hidden: true,
				Category: "performance", Outcome: "failed"},
			{Name: "tests/test_books_api.py::test_list", NodeID: "tests/test_books_api.py::test_list", Category: "correctness",
				Outcome: "failed", Message: "PUBLIC-MESSAGE"},
		},
		Log: "SANDBOX-LOG " + hiddenMsg}
	if err := w.store.Finish(ctx, id, grader.StatusDone, res, ""); err != nil {
		t.Fatal(err)
	}
}

func TestAuthMatrix(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	// One finished submission of the practice candidate, one queued of
	// the interviewer.
	res, own := w.submit(t, grader.ModePractice, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("candidate submit: %d %v", res.StatusCode, own)
	}
	ownID := own["id"].(string)
	w.finish(t, ownID)
	_, staffSub := w.submit(t, "interviewer", nil)
	staffID := staffSub["id"].(string)

	all := func(st int) want {
		return want{"": 401, "bad": 401, "admin": st, "interviewer": st, grader.ModePractice: st, "unassigned": st}
	}
	staffOnly := func(st, cand int) want {
		return want{"": 401, "bad": 401, "admin": st, "interviewer": st, grader.ModePractice: cand, "unassigned": cand}
	}
	adminOnly := func(st int) want {
		return want{"": 401, "bad": 401, "admin": st, "interviewer": 403, grader.ModePractice: 403, "unassigned": 403}
	}
	for _, tc := range []struct {
		method, path string
		want         want
	}{
		{"GET", "/api/v1/openapi.yaml", all(200)},
		{"GET", "/api/v1/exercises", all(200)},
		{"GET", "/api/v1/exercises/n-plus-one", all(200)},
		{"GET", "/api/v1/exercises/n-plus-one/starter.zip", all(200)},
		{"GET", "/api/v1/exercises/n-plus-one/starter.tar.gz", all(200)},
		{"GET", "/api/v1/submissions", all(200)},
		{"GET", "/api/v1/submissions/" + ownID, all(200).with("unassigned", 404)},
		{"GET", "/api/v1/submissions/" + staffID, staffOnly(200, 404)},
		{"GET", "/api/v1/submissions/" + ownID + "/files", all(200).with("unassigned", 404)},
		{"GET", "/api/v1/submissions/" + staffID + "/files", staffOnly(200, 404)},
		{"GET", "/api/v1/submissions/" + ownID + "/events", all(200).with("unassigned", 404)},
		{"GET", "/api/v1/submissions/" + staffID + "/events", staffOnly(0, 404)},
		{"GET", "/api/v1/submissions/" + ownID + "/logs", staffOnly(200, 403)},
		{"POST", "/api/v1/submissions/" + ownID + "/regrade", staffOnly(0, 403)},
		{"POST", "/api/v1/submissions/" + staffID + "/cancel", staffOnly(0, 404)},
		{"GET", "/api/v1/assignments", all(200)},
		{"GET", "/api/v1/assignments/" + "ASG-practice", all(200).with("unassigned", 404)},
		{"POST", "/api/v1/assignments", staffOnly(400, 403)},
		{"GET", "/api/v1/tokens", adminOnly(200)},
		{"POST", "/api/v1/tokens", adminOnly(400)},
		{"DELETE", "/api/v1/tokens/tok_nope", adminOnly(404)},
		{"GET", "/healthz", want{"": 200, "bad": 200}},
		{"GET", "/readyz", want{"": 200, "bad": 200}},
	} {
		path := strings.Replace(tc.path, "ASG-practice", w.asg[grader.ModePractice], 1)
		for who, st := range tc.want {
			if st == 0 {
				continue // staff outcome depends on order; covered elsewhere
			}
			ctype := ""
			var body io.Reader
			if tc.method == "POST" {
				ctype, body = "application/json", strings.NewReader(`{}`)
			}
			res, data := w.do(t, who, tc.method, path, ctype, body, nil)
			if res.StatusCode != st {
				t.Errorf("%s %s as %q: %d, want %d: %.200s", tc.method, tc.path, who, res.StatusCode, st, data)
			}
			if st == 401 && res.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s %s as %q: 401 without WWW-Authenticate", tc.method, tc.path, who)
			}
		}
	}

	// A candidate submits only to an exercise it was assigned.
	if res, body := w.submit(t, "unassigned", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("unassigned candidate submit: %d %v", res.StatusCode, body)
	}
	// A candidate's listing holds only its own submissions.
	_, data := w.do(t, grader.ModePractice, "GET", "/api/v1/submissions", "", nil, nil)
	var list listJSON
	json.Unmarshal(data, &list)
	if len(list.Submissions) != 1 || list.Submissions[0].ID != ownID {
		t.Errorf("candidate list: %s", data)
	}
	_, data = w.do(t, "unassigned", "GET", "/api/v1/submissions", "", nil, nil)
	if json.Unmarshal(data, &list); len(list.Submissions) != 0 {
		t.Errorf("other candidate list: %s", data)
	}
	// Revoked tokens authenticate nothing.
	if res, _ := w.do(t, "admin", "DELETE", "/api/v1/tokens/"+w.ids["unassigned"], "", nil, nil); res.StatusCode != 200 {
		t.Errorf("revoke: %d", res.StatusCode)
	}
	if res, _ := w.do(t, "unassigned", "GET", "/api/v1/exercises", "", nil, nil); res.StatusCode != 401 {
		t.Errorf("revoked token: %d", res.StatusCode)
	}
	// Token listings never show hashes or secrets.
	_, data = w.do(t, "admin", "GET", "/api/v1/tokens", "", nil, nil)
	for _, s := range w.secrets {
		if strings.Contains(string(data), s) {
			t.Errorf("token list holds a secret: %s", data)
		}
	}
	if strings.Contains(string(data), `"hash"`) {
		t.Errorf("token list holds hashes: %s", data)
	}
}

func (w want) with(k string, v int) want {
	out := want{}
	for a, b := range w {
		out[a] = b
	}
	out[k] = v
	return out
}

// want maps a caller (a role name, "" for no token, "bad" for an unknown
// one) to the status it must get.
type want map[string]int

// TestCandidateViews: in either mode a candidate sees no hidden message,
// node id, log or hidden source; practice shows public-test details and
// assessment only categories and names of failed checks. Staff see the
// hidden message.
func TestCandidateViews(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	ids := map[string]string{}
	for _, mode := range []string{grader.ModePractice, grader.ModeAssessment} {
		res, sub := w.submit(t, mode, nil)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("%s submit: %d %v", mode, res.StatusCode, sub)
		}
		if sub["candidate"] != "Cand "+mode {
			t.Errorf("candidate name from the assignment: %v", sub["candidate"])
		}
		ids[mode] = sub["id"].(string)
		w.finish(t, ids[mode])
	}
	for mode, id := range ids {
		for _, path := range []string{"/api/v1/submissions/" + id, "/api/v1/submissions?limit=10", "/api/v1/submissions/" + id + "/events"} {
			_, body := w.do(t, mode, "GET", path, "", nil, nil)
			for _, leak := range []string{hiddenMsg, "djgrade_hidden", "SANDBOX-LOG", "node_id", reasonMarker, nameMarker} {
				if strings.Contains(string(body), leak) {
					t.Errorf("%s %s leaks %q: %s", mode, path, leak, body)
				}
			}
			if path != "/api/v1/submissions/"+id+"/events" {
				for _, want := range []string{"0 of 2 hidden checks passed", "hidden check 2"} {
					if !strings.Contains(string(body), want) {
						t.Errorf("%s %s lacks %q: %s", mode, path, want, body)
					}
				}
			}
			if mode == grader.ModePractice && !strings.Contains(string(body), "PUBLIC-MESSAGE") {
				t.Errorf("practice %s lacks the public test's message: %s", path, body)
			}
			if mode == grader.ModeAssessment {
				if strings.Contains(string(body), "PUBLIC-MESSAGE") || strings.Contains(string(body), "test_books_api") {
					t.Errorf("assessment %s shows public-test details: %s", path, body)
				}
				if !strings.Contains(string(body), "Book list runs a constant number of queries") || !strings.Contains(string(body), `"performance"`) {
					t.Errorf("assessment %s lacks failed check names or categories: %s", path, body)
				}
			}
		}
		// The other candidate sees nothing of it.
		other := grader.ModeAssessment
		if mode == other {
			other = grader.ModePractice
		}
		for _, p := range []string{"", "/files", "/events", "/logs"} {
			res, body := w.do(t, other, "GET", "/api/v1/submissions/"+id+p, "", nil, nil)
			if p == "/logs" {
				// A staff route: the same 403 whatever the id, saying which token it wants.
				if ae := wantError(t, res, body, 403, grader.EFORBIDDEN); ae.Error.Message != "this route is for admin or interviewer tokens; this request has a candidate token" {
					t.Errorf("403 message %q", ae.Error.Message)
				}
			} else {
				wantError(t, res, body, 404, grader.ENOTFOUND)
			}
		}
		res, body := w.do(t, other, "POST", "/api/v1/submissions/"+id+"/cancel", "", nil, nil)
		wantError(t, res, body, 404, grader.ENOTFOUND)
	}
	_, body := w.do(t, "interviewer", "GET", "/api/v1/submissions/"+ids[grader.ModeAssessment], "", nil, nil)
	for _, want := range []string{hiddenMsg, reasonMarker, nameMarker} {
		if !strings.Contains(string(body), want) {
			t.Errorf("interviewer does not see %q: %s", want, body)
		}
	}
	_, body = w.do(t, "interviewer", "GET", "/api/v1/submissions/"+ids[grader.ModeAssessment]+"/logs", "", nil, nil)
	if !strings.Contains(string(body), "SANDBOX-LOG") {
		t.Errorf("logs: %s", body)
	}
}

// TestPagination stores 250 submissions and pages through them 100, 100,
// 50: each is returned exactly once, newest first, and filters narrow.
func TestPagination(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	ctx := context.Background()
	created := map[string]bool{}
	for i := 0; i < 250; i++ {
		sub := &grader.Submission{Exercise: "n-plus-one", Candidate: fmt.Sprintf("c%d", i%5), Owner: w.ids["interviewer"]}
		if err := w.store.CreateSubmission(ctx, sub, []grader.File{{Path: "library/views.py", Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		created[sub.ID] = true
	}
	seen := map[string]bool{}
	var order []string
	cursor, pages := "", 0
	for {
		path := "/api/v1/submissions?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res, body := w.do(t, "interviewer", "GET", path, "", nil, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, res.StatusCode, body)
		}
		var page listJSON
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.Submissions {
			if seen[s.ID] || !created[s.ID] {
				t.Fatalf("page %d: %s seen twice or unknown", pages, s.ID)
			}
			seen[s.ID] = true
			order = append(order, s.ID)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if len(seen) != 250 {
		t.Errorf("saw %d of 250 in %d pages", len(seen), pages)
	}
	if !sort.SliceIsSorted(order, func(i, j int) bool { return order[i] > order[j] }) {
		t.Error("not newest first")
	}
	_, body := w.do(t, "interviewer", "GET", "/api/v1/submissions?candidate=c3&status=queued&limit=100", "", nil, nil)
	var page listJSON
	json.Unmarshal(body, &page)
	if len(page.Submissions) != 50 {
		t.Errorf("candidate filter: %d, want 50", len(page.Submissions))
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	_, body = w.do(t, "interviewer", "GET", "/api/v1/submissions?since="+future, "", nil, nil)
	if json.Unmarshal(body, &page); len(page.Submissions) != 0 {
		t.Errorf("since the future: %d", len(page.Submissions))
	}
	for _, q := range []string{"cursor=bm9wZQ", "verdict=great", "since=yesterday", "limit=1000", "status=bogus"} {
		res, body := w.do(t, "interviewer", "GET", "/api/v1/submissions?"+q, "", nil, nil)
		wantError(t, res, body, 400, grader.EINVALID)
	}
}

func TestIdempotencyCancelRegrade(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	key := map[string]string{"Idempotency-Key": "retry-1"}
	res1, a := w.submit(t, "interviewer", key)
	res2, b := w.submit(t, "interviewer", key)
	if res1.StatusCode != 202 || res2.StatusCode != 202 || a["id"] != b["id"] {
		t.Fatalf("same key: %d %v / %d %v", res1.StatusCode, a["id"], res2.StatusCode, b["id"])
	}
	_, c := w.submit(t, "admin", key)
	if c["id"] == a["id"] {
		t.Error("a key is per token, but another token got the same submission")
	}
	id := a["id"].(string)
	res, body := w.do(t, "interviewer", "POST", "/api/v1/submissions/"+id+"/cancel", "", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(string(body), `"status":"cancelled"`) {
		t.Fatalf("cancel: %d %s", res.StatusCode, body)
	}
	res, body = w.do(t, "interviewer", "POST", "/api/v1/submissions/"+id+"/cancel", "", nil, nil)
	wantError(t, res, body, 409, grader.ECONFLICT)

	// Regrade a finished one: requeued, old result in history.
	id2 := c["id"].(string)
	w.finish(t, id2)
	res, body = w.do(t, "interviewer", "POST", "/api/v1/submissions/"+id2+"/regrade", "", nil, nil)
	if res.StatusCode != 202 || !strings.Contains(string(body), `"status":"queued"`) || !strings.Contains(string(body), `"history":[{"score":4`) {
		t.Fatalf("regrade: %d %s", res.StatusCode, body)
	}
	if loc := res.Header.Get("Location"); loc != "/api/v1/submissions/"+id2 {
		t.Errorf("regrade Location %q", loc)
	}
	res, body = w.do(t, "interviewer", "POST", "/api/v1/submissions/"+id2+"/regrade", "", nil, nil)
	wantError(t, res, body, 409, grader.ECONFLICT)
}

func TestQueueFullAndRateLimit(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	w.svc.MaxQueued = 2
	for i := 0; i < 2; i++ {
		if res, b := w.submit(t, "interviewer", nil); res.StatusCode != 202 {
			t.Fatalf("%d %v", res.StatusCode, b)
		}
	}
	res, _ := w.submit(t, "interviewer", nil)
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Errorf("full queue: %d Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}

	w = newWorld(t, &gateSandbox{}, false, func(c *Config) { c.RatePerSecond, c.RateBurst = 0.5, 3 })
	var last *http.Response
	for i := 0; i < 4; i++ {
		last, _ = w.do(t, "interviewer", "GET", "/api/v1/exercises", "", nil, nil)
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") != "2" {
		t.Errorf("rate limit: %d Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// Another token has its own bucket.
	if res, _ := w.do(t, "admin", "GET", "/api/v1/exercises", "", nil, nil); res.StatusCode != 200 {
		t.Errorf("other token limited: %d", res.StatusCode)
	}
}

// TestWaitAndEvents runs the real workers over a sandbox held at a gate:
// ?wait returns at its timeout while running and as soon as grading ends;
// the event stream delivers running, then finished.
func TestWaitAndEvents(t *testing.T) {
	sb := &gateSandbox{release: make(chan struct{}), started: make(chan string, 4)}
	// The workers start once the stream is open, so that the stream sees
	// the submission queued and every change after.
	w := newWorld(t, sb, false, nil)
	_, sub := w.submit(t, grader.ModePractice, nil)
	id := sub["id"].(string)

	// Open the stream while queued.
	req, _ := http.NewRequest("GET", w.srv.URL+"/api/v1/submissions/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+w.secrets[grader.ModePractice])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	var mu sync.Mutex
	var events []string
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if ev, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				mu.Lock()
				events = append(events, ev)
				mu.Unlock()
			}
		}
	}()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no first event")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	workers := make(chan struct{})
	go func() { defer close(workers); w.svc.Run(ctx) }()
	defer func() { cancel(); <-workers }()
	select {
	case <-sb.started:
	case <-time.After(10 * time.Second):
		t.Fatal("grading did not start")
	}
	start := time.Now()
	_, body := w.do(t, grader.ModePractice, "GET", "/api/v1/submissions/"+id+"?wait=300ms", "", nil, nil)
	if took := time.Since(start); took < 250*time.Millisecond || !strings.Contains(string(body), `"status":"running"`) {
		t.Errorf("wait while running: %v %s", took, body)
	}
	go func() { time.Sleep(300 * time.Millisecond); close(sb.release) }()
	start = time.Now()
	_, body = w.do(t, grader.ModePractice, "GET", "/api/v1/submissions/"+id+"?wait=30s", "", nil, nil)
	if took := time.Since(start); took > 10*time.Second || !strings.Contains(string(body), `"status":"done"`) {
		t.Errorf("wait until done: %v %s", took, body)
	}
	select {
	case <-streamDone:
	case <-time.After(10 * time.Second):
		t.Fatal("event stream did not end after the final state")
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(events, ",")
	if !strings.HasPrefix(got, "status,") || !strings.Contains(got, "running") || !strings.HasSuffix(got, "finished") ||
		strings.Index(got, "running") > strings.Index(got, "finished") {
		t.Errorf("events = %s, want status, running, then finished", got)
	}
	res2, body2 := w.do(t, grader.ModePractice, "GET", "/api/v1/submissions/"+id+"?wait=soon", "", nil, nil)
	wantError(t, res2, body2, 400, grader.EINVALID)
}

// TestStarterDownloads: the starter with its public tests, nothing hidden.
func TestStarterDownloads(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	cat, _ := exercises.Embedded()
	for _, ex := range cat.Exercises() {
		// Every hidden file, and every solution or variant file that differs
		// from the starter's file at its path, must be absent.
		starter, _ := grader.StarterFiles(ex)
		starterData := map[string][]byte{}
		for _, f := range starter {
			starterData[f.Path] = f.Data
		}
		var secrets [][]byte
		for _, dir := range []string{"hidden", "solutions", "variants"} {
			fs.WalkDir(ex.FS, dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				b, _ := fs.ReadFile(ex.FS, p)
				rel := p
				if dir != "hidden" {
					// solutions/<name>/<path> overlays <path>.
					if parts := strings.SplitN(p, "/", 3); len(parts) == 3 {
						rel = parts[2]
					}
					if bytes.Equal(starterData[rel], b) {
						return nil
					}
				}
				if len(bytes.TrimSpace(b)) > 0 {
					secrets = append(secrets, b)
				}
				return nil
			})
		}
		if len(secrets) == 0 {
			t.Fatalf("%s: no hidden files found to check against", ex.ID)
		}
		for _, format := range []string{"zip", "tar.gz"} {
			res, body := w.do(t, grader.ModeAssessment, "GET", "/api/v1/exercises/"+ex.ID+"/starter."+format, "", nil, nil)
			if res.StatusCode != 200 {
				t.Fatalf("%s %s: %d", ex.ID, format, res.StatusCode)
			}
			files := unpack(t, format, body)
			// The starter and the download's README (grader.StarterDownload).
			if len(files) != len(starter)+1 || len(files) == 0 {
				t.Errorf("%s.%s: %d files, want the starter's %d and a README", ex.ID, format, len(files), len(starter))
			}
			if readme := files[grader.StarterReadmeName(starter)]; !strings.Contains(string(readme), "## Running the public tests") {
				t.Errorf("%s.%s: no README with how to run the public tests", ex.ID, format)
			}
			hasTests := false
			for name, data := range files {
				for _, bad := range []string{grader.HiddenDir + "/", "hidden/", "solutions/", "variants/"} {
					if strings.HasPrefix(name, bad) {
						t.Errorf("%s.%s holds %s", ex.ID, format, name)
					}
				}
				if strings.Contains(name, "test") {
					hasTests = true
				}
				for _, s := range secrets {
					if bytes.Equal(data, s) {
						t.Errorf("%s.%s: %s has the content of a hidden, solution or variant file", ex.ID, format, name)
					}
				}
			}
			if !hasTests {
				t.Errorf("%s.%s has no public tests", ex.ID, format)
			}
		}
	}
}

func unpack(t *testing.T, format string, data []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	if format == "zip" {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			out[f.Name] = b
		}
		return out
	}
	gz, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

// mountedByServe are documented routes that cmd/djgrade adds to the API's
// Echo (the store's backup, the GitHub webhook); cmd/djgrade's
// TestOpenAPIMatchesServedRoutes checks them on the real server.
var mountedByServe = map[string]bool{"GET /api/v1/admin/backup": true, "HEAD /api/v1/admin/backup": true, "POST /webhooks/github": true}

// TestOpenAPIMatchesRoutes checks api/openapi.yaml against the routes the
// Echo server really has (with the metrics mounted, as serve does), both
// ways, and that the server serves it.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	store, _ := newAuthStore(t, grader.RoleAdmin)
	srv := New(Config{Grader: newFakeGrader(testCatalog()), Catalog: testCatalog(), Auth: store})
	NewMetrics(store).Mount(srv)
	served := map[string]bool{}
	for _, r := range srv.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/") || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if name, ok := strings.CutPrefix(s, ":"); ok {
				segs[i] = "{" + name + "}"
			}
		}
		served[r.Method+" "+strings.Join(segs, "/")] = true
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.yaml", k)
		}
		// Echo answers 405 to HEAD on a GET route unless both are
		// added (with GET): clients and load balancers expect HEAD.
		if path, ok := strings.CutPrefix(k, "GET "); ok && !served["HEAD "+path] {
			t.Errorf("route %s has no HEAD", k)
		}
	}
	for k := range documented {
		if !served[k] && !mountedByServe[k] {
			t.Errorf("openapi.yaml documents %s, which the server does not have", k)
		}
	}
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, body := w.do(t, "unassigned", "GET", "/api/v1/openapi.yaml", "", nil, nil)
	if res.StatusCode != 200 || !bytes.Equal(body, openAPIDoc) {
		t.Errorf("GET openapi.yaml: %d, %d bytes", res.StatusCode, len(body))
	}
}
