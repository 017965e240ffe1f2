package api

import (
	"sync"

	"github.com/djgrade/djgrade/grader"
)

// hub fans the grader's events out to the requests waiting on one
// submission (?wait and event streams), so that none of them polls.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan grader.Event]struct{}
}

func newHub() *hub { return &hub{subs: map[string]map[chan grader.Event]struct{}{}} }

// publish is the grader's listener. It runs in the grader's goroutine, so it
// never blocks: a subscriber that is behind misses an event, and the final
// state is read back from the store by whoever waits for it.
func (h *hub) publish(e grader.Event) {
	if e.Submission == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[e.Submission.ID] {
		select {
		case ch <- e:
		default:
		}
	}
}

// subscribe returns a channel of the submission's events and a function
// that ends the subscription.
func (h *hub) subscribe(id string) (<-chan grader.Event, func()) {
	ch := make(chan grader.Event, 16)
	h.mu.Lock()
	if h.subs[id] == nil {
		h.subs[id] = map[chan grader.Event]struct{}{}
	}
	h.subs[id][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.subs[id], ch)
		if len(h.subs[id]) == 0 {
			delete(h.subs, id)
		}
	}
}
