package bolt

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

var t1 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// TestOpenAssignmentFirstWins opens one assignment from many goroutines at
// different times: every caller gets back the same OpenedAt, one of theirs.
func TestOpenAssignmentFirstWins(t *testing.T) {
	ctx := context.Background()
	store := MustOpenPath(t, filepath.Join(t.TempDir(), "djgrade.db"))
	a := &grader.Assignment{Exercise: "demo", Candidate: "Ada", Token: "tok_c", TimeLimit: time.Hour}
	if err := store.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	const n = 16
	got := make([]time.Time, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := store.OpenAssignment(ctx, a.ID, t1.Add(time.Duration(i)*time.Minute))
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = b.OpenedAt
		}()
	}
	wg.Wait()
	stored, _ := store.Assignment(ctx, a.ID)
	for i, g := range got {
		if !g.Equal(stored.OpenedAt) {
			t.Fatalf("caller %d saw %v, stored %v", i, g, stored.OpenedAt)
		}
	}
	if stored.OpenedAt.Before(t1) || stored.OpenedAt.After(t1.Add(n*time.Minute)) {
		t.Fatalf("stored %v is none of the callers'", stored.OpenedAt)
	}
	if _, err := store.OpenAssignment(ctx, "asg_nope", t1); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("unknown id: %v", err)
	}
	// Extend refused: nothing written.
	if _, err := store.ExtendAssignment(ctx, a.ID, grader.Extension{At: t1}); grader.ErrorCode(err) != grader.EINVALID {
		t.Fatalf("empty extension: %v", err)
	}
	if b, _ := store.Assignment(ctx, a.ID); len(b.Extensions) != 0 {
		t.Fatalf("refused extension stored")
	}
	if b, err := store.ExtendAssignment(ctx, a.ID, grader.Extension{At: t1, By: "tok_s", Added: 10 * time.Minute}); err != nil || b.EffectiveTimeLimit() != 70*time.Minute {
		t.Fatalf("extend: %v %v", err, b)
	}
	if b, _ := store.Assignment(ctx, a.ID); len(b.Extensions) != 1 || b.Extensions[0].By != "tok_s" {
		t.Fatalf("extension not stored: %+v", b.Extensions)
	}
}
