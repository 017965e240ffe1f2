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
}
