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
	out := openStream(w, st.Retry)
	if st.First != nil {
		if err := out.send("status", st.Data(st.First)); err != nil || st.First.Status.Final() {
			return
		}
	} else if out.comment("open") != nil {
		return
	}
	pump(ctx, out, st.Events, func(e grader.Event) (bool, error) {
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
		err := out.send(name, st.Data(cur))
		return st.First != nil && cur.Status.Final(), err
	})
}

// ServeLiveEvents writes a live session's events to w, each named by its
// type and as the audience may see it (grader.LiveEventFor), until
// maxStream, a failed write or ctx's end: the one stream of a live
// session, for the API and the pages. The client reads the session back
// when it reconnects: an event missed in between is in the store.
func ServeLiveEvents(ctx context.Context, w http.ResponseWriter, events <-chan grader.LiveEvent, staff bool) {
	out := openStream(w, 0)
	if out.comment("open") != nil {
		return
	}
	pump(ctx, out, events, func(e grader.LiveEvent) (bool, error) {
		seen := grader.LiveEventFor(e, staff)
		if seen == nil {
			return false, nil
		}
		return false, out.send(e.Type, seen)
	})
}

// stream is an open event stream: each write has a deadline and is flushed.
type stream struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	retry string
}

func openStream(w http.ResponseWriter, retry time.Duration) *stream {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	out := &stream{w: w, rc: http.NewResponseController(w)}
	if retry > 0 {
		out.retry = fmt.Sprintf("retry: %d\n", retry.Milliseconds())
	}
	return out
}

// send writes one event of the JSON of v.
func (s *stream) send(event string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
	if _, err := fmt.Fprintf(s.w, "%sevent: %s\ndata: %s\n\n", s.retry, event, data); err != nil {
		return err
	}
	return s.rc.Flush()
}

// comment writes a comment line, which clients ignore.
func (s *stream) comment(text string) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(2 * heartbeat))
	if _, err := io.WriteString(s.w, ": "+text+"\n\n"); err != nil {
		return err
	}
	return s.rc.Flush()
}

// pump hands each event of ch to handle, with a heartbeat comment when
// idle, until handle says stop or fails, maxStream or ctx's end.
func pump[T any](ctx context.Context, s *stream, ch <-chan T, handle func(T) (stop bool, err error)) {
	end := time.NewTimer(maxStream)
	defer end.Stop()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case e := <-ch:
			if stop, err := handle(e); stop || err != nil {
				return
			}
		case <-tick.C:
			if s.comment("keep-alive") != nil {
				return
			}
		case <-end.C:
			return
		case <-ctx.Done():
			return
		}
	}
}
