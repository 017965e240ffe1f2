package bolt

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// The review trail on a real file: entries are appended in order with
// their sequence numbers, a refused decision stores nothing, an unknown
// submission is the one not-found answer, concurrent appends each get
// their own number, and everything survives a reopen.
func TestReviewTrail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "djgrade.db")
	s := MustOpenPath(t, path)
	sub := mustCreate(t, s, "e", "Ada")
	other := mustCreate(t, s, "e", "Bob")

	if trail, err := s.ReviewTrail(ctx, sub.ID); err != nil || len(trail) != 0 || trail == nil {
		t.Fatalf("empty trail: %#v %v", trail, err)
	}
	add := func(id string, e grader.ReviewEntry) (grader.ReviewEntry, error) {
		return s.AppendReview(ctx, id, func(got *grader.Submission, trail []grader.ReviewEntry) (grader.ReviewEntry, error) {
			if got.ID != id {
				t.Errorf("decide got submission %s, want %s", got.ID, id)
			}
			return e, nil
		})
	}
	first, err := add(sub.ID, grader.ReviewEntry{Kind: grader.ReviewNote, Text: "reads well"})
	if err != nil || first.Seq != 1 {
		t.Fatalf("first: %+v %v", first, err)
	}
	seven := 7
	second, err := add(sub.ID, grader.ReviewEntry{Kind: grader.ReviewOverride, Text: "flaky check", Score: &seven})
	if err != nil || second.Seq != 2 {
		t.Fatalf("second: %+v %v", second, err)
	}
	// decide sees the trail so far; its error stores nothing.
	boom := grader.Errorf(grader.ECONFLICT, "no")
	_, err = s.AppendReview(ctx, sub.ID, func(_ *grader.Submission, trail []grader.ReviewEntry) (grader.ReviewEntry, error) {
		if len(trail) != 2 || trail[0].Text != "reads well" || trail[1].Seq != 2 {
			t.Errorf("decide saw %+v", trail)
		}
		return grader.ReviewEntry{}, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("refused: %v", err)
	}
	for _, id := range []string{"sub_nope", "", "0000000000000000000000000"} {
		_, err := add(id, grader.ReviewEntry{Kind: grader.ReviewNote, Text: "x"})
		wantCode(t, err, grader.ENOTFOUND)
	}
	if _, err := add(other.ID, grader.ReviewEntry{Kind: grader.ReviewNote, Text: "other"}); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := add(sub.ID, grader.ReviewEntry{Kind: grader.ReviewNote, Text: "n"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()

	s.Close()
	s = MustOpenPath(t, path)
	trail, err := s.ReviewTrail(ctx, sub.ID)
	if err != nil || len(trail) != 12 {
		t.Fatalf("after reopen: %d entries, %v", len(trail), err)
	}
	for i, e := range trail {
		if e.Seq != i+1 {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
	if trail[1].Kind != grader.ReviewOverride || *trail[1].Score != 7 {
		t.Fatalf("override kept as %+v", trail[1])
	}
	sums, err := s.ReviewSummaries(ctx, []string{sub.ID, other.ID, "bogus", mustCreate(t, s, "e", "Cy").ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 2 || sums[sub.ID].Notes != 11 || sums[sub.ID].Overrides != 1 || sums[sub.ID].Current == nil || *sums[sub.ID].Current.Score != 7 ||
		sums[other.ID].Notes != 1 || sums[other.ID].Current != nil {
		t.Fatalf("summaries: %+v", sums)
	}
	// The submission itself is untouched by its review.
	if got, _ := s.Submission(ctx, sub.ID); got.Result != nil || got.Status != grader.StatusQueued {
		t.Fatalf("submission changed: %+v", got)
	}
}
