package grader_test

import (
	"context"
	"sync"
	"testing"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// hookStore runs hook once, right after the next Live read it is armed
// for: what happens between a call's check of the session and its lock.
type hookStore struct {
	*bolt.Store
	mu   sync.Mutex
	hook func()
}

func (h *hookStore) Live(ctx context.Context, id string) (*grader.LiveSession, error) {
	l, err := h.Store.Live(ctx, id)
	h.mu.Lock()
	hook := h.hook
	h.hook = nil
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	return l, err
}

func (h *hookStore) arm(fn func()) {
	h.mu.Lock()
	h.hook = fn
	h.mu.Unlock()
}

// A save or a run that checked the session before the submit ended it,
// and then waited for the session's lock behind the submit, stores
// nothing: the last snapshot stays the one submitted, so the watch page
// and the playback never show the interviewer code other than what was
// graded (a candidate firing saves beside the submit could otherwise
// replace the code shown after the grade).
func TestLiveNoSaveAfterSubmit(t *testing.T) {
	ctx := context.Background()
	svc, store := newService(t, &fakeSandbox{})
	hs := &hookStore{Store: store}
	svc.LiveStore, svc.Auth = hs, store
	for _, act := range []string{"save", "run"} {
		l, _, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada", CreatedBy: "tok_staff"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SaveLive(ctx, l.ID, []grader.File{{Path: "app/views.py", Data: []byte("graded\n")}}); err != nil {
			t.Fatal(err)
		}
		hs.arm(func() {
			if _, err := svc.SubmitLive(ctx, l.ID, nil); err != nil {
				t.Errorf("submit: %v", err)
			}
		})
		files := []grader.File{{Path: "app/views.py", Data: []byte("shown instead\n")}}
		if act == "save" {
			_, err = svc.SaveLive(ctx, l.ID, files)
		} else {
			_, err = svc.RunLive(ctx, l.ID, files)
		}
		if grader.ErrorCode(err) != grader.ECONFLICT {
			t.Errorf("a %s that checked the session before the submit: %v, want ECONFLICT", act, err)
		}
		cur, err := svc.LiveSnapshots(ctx, l.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(cur) != 1 || string(cur[0].Files[0].Data) != "graded\n" {
			t.Errorf("%s: after the submit the session holds %d snapshots, the last %q; want only the one graded", act, len(cur), cur[len(cur)-1].Files[0].Data)
		}
		if runs, _ := svc.LiveRuns(ctx, l.ID); len(runs) != 0 {
			t.Errorf("%s: %d runs after the submit", act, len(runs))
		}
	}
}
