// Package webhook delivers djgrade's outbound events (grader.OutboundEvent)
// to the HTTP endpoints of hiring tools: it is the grader.Outbox of a
// server with webhooks.
//
// An admin registers an Endpoint: a URL, the event types it wants and a
// secret. Publish stores the event and one pending Delivery per enabled
// endpoint subscribed to its type, in one transaction of the Store, before
// it returns; the dispatcher (Outbox.Run) then POSTs the event's JSON to
// each endpoint, signed (see Sign), and retries a failure with exponential
// backoff and jitter until MaxAttempts or MaxAge. Every attempt is recorded
// in the delivery's log. A delivery still pending when the server stops is
// attempted again when it starts: delivery is at least once, and receivers
// tell a repeat by the event id (header Djgrade-Event-Id).
package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// EventPing is the type of the event Outbox.Ping sends to one endpoint,
// whatever it subscribed to.
const EventPing = "ping"

// AllEvents subscribes an endpoint to every event type, present and future.
const AllEvents = "*"

// EventTypes are the types an endpoint may subscribe to (besides AllEvents).
var EventTypes = []string{grader.OutboundSubmissionFinished, grader.OutboundAssignmentCompleted, grader.OutboundOverrideMade}

// Limits of what an admin and the publishers may give.
const (
	// MaxURLLen bounds an endpoint's URL.
	MaxURLLen = 2048
	// MaxDescriptionChars bounds an endpoint's description.
	MaxDescriptionChars = 500
	// MinSecretLen and MaxSecretLen bound a secret an admin gives.
	MinSecretLen = 16
	MaxSecretLen = 256
	// MaxEndpoints bounds the endpoints registered at once.
	MaxEndpoints = 50
	// MaxEventIDLen and MaxEventTypeLen bound a published event's id and type.
	MaxEventIDLen   = 200
	MaxEventTypeLen = 64
	// MaxEventBytes bounds the JSON body of one event.
	MaxEventBytes = 256 << 10
	// MaxSnippetBytes is how much of a receiver's answer an attempt keeps.
	MaxSnippetBytes = 1024
	// MaxErrorChars bounds the error an attempt keeps.
	MaxErrorChars = 500
	// MaxAttemptLog is how many attempts a delivery's log keeps (the latest).
	MaxAttemptLog = 50
	// MaxListLimit bounds a page of deliveries.
	MaxListLimit = 100
)

// SecretPrefix starts every secret djgrade generates, as Stripe's whsec_
// does, so that a leaked one is recognisable.
const SecretPrefix = "djgwhsec_"

// NewSecret returns a fresh endpoint secret: SecretPrefix and 32 random
// bytes in unpadded URL-safe base64.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Endpoint is a receiver of events, as stored.
type Endpoint struct {
	ID          string `json:"id"`
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
	// Events are the types it receives; AllEvents means every type.
	Events []string `json:"events"`
	// Secret is the HMAC key of its signatures. The API shows it once, in
	// the answer that created the endpoint.
	Secret string `json:"secret"`
	// Enabled endpoints get new events; a disabled one gets none, and its
	// pending deliveries wait until it is enabled again (or expire).
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy is the id of the token that registered it.
	CreatedBy string `json:"created_by"`
}

// Wants reports whether e receives events of the type.
func (e *Endpoint) Wants(typ string) bool {
	for _, t := range e.Events {
		if t == AllEvents || t == typ {
			return true
		}
	}
	return false
}

// Event is an outbound event as stored: its envelope and the exact body
// every delivery of it sends.
type Event struct {
	ID   string    `json:"id"`
	Type string    `json:"type"`
	At   time.Time `json:"created_at"`
	// Body is the JSON of the grader.OutboundEvent, byte for byte what the
	// receivers get (and what the signature covers).
	Body []byte `json:"body"`
}

// State is where a delivery is.
type State string

// Delivery states.
const (
	// StatePending: not yet accepted by the receiver; attempted at NextAt.
	StatePending State = "pending"
	// StateDelivered: a 2xx answer was received.
	StateDelivered State = "delivered"
	// StateFailed: every attempt failed and no more are made (MaxAttempts,
	// MaxAge, or the endpoint is gone); Redeliver tries again.
	StateFailed State = "failed"
)

// Delivery is one event on its way to one endpoint, with its log.
type Delivery struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
	Event    string `json:"event"`
	Type     string `json:"type"`
	State    State  `json:"state"`
	// AttemptCount counts every attempt made; Attempts keeps the latest
	// MaxAttemptLog of them, oldest first.
	AttemptCount int       `json:"attempt_count"`
	Attempts     []Attempt `json:"attempts"`
	// NextAt is when a pending delivery is attempted next.
	NextAt    time.Time `json:"next_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	// DoneAt is when it was delivered or given up.
	DoneAt time.Time `json:"done_at,omitzero"`
	// RedeliveryOf is the delivery an admin redelivered to make this one.
	RedeliveryOf string `json:"redelivery_of,omitempty"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	At time.Time `json:"at"`
	// StatusCode is the receiver's HTTP status (0: no answer).
	StatusCode int `json:"status_code"`
	// Response is the start of the receiver's answer (MaxSnippetBytes).
	Response string `json:"response,omitempty"`
	// Error says why the attempt failed without an answer, or what was
	// wrong with the answer.
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// Store keeps endpoints, events and deliveries durably (grader/bolt). Every
// method is one transaction: a refused call stores nothing.
type Store interface {
	// CreateEndpoint stores e (ID and CreatedAt set by the caller); more
	// than max endpoints is EINVALID, an id already stored ECONFLICT.
	CreateEndpoint(ctx context.Context, e *Endpoint, max int) error
	// UpdateEndpoint loads the endpoint, calls fn and stores it if fn
	// returns nil. Enabling an endpoint makes its pending deliveries due now.
	UpdateEndpoint(ctx context.Context, id string, fn func(*Endpoint) error) (*Endpoint, error)
	// Endpoint returns the endpoint with the id, or ENOTFOUND.
	Endpoint(ctx context.Context, id string) (*Endpoint, error)
	// Endpoints returns every endpoint, oldest first.
	Endpoints(ctx context.Context) ([]*Endpoint, error)
	// DeleteEndpoint removes the endpoint and its deliveries (ENOTFOUND if
	// none); events stay for the other endpoints.
	DeleteEndpoint(ctx context.Context, id string) error
	// PublishEvent stores ev and a pending delivery, due at now, for every
	// enabled endpoint that wants its type (with only set: for that
	// endpoint alone, whatever it wants). An event id already stored
	// stores nothing and returns false.
	PublishEvent(ctx context.Context, ev *Event, only string, now time.Time) (created bool, deliveries []*Delivery, err error)
	// Event returns the stored event, or ENOTFOUND.
	Event(ctx context.Context, id string) (*Event, error)
	// Redeliver stores a new pending delivery, due at now, of the event of
	// the delivery of the endpoint (ENOTFOUND if the delivery is not the
	// endpoint's); one still pending is ECONFLICT.
	Redeliver(ctx context.Context, endpoint, delivery string, now time.Time) (*Delivery, error)
	// Delivery returns the delivery with the id, or ENOTFOUND.
	Delivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries returns the endpoint's deliveries newest first, after the
	// delivery before (a cursor; "" for the newest), at most limit.
	Deliveries(ctx context.Context, endpoint, before string, limit int) ([]*Delivery, error)
	// DueDeliveries returns up to limit pending deliveries whose NextAt is
	// not after now, earliest first, and the NextAt of the earliest one not
	// yet due (zero if none).
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, time.Time, error)
	// RecordAttempt appends a to the delivery's log and sets its state:
	// pending with next as its NextAt, or delivered or failed (done at
	// a.At). A delivery that is no longer pending is ECONFLICT.
	RecordAttempt(ctx context.Context, id string, a Attempt, state State, next time.Time) (*Delivery, error)
	// Postpone makes a pending delivery due at next without an attempt.
	Postpone(ctx context.Context, id string, next time.Time) error
	// Prune removes delivered and failed deliveries created before before,
	// and the bodies of events created before it (their ids stay, so that
	// one is still stored once), at most limit of each; it returns how many.
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
	// OutboxMark and SetOutboxMark keep the service's watermarks
	// (grader.OutboxMarks).
	OutboxMark(ctx context.Context, name string) (time.Time, bool, error)
	SetOutboxMark(ctx context.Context, name string, t time.Time) error
}
