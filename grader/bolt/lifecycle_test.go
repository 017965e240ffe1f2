package bolt

import (
	"context"
	"reflect"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// counts is how many submissions each status index holds.
func counts(t *testing.T, s *Store) map[grader.Status]int {
	t.Helper()
	out := map[grader.Status]int{}
	for _, st := range statuses {
		n, err := s.Count(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		out[st] = n
	}
	return out
}

// The store persists what grader's transitions decide: an allowed one moves
// the record and its status index, a refused one writes nothing.
func TestTransitionsPersistedOrNot(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	sub := mustCreate(t, s, "n-plus-one", "Ada")
	res := &grader.Result{Score: 2, MaxScore: 5, Verdict: grader.VerdictFailed, Log: "log"}
	steps := []struct {
		name string
		do   func() error
		code string
		want grader.Status
	}{
		{"regrade queued", func() error { _, err := s.RequeueSubmission(ctx, sub.ID); return err }, grader.ECONFLICT, grader.StatusQueued},
		{"finish queued", func() error { return s.Finish(ctx, sub.ID, grader.StatusDone, res, "") }, grader.ECONFLICT, grader.StatusQueued},
		{"claim", func() error { _, err := s.ClaimNext(ctx); return err }, "", grader.StatusRunning},
		{"cancel running", func() error { _, err := s.CancelSubmission(ctx, sub.ID); return err }, grader.ECONFLICT, grader.StatusRunning},
		{"regrade running", func() error { _, err := s.RequeueSubmission(ctx, sub.ID); return err }, grader.ECONFLICT, grader.StatusRunning},
		{"finish as cancelled", func() error { return s.Finish(ctx, sub.ID, grader.StatusCancelled, res, "x") }, grader.EINVALID, grader.StatusRunning},
		{"finish done", func() error { return s.Finish(ctx, sub.ID, grader.StatusDone, res, "") }, "", grader.StatusDone},
		{"finish again", func() error { return s.Finish(ctx, sub.ID, grader.StatusError, nil, "late") }, grader.ECONFLICT, grader.StatusDone},
		{"cancel done", func() error { _, err := s.CancelSubmission(ctx, sub.ID); return err }, grader.ECONFLICT, grader.StatusDone},
		{"regrade done", func() error { _, err := s.RequeueSubmission(ctx, sub.ID); return err }, "", grader.StatusQueued},
		{"cancel queued", func() error { _, err := s.CancelSubmission(ctx, sub.ID); return err }, "", grader.StatusCancelled},
		{"regrade cancelled", func() error { _, err := s.RequeueSubmission(ctx, sub.ID); return err }, "", grader.StatusQueued},
	}
	for _, st := range steps {
		before, err := s.Submission(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		err = st.do()
		if got := grader.ErrorCode(err); got != st.code {
			t.Fatalf("%s: code %q (%v), want %q", st.name, got, err, st.code)
		}
		after, err := s.Submission(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.code != "" && !reflect.DeepEqual(after, before) {
			t.Fatalf("%s was refused but changed the record:\n got %+v\nwant %+v", st.name, after, before)
		}
		if after.Status != st.want {
			t.Fatalf("%s: status %s, want %s", st.name, after.Status, st.want)
		}
		c := counts(t, s)
		for _, status := range statuses {
			want := 0
			if status == st.want {
				want = 1
			}
			if c[status] != want {
				t.Fatalf("%s: index counts %v, want one %s", st.name, c, st.want)
			}
		}
	}
	got, err := s.Submission(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.History) != 1 || got.History[0].Score != 2 || got.History[0].Log != "" || got.Attempts != 1 {
		t.Fatalf("history %+v attempts %d", got.History, got.Attempts)
	}
}

// A well-formed id the store does not hold is ENOTFOUND for every
// transition, before any rule.
func TestTransitionsUnknownID(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t)
	mustCreate(t, s, "n-plus-one", "Ada")
	id := mustCreate(t, MustOpen(t), "n-plus-one", "Bob").ID
	_, err := s.CancelSubmission(ctx, id)
	wantCode(t, err, grader.ENOTFOUND)
	_, err = s.RequeueSubmission(ctx, id)
	wantCode(t, err, grader.ENOTFOUND)
	wantCode(t, s.Finish(ctx, id, grader.StatusError, nil, "x"), grader.ENOTFOUND)
}
