package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/internal/text"
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultBackoff     = 30 * time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultMaxAttempts = 12
	DefaultMaxAge      = 72 * time.Hour
	DefaultWorkers     = 4
	DefaultPoll        = 30 * time.Second
	DefaultRetention   = 30 * 24 * time.Hour
)

// pruneEvery is how often the dispatcher prunes, and pruneBatch how much
// one transaction of it removes at most.
const (
	pruneEvery = time.Hour
	pruneBatch = 1000
)

// Config is what an Outbox is made of.
type Config struct {
	Store  Store
	Policy Policy
	// Timeout bounds one attempt, from dial to the last byte read.
	Timeout time.Duration
	// Backoff is the wait after the first failed attempt; it doubles with
	// each failure up to MaxBackoff, and each wait is drawn between half
	// and all of it (jitter, so that receivers coming back are not hit by
	// every sender at once). A Retry-After of a 429 or 503, when shorter
	// than MaxBackoff, is waited instead if longer.
	Backoff, MaxBackoff time.Duration
	// MaxAttempts and MaxAge end a delivery's retries: after that many
	// attempts, or once that long has passed since it was created, a
	// failure makes it failed.
	MaxAttempts int
	MaxAge      time.Duration
	// Workers bounds the attempts in flight at once.
	Workers int
	// Poll is how often the dispatcher looks for due deliveries without a
	// wake-up (a safety net; it is woken by Publish and knows the next due).
	Poll time.Duration
	// Retention is how long delivered and failed deliveries, and events,
	// are kept (an event's id stays, so that it is never sent twice). It
	// must exceed MaxAge; a shorter one is raised to it.
	Retention time.Duration
	// Client, if set, replaces Policy.Client(Timeout) (tests of the
	// policy's dialer use the default).
	Client *http.Client
	Logger *slog.Logger
}

// Outbox is a grader.Outbox that delivers to webhook endpoints, and the
// admin's view of them. Make one with New and start its dispatcher with
// Run.
type Outbox struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
	wake   chan struct{}
	now    func() time.Time

	mu       sync.Mutex
	inflight map[string]bool
}

var (
	_ grader.Outbox      = (*Outbox)(nil)
	_ grader.OutboxMarks = (*Outbox)(nil)
)

// OutboxMark returns the service's watermark of the name (grader.OutboxMarks).
func (o *Outbox) OutboxMark(ctx context.Context, name string) (time.Time, bool, error) {
	return o.cfg.Store.OutboxMark(ctx, name)
}

// SetOutboxMark stores the service's watermark of the name.
func (o *Outbox) SetOutboxMark(ctx context.Context, name string, t time.Time) error {
	return o.cfg.Store.SetOutboxMark(ctx, name, t)
}

// New returns an Outbox of c, with defaults in place of zero fields.
func New(c Config) *Outbox {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = c.Backoff
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Retention < c.MaxAge {
		c.Retention = c.MaxAge
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	client := c.Client
	if client == nil {
		client = c.Policy.Client(c.Timeout)
	}
	return &Outbox{cfg: c, client: client, log: c.Logger, wake: make(chan struct{}, 1), now: time.Now, inflight: map[string]bool{}}
}

// Wake tells the dispatcher to look for due deliveries now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// checkEvent refuses an event the store should not keep.
func checkEvent(ev grader.OutboundEvent) error {
	switch {
	case ev.ID == "" || len(ev.ID) > MaxEventIDLen || !printableASCII(ev.ID):
		return grader.Errorf(grader.EINVALID, "an event id must be 1 to %d printable ASCII characters", MaxEventIDLen)
	case ev.Type == "" || len(ev.Type) > MaxEventTypeLen || !printableASCII(ev.Type):
		return grader.Errorf(grader.EINVALID, "an event type must be 1 to %d printable ASCII characters", MaxEventTypeLen)
	case len(ev.Data) > 0 && !json.Valid(ev.Data):
		return grader.Errorf(grader.EINVALID, "event %s: data is not JSON", ev.ID)
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// body is the JSON every delivery of ev sends.
func body(ev grader.OutboundEvent) ([]byte, error) {
	if len(ev.Data) == 0 {
		ev.Data = json.RawMessage("{}")
	}
	ev.At = ev.At.UTC().Truncate(time.Millisecond)
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, grader.Wrap(err, grader.EINVALID, "event %s cannot be encoded", ev.ID)
	}
	if len(b) > MaxEventBytes {
		return nil, grader.Errorf(grader.ETOOLARGE, "event %s is %d bytes, over the limit of %d", ev.ID, len(b), MaxEventBytes)
	}
	return b, nil
}

// Publish stores ev and its deliveries (one per enabled endpoint that wants
// its type) before it returns, and wakes the dispatcher. An event id
// already stored stores nothing: publishing again is safe.
func (o *Outbox) Publish(ctx context.Context, ev grader.OutboundEvent) error {
	if err := checkEvent(ev); err != nil {
		return err
	}
	if ev.At.IsZero() {
		ev.At = o.now()
	}
	b, err := body(ev)
	if err != nil {
		return err
	}
	created, ds, err := o.cfg.Store.PublishEvent(ctx, &Event{ID: ev.ID, Type: ev.Type, At: ev.At.UTC(), Body: b}, "", o.now().UTC())
	if err != nil {
		return err
	}
	if created && len(ds) > 0 {
		o.Wake()
	}
	return nil
}

// NewEndpoint is what an admin gives to register an endpoint.
type NewEndpoint struct {
	URL         string
	Description string
	// Events are the types wanted; empty means AllEvents.
	Events []string
	// Secret, if empty, is generated (NewSecret).
	Secret string
	// Disabled registers it without sending it anything yet.
	Disabled bool
	// CreatedBy is the registering token's id.
	CreatedBy string
}

// checkDescription trims and bounds a description.
func checkDescription(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", grader.Errorf(grader.EINVALID, "description is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > MaxDescriptionChars {
		return "", grader.Errorf(grader.EINVALID, "description is longer than %d characters", MaxDescriptionChars)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return "", grader.Errorf(grader.EINVALID, "description has a character that is not printable")
		}
	}
	return s, nil
}

// checkEvents validates a subscription list, returning it sorted without
// repeats.
func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return []string{AllEvents}, nil
	}
	if len(events) > len(EventTypes)+1 {
		return nil, grader.Errorf(grader.EINVALID, "events lists more than the %d known types", len(EventTypes))
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if e != AllEvents && !slices.Contains(EventTypes, e) {
			return nil, grader.Errorf(grader.EINVALID, "unknown event type %q (known: %s, or %q for all)", text.Printable(clip(e, 64)), strings.Join(EventTypes, ", "), AllEvents)
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// CreateEndpoint validates and registers an endpoint. It returns the
// endpoint, Secret included: the only answer that shows it.
func (o *Outbox) CreateEndpoint(ctx context.Context, req NewEndpoint) (*Endpoint, error) {
	u, err := o.cfg.Policy.CheckURL(strings.TrimSpace(req.URL))
	if err != nil {
		return nil, err
	}
	desc, err := checkDescription(req.Description)
	if err != nil {
		return nil, err
	}
	events, err := checkEvents(req.Events)
	if err != nil {
		return nil, err
	}
	secret := req.Secret
	if secret == "" {
		secret = NewSecret()
	} else if len(secret) < MinSecretLen || len(secret) > MaxSecretLen || !printableASCII(secret) {
		return nil, grader.Errorf(grader.EINVALID, "a secret must be %d to %d printable ASCII characters without spaces", MinSecretLen, MaxSecretLen)
	}
	e := &Endpoint{
		ID:          grader.NewRecordID("whk_"),
		URL:         u.String(),
		Description: desc,
		Events:      events,
		Secret:      secret,
		Enabled:     !req.Disabled,
		CreatedAt:   o.now().UTC(),
		CreatedBy:   req.CreatedBy,
	}
	if err := o.cfg.Store.CreateEndpoint(ctx, e, MaxEndpoints); err != nil {
		return nil, err
	}
	return e, nil
}

// EndpointUpdate changes an endpoint; nil fields stay as they are.
type EndpointUpdate struct {
	Description *string
	Events      []string
	Enabled     *bool
}

// UpdateEndpoint changes an endpoint's description, events or enabled flag.
// Enabling it makes its waiting deliveries due now.
func (o *Outbox) UpdateEndpoint(ctx context.Context, id string, up EndpointUpdate) (*Endpoint, error) {
	var desc string
	var events []string
	var err error
	if up.Description != nil {
		if desc, err = checkDescription(*up.Description); err != nil {
			return nil, err
		}
	}
	if up.Events != nil {
		if events, err = checkEvents(up.Events); err != nil {
			return nil, err
		}
	}
	e, err := o.cfg.Store.UpdateEndpoint(ctx, id, func(e *Endpoint) error {
		if up.Description != nil {
			e.Description = desc
		}
		if up.Events != nil {
			e.Events = events
		}
		if up.Enabled != nil {
			e.Enabled = *up.Enabled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if e.Enabled {
		o.Wake()
	}
	return e, nil
}

// Endpoint returns the endpoint with the id, or ENOTFOUND.
func (o *Outbox) Endpoint(ctx context.Context, id string) (*Endpoint, error) {
	return o.cfg.Store.Endpoint(ctx, id)
}

// Endpoints returns every endpoint, oldest first.
func (o *Outbox) Endpoints(ctx context.Context) ([]*Endpoint, error) {
	return o.cfg.Store.Endpoints(ctx)
}

// DeleteEndpoint removes an endpoint and its deliveries.
func (o *Outbox) DeleteEndpoint(ctx context.Context, id string) error {
	return o.cfg.Store.DeleteEndpoint(ctx, id)
}

// Deliveries returns a page of the endpoint's deliveries, newest first
// (ENOTFOUND for an unknown endpoint).
func (o *Outbox) Deliveries(ctx context.Context, endpoint, before string, limit int) ([]*Delivery, error) {
	if _, err := o.cfg.Store.Endpoint(ctx, endpoint); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	return o.cfg.Store.Deliveries(ctx, endpoint, before, limit)
}

// Delivery returns the endpoint's delivery with the id; a delivery of
// another endpoint is ENOTFOUND.
func (o *Outbox) Delivery(ctx context.Context, endpoint, id string) (*Delivery, error) {
	d, err := o.cfg.Store.Delivery(ctx, id)
	if err != nil {
		return nil, err
	}
	if d.Endpoint != endpoint {
		return nil, grader.Errorf(grader.ENOTFOUND, "no delivery %q of this webhook", text.Printable(clip(id, 64)))
	}
	return d, nil
}

// Redeliver sends the event of a delivered or failed delivery again, as a
// new delivery (its own id and log, RedeliveryOf set; the event id, and so
// the body, are the same).
func (o *Outbox) Redeliver(ctx context.Context, endpoint, id string) (*Delivery, error) {
	d, err := o.cfg.Store.Redeliver(ctx, endpoint, id, o.now().UTC())
	if err != nil {
		return nil, err
	}
	o.Wake()
	return d, nil
}

// Ping sends the endpoint an event of type EventPing, whatever it
// subscribed to and even when it is disabled, to check that it receives and
// verifies deliveries.
func (o *Outbox) Ping(ctx context.Context, endpoint string) (*Delivery, error) {
	e, err := o.cfg.Store.Endpoint(ctx, endpoint)
	if err != nil {
		return nil, err
	}
	now := o.now().UTC()
	data, _ := json.Marshal(map[string]string{"endpoint": e.ID, "message": "djgrade webhook ping"})
	ev := grader.OutboundEvent{ID: grader.NewRecordID("ping_"), Type: EventPing, At: now, Data: data}
	b, err := body(ev)
	if err != nil {
		return nil, err
	}
	_, ds, err := o.cfg.Store.PublishEvent(ctx, &Event{ID: ev.ID, Type: ev.Type, At: now, Body: b}, e.ID, now)
	if err != nil {
		return nil, err
	}
	if len(ds) != 1 {
		return nil, grader.Errorf(grader.EINTERNAL, "ping stored %d deliveries", len(ds))
	}
	o.Wake()
	return ds[0], nil
}

// dueBatch is how many due deliveries the dispatcher reads at once.
const dueBatch = 64

// Run delivers due deliveries until ctx is done: those left pending by an
// earlier run first (a restart loses none), then each as it falls due. An
// attempt cut off by ctx is not recorded: the delivery stays pending and is
// attempted at the next start. Run returns once no attempt is in flight.
func (o *Outbox) Run(ctx context.Context) error {
	sem := make(chan struct{}, o.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	var pruned time.Time
	for {
		if o.now().Sub(pruned) >= pruneEvery {
			pruned = o.now()
			o.prune(ctx)
		}
		due, next, err := o.cfg.Store.DueDeliveries(ctx, o.now(), dueBatch)
		if err != nil && ctx.Err() == nil {
			o.log.Error("webhooks: read due deliveries", "err", err)
		}
		for _, d := range due {
			if !o.claim(d.ID) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				o.release(d.ID)
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.attempt(ctx, d)
				// Released before the wake-up, so that the dispatcher
				// looking again can claim it if it fell due already.
				o.release(d.ID)
				<-sem
				o.Wake()
			}()
		}
		wait := o.cfg.Poll
		if len(due) == dueBatch {
			wait = 0
		} else if !next.IsZero() {
			if d := time.Until(next); d < wait {
				wait = max(d, 0)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-o.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// prune removes what is past the retention, a batch at a time.
func (o *Outbox) prune(ctx context.Context) {
	before := o.now().Add(-o.cfg.Retention)
	total := 0
	for ctx.Err() == nil {
		n, err := o.cfg.Store.Prune(ctx, before, pruneBatch)
		if err != nil {
			if ctx.Err() == nil {
				o.log.Error("webhooks: prune", "err", err)
			}
			return
		}
		total += n
		if n < pruneBatch {
			break
		}
	}
	if total > 0 {
		o.log.Info("webhooks: pruned old deliveries and events", "count", total, "before", before)
	}
}

func (o *Outbox) claim(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.inflight[id] {
		return false
	}
	o.inflight[id] = true
	return true
}

func (o *Outbox) release(id string) {
	o.mu.Lock()
	delete(o.inflight, id)
	o.mu.Unlock()
}

// attempt makes one attempt of d and records it.
func (o *Outbox) attempt(ctx context.Context, d *Delivery) {
	log := o.log.With("delivery", d.ID, "endpoint", d.Endpoint, "event", d.Event)
	// Recording must not be cut short by a shutdown that starts after
	// the answer came.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	now := o.now().UTC()
	e, err := o.cfg.Store.Endpoint(ctx, d.Endpoint)
	if err != nil {
		if grader.ErrorCode(err) == grader.ENOTFOUND {
			o.record(rctx, log, d, Attempt{At: now, Error: "the webhook was deleted"}, StateFailed, time.Time{})
		} else if ctx.Err() == nil {
			log.Error("webhooks: read endpoint", "err", err)
		}
		return
	}
	if !e.Enabled && d.Type != EventPing {
		// A disabled endpoint's deliveries wait; enabling it makes them due.
		if err := o.cfg.Store.Postpone(rctx, d.ID, now.Add(o.cfg.MaxBackoff)); err != nil {
			log.Error("webhooks: postpone a delivery", "err", err)
		}
		return
	}
	ev, err := o.cfg.Store.Event(ctx, d.Event)
	if err != nil {
		if grader.ErrorCode(err) == grader.ENOTFOUND {
			o.record(rctx, log, d, Attempt{At: now, Error: "the event is no longer stored"}, StateFailed, time.Time{})
		} else if ctx.Err() == nil {
			log.Error("webhooks: read event", "err", err)
		}
		return
	}
	a, retryAfter := o.post(ctx, e, d, ev)
	if ctx.Err() != nil {
		// Shutdown: left pending, attempted at the next start.
		return
	}
	if a.Error == "" && a.StatusCode >= 200 && a.StatusCode < 300 {
		o.record(rctx, log, d, a, StateDelivered, time.Time{})
		return
	}
	n := d.AttemptCount + 1
	next := a.At.Add(o.backoff(n))
	if retryAfter > 0 && retryAfter <= o.cfg.MaxBackoff && a.At.Add(retryAfter).After(next) {
		next = a.At.Add(retryAfter)
	}
	if n >= o.cfg.MaxAttempts || next.Sub(d.CreatedAt) > o.cfg.MaxAge {
		log.Warn("webhooks: giving up a delivery", "attempts", n, "status", a.StatusCode, "err", a.Error)
		o.record(rctx, log, d, a, StateFailed, time.Time{})
		return
	}
	log.Info("webhooks: delivery failed; will retry", "attempt", n, "status", a.StatusCode, "err", a.Error, "retry_at", next)
	o.record(rctx, log, d, a, StatePending, next)
}

func (o *Outbox) record(ctx context.Context, log *slog.Logger, d *Delivery, a Attempt, state State, next time.Time) {
	if _, err := o.cfg.Store.RecordAttempt(ctx, d.ID, a, state, next); err != nil && grader.ErrorCode(err) != grader.ENOTFOUND {
		log.Error("webhooks: record an attempt", "err", err)
	}
}

// backoff is the wait after the nth failed attempt: Backoff doubled n-1
// times, capped at MaxBackoff, drawn between half and all of that.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.cfg.Backoff
	for i := 1; i < n && d < o.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.cfg.MaxBackoff)
	half := d / 2
	return half + rand.N(half+1)
}

// post sends the event once and describes what came of it.
func (o *Outbox) post(ctx context.Context, e *Endpoint, d *Delivery, ev *Event) (Attempt, time.Duration) {
	start := o.now()
	a := Attempt{At: start.UTC()}
	actx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.URL, bytes.NewReader(ev.Body))
	if err != nil {
		a.Error = clip(err.Error(), MaxErrorChars)
		return a, 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "djgrade-webhooks/1")
	req.Header.Set(HeaderEventID, ev.ID)
	req.Header.Set(HeaderEventType, ev.Type)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderSignature, Sign(e.Secret, start, ev.Body))
	res, err := o.client.Do(req)
	a.DurationMS = time.Since(start).Milliseconds()
	if err != nil {
		a.Error = clip(describe(err), MaxErrorChars)
		return a, 0
	}
	defer res.Body.Close()
	a.StatusCode = res.StatusCode
	snippet, rerr := io.ReadAll(io.LimitReader(res.Body, MaxSnippetBytes))
	a.Response = text.Printable(strings.ToValidUTF8(string(snippet), ""))
	// Drain a little more so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	a.DurationMS = time.Since(start).Milliseconds()
	if rerr != nil && res.StatusCode >= 200 && res.StatusCode < 300 {
		// The status came: the receiver has the event.
		rerr = nil
	}
	switch {
	case rerr != nil:
		a.Error = clip("reading the answer: "+describe(rerr), MaxErrorChars)
	case res.StatusCode >= 300 && res.StatusCode < 400:
		a.Error = fmt.Sprintf("redirected to %s: redirects are not followed; register the new URL", clip(res.Header.Get("Location"), 200))
	case res.StatusCode < 200 || res.StatusCode >= 300:
		a.Error = fmt.Sprintf("the receiver answered %d", res.StatusCode)
	}
	var retryAfter time.Duration
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode == http.StatusServiceUnavailable {
		if secs, err := strconv.Atoi(strings.TrimSpace(res.Header.Get("Retry-After"))); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		}
	}
	return a, retryAfter
}

// describe is an error's text for the log, with a policy refusal said
// plainly rather than wrapped in the dialer's words.
func describe(err error) string {
	var ge *grader.Error
	if errors.As(err, &ge) {
		return ge.Message
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within the timeout"
	}
	return err.Error()
}
