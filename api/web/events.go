package web

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

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

const (
	maxStream = 10 * time.Minute
	heartbeat = 15 * time.Second
)

// stream writes server-sent events: first the current state of sub (if
// any), then one "status" event per change that keep accepts, until a
// final state of sub, maxStream, or the client leaving.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, key string, first *grader.Submission, reread func(string) *grader.Submission, withScore bool) {
	events, stop := h.cfg.Grader.Subscribe(key)
	defer stop()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	send := func(sub *grader.Submission) error {
		data, err := json.Marshal(statusOfSub(sub, withScore))
		if err != nil {
			return err
		}
		_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
		if _, err := fmt.Fprintf(w, "retry: 2000\nevent: status\ndata: %s\n\n", data); err != nil {
			return err
		}
		return rc.Flush()
	}
	if first != nil {
		// Re-read after subscribing, so that an end in between is not missed.
		if cur := reread(first.ID); cur != nil {
			first = cur
		}
		if err := send(first); err != nil || first.Status.Final() {
			return
		}
	} else if _, err := io.WriteString(w, ": open\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	end := time.NewTimer(maxStream)
	defer end.Stop()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case e := <-events:
			cur := e.Submission
			if e.Type == grader.EventFinished {
				// The event's snapshot may predate the stored result.
				if fresh := reread(cur.ID); fresh != nil {
					cur = fresh
				}
			}
			if err := send(cur); err != nil || first != nil && cur.Status.Final() {
				return
			}
		case <-tick.C:
			_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			_ = rc.Flush()
		case <-end.C:
			return
		case <-r.Context().Done():
			return
		}
	}
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
