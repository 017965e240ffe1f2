package bolt

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

func TestLiveStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "live.db")
	s := MustOpenPath(t, path)
	a := &grader.LiveSession{Exercise: "ex", Candidate: "A", CandidateToken: "tokA", Limit: 30 * time.Minute}
	if err := s.CreateLive(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := &grader.LiveSession{Exercise: "ex", Candidate: "B", CandidateToken: "tokB"}
	if err := s.CreateLive(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Live(ctx, "live_missing"); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("missing: %v", err)
	}
	all, err := s.ListLive(ctx, "")
	if err != nil || len(all) != 2 || all[0].ID != b.ID {
		t.Fatalf("list all: %v %v", all, err)
	}
	mine, _ := s.ListLive(ctx, "tokA")
	if len(mine) != 1 || mine[0].ID != a.ID || mine[0].Limit != 30*time.Minute {
		t.Fatalf("list A: %+v", mine)
	}
	snap := &grader.LiveSnapshot{Files: []grader.File{{Path: "app/views.py", Data: []byte("x")}}, Bytes: 1}
	if err := s.AddLiveSnapshot(ctx, a.ID, snap); err != nil || snap.Seq != 1 {
		t.Fatalf("snapshot: %v %d", err, snap.Seq)
	}
	got, err := s.LiveSnapshot(ctx, a.ID, 1)
	if err != nil || len(got.Files) != 1 || string(got.Files[0].Data) != "x" {
		t.Fatalf("snapshot 1: %+v %v", got, err)
	}
	list, _ := s.LiveSnapshots(ctx, a.ID, false)
	if len(list) != 1 || list[0].Files != nil {
		t.Fatalf("snapshots without files: %+v", list)
	}
	if _, err := s.LiveSnapshot(ctx, a.ID, 2); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("snapshot 2: %v", err)
	}
	// Full: refused, and nothing stored.
	if _, err := s.UpdateLive(ctx, a.ID, func(l *grader.LiveSession) error { l.Snapshots = grader.LiveMaxSnapshots; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.AddLiveSnapshot(ctx, a.ID, &grader.LiveSnapshot{}); grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Fatalf("full: %v", err)
	}
	if l, _ := s.Live(ctx, a.ID); l.Snapshots != grader.LiveMaxSnapshots {
		t.Fatalf("refused write counted: %d", l.Snapshots)
	}
	// A failing update leaves the session as it was.
	if _, err := s.UpdateLive(ctx, a.ID, func(l *grader.LiveSession) error {
		l.Candidate = "changed"
		return grader.Errorf(grader.ECONFLICT, "no")
	}); grader.ErrorCode(err) != grader.ECONFLICT {
		t.Fatal(err)
	}
	if l, _ := s.Live(ctx, a.ID); l.Candidate != "A" {
		t.Fatalf("rejected update stored: %q", l.Candidate)
	}
	r := &grader.LiveRun{At: time.Now()}
	if err := s.PutLiveRun(ctx, a.ID, r); err != nil || r.Seq != 1 {
		t.Fatalf("run: %v %d", err, r.Seq)
	}
	r.Error = "done"
	if err := s.PutLiveRun(ctx, a.ID, r); err != nil {
		t.Fatal(err)
	}
	runs, _ := s.LiveRuns(ctx, a.ID)
	if len(runs) != 1 || runs[0].Error != "done" {
		t.Fatalf("runs: %+v", runs)
	}
	if err := s.AddLiveNote(ctx, a.ID, &grader.LiveNote{Text: "good"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddLiveNote(ctx, "live_missing", &grader.LiveNote{Text: "x"}); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("note on missing: %v", err)
	}
	// Reopen: everything is on disk.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := MustOpenPath(t, path)
	notes, err := s2.LiveNotes(ctx, a.ID)
	if err != nil || len(notes) != 1 || notes[0].Text != "good" {
		t.Fatalf("notes after reopen: %+v %v", notes, err)
	}
}

// A listing without files reads the snapshots' index, not the snapshots:
// it holds even when a snapshot's stored record (its files) cannot be read.
func TestLiveSnapshotIndex(t *testing.T) {
	ctx := context.Background()
	s := MustOpenPath(t, filepath.Join(t.TempDir(), "live.db"))
	l := &grader.LiveSession{Exercise: "demo", Candidate: "Ada", CandidateToken: "tok_c"}
	if err := s.CreateLive(ctx, l); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"app/views.py", "app/models.py"} {
		snap := &grader.LiveSnapshot{At: time.Now().UTC(), Files: []grader.File{{Path: p, Data: []byte("x")}}, Bytes: 1, Changed: []string{p}}
		if err := s.AddLiveSnapshot(ctx, l.ID, snap); err != nil || snap.Seq != i+1 {
			t.Fatalf("add: %+v, %v", snap, err)
		}
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketLiveSnapshots).Bucket([]byte(l.ID)).Put(seqKey(1), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.LiveSnapshots(ctx, l.ID, false)
	if err != nil || len(list) != 2 || list[0].Seq != 1 || list[0].Bytes != 1 || !slices.Equal(list[1].Changed, []string{"app/models.py"}) {
		t.Fatalf("listing read the snapshots themselves: %+v, %v", list, err)
	}
	if _, err := s.LiveSnapshots(ctx, l.ID, true); err == nil {
		t.Fatal("a listing with files read no file")
	}
	if err := s.SetLiveSnapshotChanged(ctx, l.ID, map[int][]string{9: {"x"}}); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("changes of a snapshot that does not exist: %v", err)
	}
}

// A session's snapshots together are capped (LiveMaxSessionBytes), not
// only their number: a save past it is ETOOLARGE and stores nothing.
func TestLiveSessionBytesCapped(t *testing.T) {
	ctx := context.Background()
	s := MustOpenPath(t, filepath.Join(t.TempDir(), "live.db"))
	s.SetNoSync(true)
	l := &grader.LiveSession{Exercise: "demo", Candidate: "Ada", CandidateToken: "tok_c"}
	if err := s.CreateLive(ctx, l); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), grader.LiveMaxSnapshotBytes)
	add := func() error {
		return s.AddLiveSnapshot(ctx, l.ID, &grader.LiveSnapshot{At: time.Now(), Files: []grader.File{{Path: "app/views.py", Data: big}}, Bytes: len(big)})
	}
	n := int(grader.LiveMaxSessionBytes / grader.LiveMaxSnapshotBytes)
	for i := range n {
		if err := add(); err != nil {
			t.Fatalf("snapshot %d of %d: %v", i+1, n, err)
		}
	}
	if err := add(); grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Fatalf("a snapshot past %d bytes in all: %v, want ETOOLARGE", grader.LiveMaxSessionBytes, err)
	}
	got, _ := s.Live(ctx, l.ID)
	if got.Snapshots != n || got.SnapshotBytes != grader.LiveMaxSessionBytes {
		t.Errorf("after the refusal: %d snapshots, %d bytes; want %d and %d", got.Snapshots, got.SnapshotBytes, n, grader.LiveMaxSessionBytes)
	}
	if n >= grader.LiveMaxSnapshots {
		t.Errorf("the byte cap (%d snapshots at the largest) is no lower than the count cap (%d)", n, grader.LiveMaxSnapshots)
	}
}

// The runs' summaries come from their index, not the runs (whose stored
// record may be unreadable here); a run stored before the index is read
// whole and summarized.
func TestLiveRunIndex(t *testing.T) {
	ctx := context.Background()
	s := MustOpenPath(t, filepath.Join(t.TempDir(), "live.db"))
	l := &grader.LiveSession{Exercise: "demo", Candidate: "Ada", CandidateToken: "tok_c"}
	if err := s.CreateLive(ctx, l); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		run := &grader.LiveRun{Snapshot: 1, Result: &grader.PublicRun{Verdict: grader.VerdictFailed, Reason: "1 of 2 public tests failed",
			Tests: []grader.TestJSON{{Name: "a", Outcome: grader.OutcomePassed}, {Name: "b", Outcome: grader.OutcomeFailed}}}}
		if err := s.PutLiveRun(ctx, l.ID, run); err != nil {
			t.Fatal(err)
		}
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket(bucketLiveRuns).Bucket([]byte(l.ID)).Put(seqKey(1), []byte("{not json")); err != nil {
			return err
		}
		return tx.Bucket(bucketLiveRunIndex).Bucket([]byte(l.ID)).Delete(seqKey(2)) // as if stored before the index
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.LiveRunSummaries(ctx, l.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("summaries %v, %v", list, err)
	}
	for _, r := range list {
		if r.Result == nil || r.Result.Verdict != grader.VerdictFailed || r.Result.Tests != nil || r.Summary == nil || *r.Summary != (grader.LiveRunSummary{Passed: 1, Tests: 2}) {
			t.Errorf("run %d summarized as %+v (%+v)", r.Seq, r, r.Summary)
		}
	}
}
