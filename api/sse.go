package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// Bounds of one event stream: clients reconnect after maxStream, and a
// comment every heartbeat keeps proxies from closing an idle stream.
const (
	maxStream = 10 * time.Minute
	heartbeat = 15 * time.Second
)

// Stream describes one server-sent event stream of submissions' changes,
// the one event-stream source of the API and the pages.
type Stream struct {
	// Events are the grader's events (from Subscribe); the caller ends
	// the subscription after ServeEvents returns.
	Events <-chan grader.Event
	// First, when set, is sent first as a "status" event, and the stream
	// ends at the first final state (a stream of one submission). When
	// nil the stream opens with a comment and follows every event.
	First *grader.Submission
	// Reread returns the stored submission with the id, or nil: a
	// finished event's snapshot may predate the stored result.
	Reread func(id string) *grader.Submission
	// Data is the JSON value of an event for a submission: what the
	// audience of the stream may see of it.
	Data func(*grader.Submission) any
	// Name names the event sent for e; nil means "status".
	Name func(e grader.Event) string
	// Retry, when positive, is sent with each event as the client's
	// reconnection delay.
	Retry time.Duration
}

// ServeEvents writes the stream to w until a final state of First,
// maxStream, a failed write or ctx's end.
func ServeEvents(ctx context.Context, w http.ResponseWriter, st Stream) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	retry := ""
	if st.Retry > 0 {
		retry = fmt.Sprintf("retry: %d\n", st.Retry.Milliseconds())
	}
	send := func(event string, sub *grader.Submission) error {
		data, err := json.Marshal(st.Data(sub))
		if err != nil {
			return err
		}
		_ = rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
		if _, err := fmt.Fprintf(w, "%sevent: %s\ndata: %s\n\n", retry, event, data); err != nil {
			return err
		}
		return rc.Flush()
	}
	if st.First != nil {
		if err := send("status", st.First); err != nil || st.First.Status.Final() {
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
		case e := <-st.Events:
			cur := e.Submission
			if e.Type == grader.EventFinished && st.Reread != nil {
				if fresh := st.Reread(cur.ID); fresh != nil {
					cur = fresh
				}
			}
			name := "status"
			if st.Name != nil {
				name = st.Name(e)
			}
			if err := send(name, cur); err != nil || st.First != nil && cur.Status.Final() {
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
		case <-ctx.Done():
			return
		}
	}
}
