package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
)

// The candidate's live endpoints take the token's rate and, while a body
// of files is read, one of its upload slots: the API's limits, shared, so
// the editor's endpoints are no way around them (saves without end at the
// speed of the connection, bodies of up to liveBodyMax read at once
// without a bound).
func TestLiveEditorTakesTheAPILimits(t *testing.T) {
	e, _ := newLiveEnv(t)
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	staff := e.browser()
	staff.login(staffSecret)
	id, secret := startLive(t, staff, "Ada Lovelace", grader.ModePractice)
	cand := e.browser()
	cand.login(secret)
	res, body := cand.get("/ui/l/" + id)
	wantStatus(t, "the editor", res, body, http.StatusOK)
	tok, err := e.store.TokenBySecret(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	save := func(content string) (*http.Response, string) {
		return cand.sendJSON("/ui/l/"+id+"/save", cand.csrf, filesBody(fileIn{Path: "library/serializers.py", Content: content}))
	}

	// The upload slots: with the token's taken, a save waits for none.
	limits := api.NewLimits(-1, 0, 0, 0)
	e.h.cfg.Limits = limits
	var held []func()
	for range api.DefaultMaxUploadsPerToken {
		release, err := limits.Upload(tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, release)
	}
	res, body = save("# while the slots are taken\n")
	wantStatus(t, "a save with the token's upload slots taken", res, body, http.StatusServiceUnavailable)
	for _, release := range held {
		release()
	}
	res, body = save("# once they are free\n")
	wantStatus(t, "a save with a slot free", res, body, http.StatusOK)

	// The rate: a burst of 2 and next to no refill.
	e.h.cfg.Limits = api.NewLimits(0.0001, 2, 0, 0)
	statuses := []int{}
	for i := range 4 {
		res, _ := save("# save " + string(rune('a'+i)) + "\n")
		statuses = append(statuses, res.StatusCode)
	}
	if statuses[0] != http.StatusOK || statuses[3] != http.StatusTooManyRequests {
		t.Errorf("4 saves at once with a burst of 2: %v, want the first taken and the last 429", statuses)
	}
}
