package grader_test

import (
	"context"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// A file name with an invisible or direction-changing character (an
// editable glob lets a candidate name files) is refused and stores
// nothing: on the interviewer's pages "app/extra/x\u202eyp.py" reads as
// another path than it is.
func TestLiveRefusesFormatCharactersInPaths(t *testing.T) {
	ctx := context.Background()
	svc := newLiveService(t, &fakeSandbox{})
	l, _, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada", CreatedBy: "tok_staff"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"app/extra/x\u202eyp.py", "app/extra/views\u200b.py", "app/extra/a\u2066b\u2069.py", "app/extra/\ufeffx.py"} {
		if _, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: p, Data: []byte("x = 1\n")}}); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("save of %q: %v, want EINVALID", p, err)
		}
	}
	if got, _ := svc.Live(ctx, l.ID); got.Snapshots != 0 {
		t.Errorf("refused saves stored %d snapshots", got.Snapshots)
	}
	if _, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: "app/extra/café.py", Data: []byte("x = 1\n")}}); err != nil {
		t.Errorf("a name with a letter outside ASCII: %v", err)
	}
}
