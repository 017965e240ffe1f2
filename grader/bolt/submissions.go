package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// MaxList is the most submissions one ListSubmissions call returns, and the
// number returned when the filter sets no limit.
const MaxList = 100

// MaxFieldLen is the longest exercise or candidate a submission may have, in
// bytes: both are index keys, and bbolt keys are bounded.
const MaxFieldLen = 1024

// CreateSubmission assigns sub.ID and CreatedAt, stores sub as queued with the
// candidate's files and puts it on the queue, all in one transaction: either
// everything is stored or nothing is. The life-cycle fields are set by
// grader's Submission.Queue whatever the caller set. On success *sub holds
// what was stored.
func (s *Store) CreateSubmission(ctx context.Context, sub *grader.Submission, files []grader.File) error {
	_, err := s.CreateSubmissionWith(ctx, sub, files, grader.CreateOptions{})
	return err
}

// CreateSubmissionWith is CreateSubmission with an idempotency key and a
// queue cap (see grader.CreateOptions). The key is checked and recorded in
// the transaction that stores the submission, so two racing retries cannot
// both create one, and a crash cannot keep the key without the submission.
func (s *Store) CreateSubmissionWith(ctx context.Context, sub *grader.Submission, files []grader.File, opts grader.CreateOptions) (bool, error) {
	if sub == nil {
		return false, grader.Errorf(grader.EINVALID, "no submission")
	}
	if len(sub.Exercise) > MaxFieldLen || len(sub.Candidate) > MaxFieldLen || len(sub.Owner) > MaxFieldLen || len(opts.IdempotencyKey) > MaxFieldLen {
		return false, grader.Errorf(grader.EINVALID, "exercise, candidate, owner and idempotency key are limited to %d bytes", MaxFieldLen)
	}
	if !utf8.ValidString(sub.Exercise) || !utf8.ValidString(sub.Candidate) {
		// JSON would store U+FFFD in place of the bad bytes, and the record
		// would no longer match its own index entries.
		return false, grader.Errorf(grader.EINVALID, "exercise and candidate must be UTF-8 text")
	}
	if err := ctxErr(ctx); err != nil {
		return false, err
	}
	// Packing is CPU work: do it before taking bbolt's single writer lock.
	blob, err := encodeFiles(files)
	if err != nil {
		return false, err
	}
	rec := *sub
	created := true
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		var idem *bbolt.Bucket
		var idemKey []byte
		if opts.IdempotencyKey != "" {
			if idem, err = tx.CreateBucketIfNotExists(bucketIdempotency); err != nil {
				return err
			}
			idemKey = append(fieldPrefix(rec.Owner), opts.IdempotencyKey...)
			if first := idem.Get(idemKey); len(first) >= len(id{}) {
				// The first request's fingerprint follows its id; keys
				// stored before fingerprints match any request.
				if fp := first[len(id{}):]; len(fp) > 0 && len(opts.Fingerprint) > 0 && !bytes.Equal(fp, opts.Fingerprint) {
					return grader.Errorf(grader.EKEYREUSED,
						"this Idempotency-Key was already used for a different request (another exercise, candidate or archive); use a new key for a new submission")
				}
				prev, err := load(b, first[:len(id{})])
				if err != nil {
					return err
				}
				if prev != nil {
					rec, created = *prev, false
					return nil
				}
			}
		}
		if opts.Refused != nil {
			return opts.Refused
		}
		if !opts.AdmitAt.IsZero() && rec.Assignment != "" {
			late, err := admitIn(tx, rec.Assignment, opts.AdmitAt)
			if err != nil {
				return err
			}
			rec.Late = late
		}
		if opts.MaxQueued > 0 {
			queue, err := b.index(grader.StatusQueued)
			if err != nil {
				return err
			}
			// Counting stops at the cap, so the check costs at most
			// MaxQueued key reads whatever the queue's length.
			n, c := 0, queue.Cursor()
			for k, _ := c.First(); k != nil && n < opts.MaxQueued; k, _ = c.Next() {
				n++
			}
			if n >= opts.MaxQueued {
				return grader.Errorf(grader.EUNAVAILABLE, "the grading queue is full (%d waiting); try again later", n)
			}
		}
		if opts.MaxQueuedPerOwner > 0 && rec.Owner != "" {
			if n, err := ownerQueued(tx, b, rec.Owner, opts.MaxQueuedPerOwner); err != nil {
				return err
			} else if n >= opts.MaxQueuedPerOwner {
				return grader.Errorf(grader.ERATELIMIT, "you have %d submissions waiting to be graded; submit again when one is done", n)
			}
		}
		// The clock is read inside the transaction so that, transactions
		// being serial, CreatedAt never decreases in key order.
		now := s.now().UTC()
		rec.Queue(now)
		if err := create(b, &rec, blob, now); err != nil {
			return err
		}
		key, _ := parseID(rec.ID)
		if rec.Owner != "" {
			// Created on first use: stores written before tokens existed
			// have no owned submissions to index.
			byOwner, err := tx.CreateBucketIfNotExists(bucketByOwner)
			if err != nil {
				return err
			}
			if err := byOwner.Put(fieldKey(rec.Owner, key[:]), nil); err != nil {
				return err
			}
		}
		if idem != nil {
			return idem.Put(idemKey, append(key[:], opts.Fingerprint...))
		}
		return nil
	})
	if err != nil {
		return false, storeErr(err, "create submission")
	}
	*sub = rec
	return created, nil
}

// create stores rec under a new id greater than every stored one.
func create(b buckets, rec *grader.Submission, blob []byte, now time.Time) error {
	last, _ := b.subs.Cursor().Last()
	key, err := newID(now, last)
	if err != nil {
		return err
	}
	rec.ID = key.String()
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	queue, err := b.index(grader.StatusQueued)
	if err != nil {
		return err
	}
	if err := b.subs.Put(key[:], data); err != nil {
		return err
	}
	if err := b.files.Put(key[:], blob); err != nil {
		return err
	}
	if err := b.byExercise.Put(fieldKey(rec.Exercise, key[:]), nil); err != nil {
		return err
	}
	if err := b.byCandidate.Put(fieldKey(rec.Candidate, key[:]), nil); err != nil {
		return err
	}
	if err := queue.Put(key[:], nil); err != nil {
		return err
	}
	return enqueue(b.tx, key[:], rec, false)
}

// load decodes the submission under key, or returns nil if there is none.
func load(b buckets, key []byte) (*grader.Submission, error) {
	data := b.subs.Get(key)
	if data == nil {
		return nil, nil
	}
	var sub grader.Submission
	if err := json.Unmarshal(data, &sub); err != nil {
		return nil, fmt.Errorf("decode submission %x: %w", key, err)
	}
	return &sub, nil
}

// save writes sub under key and moves its index entry from the status it
// had (from) to the one it has now. A submission that leaves or enters the
// queued status leaves or takes its place in the scheduler.
func save(b buckets, key []byte, sub *grader.Submission, from grader.Status) error {
	if from == grader.StatusQueued && sub.Status != grader.StatusQueued {
		// Its scheduling place is the stored record's (sub has changed).
		old, err := load(b, key)
		if err != nil {
			return err
		}
		if old != nil {
			if err := dequeue(b.tx, key, old); err != nil {
				return err
			}
		}
	}
	if err := put(b, key, sub, from); err != nil {
		return err
	}
	if from != grader.StatusQueued && sub.Status == grader.StatusQueued {
		// Work interrupted mid-grade had its turn: it takes the first.
		return enqueue(b.tx, key, sub, from == grader.StatusRunning)
	}
	return nil
}

// put is save without the scheduler: it writes sub under key and moves its
// status index entry from from to sub.Status.
func put(b buckets, key []byte, sub *grader.Submission, from grader.Status) error {
	data, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	if err := b.subs.Put(key, data); err != nil {
		return err
	}
	if from == sub.Status {
		return nil
	}
	old, err := b.index(from)
	if err != nil {
		return err
	}
	cur, err := b.index(sub.Status)
	if err != nil {
		return err
	}
	if err := old.Delete(key); err != nil {
		return err
	}
	return cur.Put(key, nil)
}

// Submission returns the submission with the id, or ENOTFOUND for an id that
// is unknown or malformed.
func (s *Store) Submission(ctx context.Context, idText string) (*grader.Submission, error) {
	key, ok := parseID(idText)
	if !ok {
		return nil, notFound()
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var sub *grader.Submission
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		sub, err = load(b, key[:])
		return err
	})
	if err != nil {
		return nil, storeErr(err, "get submission")
	}
	if sub == nil {
		return nil, notFound()
	}
	return sub, nil
}

// SubmissionFiles returns the candidate's files stored with a submission, in
// the order they were given, or ENOTFOUND.
func (s *Store) SubmissionFiles(ctx context.Context, idText string) ([]grader.File, error) {
	key, ok := parseID(idText)
	if !ok {
		return nil, notFound()
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var blob []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		// bbolt's value is only valid inside the transaction: copy it out
		// and unpack after, so readers hold the transaction briefly.
		if v := b.files.Get(key[:]); v != nil {
			blob = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "get submission files")
	}
	if blob == nil {
		return nil, notFound()
	}
	return decodeFiles(blob)
}

// ClaimNext takes the next queued submission off the queue, marks it
// running (StartedAt set, Attempts incremented) and returns it, or returns
// nil, nil when nothing is ready. Next is the scheduler's (sched.go): live
// before normal before batch, then turns across tenants and their members,
// then oldest first; submissions waiting for a retry whose time has come
// join first. Claims run in bbolt's single read-write transaction at a time,
// so two callers never get the same submission.
func (s *Store) ClaimNext(ctx context.Context) (*grader.Submission, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var claimed *grader.Submission
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		queue, err := b.index(grader.StatusQueued)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		if err := promote(tx, b, now); err != nil {
			return err
		}
		for {
			key, c, k, err := next(tx)
			if err != nil || key == nil {
				return err
			}
			sub, err := load(b, key)
			if err != nil {
				return err
			}
			if sub == nil || sub.Claim(now) != nil {
				// An entry whose record is gone or can no longer be
				// claimed (it is not queued) cannot be graded;
				// dropping it keeps one bad entry from blocking the
				// whole queue.
				if err := c.remove(k); err != nil {
					return err
				}
				if err := queue.Delete(key); err != nil {
					return err
				}
				continue
			}
			// next found its place: leave it there without save's
			// second reading of the record.
			if err := c.remove(k); err != nil {
				return err
			}
			if err := put(b, key, sub, grader.StatusQueued); err != nil {
				return err
			}
			claimed = sub
			return nil
		}
	})
	if err != nil {
		return nil, storeErr(err, "claim submission")
	}
	return claimed, nil
}

// RetryLater puts a running submission back on the queue, not to be claimed
// before at, as grader's Submission.Retry decides (any other status is
// ECONFLICT). Until then it is queued (it counts, and can be cancelled) but
// waits outside the rotation.
func (s *Store) RetryLater(ctx context.Context, idText string, at time.Time) error {
	_, err := s.transition(ctx, idText, "retry submission", func(sub *grader.Submission) error {
		return sub.Retry(at.UTC())
	})
	return err
}

// Finish records the end of a running submission as grader's
// Submission.Finish decides: status done with its result, or status error
// with the reason. Arguments it refuses are EINVALID before the store is
// read; a submission that is not running is ECONFLICT.
func (s *Store) Finish(ctx context.Context, idText string, status grader.Status, result *grader.Result, reason string) error {
	key, ok := parseID(idText)
	if !ok {
		return notFound()
	}
	if err := grader.CheckFinish(status, result, reason); err != nil {
		return err
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		sub, err := load(b, key[:])
		if err != nil {
			return err
		}
		if sub == nil {
			return notFound()
		}
		if err := sub.Finish(s.now().UTC(), status, result, reason); err != nil {
			return err
		}
		return save(b, key[:], sub, grader.StatusRunning)
	})
	if err != nil {
		return storeErr(err, "finish submission")
	}
	return nil
}

// RequeueRunning puts every running submission back on the queue, where it
// takes the first turn (oldest first), and returns how many. It is meant for
// start-up, when no worker can be running; grader's Submission.Interrupted
// decides whether each is requeued or given up.
func (s *Store) RequeueRunning(ctx context.Context) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		running, err := b.index(grader.StatusRunning)
		if err != nil {
			return err
		}
		// Collect first: changing a bucket while a cursor walks it skips keys.
		var keys [][]byte
		if err := running.ForEach(func(k, _ []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		// Newest first: each takes the first turn, so the oldest ends first.
		slices.Reverse(keys)
		for _, key := range keys {
			sub, err := load(b, key)
			if err != nil {
				return err
			}
			if sub == nil {
				if err := running.Delete(key); err != nil {
					return err
				}
				continue
			}
			if sub.Status != grader.StatusRunning {
				// The index said running but the record does not:
				// trust the record and only mend the index.
				if err := running.Delete(key); err != nil {
					return err
				}
				idx, err := b.index(sub.Status)
				if err != nil {
					return err
				}
				if err := idx.Put(key, nil); err != nil {
					return err
				}
				if sub.Status == grader.StatusQueued {
					// Queued needs its place in the scheduler too.
					if err := enqueue(tx, key, sub, false); err != nil {
						return err
					}
				}
				continue
			}
			requeued, err := sub.Interrupted(s.now().UTC())
			if err != nil {
				return err
			}
			if err := save(b, key, sub, grader.StatusRunning); err != nil {
				return err
			}
			if requeued {
				n++
			}
		}
		return nil
	})
	if err != nil {
		return 0, storeErr(err, "requeue running submissions")
	}
	return n, nil
}

// ListSubmissions returns up to filter.Limit submissions (MaxList when 0 or
// more) matching the filter, newest first. It walks ids backwards from the
// newest (or from just before filter.Before, the previous page's last id)
// and stops at the limit. It walks the narrowest index the filter allows
// (owner, candidate, exercise, then status), so a filtered page costs the
// matches it reads, not the whole store; ids are ordered by creation time,
// so Until starts the walk near that time and Since ends it. An unknown
// status or a malformed cursor is EINVALID.
func (s *Store) ListSubmissions(ctx context.Context, filter grader.SubmissionFilter) ([]*grader.Submission, error) {
	limit := filter.Limit
	if limit <= 0 || limit > MaxList {
		limit = MaxList
	}
	if filter.Status != "" && !knownStatus(filter.Status) {
		return nil, grader.Errorf(grader.EINVALID, "unknown status %q", filter.Status)
	}
	var before []byte
	if filter.Before != "" {
		key, ok := parseID(filter.Before)
		if !ok {
			return nil, grader.Errorf(grader.EINVALID, "malformed cursor")
		}
		before = key[:]
	}
	if !filter.Until.IsZero() {
		// A key's time is never below its CreatedAt and only a little
		// above it (see newID): start a second later, filter exactly.
		var bound id
		ms := filter.Until.Add(time.Second).UnixMilli()
		if ms < 0 {
			ms = 0
		}
		if ms < maxMillis {
			var t [8]byte
			binary.BigEndian.PutUint64(t[:], uint64(ms))
			copy(bound[:6], t[2:])
			if before == nil || bytes.Compare(bound[:], before) < 0 {
				before = bound[:]
			}
		}
	}
	if len(filter.Exercise) > MaxFieldLen || len(filter.Candidate) > MaxFieldLen || len(filter.Owner) > MaxFieldLen ||
		!utf8.ValidString(filter.Exercise) || !utf8.ValidString(filter.Candidate) {
		// Nothing like that can be stored, so nothing matches.
		return []*grader.Submission{}, nil
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	sinceMS := int64(-1)
	if !filter.Since.IsZero() {
		sinceMS = filter.Since.UnixMilli()
	}
	out := []*grader.Submission{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		var walk *bbolt.Bucket
		var prefix []byte
		switch {
		case filter.Owner != "":
			if walk = tx.Bucket(bucketByOwner); walk == nil {
				return nil
			}
			prefix = fieldPrefix(filter.Owner)
		case filter.Candidate != "":
			walk, prefix = b.byCandidate, fieldPrefix(filter.Candidate)
		case filter.Exercise != "":
			walk, prefix = b.byExercise, fieldPrefix(filter.Exercise)
		case filter.Status != "":
			if walk, err = b.index(filter.Status); err != nil {
				return err
			}
		default:
			walk = b.subs
		}
		return walkBack(walk, prefix, before, func(key []byte) (bool, error) {
			if sinceMS >= 0 && keyMillis(key) < sinceMS {
				return false, nil
			}
			data := b.subs.Get(key)
			if data == nil {
				return true, nil
			}
			if ok, err := matches(data, filter); err != nil || !ok {
				if err != nil {
					return false, fmt.Errorf("decode submission %x: %w", key, err)
				}
				return true, nil
			}
			var sub grader.Submission
			if err := json.Unmarshal(data, &sub); err != nil {
				return false, fmt.Errorf("decode submission %x: %w", key, err)
			}
			out = append(out, &sub)
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, storeErr(err, "list submissions")
	}
	return out, nil
}

// keyMillis is the creation time in milliseconds that starts an id key.
func keyMillis(key []byte) int64 {
	var t [8]byte
	copy(t[2:], key[:6])
	return int64(binary.BigEndian.Uint64(t[:]))
}

// matches reports whether the stored record data passes the filter. It
// decodes only the fields the filter looks at: most records a filtered walk
// reads fail it, and a full decode includes the result and its log.
func matches(data []byte, filter grader.SubmissionFilter) (bool, error) {
	if filter.Exercise == "" && filter.Candidate == "" && filter.CandidateContains == "" && filter.Status == "" && filter.Owner == "" &&
		filter.Verdict == "" && filter.Since.IsZero() && filter.Until.IsZero() {
		return true, nil
	}
	var head struct {
		Exercise  string        `json:"exercise"`
		Candidate string        `json:"candidate"`
		Status    grader.Status `json:"status"`
		Owner     string        `json:"owner"`
		CreatedAt time.Time     `json:"created_at"`
		Result    *struct {
			Verdict grader.Verdict `json:"verdict"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return false, err
	}
	verdictOK := filter.Verdict == "" ||
		head.Status == grader.StatusDone && head.Result != nil && head.Result.Verdict == filter.Verdict
	return (filter.Exercise == "" || head.Exercise == filter.Exercise) &&
		(filter.Candidate == "" || head.Candidate == filter.Candidate) &&
		grader.CandidateMatches(head.Candidate, filter.CandidateContains) &&
		(filter.Status == "" || head.Status == filter.Status) &&
		(filter.Owner == "" || head.Owner == filter.Owner) &&
		(filter.Since.IsZero() || !head.CreatedAt.Before(filter.Since)) &&
		(filter.Until.IsZero() || head.CreatedAt.Before(filter.Until)) &&
		verdictOK, nil
}

// walkBack calls fn with each id under prefix in bucket, newest first, until
// fn returns false or an error. A key is prefix followed by a 16-byte id.
// before, if not nil, is an id: the walk starts just below it.
func walkBack(bucket *bbolt.Bucket, prefix, before []byte, fn func(key []byte) (bool, error)) error {
	c := bucket.Cursor()
	bound, inclusive := before, false
	if bound == nil {
		bound, inclusive = bytes.Repeat([]byte{0xff}, len(id{})), true
	}
	// Seek lands on the first key at or after prefix+bound; the newest
	// key to visit is that key (when inclusive and equal) or the one before.
	end := append(append([]byte(nil), prefix...), bound...)
	k, _ := c.Seek(end)
	switch {
	case k == nil:
		k, _ = c.Last()
	case inclusive && bytes.Equal(k, end):
	default:
		k, _ = c.Prev()
	}
	for ; k != nil; k, _ = c.Prev() {
		if len(k) != len(prefix)+len(id{}) || !bytes.HasPrefix(k, prefix) {
			return nil
		}
		more, err := fn(k[len(prefix):])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// fieldPrefix is the index key prefix for a field's value: its length as two
// bytes, then the value. The length keeps one value's keys from running into
// another's ("ab" and "abc"), whatever bytes a hostile value holds.
func fieldPrefix(value string) []byte {
	p := make([]byte, 2, 2+len(value))
	binary.BigEndian.PutUint16(p, uint16(len(value)))
	return append(p, value...)
}

// ownerScanLimit bounds how many of an owner's submissions, newest first,
// ownerQueued looks at: queued ones are the newest, so a long history of
// graded ones does not make every create slower.
const ownerScanLimit = 1000

// ownerQueued counts the owner's queued submissions, stopping at max.
func ownerQueued(tx *bbolt.Tx, b buckets, owner string, max int) (int, error) {
	byOwner := tx.Bucket(bucketByOwner)
	if byOwner == nil {
		return 0, nil
	}
	queue, err := b.index(grader.StatusQueued)
	if err != nil {
		return 0, err
	}
	prefix := fieldPrefix(owner)
	// Seek past the owner's last key, then walk back over its keys.
	end := append(append([]byte{}, prefix...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	c := byOwner.Cursor()
	k, _ := c.Seek(end)
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	n := 0
	for seen := 0; k != nil && bytes.HasPrefix(k, prefix) && n < max && seen < ownerScanLimit; seen++ {
		if queue.Get(k[len(prefix):]) != nil {
			n++
		}
		k, _ = c.Prev()
	}
	return n, nil
}

// fieldKey is the index key of the submission key under a field's value.
func fieldKey(value string, key []byte) []byte {
	return append(fieldPrefix(value), key...)
}

func knownStatus(st grader.Status) bool {
	for _, s := range statuses {
		if s == st {
			return true
		}
	}
	return false
}

// admitIn decides, in tx, whether the assignment as stored admits a
// submission made at t (grader's Assignment.Admit), and whether it is late.
// An assignment the bucket does not hold decides nothing.
func admitIn(tx *bbolt.Tx, id string, t time.Time) (late bool, err error) {
	b := tx.Bucket(bucketAssignments)
	if b == nil || len(id) > MaxFieldLen {
		return false, nil
	}
	data := b.Get([]byte(id))
	if data == nil {
		return false, nil
	}
	var a grader.Assignment
	if err := json.Unmarshal(data, &a); err != nil {
		return false, err
	}
	adm, err := a.Admit(t)
	if err != nil {
		return false, err
	}
	return adm == grader.AdmitLate, nil
}
