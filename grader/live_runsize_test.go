package grader_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// floodSandbox answers a public run with the largest report a candidate's
// code can write: 500 tests, each with a message at the cap, and a long log.
type floodSandbox struct{}

func (floodSandbox) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	type test struct {
		NodeID   string  `json:"nodeid"`
		Outcome  string  `json:"outcome"`
		Duration float64 `json:"duration"`
		Message  string  `json:"message"`
	}
	rep := struct {
		ExitStatus int    `json:"exitstatus"`
		Tests      []test `json:"tests"`
	}{ExitStatus: 1}
	for i := range 500 {
		rep.Tests = append(rep.Tests, test{NodeID: fmt.Sprintf("tests/test_x.py::test_%d", i), Outcome: "failed", Duration: 0.01, Message: strings.Repeat("m", 4096)})
	}
	data, _ := json.Marshal(rep)
	return grader.Outcome{Verdict: grader.RunOK, Public: data, CandidateLog: []byte(strings.Repeat("log line\n", 8000))}, nil
}

// What a session stores of a run (and so what the watch page and the
// playback read, once per run per view) is capped, whatever the
// candidate's code reports; the answer to the candidate's own run is
// whole. And a session stores at most LiveMaxRuns runs.
func TestLiveStoredRunsBounded(t *testing.T) {
	ctx := context.Background()
	svc := newLiveService(t, floodSandbox{})
	l, _, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada", CreatedBy: "tok_staff"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.RunLive(ctx, l.ID, []grader.File{{Path: "app/views.py", Data: []byte("fast\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Result.Tests) != 500 || len(run.Result.Tests[499].Message) != 4096 {
		t.Errorf("the candidate's answer was cut: %d tests", len(run.Result.Tests))
	}
	runs, err := svc.LiveRuns(ctx, l.ID)
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs %v, %v", runs, err)
	}
	stored, _ := json.Marshal(runs[0])
	whole, _ := json.Marshal(run)
	const bound = grader.LiveRunLogBytes + grader.LiveRunMessageBytes + 500*(64+300)
	if len(stored) > bound {
		t.Errorf("a stored run is %d bytes (the whole run %d); want at most %d", len(stored), len(whole), bound)
	}
	if runs[0].Result == nil || len(runs[0].Result.Tests) != 500 || runs[0].Result.Tests[0].Message != strings.Repeat("m", 4096) {
		t.Errorf("the stored run lost its tests or its first messages")
	}

	// The count: a session at LiveMaxRuns runs no more.
	if _, err := svc.LiveStore.UpdateLive(ctx, l.ID, func(l *grader.LiveSession) error { l.Runs = grader.LiveMaxRuns; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := svc.LiveStore.PutLiveRun(ctx, l.ID, &grader.LiveRun{Snapshot: 1}); grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Errorf("run %d: %v, want ETOOLARGE", grader.LiveMaxRuns+1, err)
	}
}
