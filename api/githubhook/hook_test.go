package githubhook

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

const (
	testSecret = "webhook-secret-for-tests"
	testRepo   = "acme/takehome-ada"
	shaOpened  = "1111111111111111111111111111111111111111"
	shaSync    = "2222222222222222222222222222222222222222"
	shaMain    = "3333333333333333333333333333333333333333"
	shaBranch  = "5555555555555555555555555555555555555555"
)

// harness is djgrade's HTTP API with the webhook mounted, over a real bbolt
// file and the real grading service, talking to a fake GitHub.
type harness struct {
	t       *testing.T
	fake    *fakeGitHub
	store   *bolt.Store
	svc     *grader.Service
	hook    *Hook
	url     string
	catalog grader.Catalog
	cancel  context.CancelFunc
}

// newHarness builds the harness; sb may be nil when nothing is graded (the
// workers are then not started and submissions stay queued).
func newHarness(t *testing.T, secret string, sb grader.Sandbox, image string) *harness {
	t.Helper()
	fake := newFakeGitHub(t)
	catalog, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc := grader.NewService(grader.Config{Store: store, Sandbox: sb, Catalog: catalog, Image: image, Concurrency: 1, Poll: 100 * time.Millisecond})
	// As a GitHub App, the way check runs are accepted.
	client := fake.newAppClient(t, 0, nil)
	client.Backoff = 5 * time.Millisecond
	hook := New(ctx, Config{
		Secret: secret, Client: client, Store: store, Grader: svc, Catalog: catalog,
		ResultURL: func(id string) string { return "https://djgrade.example.com/api/v1/submissions/" + id },
	})
	srv := api.New(api.Config{Grader: svc, Catalog: catalog})
	hook.Register(srv.Echo())
	hs := httptest.NewServer(srv.Handler())
	done := make(chan struct{})
	if sb != nil {
		go func() {
			defer close(done)
			svc.Run(ctx)
		}()
	} else {
		close(done)
	}
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		hook.Wait()
		store.Close()
	})
	return &harness{t: t, fake: fake, store: store, svc: svc, hook: hook, url: hs.URL, catalog: catalog, cancel: cancel}
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// deliver posts a webhook; signature "" sends none.
func (h *harness) deliver(event, delivery string, body []byte, signature string) (int, map[string]any) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url+Path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("User-Agent", "GitHub-Hookshot/abc123")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		h.t.Fatalf("%s: %d: not JSON: %s", event, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

// deliverSigned posts a fixture signed with the test secret.
func (h *harness) deliverSigned(event, delivery, fixtureName string) (int, map[string]any) {
	h.t.Helper()
	body := fixture(h.t, fixtureName)
	return h.deliver(event, delivery, body, sign(testSecret, body))
}

func (h *harness) idle() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.hook.Idle(ctx); err != nil {
		h.t.Fatal("hook did not settle: ", err)
	}
}

func (h *harness) submissions() []*grader.Submission {
	h.t.Helper()
	subs, err := h.store.ListSubmissions(context.Background(), grader.SubmissionFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	return subs
}

// answerFiles is the n-plus-one starter with an overlay ("solutions/reference"
// or "" for none) and, if exercise is not empty, a .djgrade.yml naming it.
func answerFiles(t *testing.T, overlay, exercise string) []grader.File {
	t.Helper()
	c, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	files, err := grader.StarterFiles(ex)
	if err != nil {
		t.Fatal(err)
	}
	if overlay != "" {
		over, err := grader.OverlayFiles(ex, overlay)
		if err != nil {
			t.Fatal(err)
		}
		idx := map[string]int{}
		for i, f := range files {
			idx[f.Path] = i
		}
		for _, f := range over {
			if i, ok := idx[f.Path]; ok {
				files[i] = f
			} else {
				files = append(files, f)
			}
		}
	}
	if exercise != "" {
		files = append(files, grader.File{Path: ConfigFile, Data: []byte("exercise: " + exercise + "\n")})
	}
	return files
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestRouteRefusedWithoutSecret(t *testing.T) {
	h := newHarness(t, "", nil, "")
	body := fixture(t, "ping.json")
	code, out := h.deliver("ping", "d-1", body, sign("", body))
	msg, _ := out["error"].(map[string]any)["message"].(string)
	if code != http.StatusServiceUnavailable || errorCode(out) != grader.EUNAVAILABLE || !strings.Contains(msg, "--github-webhook-secret") {
		t.Fatalf("%d %v", code, out)
	}
}

func TestBadSignaturesGradeNothing(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	h.fake.serveCommit(testRepo, shaOpened, answerFiles(t, "", "n-plus-one"))
	body := fixture(t, "pull_request_opened.json")
	tampered := bytes.Replace(body, []byte(`"number": 7`), []byte(`"number": 8`), 1)
	for name, c := range map[string]struct {
		body []byte
		sig  string
	}{
		"missing":        {body, ""},
		"wrong secret":   {body, sign("not-the-secret", body)},
		"tampered body":  {tampered, sign(testSecret, body)},
		"sha1 only":      {body, "sha1=" + strings.Repeat("0", 40)},
		"not hex":        {body, "sha256=zz"},
		"empty sha256":   {body, "sha256="},
		"prefix missing": {body, strings.TrimPrefix(sign(testSecret, body), "sha256=")},
	} {
		code, out := h.deliver("pull_request", "same-delivery", c.body, c.sig)
		if code != http.StatusUnauthorized || errorCode(out) != grader.EUNAUTHORIZED {
			t.Errorf("%s: %d %v", name, code, out)
		}
	}
	h.idle()
	if subs := h.submissions(); len(subs) != 0 {
		t.Fatalf("graded after bad signatures: %d submissions", len(subs))
	}
	if len(h.fake.calls) != 0 {
		t.Fatalf("GitHub was called: %v", h.fake.calls)
	}
	// Refused deliveries were not recorded: the genuine one with the same
	// id is still accepted.
	if code, out := h.deliver("pull_request", "same-delivery", body, sign(testSecret, body)); code != http.StatusAccepted {
		t.Fatalf("genuine delivery after forgeries: %d %v", code, out)
	}
}

func TestPullRequestQueuesTheCommitOnce(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	h.fake.serveCommit(testRepo, shaOpened, answerFiles(t, "solutions/reference", "n-plus-one"))

	code, out := h.deliverSigned("pull_request", "d-open", "pull_request_opened.json")
	if code != http.StatusAccepted || out["status"] != "accepted" {
		t.Fatalf("%d %v", code, out)
	}
	h.idle()
	subs := h.submissions()
	if len(subs) != 1 {
		t.Fatalf("%d submissions, want 1", len(subs))
	}
	sub := subs[0]
	want := grader.Source{Kind: grader.SourceGitHub, Repo: testRepo, SHA: shaOpened, Ref: "answer", PullRequest: 7}
	if sub.Source == nil || *sub.Source != want || sub.Exercise != "n-plus-one" || sub.Candidate != "ada-l" || sub.Status != grader.StatusQueued {
		t.Fatalf("stored %+v source %+v", sub, sub.Source)
	}
	files, err := h.store.SubmissionFiles(context.Background(), sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == ConfigFile || strings.HasPrefix(f.Path, "acme-") {
			t.Fatalf("stored file %q: the config and the tarball's folder must not be part of the answer", f.Path)
		}
	}
	st := h.fake.snapshotStatuses()
	if len(st) != 1 || st[0].State != StatePending || st[0].Context != "djgrade/n-plus-one" || st[0].SHA != shaOpened ||
		st[0].TargetURL != "https://djgrade.example.com/api/v1/submissions/"+sub.ID {
		t.Fatalf("statuses %+v", st)
	}

	// A redelivery of the same delivery grades nothing new and fetches nothing.
	code, out = h.deliverSigned("pull_request", "d-open", "pull_request_opened.json")
	if code != http.StatusOK || out["status"] != "duplicate" {
		t.Fatalf("redelivery: %d %v", code, out)
	}
	// A new delivery of the same commit (GitHub's "reopened", or a push to
	// the branch arriving with its synchronize) is graded once too.
	h.fake.pulls[testRepo+":acme:answer"] = 7
	h.fake.serveCommit(testRepo, shaBranch, answerFiles(t, "", "n-plus-one"))
	code, _ = h.deliverSigned("pull_request", "d-open-again", "pull_request_opened.json")
	if code != http.StatusAccepted {
		t.Fatalf("second delivery: %d", code)
	}
	h.idle()
	if n := len(h.submissions()); n != 1 {
		t.Fatalf("%d submissions after redeliveries, want 1", n)
	}
	if h.fake.downloads != 1 {
		t.Fatalf("tarball downloaded %d times, want 1", h.fake.downloads)
	}

	// Durable: a new store handle on the same file still knows the delivery.
	path := h.store.Path()
	h.cancel()
	h.hook.Wait()
	h.store.Close()
	again, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if fresh, err := again.SeeDelivery(context.Background(), "d-open"); err != nil || fresh {
		t.Fatalf("delivery forgotten after reopening: fresh=%v err=%v", fresh, err)
	}
	h.store = again // Cleanup closes it
}

func TestPushes(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	h.fake.serveCommit(testRepo, shaMain, answerFiles(t, "", "n-plus-one"))
	h.fake.serveCommit(testRepo, shaBranch, answerFiles(t, "", "n-plus-one"))

	// The default branch is graded without a pull request.
	if code, out := h.deliverSigned("push", "p-main", "push_main.json"); code != http.StatusAccepted {
		t.Fatalf("%d %v", code, out)
	}
	h.idle()
	subs := h.submissions()
	if len(subs) != 1 || subs[0].Source.SHA != shaMain || subs[0].Source.PullRequest != 0 || subs[0].Source.Ref != "main" {
		t.Fatalf("push to main: %+v", subs)
	}

	// Another branch without an open pull request is not graded.
	if code, _ := h.deliverSigned("push", "p-branch-1", "push_branch.json"); code != http.StatusAccepted {
		t.Fatal(code)
	}
	h.idle()
	if n := len(h.submissions()); n != 1 {
		t.Fatalf("push to a branch without a pull request was graded (%d)", n)
	}

	// With an open pull request it is, linked to it.
	h.fake.pulls[testRepo+":acme:answer"] = 7
	if code, _ := h.deliverSigned("push", "p-branch-2", "push_branch.json"); code != http.StatusAccepted {
		t.Fatal(code)
	}
	h.idle()
	subs = h.submissions()
	if len(subs) != 2 || subs[0].Source.SHA != shaBranch || subs[0].Source.PullRequest != 7 {
		t.Fatalf("push to a pull request's branch: %+v", subs[0].Source)
	}

	// A deleted branch, a tag and a closed pull request are ignored.
	deleted := bytes.Replace(fixture(t, "push_branch.json"), []byte(`"deleted": false`), []byte(`"deleted": true`), 1)
	if code, out := h.deliver("push", "p-del", deleted, sign(testSecret, deleted)); code != http.StatusOK || out["status"] != "ignored" {
		t.Fatalf("deleted branch: %d %v", code, out)
	}
	tag := bytes.Replace(fixture(t, "push_main.json"), []byte(`refs/heads/main`), []byte(`refs/tags/v1`), 1)
	if code, out := h.deliver("push", "p-tag", tag, sign(testSecret, tag)); code != http.StatusOK || out["status"] != "ignored" {
		t.Fatalf("tag: %d %v", code, out)
	}
	if code, out := h.deliverSigned("pull_request", "pr-closed", "pull_request_closed.json"); code != http.StatusOK || out["status"] != "ignored" {
		t.Fatalf("closed: %d %v", code, out)
	}
	if code, out := h.deliverSigned("ping", "ping-1", "ping.json"); code != http.StatusOK || out["status"] != "pong" {
		t.Fatalf("ping: %d %v", code, out)
	}
	if code, out := h.deliverSigned("issues", "iss-1", "ping.json"); code != http.StatusOK || out["status"] != "ignored" {
		t.Fatalf("other event: %d %v", code, out)
	}
	h.idle()
	if n := len(h.submissions()); n != 2 {
		t.Fatalf("ignored events were graded: %d", n)
	}
}

func TestWhichExercise(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	ctx := context.Background()

	// Neither a config file nor an assignment: a failure status says so.
	h.fake.serveCommit(testRepo, shaOpened, answerFiles(t, "", ""))
	h.deliverSigned("pull_request", "w-1", "pull_request_opened.json")
	h.idle()
	st := h.fake.snapshotStatuses()
	if len(st) != 1 || st[0].State != StateFailure || st[0].Context != "djgrade" || !strings.Contains(st[0].Description, ".djgrade.yml") {
		t.Fatalf("no exercise: %+v", st)
	}
	if n := len(h.submissions()); n != 0 {
		t.Fatalf("graded without an exercise: %d", n)
	}

	// An unknown exercise in the file: a failure naming it.
	h.fake.serveCommit(testRepo, shaSync, answerFiles(t, "", "no-such-exercise"))
	h.deliverSigned("pull_request", "w-2", "pull_request_synchronize.json")
	h.idle()
	st = h.fake.snapshotStatuses()
	if len(st) != 2 || st[1].State != StateFailure || !strings.Contains(st[1].Description, "no-such-exercise") {
		t.Fatalf("unknown exercise: %+v", st)
	}

	// The interviewer's assignment wins over the candidate's file, and its
	// deadline marks the submission late.
	a := &grader.Assignment{Exercise: "n-plus-one", Candidate: "Ada Lovelace", Mode: grader.ModeAssessment, Deadline: time.Now().Add(-time.Hour)}
	if err := h.store.SetRepoAssignment(ctx, "ACME/TakeHome-Ada", a); err != nil {
		t.Fatal(err)
	}
	h.fake.serveCommit(testRepo, shaMain, answerFiles(t, "", "no-such-exercise"))
	h.deliverSigned("push", "w-3", "push_main.json")
	h.idle()
	subs := h.submissions()
	if len(subs) != 1 || subs[0].Exercise != "n-plus-one" || subs[0].Candidate != "Ada Lovelace" || subs[0].Assignment != a.ID || !subs[0].Late {
		t.Fatalf("assignment: %+v", subs)
	}

	// A tarball GitHub cannot serve: an error status, and the claim is
	// released so a redelivery retries.
	body := bytes.Replace(fixture(t, "push_main.json"), []byte(shaMain), []byte(strings.Repeat("9", 40)), -1)
	h.deliver("push", "w-4", body, sign(testSecret, body))
	h.idle()
	st = h.fake.snapshotStatuses()
	if last := st[len(st)-1]; last.State != StateError || last.SHA != strings.Repeat("9", 40) {
		t.Fatalf("missing tarball: %+v", last)
	}
	if fresh, _ := h.store.ClaimCommit(ctx, testRepo, strings.Repeat("9", 40), 0); !fresh {
		t.Fatal("claim on an unfetched commit was kept")
	}
}

func TestBodyCappedBeforeReading(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	// Announce a body over the cap and send none of it: the answer must
	// come from the header alone, before any byte is read. (Sending the
	// megabyte races the server's early close: the client may see a reset.)
	u, _ := url.Parse(h.url)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\nX-GitHub-Delivery: big-1\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: %d\r\n\r\n", u.Path+Path, u.Host, DefaultMaxBody+1)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out map[string]any
	json.Unmarshal(data, &out)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || errorCode(out) != grader.ETOOLARGE {
		t.Fatalf("%d %s", resp.StatusCode, data)
	}
	var code int
	// Just under the cap is read (and then refused for its signature only).
	ok := bytes.Repeat([]byte("x"), 100<<10)
	code, out = h.deliver("push", "big-2", ok, "sha256=00")
	if code != http.StatusUnauthorized {
		t.Fatalf("a 100 KiB body: %d %v", code, out)
	}
}

func TestStatusRetriedWithBackoff(t *testing.T) {
	h := newHarness(t, testSecret, nil, "")
	h.fake.failNext = 2
	h.fake.serveCommit(testRepo, shaOpened, answerFiles(t, "", "n-plus-one"))
	h.deliverSigned("pull_request", "r-1", "pull_request_opened.json")
	h.idle()
	st := h.fake.snapshotStatuses()
	if len(st) != 1 || st[0].State != StatePending {
		t.Fatalf("status after two 502s: %+v", st)
	}
	n := 0
	for _, c := range h.fake.calls {
		if strings.HasPrefix(c, "POST repos/acme/takehome-ada/statuses/") {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d status calls, want 3 (two failures, one success)", n)
	}
}

func TestSummaryHidesHiddenDetails(t *testing.T) {
	sub := &grader.Submission{
		ID: "s1", Exercise: "n-plus-one", Status: grader.StatusDone,
		Source: &grader.Source{Kind: grader.SourceGitHub, Repo: testRepo, SHA: shaOpened, PullRequest: 7},
		Result: &grader.Result{
			Score: 4, MaxScore: 10, Verdict: grader.VerdictFailed, Reason: "collect error: LEAKMARKER def test_secret(): assert 41 <= 4",
			Categories: []grader.CategoryScore{{Name: "correctness", Score: 4, MaxScore: 4}, {Name: "performance", Score: 0, MaxScore: 6}},
			Tests: []grader.TestResult{
				{Name: "Books list keeps every field", NodeID: "djgrade_hidden/test_hidden_correctness.py::test_fields", Hidden: true, Category: "correctness", Outcome: "passed", Points: 4, MaxPoints: 4},
				{Name: "List queries do not grow with books", NodeID: "djgrade_hidden/test_hidden_performance.py::test_n", Hidden: true, Category: "performance", Outcome: "failed", MaxPoints: 6, Message: "SECRET: assert 41 <= 4"},
				{Name: "djgrade_hidden/test_x.py::test_unnamed", NodeID: "djgrade_hidden/test_x.py::test_unnamed", Hidden: true, Category: "performance", Outcome: "failed", Message: "SECRET too"},
				{Name: "tests/test_api.py::test_list[@octocat <b>x</b> | y]", NodeID: "tests/test_api.py::test_list[@octocat <b>x</b> | y]", Category: "public", Outcome: "passed"},
			},
		},
	}
	md := Summary(sub, nil, "https://djgrade.example.com/r/s1")
	for _, bad := range []string{"SECRET", "djgrade_hidden", "test_hidden", "LEAKMARKER"} {
		if strings.Contains(md, bad) {
			t.Errorf("summary shows %q:\n%s", bad, md)
		}
	}
	// Hidden checks are numbered among all hidden checks, as on every
	// candidate view; the reason is the fixed public one.
	for _, want := range []string{"4/10", "1 of 3 hidden checks passed", "| correctness | 4/4 |", "| performance | 0/6 |", "List queries do not grow with books", "hidden check 3", "`tests/test_api.py::test_list[@octocat <b>x</b> \\| y]`", "[Full result](https://djgrade.example.com/r/s1)"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Books list keeps every field") {
		t.Errorf("summary lists a passed hidden check as failed:\n%s", md)
	}
	state, conclusion, desc := outcome(sub)
	if state != StateFailure || conclusion != "failure" || desc != "4/10 failed: 1 of 3 hidden checks passed" {
		t.Fatalf("outcome %s %s %q", state, conclusion, desc)
	}
}
