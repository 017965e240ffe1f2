package grader

import "sync"

// Event types.
const (
	EventQueued   = "queued"   // stored and waiting for a worker
	EventRunning  = "running"  // a worker started grading it
	EventFinished = "finished" // done or error; the submission holds the result
)

// Event tells listeners that a submission changed. Submission is a snapshot;
// listeners must not modify it.
type Event struct {
	Type       string
	Submission *Submission
}

// listeners are the functions told about every event.
type listeners struct {
	mu  sync.RWMutex
	fns []func(Event)
}

// Listen registers fn to be told of every event, in the goroutine that
// caused it: fn must return quickly and hand slow work (an HTTP call to
// GitHub, say) to a goroutine of its own.
func (s *Service) Listen(fn func(Event)) {
	s.listeners.mu.Lock()
	defer s.listeners.mu.Unlock()
	s.listeners.fns = append(s.listeners.fns, fn)
}

func (s *Service) emit(e Event) {
	s.listeners.mu.RLock()
	defer s.listeners.mu.RUnlock()
	for _, fn := range s.listeners.fns {
		fn(e)
	}
	s.hub.publish(e)
	s.liveFinished(e)
}

// hub fans events out to subscribers of one submission, or of all ("").
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan Event]struct{}
}

// publish never blocks the grader: a subscriber that is behind misses an
// event and reads the final state back from the store.
func (h *hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, key := range []string{"", e.Submission.ID} {
		for ch := range h.subs[key] {
			select {
			case ch <- e:
			default:
			}
		}
	}
}

// Subscribe returns a channel of the events of the submission with the id,
// or of every submission when id is "", and a function that ends the
// subscription. Events are dropped, never waited for, when the channel is
// full: who waits for a submission's end must read it back from the store.
func (s *Service) Subscribe(id string) (<-chan Event, func()) {
	h := &s.hub
	ch := make(chan Event, 32)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan Event]struct{}{}
	}
	if h.subs[id] == nil {
		h.subs[id] = map[chan Event]struct{}{}
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
