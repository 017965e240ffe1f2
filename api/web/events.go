package web

import (
	"net/http"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
)

// statusJSON is what a stream says about a submission: enough to update a
// table row or a progress line, nothing a candidate may not see.
type statusJSON struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Verdict  string `json:"verdict,omitempty"`
	Score    *int   `json:"score,omitempty"`
	MaxScore *int   `json:"max_score,omitempty"`
}

func statusOfSub(sub *grader.Submission, withScore bool) statusJSON {
	out := statusJSON{ID: sub.ID, Status: string(sub.Status)}
	if withScore && sub.Status == grader.StatusDone && sub.Result != nil {
		s, m := sub.Result.Score, sub.Result.MaxScore
		out.Verdict, out.Score, out.MaxScore = string(sub.Result.Verdict), &s, &m
	}
	return out
}

// stream writes server-sent events (api.ServeEvents): first the current
// state of first (if any), then one "status" event per change, until a
// final state of first, the stream's time limit, or the client leaving.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, key string, first *grader.Submission, reread func(string) *grader.Submission, withScore bool) {
	events, stop := h.cfg.Grader.Subscribe(key)
	defer stop()
	if first != nil {
		// Re-read after subscribing, so that an end in between is not missed.
		if cur := reread(first.ID); cur != nil {
			first = cur
		}
	}
	api.ServeEvents(r.Context(), w, api.Stream{
		Events: events,
		First:  first,
		Reread: reread,
		Data:   func(sub *grader.Submission) any { return statusOfSub(sub, withScore) },
		Retry:  2 * time.Second,
	})
}

// reread returns the stored submission or nil.
func (h *Handler) reread(r *http.Request) func(string) *grader.Submission {
	return func(id string) *grader.Submission {
		sub, err := h.cfg.Grader.Submission(r.Context(), id)
		if err != nil {
			return nil
		}
		return sub
	}
}

// staffEvents streams every submission's changes, or one's with ?id=.
func (h *Handler) staffEvents(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	if id == "" {
		h.stream(w, r, "", nil, h.reread(r), true)
		return
	}
	sub, err := h.cfg.Grader.Submission(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.stream(w, r, sub.ID, sub, h.reread(r), true)
}
