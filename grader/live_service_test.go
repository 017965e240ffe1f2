package grader_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

func newLiveService(t *testing.T, sb grader.Sandbox) *grader.Service {
	t.Helper()
	svc, store := newService(t, sb)
	svc.LiveStore, svc.Auth = store, store
	return svc
}

// collect reads the session's events until n have come or a second passes.
func collect(ch <-chan grader.LiveEvent, n int) []string {
	var got []string
	timeout := time.After(time.Second)
	for len(got) < n {
		select {
		case e := <-ch:
			got = append(got, e.Type)
		case <-timeout:
			return got
		}
	}
	return got
}

// A session from start to submit: the countdown starts when the candidate
// opens it, saves merge over the latest snapshot, a run stores what it ran
// and its result, the submit queues the snapshot under the session's
// assignment at live priority and ends the session, and every step is an
// event.
func TestLiveSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	sb := &fakeSandbox{}
	svc := newLiveService(t, sb)
	l, secret, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada", CreatedBy: "tok_staff"})
	if err != nil {
		t.Fatal(err)
	}
	if secret == "" || l.Mode != grader.ModePractice || l.Limit != grader.LiveDefaultLimit || !l.StartedAt.IsZero() {
		t.Fatalf("started %+v (secret %q)", l, secret)
	}
	tok, err := svc.Auth.TokenBySecret(ctx, secret)
	if err != nil || tok.ID != l.CandidateToken || tok.Role != grader.RoleCandidate {
		t.Fatalf("candidate token %+v, %v", tok, err)
	}
	a, err := svc.Auth.Assignment(ctx, l.Assignment)
	if err != nil || a.Live != l.ID || a.Token != tok.ID {
		t.Fatalf("assignment %+v, %v", a, err)
	}
	events, stop, err := svc.SubscribeLive(l.ID, "tok_staff")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	if l, err = svc.OpenLive(ctx, l.ID); err != nil || l.StartedAt.IsZero() || l.EndsAt.Sub(l.StartedAt) != grader.LiveDefaultLimit {
		t.Fatalf("opened %+v, %v", l, err)
	}
	again, _ := svc.OpenLive(ctx, l.ID)
	if !again.StartedAt.Equal(l.StartedAt) {
		t.Errorf("a second open moved the countdown: %v, then %v", l.StartedAt, again.StartedAt)
	}

	starter, editable, current, err := svc.LiveFiles(ctx, l.ID)
	if err != nil || len(editable) != 1 || editable[0] != "app/views.py" || len(current) != 1 || string(current[0].Data) != "slow\n" {
		t.Fatalf("files: editable %v current %+v, %v", editable, current, err)
	}
	if len(starter) < 4 {
		t.Errorf("starter has %d files", len(starter))
	}

	s1, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: "./app/views.py", Data: []byte("fast\n")}})
	if err != nil || s1.Seq != 1 {
		t.Fatalf("save: %+v, %v", s1, err)
	}
	same, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: "app/views.py", Data: []byte("fast\n")}})
	if err != nil || same.Seq != 1 {
		t.Errorf("an unchanged save stored snapshot %+v, %v", same, err)
	}
	// A new file at an editable path joins the set; the others are kept.
	s2, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: "app/cache_helpers.py", Data: []byte("x = 1\n")}})
	if err != nil || s2.Seq != 2 || len(s2.Files) != 2 || s2.Files[1].Path != "app/views.py" || string(s2.Files[1].Data) != "fast\n" {
		t.Fatalf("merge: %+v, %v", s2, err)
	}
	_, _, current, _ = svc.LiveFiles(ctx, l.ID)
	if len(current) != 2 {
		t.Errorf("current after the merge: %+v", current)
	}

	run, err := svc.RunLive(ctx, l.ID, nil)
	if err != nil || run.Seq != 1 || run.Snapshot != 2 || run.Result == nil || run.Result.Verdict != grader.VerdictPassed || run.Done.IsZero() {
		t.Fatalf("run: %+v, %v", run, err)
	}
	if job := sb.jobs[len(sb.jobs)-1]; !job.PublicOnly {
		t.Errorf("a live run ran the judge: %+v", job)
	}
	if _, err := svc.RunLive(ctx, l.ID, nil); grader.ErrorCode(err) != grader.ERATELIMIT {
		t.Errorf("a second run at once: %v, want ERATELIMIT", err)
	}
	runs, _ := svc.LiveRuns(ctx, l.ID)
	if len(runs) != 1 || runs[0].Result == nil {
		t.Errorf("stored runs %+v", runs)
	}

	sub, err := svc.SubmitLive(ctx, l.ID, []grader.File{{Path: "app/views.py", Data: []byte("final\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if sub.Priority != grader.PriorityLive || sub.Assignment != l.Assignment || sub.Owner != tok.ID || sub.Source.Kind != grader.SourceLive || sub.Source.Live != l.ID {
		t.Errorf("submission %+v (source %+v)", sub, sub.Source)
	}
	files, _ := svc.SubmissionFiles(ctx, sub.ID)
	if len(files) != 2 || string(files[1].Data) != "final\n" {
		t.Errorf("submitted files %+v", files)
	}
	l, _ = svc.Live(ctx, l.ID)
	if l.State(time.Now()) != grader.LiveEnded || l.EndedBy != grader.LiveEndedBySubmit || l.Submission != sub.ID || l.Snapshots != 3 || l.Runs != 1 {
		t.Errorf("after the submit: %+v", l)
	}
	if _, err := svc.SubmitLive(ctx, l.ID, nil); grader.ErrorCode(err) != grader.ECONFLICT {
		t.Errorf("a second submit: %v, want ECONFLICT", err)
	}
	if _, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: "app/views.py", Data: []byte("late\n")}}); grader.ErrorCode(err) != grader.ECONFLICT {
		t.Errorf("a save after the end: %v, want ECONFLICT", err)
	}
	want := []string{"started", "save", "save", "run_start", "run", "save", "submitted", "ended"}
	if got := collect(events, len(want)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("events %v, want %v", got, want)
	}

	// The workers grade it, and the session hears the grade.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go svc.Run(runCtx)
	waitFinal(t, svc, sub.ID)
	if got := collect(events, 1); len(got) != 1 || got[0] != grader.LiveEventGraded {
		t.Errorf("after grading: %v, want graded", got)
	}
}

// Everything a candidate types is checked like an upload, and nothing of a
// refused save is stored; a live assignment takes no upload.
func TestLiveSessionRefusals(t *testing.T) {
	ctx := context.Background()
	svc := newLiveService(t, &fakeSandbox{})
	l, _, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada", Limit: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files []grader.File
		code  string
	}{
		{"not editable", []grader.File{{Path: "app/models.py", Data: []byte("x")}}, grader.EINVALID},
		{"leaves the tree", []grader.File{{Path: "../app/views.py", Data: []byte("x")}}, grader.EINVALID},
		{"absolute", []grader.File{{Path: "/app/views.py", Data: []byte("x")}}, grader.EINVALID},
		{"reserved", []grader.File{{Path: ".djgrade/x", Data: []byte("x")}}, grader.EINVALID},
		{"noise", []grader.File{{Path: "app/extra/__pycache__/a.pyc", Data: []byte("x")}}, grader.EINVALID},
		{"twice", []grader.File{{Path: "app/views.py", Data: []byte("a")}, {Path: "./app/views.py", Data: []byte("b")}}, grader.EINVALID},
		{"binary", []grader.File{{Path: "app/views.py", Data: []byte{0xff, 0xfe}}}, grader.EINVALID},
		{"too large", []grader.File{{Path: "app/views.py", Data: make([]byte, grader.LiveMaxSnapshotBytes+1)}}, grader.ETOOLARGE},
	} {
		if _, err := svc.SaveLive(ctx, l.ID, c.files); grader.ErrorCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if l, _ = svc.Live(ctx, l.ID); l.Snapshots != 0 {
		t.Errorf("refused saves stored %d snapshots", l.Snapshots)
	}
	for _, c := range []grader.LiveStart{
		{Exercise: "nope", Candidate: "Ada"},
		{Exercise: "demo", Candidate: ""},
		{Exercise: "demo", Candidate: "Ada", Mode: "exam"},
		{Exercise: "demo", Candidate: "Ada", Limit: grader.LiveMaxLimit + time.Second},
		{Exercise: "demo", Candidate: "Ada", Limit: -time.Minute},
		{Exercise: "demo", Candidate: "Ada", CandidateToken: "tok_nope"},
	} {
		if _, _, err := svc.StartLive(ctx, c); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("start %+v: %v, want EINVALID", c, err)
		}
	}
	if _, err := svc.AddLiveNote(ctx, l.ID, "tok_staff", strings.Repeat("n", grader.LiveMaxNoteBytes+1)); grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Errorf("a long note: %v", err)
	}
	if _, err := svc.AddLiveNote(ctx, l.ID, "tok_staff", "  "); grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("an empty note: %v", err)
	}
	_, err = svc.Create(ctx, grader.SubmitRequest{Exercise: "demo", Candidate: "Ada", Assignment: l.Assignment, Owner: l.CandidateToken,
		Files: []grader.File{{Path: "app/views.py", Data: []byte("x")}}, Source: &grader.Source{Kind: grader.SourceUpload}})
	if grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("an upload under the live assignment: %v, want EINVALID", err)
	}
	// An interviewer's end is final, and told once.
	ended, err := svc.EndLive(ctx, l.ID, "tok_staff")
	if err != nil || ended.EndedBy != "tok_staff" || ended.State(time.Now()) != grader.LiveEnded {
		t.Fatalf("end: %+v, %v", ended, err)
	}
	again, _ := svc.EndLive(ctx, l.ID, "tok_other")
	if again.EndedBy != "tok_staff" || !again.EndedAt.Equal(ended.EndedAt) {
		t.Errorf("a second end changed it: %+v", again)
	}
	if _, err := svc.RunLive(ctx, l.ID, nil); grader.ErrorCode(err) != grader.ECONFLICT {
		t.Errorf("a run after the end: %v", err)
	}
}

// blockingSandbox holds every run until release is closed.
type blockingSandbox struct {
	fakeSandbox
	started chan struct{}
	release chan struct{}
}

func (b *blockingSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	b.started <- struct{}{}
	<-b.release
	return b.fakeSandbox.Run(ctx, job)
}

// One run at a time per session, and a run whose caller leaves is still
// finished and stored.
func TestLiveSessionOneRunAtATime(t *testing.T) {
	sb := &blockingSandbox{started: make(chan struct{}, 1), release: make(chan struct{})}
	svc := newLiveService(t, sb)
	ctx := context.Background()
	l, _, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	callerCtx, leave := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = svc.RunLive(callerCtx, l.ID, nil)
	}()
	<-sb.started
	if _, err := svc.RunLive(ctx, l.ID, nil); grader.ErrorCode(err) != grader.ECONFLICT {
		t.Errorf("a run during a run: %v, want ECONFLICT", err)
	}
	leave()
	close(sb.release)
	wg.Wait()
	runs, err := svc.LiveRuns(ctx, l.ID)
	if err != nil || len(runs) != 1 || runs[0].Result == nil || runs[0].Error != "" {
		t.Fatalf("the run whose caller left: %+v, %v", runs, err)
	}
}

// A snapshot's JSON (the stream, the API, the store) carries its files as
// text, and reads back the same.
func TestLiveSnapshotJSON(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	in := grader.LiveSnapshot{Seq: 2, At: at, Bytes: 5, Files: []grader.File{{Path: "app/views.py", Data: []byte("fast\n")}}}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"files":[{"path":"app/views.py","content":"fast\n"}]`) {
		t.Errorf("JSON %s", data)
	}
	var out grader.LiveSnapshot
	if err := json.Unmarshal(data, &out); err != nil || out.Seq != 2 || !out.At.Equal(at) || len(out.Files) != 1 || string(out.Files[0].Data) != "fast\n" {
		t.Errorf("read back %+v, %v", out, err)
	}
	if data, _ := json.Marshal(grader.LiveSnapshot{Seq: 1}); strings.Contains(string(data), "files") {
		t.Errorf("a snapshot without files shows them: %s", data)
	}
}
