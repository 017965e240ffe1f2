package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"sort"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/similar"
)

// Similarity fingerprints (grader.SimilarityStore). Buckets, created on
// first write:
//
//	similar                 exercise id -> sub-bucket:
//	  docs                  document id -> JSON []similar.Fingerprint
//	  sizes                 document id -> distinct hashes (4 bytes, big endian)
//	  postings              hash (8 bytes, big endian) + document id ->
//	                        JSON of the document's fingerprints with that hash
//
// A query reads the postings of its own hashes only: a seek to each hash
// and the keys that follow with the same 8 bytes. Every call is one
// transaction: a document's postings never disagree with its docs entry.
var (
	bucketSimilar  = []byte("similar")
	bucketSimDocs  = []byte("docs")
	bucketSimSizes = []byte("sizes")
	bucketSimPost  = []byte("postings")
)

var _ grader.SimilarityStore = (*Store)(nil)

// checkSimilarIDs refuses an empty or overlong exercise or document id.
func checkSimilarIDs(exercise, doc string) error {
	if exercise == "" || len(exercise) > MaxFieldLen {
		return grader.Errorf(grader.EINVALID, "exercise id must be 1 to %d bytes", MaxFieldLen)
	}
	if doc == "" || len(doc) > MaxFieldLen {
		return grader.Errorf(grader.EINVALID, "document id must be 1 to %d bytes", MaxFieldLen)
	}
	return nil
}

func hashKey(h uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, h)
	return k
}

// simBuckets returns the exercise's three buckets, or nils when the
// exercise has none yet; with create, it makes them.
func simBuckets(tx *bbolt.Tx, exercise string, create bool) (docs, sizes, post *bbolt.Bucket, err error) {
	var ex *bbolt.Bucket
	if create {
		root, err := tx.CreateBucketIfNotExists(bucketSimilar)
		if err != nil {
			return nil, nil, nil, err
		}
		if ex, err = root.CreateBucketIfNotExists([]byte(exercise)); err != nil {
			return nil, nil, nil, err
		}
		for _, b := range []struct {
			name []byte
			to   **bbolt.Bucket
		}{{bucketSimDocs, &docs}, {bucketSimSizes, &sizes}, {bucketSimPost, &post}} {
			if *b.to, err = ex.CreateBucketIfNotExists(b.name); err != nil {
				return nil, nil, nil, err
			}
		}
		return docs, sizes, post, nil
	}
	if root := tx.Bucket(bucketSimilar); root != nil {
		ex = root.Bucket([]byte(exercise))
	}
	if ex == nil {
		return nil, nil, nil, nil
	}
	return ex.Bucket(bucketSimDocs), ex.Bucket(bucketSimSizes), ex.Bucket(bucketSimPost), nil
}

// deleteDoc removes a document's entries from the exercise's buckets.
func deleteDoc(docs, sizes, post *bbolt.Bucket, doc string) error {
	raw := docs.Get([]byte(doc))
	if raw == nil {
		return nil
	}
	var old []similar.Fingerprint
	if err := json.Unmarshal(raw, &old); err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "fingerprints of %q are unreadable", doc)
	}
	for _, f := range old {
		if err := post.Delete(append(hashKey(f.Hash), doc...)); err != nil {
			return err
		}
	}
	if err := sizes.Delete([]byte(doc)); err != nil {
		return err
	}
	return docs.Delete([]byte(doc))
}

// PutFingerprints replaces the fingerprints stored for doc, its postings
// with them, in one transaction.
func (s *Store) PutFingerprints(ctx context.Context, exercise, doc string, fps []similar.Fingerprint) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := checkSimilarIDs(exercise, doc); err != nil {
		return err
	}
	if fps == nil {
		fps = []similar.Fingerprint{}
	}
	data, err := json.Marshal(fps)
	if err != nil {
		return grader.Wrap(err, grader.EINTERNAL, "encode fingerprints")
	}
	byHash := map[uint64][]similar.Fingerprint{}
	for _, f := range fps {
		byHash[f.Hash] = append(byHash[f.Hash], f)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		docs, sizes, post, err := simBuckets(tx, exercise, true)
		if err != nil {
			return err
		}
		if err := deleteDoc(docs, sizes, post, doc); err != nil {
			return err
		}
		for h, held := range byHash {
			v, err := json.Marshal(held)
			if err != nil {
				return err
			}
			if err := post.Put(append(hashKey(h), doc...), v); err != nil {
				return err
			}
		}
		size := make([]byte, 4)
		binary.BigEndian.PutUint32(size, uint32(len(byHash)))
		if err := sizes.Put([]byte(doc), size); err != nil {
			return err
		}
		return docs.Put([]byte(doc), data)
	})
	if err != nil {
		return storeErr(err, "store fingerprints")
	}
	return nil
}

// SimilarTo returns every document of the exercise holding one of the
// hashes of fps, with those of its fingerprints and its size, ordered by
// document id, reading only the postings of those hashes.
func (s *Store) SimilarTo(ctx context.Context, exercise string, fps []similar.Fingerprint) ([]similar.Candidate, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := checkSimilarIDs(exercise, "-"); err != nil {
		return nil, err
	}
	hashes := make([]uint64, 0, len(fps))
	seen := map[uint64]bool{}
	for _, f := range fps {
		if !seen[f.Hash] {
			seen[f.Hash] = true
			hashes = append(hashes, f.Hash)
		}
	}
	// In key order, so the cursor only ever moves forward.
	sort.Slice(hashes, func(i, j int) bool { return hashes[i] < hashes[j] })
	byDoc := map[string]*similar.Candidate{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		_, sizes, post, err := simBuckets(tx, exercise, false)
		if err != nil || post == nil {
			return err
		}
		c := post.Cursor()
		for _, h := range hashes {
			prefix := hashKey(h)
			for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				doc := string(k[8:])
				var held []similar.Fingerprint
				if err := json.Unmarshal(v, &held); err != nil {
					return grader.Wrap(err, grader.EINTERNAL, "fingerprints of %q are unreadable", doc)
				}
				cand := byDoc[doc]
				if cand == nil {
					size := sizes.Get([]byte(doc))
					if len(size) != 4 {
						return grader.Errorf(grader.EINTERNAL, "no size stored for %q", doc)
					}
					cand = &similar.Candidate{Doc: doc, Size: int(binary.BigEndian.Uint32(size))}
					byDoc[doc] = cand
				}
				cand.Fingerprints = append(cand.Fingerprints, held...)
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "query fingerprints")
	}
	out := make([]similar.Candidate, 0, len(byDoc))
	for _, c := range byDoc {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Doc < out[j].Doc })
	return out, nil
}

// DocumentFingerprints returns the fingerprints stored for doc, or ENOTFOUND.
func (s *Store) DocumentFingerprints(ctx context.Context, exercise, doc string) ([]similar.Fingerprint, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := checkSimilarIDs(exercise, doc); err != nil {
		return nil, err
	}
	var out []similar.Fingerprint
	err := s.db.View(func(tx *bbolt.Tx) error {
		docs, _, _, err := simBuckets(tx, exercise, false)
		if err != nil {
			return err
		}
		var raw []byte
		if docs != nil {
			raw = docs.Get([]byte(doc))
		}
		if raw == nil {
			return grader.Errorf(grader.ENOTFOUND, "no fingerprints stored for this document")
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			return grader.Wrap(err, grader.EINTERNAL, "fingerprints of %q are unreadable", doc)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err, "read fingerprints")
	}
	return out, nil
}

// DeleteFingerprints removes doc and its postings; a document not stored
// is no error.
func (s *Store) DeleteFingerprints(ctx context.Context, exercise, doc string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	if err := checkSimilarIDs(exercise, doc); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		docs, sizes, post, err := simBuckets(tx, exercise, false)
		if err != nil || docs == nil {
			return err
		}
		return deleteDoc(docs, sizes, post, doc)
	})
	if err != nil {
		return storeErr(err, "delete fingerprints")
	}
	return nil
}

// SimilarityDocuments returns the ids of the exercise's stored documents,
// in order.
func (s *Store) SimilarityDocuments(ctx context.Context, exercise string) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	if err := checkSimilarIDs(exercise, "-"); err != nil {
		return nil, err
	}
	var out []string
	err := s.db.View(func(tx *bbolt.Tx) error {
		_, sizes, _, err := simBuckets(tx, exercise, false)
		if err != nil || sizes == nil {
			return err
		}
		return sizes.ForEach(func(k, _ []byte) error {
			out = append(out, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, storeErr(err, "list fingerprinted documents")
	}
	return out, nil
}
