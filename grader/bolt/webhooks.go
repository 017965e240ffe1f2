package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/webhook"
)

// Outbound webhooks (webhook.Store). Buckets, created on first write:
//
//	webhook_endpoints    endpoint id -> JSON webhook.Endpoint
//	webhook_events       event id -> JSON webhook.Event (its exact body)
//	webhook_deliveries   seq (8 bytes, big endian) -> JSON webhook.Delivery
//	webhook_by_endpoint  endpoint id + 0x00 + seq -> empty
//	webhook_due          NextAt (Unix ns, 8 bytes, big endian) + seq -> empty,
//	                     one key per pending delivery
//	webhook_marks        name -> RFC 3339 time (grader.OutboxMarks)
//
// Prune removes finished deliveries past the retention and replaces the
// bodies of events past it with a tombstone ("pruned"), so that an event
// id is still stored once: a late publish of it stores nothing.
// A delivery's id is "dlv_" and its seq in 16 hex digits, so its key is
// found from its id. Publishing an event writes the event and its
// deliveries with their due keys in one transaction: an event is either
// stored with every delivery it owes, or not at all, and a restart finds
// each pending delivery in webhook_due.
var (
	bucketHookEndpoints  = []byte("webhook_endpoints")
	bucketHookEvents     = []byte("webhook_events")
	bucketHookDeliveries = []byte("webhook_deliveries")
	bucketHookByEndpoint = []byte("webhook_by_endpoint")
	bucketHookDue        = []byte("webhook_due")
	bucketHookMarks      = []byte("webhook_marks")
)

var (
	_ webhook.Store      = (*Store)(nil)
	_ grader.OutboxMarks = (*Store)(nil)
)

const deliveryPrefix = "dlv_"

func deliveryID(seq uint64) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seq)
	return deliveryPrefix + hex.EncodeToString(b[:])
}

// deliveryKey is the key of a delivery id, or nil for a malformed one.
func deliveryKey(id string) []byte {
	if len(id) != len(deliveryPrefix)+16 || id[:len(deliveryPrefix)] != deliveryPrefix {
		return nil
	}
	k, err := hex.DecodeString(id[len(deliveryPrefix):])
	if err != nil || hex.EncodeToString(k) != id[len(deliveryPrefix):] {
		return nil
	}
	return k
}

func dueKey(at time.Time, seq []byte) []byte {
	k := make([]byte, 8, 16)
	ns := at.UnixNano()
	if ns < 0 {
		ns = 0
	}
	binary.BigEndian.PutUint64(k, uint64(ns))
	return append(k, seq...)
}

func byEndpointKey(endpoint string, seq []byte) []byte {
	k := make([]byte, 0, len(endpoint)+1+len(seq))
	k = append(k, endpoint...)
	k = append(k, 0)
	return append(k, seq...)
}

// hookTx is the webhook buckets of one transaction; in a read-only one a
// bucket not yet created is nil.
type hookTx struct {
	endpoints, events, deliveries, byEndpoint, due *bbolt.Bucket
}

// hookBuckets returns the webhook buckets, creating them in a writable
// transaction.
func hookBuckets(tx *bbolt.Tx) (*hookTx, error) {
	var h hookTx
	for _, b := range []struct {
		name []byte
		to   **bbolt.Bucket
	}{{bucketHookEndpoints, &h.endpoints}, {bucketHookEvents, &h.events}, {bucketHookDeliveries, &h.deliveries}, {bucketHookByEndpoint, &h.byEndpoint}, {bucketHookDue, &h.due}} {
		var err error
		if tx.Writable() {
			*b.to, err = tx.CreateBucketIfNotExists(b.name)
			if err != nil {
				return nil, err
			}
		} else {
			*b.to = tx.Bucket(b.name)
		}
	}
	return &h, nil
}

func errNoEndpoint() error { return grader.Errorf(grader.ENOTFOUND, "webhook not found") }
func errNoDelivery() error { return grader.Errorf(grader.ENOTFOUND, "delivery not found") }

func (h *hookTx) endpoint(id string) (*webhook.Endpoint, error) {
	if h.endpoints == nil || id == "" || len(id) > MaxFieldLen {
		return nil, errNoEndpoint()
	}
	data := h.endpoints.Get([]byte(id))
	if data == nil {
		return nil, errNoEndpoint()
	}
	var e webhook.Endpoint
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, grader.Errorf(grader.EINTERNAL, "webhook %q is unreadable", id)
	}
	return &e, nil
}

// prunedEvent is the value an event's record is replaced with by Prune.
var prunedEvent = []byte("pruned")

func (h *hookTx) putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

func (h *hookTx) delivery(id string) (*webhook.Delivery, []byte, error) {
	k := deliveryKey(id)
	if h.deliveries == nil || k == nil {
		return nil, nil, errNoDelivery()
	}
	data := h.deliveries.Get(k)
	if data == nil {
		return nil, nil, errNoDelivery()
	}
	var d webhook.Delivery
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, nil, grader.Errorf(grader.EINTERNAL, "delivery %q is unreadable", id)
	}
	return &d, k, nil
}

// newDelivery stores a pending delivery of ev to the endpoint, due at now.
func (h *hookTx) newDelivery(endpoint string, ev *webhook.Event, redeliveryOf string, now time.Time) (*webhook.Delivery, error) {
	seq, err := h.deliveries.NextSequence()
	if err != nil {
		return nil, err
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	d := &webhook.Delivery{
		ID: deliveryID(seq), Endpoint: endpoint, Event: ev.ID, Type: ev.Type,
		State: webhook.StatePending, Attempts: []webhook.Attempt{}, NextAt: now, CreatedAt: now, RedeliveryOf: redeliveryOf,
	}
	if err := h.putJSON(h.deliveries, k[:], d); err != nil {
		return nil, err
	}
	if err := h.byEndpoint.Put(byEndpointKey(endpoint, k[:]), nil); err != nil {
		return nil, err
	}
	return d, h.due.Put(dueKey(now, k[:]), nil)
}

// CreateEndpoint stores e; more than max endpoints is EINVALID.
func (s *Store) CreateEndpoint(ctx context.Context, e *webhook.Endpoint, max int) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if e.ID == "" || len(e.ID) > MaxFieldLen {
		return grader.Errorf(grader.EINVALID, "webhook id must be 1 to %d bytes", MaxFieldLen)
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		if h.endpoints.Get([]byte(e.ID)) != nil {
			return grader.Errorf(grader.ECONFLICT, "webhook %q exists", e.ID)
		}
		if max > 0 && h.endpoints.Stats().KeyN >= max {
			return grader.Errorf(grader.EINVALID, "at most %d webhooks may be registered; delete one first", max)
		}
		return h.putJSON(h.endpoints, []byte(e.ID), e)
	})
	return hookErr(err, "create webhook")
}

// UpdateEndpoint loads the endpoint, calls fn and stores the result; a
// disabled endpoint enabled makes its pending deliveries due now.
func (s *Store) UpdateEndpoint(ctx context.Context, id string, fn func(*webhook.Endpoint) error) (*webhook.Endpoint, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *webhook.Endpoint
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		e, err := h.endpoint(id)
		if err != nil {
			return err
		}
		was := e.Enabled
		if err := fn(e); err != nil {
			return err
		}
		e.ID = id
		if err := h.putJSON(h.endpoints, []byte(id), e); err != nil {
			return err
		}
		if e.Enabled && !was {
			if err := h.dueNow(id, s.now().UTC()); err != nil {
				return err
			}
		}
		out = e
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "update webhook")
	}
	return out, nil
}

// dueNow makes every pending delivery of the endpoint due at now.
func (h *hookTx) dueNow(endpoint string, now time.Time) error {
	prefix := byEndpointKey(endpoint, nil)
	c := h.byEndpoint.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		seq := k[len(prefix):]
		d, _, err := h.delivery(deliveryID(binary.BigEndian.Uint64(seq)))
		if err != nil || d.State != webhook.StatePending {
			continue
		}
		if err := h.due.Delete(dueKey(d.NextAt, seq)); err != nil {
			return err
		}
		d.NextAt = now
		if err := h.putJSON(h.deliveries, seq, d); err != nil {
			return err
		}
		if err := h.due.Put(dueKey(now, seq), nil); err != nil {
			return err
		}
	}
	return nil
}

// Endpoint returns the endpoint with the id, or ENOTFOUND.
func (s *Store) Endpoint(ctx context.Context, id string) (*webhook.Endpoint, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *webhook.Endpoint
	err := s.db.View(func(tx *bbolt.Tx) error {
		h, _ := hookBuckets(tx)
		var err error
		out, err = h.endpoint(id)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "read webhook")
	}
	return out, nil
}

// Endpoints returns every endpoint, oldest first.
func (s *Store) Endpoints(ctx context.Context) ([]*webhook.Endpoint, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := []*webhook.Endpoint{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHookEndpoints)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var e webhook.Endpoint
			if err := json.Unmarshal(v, &e); err != nil {
				return grader.Errorf(grader.EINTERNAL, "webhook %q is unreadable", k)
			}
			out = append(out, &e)
			return nil
		})
	})
	if err != nil {
		return nil, storeErr(err, "list webhooks")
	}
	// Ids are random: order by creation.
	slices.SortStableFunc(out, func(a, b *webhook.Endpoint) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// DeleteEndpoint removes the endpoint, its deliveries and their due keys.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		if _, err := h.endpoint(id); err != nil {
			return err
		}
		prefix := byEndpointKey(id, nil)
		var keys [][]byte
		c := h.byEndpoint.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			seq := k[len(prefix):]
			if d, _, err := h.delivery(deliveryID(binary.BigEndian.Uint64(seq))); err == nil && d.State == webhook.StatePending {
				if err := h.due.Delete(dueKey(d.NextAt, seq)); err != nil {
					return err
				}
			}
			if err := h.deliveries.Delete(seq); err != nil {
				return err
			}
			if err := h.byEndpoint.Delete(k); err != nil {
				return err
			}
		}
		return h.endpoints.Delete([]byte(id))
	})
	return hookErr(err, "delete webhook")
}

// PublishEvent stores ev and its deliveries, or nothing if ev.ID is stored.
func (s *Store) PublishEvent(ctx context.Context, ev *webhook.Event, only string, now time.Time) (bool, []*webhook.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return false, nil, err
	}
	if ev.ID == "" || len(ev.ID) > webhook.MaxEventIDLen {
		return false, nil, grader.Errorf(grader.EINVALID, "an event id must be 1 to %d bytes", webhook.MaxEventIDLen)
	}
	var created bool
	var out []*webhook.Delivery
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		if h.events.Get([]byte(ev.ID)) != nil {
			return nil
		}
		var targets []string
		if only != "" {
			if _, err := h.endpoint(only); err != nil {
				return err
			}
			targets = []string{only}
		} else {
			err := h.endpoints.ForEach(func(k, v []byte) error {
				var e webhook.Endpoint
				if err := json.Unmarshal(v, &e); err != nil {
					return grader.Errorf(grader.EINTERNAL, "webhook %q is unreadable", k)
				}
				if e.Enabled && e.Wants(ev.Type) {
					targets = append(targets, e.ID)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if err := h.putJSON(h.events, []byte(ev.ID), ev); err != nil {
			return err
		}
		for _, t := range targets {
			d, err := h.newDelivery(t, ev, "", now)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		created = true
		return nil
	})
	if err != nil {
		return false, nil, storeErr(err, "publish an event")
	}
	return created, out, nil
}

// Event returns the stored event, or ENOTFOUND.
func (s *Store) Event(ctx context.Context, id string) (*webhook.Event, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *webhook.Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHookEvents)
		var data []byte
		if b != nil && id != "" && len(id) <= webhook.MaxEventIDLen {
			data = b.Get([]byte(id))
		}
		if data == nil || bytes.Equal(data, prunedEvent) {
			return grader.Errorf(grader.ENOTFOUND, "event not found")
		}
		var ev webhook.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return grader.Errorf(grader.EINTERNAL, "event %q is unreadable", id)
		}
		out = &ev
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "read event")
	}
	return out, nil
}

// Redeliver stores a new pending delivery of the event of the endpoint's
// delivery.
func (s *Store) Redeliver(ctx context.Context, endpoint, id string, now time.Time) (*webhook.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *webhook.Delivery
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		if _, err := h.endpoint(endpoint); err != nil {
			return err
		}
		d, _, err := h.delivery(id)
		if err != nil {
			return err
		}
		if d.Endpoint != endpoint {
			return errNoDelivery()
		}
		if d.State == webhook.StatePending {
			return grader.Errorf(grader.ECONFLICT, "delivery %s is still pending: it is attempted again at %s", d.ID, d.NextAt.UTC().Format(time.RFC3339))
		}
		data := h.events.Get([]byte(d.Event))
		if data == nil || bytes.Equal(data, prunedEvent) {
			return grader.Errorf(grader.ECONFLICT, "the event of delivery %s is no longer stored (events are kept for a limited time)", d.ID)
		}
		var ev webhook.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return grader.Errorf(grader.EINTERNAL, "event %q is unreadable", d.Event)
		}
		out, err = h.newDelivery(endpoint, &ev, d.ID, now)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "redeliver")
	}
	return out, nil
}

// Delivery returns the delivery with the id, or ENOTFOUND.
func (s *Store) Delivery(ctx context.Context, id string) (*webhook.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *webhook.Delivery
	err := s.db.View(func(tx *bbolt.Tx) error {
		h, _ := hookBuckets(tx)
		var err error
		out, _, err = h.delivery(id)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "read delivery")
	}
	return out, nil
}

// Deliveries returns the endpoint's deliveries newest first, after before.
func (s *Store) Deliveries(ctx context.Context, endpoint, before string, limit int) ([]*webhook.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := []*webhook.Delivery{}
	if endpoint == "" || len(endpoint) > MaxFieldLen {
		return out, nil
	}
	var start []byte
	if before != "" {
		if start = deliveryKey(before); start == nil {
			return nil, grader.Errorf(grader.EINVALID, "before is not a delivery id")
		}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		h, _ := hookBuckets(tx)
		if h.byEndpoint == nil {
			return nil
		}
		prefix := byEndpointKey(endpoint, nil)
		c := h.byEndpoint.Cursor()
		// The greatest key below from: after the cursor, or the last of
		// the endpoint's (endpoint + 0x01 sorts after all of them).
		from := append([]byte(endpoint), 1)
		if start != nil {
			from = byEndpointKey(endpoint, start)
		}
		k, _ := c.Seek(from)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = c.Prev() {
			seq := k[len(prefix):]
			d, _, err := h.delivery(deliveryID(binary.BigEndian.Uint64(seq)))
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "list deliveries")
	}
	return out, nil
}

// DueDeliveries returns up to limit pending deliveries due by now, earliest
// first, and the NextAt of the first one not due yet.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*webhook.Delivery, time.Time, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, time.Time{}, err
	}
	var out []*webhook.Delivery
	var next time.Time
	err := s.db.View(func(tx *bbolt.Tx) error {
		h, _ := hookBuckets(tx)
		if h.due == nil {
			return nil
		}
		c := h.due.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			at := time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
			if at.After(now) {
				next = at
				return nil
			}
			if len(out) == limit {
				return nil
			}
			d, _, err := h.delivery(deliveryID(binary.BigEndian.Uint64(k[8:])))
			if err != nil {
				// Never a stuck dispatcher over one bad record.
				continue
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, storeErr(err, "read due deliveries")
	}
	return out, next, nil
}

// RecordAttempt appends a to the delivery's log and moves it to state.
func (s *Store) RecordAttempt(ctx context.Context, id string, a webhook.Attempt, state webhook.State, next time.Time) (*webhook.Delivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if state == webhook.StatePending && next.IsZero() {
		return nil, grader.Errorf(grader.EINVALID, "a pending delivery needs its next time")
	}
	var out *webhook.Delivery
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		d, k, err := h.delivery(id)
		if err != nil {
			return err
		}
		if d.State != webhook.StatePending {
			return grader.Errorf(grader.ECONFLICT, "delivery %s is %s, not pending", d.ID, d.State)
		}
		if err := h.due.Delete(dueKey(d.NextAt, k)); err != nil {
			return err
		}
		d.AttemptCount++
		d.Attempts = append(d.Attempts, a)
		if len(d.Attempts) > webhook.MaxAttemptLog {
			d.Attempts = append([]webhook.Attempt(nil), d.Attempts[len(d.Attempts)-webhook.MaxAttemptLog:]...)
		}
		d.State = state
		if state == webhook.StatePending {
			d.NextAt = next.UTC()
			if err := h.due.Put(dueKey(d.NextAt, k), nil); err != nil {
				return err
			}
		} else {
			d.NextAt, d.DoneAt = time.Time{}, a.At
		}
		out = d
		return h.putJSON(h.deliveries, k, d)
	})
	if err != nil {
		return nil, storeErr(err, "record a delivery attempt")
	}
	return out, nil
}

// Postpone makes a pending delivery due at next without an attempt.
func (s *Store) Postpone(ctx context.Context, id string, next time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		d, k, err := h.delivery(id)
		if err != nil {
			return err
		}
		if d.State != webhook.StatePending {
			return nil
		}
		if err := h.due.Delete(dueKey(d.NextAt, k)); err != nil {
			return err
		}
		d.NextAt = next.UTC()
		if err := h.due.Put(dueKey(d.NextAt, k), nil); err != nil {
			return err
		}
		return h.putJSON(h.deliveries, k, d)
	})
	return hookErr(err, "postpone a delivery")
}

// OutboxMark returns the time stored under name (false if none).
func (s *Store) OutboxMark(ctx context.Context, name string) (time.Time, bool, error) {
	if err := ctxErr(ctx); err != nil {
		return time.Time{}, false, err
	}
	var t time.Time
	var ok bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketHookMarks)
		if b == nil {
			return nil
		}
		raw := b.Get([]byte(name))
		if raw == nil {
			return nil
		}
		var err error
		if t, err = time.Parse(time.RFC3339Nano, string(raw)); err != nil {
			return grader.Errorf(grader.EINTERNAL, "outbox mark %q is unreadable", name)
		}
		ok = true
		return nil
	})
	if err != nil {
		return time.Time{}, false, storeErr(err, "read an outbox mark")
	}
	return t, ok, nil
}

// SetOutboxMark stores t under name.
func (s *Store) SetOutboxMark(ctx context.Context, name string, t time.Time) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketHookMarks)
		if err != nil {
			return err
		}
		return b.Put([]byte(name), []byte(t.UTC().Format(time.RFC3339Nano)))
	})
	return hookErr(err, "store an outbox mark")
}

// hookErr is storeErr for a call that may have succeeded.
func hookErr(err error, op string) error {
	if err == nil {
		return nil
	}
	return storeErr(err, op)
}

// Prune deletes delivered and failed deliveries created before before and
// turns events created before it into tombstones, at most limit of each in
// one call; it returns how many of both it removed. Pending deliveries
// stay (MaxAge ends them).
func (s *Store) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		h, err := hookBuckets(tx)
		if err != nil {
			return err
		}
		// Deliveries are in creation order: stop at the first young one.
		var gone [][]byte
		c := h.deliveries.Cursor()
		for k, v := c.First(); k != nil && len(gone) < limit; k, v = c.Next() {
			var d webhook.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				continue
			}
			if !d.CreatedAt.Before(before) {
				break
			}
			if d.State != webhook.StatePending {
				gone = append(gone, bytes.Clone(k))
				if err := h.byEndpoint.Delete(byEndpointKey(d.Endpoint, k)); err != nil {
					return err
				}
			}
		}
		for _, k := range gone {
			if err := h.deliveries.Delete(k); err != nil {
				return err
			}
		}
		var old [][]byte
		ec := h.events.Cursor()
		for k, v := ec.First(); k != nil && len(old) < limit; k, v = ec.Next() {
			if bytes.Equal(v, prunedEvent) {
				continue
			}
			var ev struct {
				At time.Time `json:"created_at"`
			}
			if json.Unmarshal(v, &ev) == nil && ev.At.Before(before) {
				old = append(old, bytes.Clone(k))
			}
		}
		for _, k := range old {
			if err := h.events.Put(k, prunedEvent); err != nil {
				return err
			}
		}
		n = len(gone) + len(old)
		return nil
	})
	if err != nil {
		return 0, storeErr(err, "prune webhook deliveries")
	}
	return n, nil
}
