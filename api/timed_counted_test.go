package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
)

// The attempt that counts, for staff, is chosen by the effective score:
// a reviewer who overrides the best attempt to 0 (it was copied) moves
// "counts: best" to the next best, as the exports' effective scores say.
// The candidate, who never learns of an override, keeps seeing the
// automatic choice.
func TestTimedCountedAttemptFollowsOverridesForStaff(t *testing.T) {
	e := newTimedEnv(t)
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	svc := grader.NewService(grader.Config{Store: e.store, Auth: e.store, Reviews: e.store, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	e.srv.Close()
	e.srv = httptest.NewServer(New(Config{Grader: svc, Catalog: cat, Auth: e.store, Reviews: svc, RatePerSecond: -1}).Handler())
	t.Cleanup(e.srv.Close)

	a := e.create(t, map[string]any{"counts": "best"})
	ctx := context.Background()
	var ids []string
	for _, score := range []int{9, 5} {
		res, body := e.submit(t, a.Secret)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("submit: %d %s", res.StatusCode, body)
		}
		var s struct{ ID string }
		json.Unmarshal(body, &s)
		sub, err := e.store.ClaimNext(ctx)
		if err != nil || sub == nil || sub.ID != s.ID {
			t.Fatalf("claim: %v %v", sub, err)
		}
		if err := e.store.Finish(ctx, s.ID, grader.StatusDone, &grader.Result{Score: score, MaxScore: 10, Verdict: grader.VerdictFailed}, ""); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	path := "/api/v1/assignments/" + a.ID
	if got := e.ok(t, http.MethodGet, path, e.staff, nil); got.Counted != ids[0] {
		t.Fatalf("before the override, counted %q, want %q", got.Counted, ids[0])
	}
	res, body := e.call(t, http.MethodPost, "/api/v1/submissions/"+ids[0]+"/override", e.staff, map[string]any{"score": 0, "reason": "copied"})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("override: %d %s", res.StatusCode, body)
	}
	if got := e.ok(t, http.MethodGet, path, e.staff, nil); got.Counted != ids[1] {
		t.Errorf("staff: counted %q after the best attempt was overridden to 0, want %q", got.Counted, ids[1])
	}
	if got := e.ok(t, http.MethodGet, path, a.Secret, nil); got.Counted != ids[0] {
		t.Errorf("candidate: counted %q, want the automatic choice %q", got.Counted, ids[0])
	}
}
