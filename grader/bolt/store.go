// Package bolt implements grader.Store over a bbolt file.
//
// Layout of the file (every key of a submission is its 16-byte binary id,
// 48 bits of milliseconds then 80 random bits, so key order is creation
// order):
//
//	meta                   "schema_version" -> decimal version of this layout
//	submissions            id -> JSON of grader.Submission
//	files                  id -> gzip'd tar of the candidate's files
//	status/<status>        id -> empty; one sub-bucket per status
//	by_exercise            len(exercise) (2 bytes) + exercise + id -> empty
//	by_candidate           len(candidate) (2 bytes) + candidate + id -> empty
//
//	sched/...              the order in which queued ones are claimed (sched.go)
//	similar/<exercise>/... similarity fingerprints and their index (similar.go)
//	reviews/<id>/...       a submission's review trail: seq -> entry (review.go)
//
// status/queued is the set of waiting submissions, oldest first; the sched
// buckets say whose turn it is (priority classes, then turns across
// tenants and their members). The other indexes let RequeueRunning and a filtered listing
// touch only the submissions they need. Every change of status moves
// the key between status buckets in the same transaction that rewrites the
// submission, so the index never disagrees with the record.
package bolt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// SchemaVersion is the version of the file layout this code reads and writes.
// Version 2 added the scheduler's buckets (sched.go).
const SchemaVersion = 2

// Bucket and key names.
var (
	bucketMeta        = []byte("meta")
	bucketSubmissions = []byte("submissions")
	bucketFiles       = []byte("files")
	bucketStatus      = []byte("status")
	bucketByExercise  = []byte("by_exercise")
	bucketByCandidate = []byte("by_candidate")
	keySchemaVersion  = []byte("schema_version")
	keyStoreID        = []byte("store_id")
)

// statuses are the sub-buckets of the status index.
var statuses = []grader.Status{
	grader.StatusQueued, grader.StatusRunning, grader.StatusDone,
	grader.StatusError, grader.StatusCancelled,
}

// openTimeout bounds the wait for the file's lock: bbolt allows one writer
// process, and a second djgrade on the same file must fail, not hang.
var openTimeout = 2 * time.Second

// migrations[v] turns a file at schema version v into version v+1, inside
// the transaction that then records the new version, so a crash mid-way
// leaves the old file untouched. Version 0 is a new, empty file, or one that
// holds only the submissions and files buckets (the records without their
// indexes). Add an entry here (never edit an old one) when the layout changes.
var migrations = map[int]func(tx *bbolt.Tx) error{
	0: toVersion1,
	1: toVersion2,
}

// Store is a grader.Store kept in one bbolt file. It is safe for concurrent
// use: bbolt runs one read-write transaction at a time, which is what makes
// ClaimNext hand each submission to exactly one caller.
type Store struct {
	db *bbolt.DB
	// now is the clock; tests replace it.
	now func() time.Time
}

var _ grader.Store = (*Store)(nil)

// Open opens the store at path, creating the file (mode 0600) and its folder
// (mode 0700) if needed, and brings the file's layout up to SchemaVersion. It
// fails with EUNAVAILABLE if another process holds the file, and with
// EINVALID if the file is not a djgrade store or was written by a newer djgrade.
func Open(path string) (*Store, error) {
	if path == "" {
		return nil, grader.Errorf(grader.EINVALID, "store path is empty")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "create the store's folder")
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: openTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, grader.Wrap(err, grader.EUNAVAILABLE,
			"store %s is in use by another process (no lock after %s)", path, openTimeout)
	} else if err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "open store %s", path)
	}
	if err := db.Update(migrate); err != nil {
		db.Close()
		return nil, storeErr(err, "prepare store "+path)
	}
	return &Store{db: db, now: time.Now}, nil
}

// migrate checks the file's schema version and upgrades it step by step.
func migrate(tx *bbolt.Tx) error {
	v := 0
	if meta := tx.Bucket(bucketMeta); meta != nil {
		raw := meta.Get(keySchemaVersion)
		n, err := strconv.Atoi(string(raw))
		if err != nil || n < 0 {
			return grader.Errorf(grader.EINVALID, "store has an unreadable schema version %q", raw)
		}
		v = n
	} else if err := tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		return grader.Errorf(grader.EINVALID, "file is a bbolt database but not a djgrade store (it has bucket %q)", name)
	}); err != nil {
		// A bbolt file without our meta bucket belongs to something else:
		// writing our buckets into it would mix two programs' data.
		return err
	}
	if v > SchemaVersion {
		return grader.Errorf(grader.EINVALID,
			"store has schema version %d but this djgrade reads up to %d: upgrade djgrade", v, SchemaVersion)
	}
	if v == SchemaVersion {
		return ensureStoreID(tx)
	}
	for ; v < SchemaVersion; v++ {
		m, ok := migrations[v]
		if !ok {
			return grader.Errorf(grader.EINTERNAL, "no migration from schema version %d", v)
		}
		if err := m(tx); err != nil {
			return fmt.Errorf("migrate from schema version %d: %w", v, err)
		}
	}
	meta, err := tx.CreateBucketIfNotExists(bucketMeta)
	if err != nil {
		return err
	}
	if err := meta.Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion))); err != nil {
		return err
	}
	return ensureStoreID(tx)
}

// ensureStoreID gives the file a random id once. It is not part of the
// layout (files without one get one on open, at any version), so it needs
// no migration.
func ensureStoreID(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		return errors.New("store has no meta bucket")
	}
	if len(meta.Get(keyStoreID)) > 0 {
		return nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return meta.Put(keyStoreID, []byte(hex.EncodeToString(b[:])))
}

// ID returns the store's random id, given to the file when it was first
// opened. Servers name their sandbox containers after it, so that a server
// removes the leftovers of its own store's crashed runs and of no other's,
// even when every containerized server keeps its store at /data.
func (s *Store) ID() (string, error) {
	var id string
	err := s.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("store has no meta bucket")
		}
		id = string(meta.Get(keyStoreID))
		return nil
	})
	if err != nil {
		return "", storeErr(err, "read store id")
	}
	return id, nil
}

// toVersion1 is the migration from version 0 to 1: it creates the buckets
// and indexes every submission already stored, so that records copied in
// without their indexes are queued, listed and requeued like any other.
func toVersion1(tx *bbolt.Tx) error {
	if err := createBuckets(tx); err != nil {
		return err
	}
	b, err := open(tx)
	if err != nil {
		return err
	}
	return b.subs.ForEach(func(k, v []byte) error {
		var sub grader.Submission
		if err := json.Unmarshal(v, &sub); err != nil {
			return fmt.Errorf("decode submission %x: %w", k, err)
		}
		if !knownStatus(sub.Status) {
			return fmt.Errorf("submission %x has an unknown status %q", k, sub.Status)
		}
		key := append([]byte(nil), k...)
		idx, err := b.index(sub.Status)
		if err != nil {
			return err
		}
		if err := idx.Put(key, nil); err != nil {
			return err
		}
		if err := b.byExercise.Put(fieldKey(sub.Exercise, key), nil); err != nil {
			return err
		}
		return b.byCandidate.Put(fieldKey(sub.Candidate, key), nil)
	})
}

// createBuckets creates every bucket of version 1 that is missing.
func createBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketSubmissions, bucketFiles, bucketByExercise, bucketByCandidate} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	idx, err := tx.CreateBucketIfNotExists(bucketStatus)
	if err != nil {
		return err
	}
	for _, s := range statuses {
		if _, err := idx.CreateBucketIfNotExists([]byte(s)); err != nil {
			return err
		}
	}
	return nil
}

// Version returns the schema version recorded in the file.
func (s *Store) Version() (int, error) {
	var v int
	err := s.db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("store has no meta bucket")
		}
		var err error
		v, err = strconv.Atoi(string(meta.Get(keySchemaVersion)))
		return err
	})
	if err != nil {
		return 0, storeErr(err, "read schema version")
	}
	return v, nil
}

// Ping checks that the store answers a read transaction and has its
// buckets; readiness probes call it.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		_, err := open(tx)
		return err
	})
	if err != nil {
		return storeErr(err, "ping")
	}
	return nil
}

// Count returns how many submissions have the status, from the status index
// (queued is the queue's depth). It reads only that index, not the records.
func (s *Store) Count(ctx context.Context, st grader.Status) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	var n int
	err := s.db.View(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		idx, err := b.index(st)
		if err != nil {
			return err
		}
		n = idx.Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, storeErr(err, "count submissions")
	}
	return n, nil
}

// SetNoSync turns fsync after each commit off (true) or back on (false),
// for bulk loads such as imports and benchmarks: with it off, a crash of
// the machine may lose the last commits. Call it only while no transaction
// runs; production never turns it off.
func (s *Store) SetNoSync(off bool) { s.db.NoSync = off }

// Close releases the file and its lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "close store")
	}
	return nil
}

// Path returns the file the store is kept in.
func (s *Store) Path() string { return s.db.Path() }

// storeErr passes an *grader.Error through and wraps anything else (a bbolt
// or encoding failure) as EINTERNAL, naming the operation for the logs.
func storeErr(err error, op string) error {
	var e *grader.Error
	if errors.As(err, &e) {
		return err
	}
	return grader.Wrap(err, grader.EINTERNAL, "store: %s failed", op)
}

// ctxErr reports a context that is already done, as EUNAVAILABLE keeping the
// context's error as the cause. A bbolt transaction cannot be interrupted, so
// the context is checked before one starts.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return grader.Wrap(err, grader.EUNAVAILABLE, "request ended before the store was reached")
	}
	return nil
}

// notFound is the error for an id that is malformed or not stored. It does
// not echo the id: a malformed one is the caller's arbitrary input.
func notFound() error {
	return grader.NoSuchSubmission()
}

// buckets are the buckets a transaction works on.
type buckets struct {
	tx                      *bbolt.Tx
	subs, files, status     *bbolt.Bucket
	byExercise, byCandidate *bbolt.Bucket
}

func open(tx *bbolt.Tx) (buckets, error) {
	b := buckets{
		tx:     tx,
		subs:   tx.Bucket(bucketSubmissions),
		files:  tx.Bucket(bucketFiles),
		status: tx.Bucket(bucketStatus),

		byExercise:  tx.Bucket(bucketByExercise),
		byCandidate: tx.Bucket(bucketByCandidate),
	}
	if b.subs == nil || b.files == nil || b.status == nil || b.byExercise == nil || b.byCandidate == nil {
		return b, errors.New("store is missing a bucket")
	}
	return b, nil
}

// index returns the status bucket for st.
func (b buckets) index(st grader.Status) (*bbolt.Bucket, error) {
	idx := b.status.Bucket([]byte(st))
	if idx == nil {
		return nil, fmt.Errorf("store has no index for status %q", st)
	}
	return idx, nil
}

// Backup writes a consistent copy of the whole file to w, taken in a read
// transaction, so that writers carry on while it runs.
func (s *Store) Backup(w io.Writer) error {
	_, err := s.WriteTo(w)
	return err
}

// WriteTo writes a consistent copy of the whole file to w and returns the
// number of bytes written; the copy opens with Open like the original.
func (s *Store) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, grader.Wrap(err, grader.EINTERNAL, "back up store")
	}
	return n, nil
}

// Snapshot calls fn inside one read transaction with the size of a
// consistent copy of the file and a function that writes that copy, so that
// a caller can announce the size (an HTTP header) before streaming it.
// Writers carry on while it runs.
func (s *Store) Snapshot(fn func(size int64, write func(io.Writer) error) error) error {
	return s.db.View(func(tx *bbolt.Tx) error {
		return fn(tx.Size(), func(w io.Writer) error {
			if _, err := tx.WriteTo(w); err != nil {
				return grader.Wrap(err, grader.EINTERNAL, "back up store")
			}
			return nil
		})
	})
}

// BackupFile writes a consistent copy to path (mode 0600). It writes a
// temporary file beside path and renames it into place, so path holds either
// the old backup or a complete new one, never half of one.
func (s *Store) BackupFile(path string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "create backup file")
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "create backup file")
	}
	if err := s.Backup(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "write backup file")
	}
	if err := tmp.Close(); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "write backup file")
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "move backup into place")
	}
	return nil
}
