package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// Live sessions (grader.LiveStore). Buckets, created on first write:
//
//	live            session id -> liveRecord (JSON)
//	live_snapshots  session id -> sub-bucket: seq (8 bytes, big endian) -> LiveSnapshot
//	live_snapshot_index  session id -> sub-bucket: seq -> snapshotMeta
//	                (the snapshot without its files: what a listing reads)
//	live_run_index  session id -> sub-bucket: seq -> LiveRun.Summarized()
//	live_runs       session id -> sub-bucket: seq -> LiveRun
//	live_notes      session id -> sub-bucket: seq -> LiveNote
//
// Every call is one transaction: a rejected write leaves nothing.
var (
	bucketLive          = []byte("live")
	bucketLiveSnapshots = []byte("live_snapshots")
	bucketLiveRuns      = []byte("live_runs")
	bucketLiveNotes     = []byte("live_notes")
	bucketLiveSnapIndex = []byte("live_snapshot_index")
	bucketLiveRunIndex  = []byte("live_run_index")
)

// snapshotMeta is a snapshot without its files, kept beside it so that a
// listing (the watch page, the playback, the API's) reads up to
// LiveMaxSnapshots small records rather than as many snapshots of up to
// LiveMaxSnapshotBytes. A snapshot stored before the index has no entry:
// the listing reads it whole, and SetLiveSnapshotChanged adds its entry.
type snapshotMeta struct {
	Seq   int       `json:"seq"`
	At    time.Time `json:"at"`
	Bytes int       `json:"bytes"`
	// Changed is null when not recorded, [] when nothing changed.
	Changed []string `json:"changed"`
}

func putSnapshotMeta(tx *bbolt.Tx, id string, m snapshotMeta) error {
	b, err := sub(tx, bucketLiveSnapIndex, id)
	if err != nil {
		return err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return b.Put(seqKey(m.Seq), data)
}

// liveRecord is a stored session: Limit is not in the session's JSON.
type liveRecord struct {
	Session *grader.LiveSession `json:"session"`
	LimitNS int64               `json:"limit_ns"`
}

func seqKey(n int) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(n))
	return k
}

func getLive(tx *bbolt.Tx, id string) (*grader.LiveSession, error) {
	b := tx.Bucket(bucketLive)
	if b == nil || id == "" || len(id) > MaxFieldLen {
		return nil, grader.Errorf(grader.ENOTFOUND, "no live session %q", id)
	}
	data := b.Get([]byte(id))
	if data == nil {
		return nil, grader.Errorf(grader.ENOTFOUND, "no live session %q", id)
	}
	var rec liveRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Session == nil {
		return nil, grader.Errorf(grader.EINTERNAL, "live session %q is unreadable", id)
	}
	rec.Session.Limit = time.Duration(rec.LimitNS)
	return rec.Session, nil
}

func putLive(tx *bbolt.Tx, l *grader.LiveSession) error {
	b, err := tx.CreateBucketIfNotExists(bucketLive)
	if err != nil {
		return err
	}
	data, err := json.Marshal(liveRecord{Session: l, LimitNS: int64(l.Limit)})
	if err != nil {
		return err
	}
	return b.Put([]byte(l.ID), data)
}

// CreateLive stores l, assigning CreatedAt, and ID unless the caller chose
// one (an id already stored is ECONFLICT).
func (s *Store) CreateLive(ctx context.Context, l *grader.LiveSession) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	rec := *l
	if rec.ID == "" {
		rec.ID = grader.NewRecordID("live_")
	}
	rec.CreatedAt = s.now().UTC()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := getLive(tx, rec.ID); err == nil {
			return grader.Errorf(grader.ECONFLICT, "live session %q exists", rec.ID)
		}
		return putLive(tx, &rec)
	})
	if err != nil {
		return storeErr(err, "create live session")
	}
	*l = rec
	return nil
}

// Live returns the session with the id, or ENOTFOUND.
func (s *Store) Live(ctx context.Context, id string) (*grader.LiveSession, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *grader.LiveSession
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = getLive(tx, id)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "read live session")
	}
	return out, nil
}

// UpdateLive loads the session, calls fn and stores it if fn returns nil.
func (s *Store) UpdateLive(ctx context.Context, id string, fn func(*grader.LiveSession) error) (*grader.LiveSession, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *grader.LiveSession
	err := s.db.Update(func(tx *bbolt.Tx) error {
		l, err := getLive(tx, id)
		if err != nil {
			return err
		}
		if err := fn(l); err != nil {
			return err
		}
		l.ID = id
		out = l
		return putLive(tx, l)
	})
	if err != nil {
		return nil, storeErr(err, "update live session")
	}
	return out, nil
}

// ListLive returns sessions newest first, only candidateToken's if set.
func (s *Store) ListLive(ctx context.Context, candidateToken string) ([]*grader.LiveSession, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out []*grader.LiveSession
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketLive)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, _ []byte) error {
			l, err := getLive(tx, string(k))
			if err != nil {
				return err
			}
			if candidateToken == "" || l.CandidateToken == candidateToken {
				out = append(out, l)
			}
			return nil
		})
	})
	if err != nil {
		return nil, storeErr(err, "list live sessions")
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// sub returns (creating) the session's sub-bucket of top.
func sub(tx *bbolt.Tx, top []byte, id string) (*bbolt.Bucket, error) {
	b, err := tx.CreateBucketIfNotExists(top)
	if err != nil {
		return nil, err
	}
	return b.CreateBucketIfNotExists([]byte(id))
}

func subView(tx *bbolt.Tx, top []byte, id string) *bbolt.Bucket {
	b := tx.Bucket(top)
	if b == nil {
		return nil
	}
	return b.Bucket([]byte(id))
}

// AddLiveSnapshot stores snap as the next snapshot, ETOOLARGE past
// LiveMaxSnapshots or LiveMaxSessionBytes.
func (s *Store) AddLiveSnapshot(ctx context.Context, id string, snap *grader.LiveSnapshot) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	rec := *snap
	err := s.db.Update(func(tx *bbolt.Tx) error {
		l, err := getLive(tx, id)
		if err != nil {
			return err
		}
		if l.Snapshots >= grader.LiveMaxSnapshots {
			return grader.Errorf(grader.ETOOLARGE, "the session has %d snapshots, the most it may keep", l.Snapshots)
		}
		size := int64(0) // counted here, whatever Bytes says
		for _, f := range rec.Files {
			size += int64(len(f.Data))
		}
		if l.SnapshotBytes+size > grader.LiveMaxSessionBytes {
			return grader.Errorf(grader.ETOOLARGE, "the session's snapshots come to %s, the most it may keep is %s",
				archive.FormatBytes(l.SnapshotBytes), archive.FormatBytes(grader.LiveMaxSessionBytes))
		}
		l.SnapshotBytes += size
		b, err := sub(tx, bucketLiveSnapshots, id)
		if err != nil {
			return err
		}
		l.Snapshots++
		rec.Seq = l.Snapshots
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(rec.Seq), data); err != nil {
			return err
		}
		if err := putSnapshotMeta(tx, id, snapshotMeta{Seq: rec.Seq, At: rec.At, Bytes: rec.Bytes, Changed: rec.Changed}); err != nil {
			return err
		}
		return putLive(tx, l)
	})
	if err != nil {
		return storeErr(err, "add live snapshot")
	}
	*snap = rec
	return nil
}

// LiveSnapshots returns the session's snapshots in order. Without files
// it reads the index only, but for snapshots stored before it.
func (s *Store) LiveSnapshots(ctx context.Context, id string, withFiles bool) ([]*grader.LiveSnapshot, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := []*grader.LiveSnapshot{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		l, err := getLive(tx, id)
		if err != nil {
			return err
		}
		b := subView(tx, bucketLiveSnapshots, id)
		if b == nil {
			return nil
		}
		index := subView(tx, bucketLiveSnapIndex, id)
		for seq := 1; seq <= l.Snapshots; seq++ {
			var meta *snapshotMeta
			if index != nil {
				if v := index.Get(seqKey(seq)); v != nil {
					meta = &snapshotMeta{}
					if err := json.Unmarshal(v, meta); err != nil {
						return err
					}
				}
			}
			if meta != nil && !withFiles {
				out = append(out, &grader.LiveSnapshot{Seq: meta.Seq, At: meta.At, Bytes: meta.Bytes, Changed: meta.Changed})
				continue
			}
			v := b.Get(seqKey(seq))
			if v == nil {
				continue
			}
			var snap grader.LiveSnapshot
			if err := json.Unmarshal(v, &snap); err != nil {
				return err
			}
			if !withFiles {
				snap.Files = nil
			}
			if meta != nil && snap.Changed == nil {
				snap.Changed = meta.Changed
			}
			out = append(out, &snap)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "list live snapshots")
	}
	return out, nil
}

// SetLiveSnapshotChanged records the Changed paths of snapshots stored
// without them, in the index (their stored records stay as they are).
func (s *Store) SetLiveSnapshotChanged(ctx context.Context, id string, changed map[int][]string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := getLive(tx, id); err != nil {
			return err
		}
		b := subView(tx, bucketLiveSnapshots, id)
		for seq, paths := range changed {
			var v []byte
			if b != nil && seq > 0 {
				v = b.Get(seqKey(seq))
			}
			if v == nil {
				return grader.Errorf(grader.ENOTFOUND, "no snapshot %d in live session %q", seq, id)
			}
			var snap grader.LiveSnapshot
			if err := json.Unmarshal(v, &snap); err != nil {
				return err
			}
			if paths == nil {
				paths = []string{}
			}
			if err := putSnapshotMeta(tx, id, snapshotMeta{Seq: seq, At: snap.At, Bytes: snap.Bytes, Changed: paths}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return storeErr(err, "record live snapshot changes")
	}
	return nil
}

// LiveSnapshot returns one snapshot with its files, or ENOTFOUND.
func (s *Store) LiveSnapshot(ctx context.Context, id string, seq int) (*grader.LiveSnapshot, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *grader.LiveSnapshot
	err := s.db.View(func(tx *bbolt.Tx) error {
		if _, err := getLive(tx, id); err != nil {
			return err
		}
		b := subView(tx, bucketLiveSnapshots, id)
		var v []byte
		if b != nil && seq > 0 {
			v = b.Get(seqKey(seq))
		}
		if v == nil {
			return grader.Errorf(grader.ENOTFOUND, "no snapshot %d in live session %q", seq, id)
		}
		out = &grader.LiveSnapshot{}
		if err := json.Unmarshal(v, out); err != nil {
			return err
		}
		// A snapshot stored before Changed was: its index entry, if any.
		if index := subView(tx, bucketLiveSnapIndex, id); out.Changed == nil && index != nil {
			if m := index.Get(seqKey(seq)); m != nil {
				var meta snapshotMeta
				if err := json.Unmarshal(m, &meta); err != nil {
					return err
				}
				out.Changed = meta.Changed
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "read live snapshot")
	}
	return out, nil
}

// PutLiveRun stores r, a new run when r.Seq is 0.
func (s *Store) PutLiveRun(ctx context.Context, id string, r *grader.LiveRun) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	rec := *r
	err := s.db.Update(func(tx *bbolt.Tx) error {
		l, err := getLive(tx, id)
		if err != nil {
			return err
		}
		b, err := sub(tx, bucketLiveRuns, id)
		if err != nil {
			return err
		}
		if rec.Seq == 0 {
			if l.Runs >= grader.LiveMaxRuns {
				return grader.Errorf(grader.ETOOLARGE, "the session has run its tests %d times, the most it may keep", l.Runs)
			}
			l.Runs++
			rec.Seq = l.Runs
			if err := putLive(tx, l); err != nil {
				return err
			}
		} else if rec.Seq < 0 || b.Get(seqKey(rec.Seq)) == nil {
			return grader.Errorf(grader.ENOTFOUND, "no run %d in live session %q", rec.Seq, id)
		}
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		if err := b.Put(seqKey(rec.Seq), data); err != nil {
			return err
		}
		index, err := sub(tx, bucketLiveRunIndex, id)
		if err != nil {
			return err
		}
		if data, err = json.Marshal(rec.Summarized()); err != nil {
			return err
		}
		return index.Put(seqKey(rec.Seq), data)
	})
	if err != nil {
		return storeErr(err, "store live run")
	}
	*r = rec
	return nil
}

// LiveRuns returns the session's runs in order.
func (s *Store) LiveRuns(ctx context.Context, id string) ([]*grader.LiveRun, error) {
	out := []*grader.LiveRun{}
	err := s.list(ctx, bucketLiveRuns, id, func(v []byte) error {
		var r grader.LiveRun
		if err := json.Unmarshal(v, &r); err != nil {
			return err
		}
		out = append(out, &r)
		return nil
	})
	return out, err
}

// LiveRun returns one run, or ENOTFOUND.
func (s *Store) LiveRun(ctx context.Context, id string, seq int) (*grader.LiveRun, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *grader.LiveRun
	err := s.db.View(func(tx *bbolt.Tx) error {
		if _, err := getLive(tx, id); err != nil {
			return err
		}
		b := subView(tx, bucketLiveRuns, id)
		var v []byte
		if b != nil && seq > 0 {
			v = b.Get(seqKey(seq))
		}
		if v == nil {
			return grader.Errorf(grader.ENOTFOUND, "no run %d in live session %q", seq, id)
		}
		out = &grader.LiveRun{}
		return json.Unmarshal(v, out)
	})
	if err != nil {
		return nil, storeErr(err, "read live run")
	}
	return out, nil
}

// LiveRunSummaries returns the session's runs in order, summarized, from
// the index (a run stored before it is read whole and summarized).
func (s *Store) LiveRunSummaries(ctx context.Context, id string) ([]*grader.LiveRun, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := []*grader.LiveRun{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		l, err := getLive(tx, id)
		if err != nil {
			return err
		}
		runs, index := subView(tx, bucketLiveRuns, id), subView(tx, bucketLiveRunIndex, id)
		for seq := 1; seq <= l.Runs; seq++ {
			var v []byte
			if index != nil {
				v = index.Get(seqKey(seq))
			}
			whole := v == nil
			if whole && runs != nil {
				v = runs.Get(seqKey(seq))
			}
			if v == nil {
				continue
			}
			var r grader.LiveRun
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if whole {
				out = append(out, r.Summarized())
			} else {
				out = append(out, &r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "list live run summaries")
	}
	return out, nil
}

// AddLiveNote stores n as the session's next note.
func (s *Store) AddLiveNote(ctx context.Context, id string, n *grader.LiveNote) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		if _, err := getLive(tx, id); err != nil {
			return err
		}
		b, err := sub(tx, bucketLiveNotes, id)
		if err != nil {
			return err
		}
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		data, err := json.Marshal(n)
		if err != nil {
			return err
		}
		return b.Put(seqKey(int(seq)), data)
	})
	if err != nil {
		return storeErr(err, "add live note")
	}
	return nil
}

// LiveNotes returns the session's notes in order.
func (s *Store) LiveNotes(ctx context.Context, id string) ([]*grader.LiveNote, error) {
	out := []*grader.LiveNote{}
	err := s.list(ctx, bucketLiveNotes, id, func(v []byte) error {
		var n grader.LiveNote
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		out = append(out, &n)
		return nil
	})
	return out, err
}

func (s *Store) list(ctx context.Context, top []byte, id string, fn func([]byte) error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if _, err := getLive(tx, id); err != nil {
			return err
		}
		b := subView(tx, top, id)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error { return fn(v) })
	})
	if err != nil {
		return storeErr(err, "list live session")
	}
	return nil
}

var _ grader.LiveStore = (*Store)(nil)
