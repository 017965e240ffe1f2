package bolt

import (
	"context"
	"encoding/json"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// Reviews (grader.ReviewStore). One bucket, created on first write:
//
//	reviews         submission key (16 bytes) -> sub-bucket:
//	                seq (8 bytes, big endian) -> JSON of grader.ReviewEntry
//
// The trail is append-only: entries are only ever added, under the next
// sequence number of their submission's sub-bucket, in the transaction
// that read the submission and the trail the service's decision rests on.
var bucketReviews = []byte("reviews")

var _ grader.ReviewStore = (*Store)(nil)

// readTrail decodes a submission's sub-bucket, in order.
func readTrail(b *bbolt.Bucket) ([]grader.ReviewEntry, error) {
	out := []grader.ReviewEntry{}
	if b == nil {
		return out, nil
	}
	err := b.ForEach(func(k, v []byte) error {
		var e grader.ReviewEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return grader.Wrap(err, grader.EINTERNAL, "review entry %x is unreadable", k)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

func trailBucket(tx *bbolt.Tx, key []byte) *bbolt.Bucket {
	root := tx.Bucket(bucketReviews)
	if root == nil {
		return nil
	}
	return root.Bucket(key)
}

// AppendReview appends the entry decide returns to the submission's trail,
// in the transaction that read the submission and the trail.
func (s *Store) AppendReview(ctx context.Context, idText string, decide func(*grader.Submission, []grader.ReviewEntry) (grader.ReviewEntry, error)) (grader.ReviewEntry, error) {
	key, ok := parseID(idText)
	if !ok {
		return grader.ReviewEntry{}, notFound()
	}
	if err := ctxErr(ctx); err != nil {
		return grader.ReviewEntry{}, err
	}
	var out grader.ReviewEntry
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
		trail, err := readTrail(trailBucket(tx, key[:]))
		if err != nil {
			return err
		}
		e, err := decide(sub, trail)
		if err != nil {
			return err
		}
		root, err := tx.CreateBucketIfNotExists(bucketReviews)
		if err != nil {
			return err
		}
		tb, err := root.CreateBucketIfNotExists(key[:])
		if err != nil {
			return err
		}
		n, err := tb.NextSequence()
		if err != nil {
			return err
		}
		e.Seq = int(n)
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		out = e
		return tb.Put(seqKey(e.Seq), data)
	})
	if err != nil {
		return grader.ReviewEntry{}, storeErr(err, "append to a review")
	}
	return out, nil
}

// ReviewTrail returns the submission's entries in order: empty for a
// submission without any, or unknown.
func (s *Store) ReviewTrail(ctx context.Context, idText string) ([]grader.ReviewEntry, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	key, ok := parseID(idText)
	if !ok {
		return []grader.ReviewEntry{}, nil
	}
	var out []grader.ReviewEntry
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = readTrail(trailBucket(tx, key[:]))
		return err
	})
	if err != nil {
		return nil, storeErr(err, "read a review")
	}
	return out, nil
}

// ReviewSummaries returns the summaries of those of the submissions that
// have a trail, in one transaction; malformed ids have none.
func (s *Store) ReviewSummaries(ctx context.Context, ids []string) (map[string]grader.ReviewSummary, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := map[string]grader.ReviewSummary{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketReviews) == nil {
			return nil
		}
		for _, idText := range ids {
			key, ok := parseID(idText)
			if !ok {
				continue
			}
			tb := trailBucket(tx, key[:])
			if tb == nil {
				continue
			}
			trail, err := readTrail(tb)
			if err != nil {
				return err
			}
			out[idText] = grader.Summarize(trail)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "read review summaries")
	}
	return out, nil
}
