package githubhook

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// notifier is a Hook over a bbolt file, answering a fake GitHub as the App,
// that can be stopped and started again on the same file.
type notifier struct {
	t      *testing.T
	path   string
	fake   *fakeGitHub
	store  *bolt.Store
	hook   *Hook
	cancel context.CancelFunc
}

func startNotifier(t *testing.T, path string, fake *fakeGitHub) *notifier {
	t.Helper()
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc := grader.NewService(grader.Config{Store: store, Catalog: catalog, Concurrency: 1})
	client := fake.newAppClient(t, 0, nil)
	// One try per call: the answer loop, not the client, retries here.
	client.Attempts = 1
	hook := New(ctx, Config{
		Secret: testSecret, Client: client, Store: store, Grader: svc, Catalog: catalog,
		ResultURL:    func(id string) string { return "https://djgrade.example.com/r/" + id },
		RetryBackoff: 2 * time.Millisecond, RetryMaxBackoff: 20 * time.Millisecond,
	})
	n := &notifier{t: t, path: path, fake: fake, store: store, hook: hook, cancel: cancel}
	t.Cleanup(n.stop)
	return n
}

// stop ends the hook's work and closes the store, as a server's stop does.
func (n *notifier) stop() {
	if n.store == nil {
		return
	}
	n.cancel()
	n.hook.Wait()
	n.store.Close()
	n.store = nil
}

func (n *notifier) pending() []*pending {
	n.t.Helper()
	list, err := n.hook.loadPending(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	return list
}

// waitFor polls cond until it holds (or fails the test after a minute).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func gradedSubmission() *grader.Submission {
	return &grader.Submission{
		ID: "sub-restart", Exercise: "n-plus-one", Candidate: "ada-l", Status: grader.StatusDone,
		Source: &grader.Source{Kind: grader.SourceGitHub, Repo: testRepo, SHA: shaOpened, Ref: "feature", PullRequest: 7},
		Result: &grader.Result{Score: 10, MaxScore: 10, Verdict: grader.VerdictPassed, Reason: "all 3 hidden checks passed",
			Categories: []grader.CategoryScore{{Name: "correctness", Score: 10, MaxScore: 10}}},
	}
}

// TestAnswersSurviveARestart: GitHub answers 502 to check runs; djgrade is
// stopped with the check run unsent, started again on the same store, and
// the check run is posted once, opened then completed, with the status and
// the comment.
func TestAnswersSurviveARestart(t *testing.T) {
	fake := newFakeGitHub(t)
	fake.failChecks = true
	path := filepath.Join(t.TempDir(), "djgrade.db")
	first := startNotifier(t, path, fake)
	// As a webhook would have told it.
	first.hook.cfg.Client.RememberInstallation(testRepo, testInstallation)

	sub := gradedSubmission()
	running := *sub
	running.Status, running.Result = grader.StatusRunning, nil
	first.hook.onEvent(grader.Event{Type: grader.EventRunning, Submission: &running})
	first.hook.onEvent(grader.Event{Type: grader.EventFinished, Submission: sub})

	// The open's status went through, its check run did not: tried, and
	// tried again with backoff; the final answer waits behind it.
	waitFor(t, "two failed check run tries", func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return fake.checkCalls >= 2
	})
	first.stop()
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var kept []pending
	store.GitHubPending(context.Background(), func(_ uint64, data []byte) error {
		var p pending
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, p)
		return nil
	})
	store.Close()
	if len(kept) != 2 || kept[0].Kind != kindOpen || kept[1].Kind != kindFinish ||
		!slices.Equal(kept[0].Done, []string{stepStatus}) || kept[0].Attempts < 1 || !strings.Contains(kept[0].LastError, "GitHub") ||
		len(kept[1].Done) != 0 || kept[0].Installation != testInstallation {
		t.Fatalf("kept across the stop: %+v", kept)
	}
	if st := fake.snapshotStatuses(); len(st) != 1 || st[0].State != StatePending {
		t.Fatalf("statuses before the restart: %+v", st)
	}

	// GitHub is back; djgrade starts again on the same file.
	fake.mu.Lock()
	fake.failChecks = false
	fake.mu.Unlock()
	second := startNotifier(t, path, fake)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := second.hook.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	fake.mu.Lock()
	checkLog := append([]string(nil), fake.checkLog...)
	runs := len(fake.checkRuns)
	fake.mu.Unlock()
	if runs != 1 || !slices.Equal(checkLog, []string{"create 101 in_progress", "update 101 completed success"}) {
		t.Fatalf("check runs after the restart: %d %q", runs, checkLog)
	}
	st := fake.snapshotStatuses()
	if len(st) != 2 || st[1].State != StateSuccess || !strings.HasPrefix(st[1].Description, "10/10 passed") {
		t.Fatalf("statuses: %+v", st)
	}
	if c := fake.commentsOn(testRepo, 7); len(c) != 1 || !strings.Contains(c[0].Body, "**Score: 10/10**") {
		t.Fatalf("comments: %+v", c)
	}
	if p := second.pending(); len(p) != 0 {
		t.Fatalf("still pending: %+v", p)
	}
	// The installation stored with the answers was used: never looked up.
	fake.mu.Lock()
	defer fake.mu.Unlock()
	for _, c := range fake.calls {
		if strings.HasSuffix(c, "/installation") {
			t.Fatalf("installation looked up: %q", fake.calls)
		}
	}
}

// TestRefusedStepDoesNotBlock: a step GitHub refuses for good (check runs
// with a personal token) is logged and skipped; the status and the comment
// still go, and nothing is left pending.
func TestRefusedStepDoesNotBlock(t *testing.T) {
	fake := newFakeGitHub(t)
	n := startNotifier(t, filepath.Join(t.TempDir(), "djgrade.db"), fake)
	personal, err := NewClient(fake.apiURL(), fake.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.hook.cfg.Client = personal
	n.hook.onEvent(grader.Event{Type: grader.EventFinished, Submission: gradedSubmission()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.hook.Idle(ctx); err != nil {
		t.Fatal(err)
	}
	if st := fake.snapshotStatuses(); len(st) != 1 || st[0].State != StateSuccess {
		t.Fatalf("statuses: %+v", st)
	}
	if c := fake.commentsOn(testRepo, 7); len(c) != 1 {
		t.Fatalf("comments: %+v", c)
	}
	if !slices.Contains(fake.refusalsSoFar(), "You must authenticate via a GitHub App.") || len(fake.checkRuns) != 0 {
		t.Fatalf("refusals %q, runs %v", fake.refusalsSoFar(), fake.checkRuns)
	}
}

// TestPendingStoreOrder: the bbolt side keeps answers in order and refuses
// what is too big.
func TestPendingStoreOrder(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var seqs []uint64
	for _, d := range []string{`{"a":1}`, `{"a":2}`, `{"a":3}`} {
		s, err := store.AddGitHubPending(ctx, []byte(d))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, s)
	}
	if err := store.DeleteGitHubPending(ctx, seqs[1]); err != nil {
		t.Fatal(err)
	}
	if err := store.SetGitHubPending(ctx, seqs[1], []byte(`{}`)); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("set a deleted one: %v", err)
	}
	if err := store.SetGitHubPending(ctx, seqs[2], []byte(`{"a":33}`)); err != nil {
		t.Fatal(err)
	}
	var got []string
	store.GitHubPending(ctx, func(_ uint64, d []byte) error { got = append(got, string(d)); return nil })
	if !slices.Equal(got, []string{`{"a":1}`, `{"a":33}`}) {
		t.Fatalf("%q", got)
	}
	if _, err := store.AddGitHubPending(ctx, make([]byte, 1<<20)); grader.ErrorCode(err) != grader.EINVALID {
		t.Fatalf("too big: %v", err)
	}
}

// TestCrashBetweenGradeAndAnswer: a GitHub submission was graded and stored
// but djgrade stopped before its answer was stored. At the next start the
// answer is stored and sent, once; the start after that sends nothing.
func TestCrashBetweenGradeAndAnswer(t *testing.T) {
	ctx := context.Background()
	fake := newFakeGitHub(t)
	path := filepath.Join(t.TempDir(), "djgrade.db")
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	catalog, _ := exercises.Embedded()
	svc := grader.NewService(grader.Config{Store: store, Catalog: catalog, Concurrency: 1})
	sub, err := svc.Create(ctx, grader.SubmitRequest{Exercise: "n-plus-one", Candidate: "ada-l", Files: answerFiles(t, "", ""),
		Source: &grader.Source{Kind: grader.SourceGitHub, Repo: testRepo, SHA: shaOpened, Ref: "feature", PullRequest: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if claimed, err := store.ClaimNext(ctx); err != nil || claimed.ID != sub.ID {
		t.Fatalf("claim %v %v", claimed, err)
	}
	if err := store.Finish(ctx, sub.ID, grader.StatusDone, gradedSubmission().Result, ""); err != nil {
		t.Fatal(err)
	}
	store.Close()

	n := startNotifier(t, path, fake)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := n.hook.Idle(wctx); err != nil {
		t.Fatal(err)
	}
	st := fake.snapshotStatuses()
	if len(st) != 1 || st[0].State != StateSuccess || len(fake.checkRuns) != 1 || len(fake.commentsOn(testRepo, 7)) != 1 {
		t.Fatalf("after the start: statuses %+v, check runs %d", st, len(fake.checkRuns))
	}
	n.stop()

	again := startNotifier(t, path, fake)
	if err := again.hook.Idle(wctx); err != nil {
		t.Fatal(err)
	}
	if st := fake.snapshotStatuses(); len(st) != 1 || len(fake.checkRuns) != 1 {
		t.Fatalf("the second start answered again: %+v", st)
	}
}
