package bolt

// Tokens, assignments, idempotency keys, the owner index, cancel and regrade.
//
// Buckets added to the layout (created on first write, so files of schema
// version 1 need no migration; a read of a bucket not yet created finds
// nothing):
//
//	tokens         token id -> JSON of grader.Token (the SHA-256, never the secret)
//	token_hashes   first 8 bytes of the SHA-256 -> token id
//	assignments    assignment id -> JSON of grader.Assignment
//	idempotency    len(owner) (2 bytes) + owner + key -> submission id (16 bytes)
//	               + the request's fingerprint (32 bytes; absent in older files)
//	by_owner       len(owner) (2 bytes) + owner + id -> empty

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"sort"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

var (
	bucketTokens      = []byte("tokens")
	bucketTokenHashes = []byte("token_hashes")
	bucketAssignments = []byte("assignments")
	bucketIdempotency = []byte("idempotency")
	bucketByOwner     = []byte("by_owner")
)

var _ grader.AuthStore = (*Store)(nil)

// hashLookupLen is how much of a token's hash the lookup index holds. The
// lookup is a map access whose timing may depend on the key; the full hash
// is then compared in constant time, so timing reveals at most which 8-byte
// prefix of a SHA-256 exists, which does not help forge a secret.
const hashLookupLen = 8

// CreateToken stores t with a new id and CreatedAt. A hash already stored
// (or sharing its lookup prefix) is ECONFLICT.
func (s *Store) CreateToken(ctx context.Context, t *grader.Token) error {
	if t == nil || len(t.Hash) != 32 || !t.Role.Valid() {
		return grader.Errorf(grader.EINVALID, "a token needs a SHA-256 hash and a known role")
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	rec := *t
	rec.ID = grader.NewRecordID("tok_")
	rec.CreatedAt = s.now().UTC()
	rec.RevokedAt = time.Time{}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		toks, err := tx.CreateBucketIfNotExists(bucketTokens)
		if err != nil {
			return err
		}
		hashes, err := tx.CreateBucketIfNotExists(bucketTokenHashes)
		if err != nil {
			return err
		}
		if hashes.Get(rec.Hash[:hashLookupLen]) != nil {
			return grader.Errorf(grader.ECONFLICT, "a token with that secret already exists")
		}
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		if err := toks.Put([]byte(rec.ID), data); err != nil {
			return err
		}
		return hashes.Put(rec.Hash[:hashLookupLen], []byte(rec.ID))
	})
	if err != nil {
		return storeErr(err, "create token")
	}
	*t = rec
	return nil
}

// unauthorized is the one answer to every bad secret, whatever was wrong.
func unauthorized() error {
	return grader.Errorf(grader.EUNAUTHORIZED, "missing, unknown or revoked API token")
}

// TokenBySecret returns the unrevoked token whose hash is the secret's, or
// EUNAUTHORIZED; the full hashes are compared in constant time.
func (s *Store) TokenBySecret(ctx context.Context, secret string) (*grader.Token, error) {
	if secret == "" || len(secret) > 512 {
		return nil, unauthorized()
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	hash := grader.HashSecret(secret)
	var tok *grader.Token
	err := s.db.View(func(tx *bbolt.Tx) error {
		hashes, toks := tx.Bucket(bucketTokenHashes), tx.Bucket(bucketTokens)
		if hashes == nil || toks == nil {
			return nil
		}
		id := hashes.Get(hash[:hashLookupLen])
		if id == nil {
			return nil
		}
		var err error
		tok, err = loadToken(toks, id)
		return err
	})
	if err != nil {
		return nil, storeErr(err, "look up token")
	}
	if tok == nil || subtle.ConstantTimeCompare(tok.Hash, hash) != 1 || tok.Revoked() {
		return nil, unauthorized()
	}
	return tok, nil
}

func loadToken(toks *bbolt.Bucket, id []byte) (*grader.Token, error) {
	data := toks.Get(id)
	if data == nil {
		return nil, nil
	}
	var t grader.Token
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// Token returns the token with the id, or ENOTFOUND.
func (s *Store) Token(ctx context.Context, id string) (*grader.Token, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var tok *grader.Token
	err := s.db.View(func(tx *bbolt.Tx) error {
		toks := tx.Bucket(bucketTokens)
		if toks == nil || id == "" || len(id) > MaxFieldLen {
			return nil
		}
		var err error
		tok, err = loadToken(toks, []byte(id))
		return err
	})
	if err != nil {
		return nil, storeErr(err, "get token")
	}
	if tok == nil {
		return nil, grader.Errorf(grader.ENOTFOUND, "token not found")
	}
	return tok, nil
}

// Tokens returns every token, oldest first.
func (s *Store) Tokens(ctx context.Context) ([]*grader.Token, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := []*grader.Token{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		toks := tx.Bucket(bucketTokens)
		if toks == nil {
			return nil
		}
		return toks.ForEach(func(k, _ []byte) error {
			t, err := loadToken(toks, k)
			if t != nil {
				out = append(out, t)
			}
			return err
		})
	})
	if err != nil {
		return nil, storeErr(err, "list tokens")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// RevokeToken marks the token revoked; revoking twice keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, id string) (*grader.Token, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var tok *grader.Token
	err := s.db.Update(func(tx *bbolt.Tx) error {
		toks := tx.Bucket(bucketTokens)
		if toks == nil || id == "" || len(id) > MaxFieldLen {
			return grader.Errorf(grader.ENOTFOUND, "token not found")
		}
		t, err := loadToken(toks, []byte(id))
		if err != nil {
			return err
		}
		if t == nil {
			return grader.Errorf(grader.ENOTFOUND, "token not found")
		}
		if !t.Revoked() {
			t.RevokedAt = s.now().UTC()
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		tok = t
		return toks.Put([]byte(id), data)
	})
	if err != nil {
		return nil, storeErr(err, "revoke token")
	}
	return tok, nil
}

// CreateAssignment stores a with a new id and CreatedAt.
func (s *Store) CreateAssignment(ctx context.Context, a *grader.Assignment) error {
	if a == nil {
		return grader.Errorf(grader.EINVALID, "no assignment")
	}
	if err := ctxErr(ctx); err != nil {
		return err
	}
	rec := *a
	rec.ID = grader.NewRecordID("asg_")
	rec.CreatedAt = s.now().UTC()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketAssignments)
		if err != nil {
			return err
		}
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		return b.Put([]byte(rec.ID), data)
	})
	if err != nil {
		return storeErr(err, "create assignment")
	}
	*a = rec
	return nil
}

// Assignment returns the assignment with the id, or ENOTFOUND.
func (s *Store) Assignment(ctx context.Context, id string) (*grader.Assignment, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *grader.Assignment
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAssignments)
		if b == nil || id == "" || len(id) > MaxFieldLen {
			return nil
		}
		data := b.Get([]byte(id))
		if data == nil {
			return nil
		}
		out = &grader.Assignment{}
		return json.Unmarshal(data, out)
	})
	if err != nil {
		return nil, storeErr(err, "get assignment")
	}
	if out == nil {
		return nil, grader.Errorf(grader.ENOTFOUND, "assignment not found")
	}
	return out, nil
}

// Assignments returns the assignments, newest first; a non-empty token keeps
// only that candidate token's. Assignments are few (one per candidate and
// exercise), so a scan is cheap.
func (s *Store) Assignments(ctx context.Context, token string) ([]*grader.Assignment, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	out := []*grader.Assignment{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAssignments)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var a grader.Assignment
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if token == "" || a.Token == token {
				out = append(out, &a)
			}
			return nil
		})
	})
	if err != nil {
		return nil, storeErr(err, "list assignments")
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, nil
}

// CancelSubmission cancels a submission as grader's Submission.Cancel
// decides (only a queued one; any other status is ECONFLICT). It runs in one
// transaction with ClaimNext's, so a worker either claimed it first
// (conflict) or never will.
func (s *Store) CancelSubmission(ctx context.Context, idText string) (*grader.Submission, error) {
	return s.transition(ctx, idText, "cancel submission", func(sub *grader.Submission) error {
		return sub.Cancel(s.now().UTC())
	})
}

// RequeueSubmission puts a finished submission back on the queue for a
// regrade as grader's Submission.Regrade decides (its result moves to
// History; queued or running is ECONFLICT). A regrade is batch work: it is
// claimed after every live and normal submission that waits.
func (s *Store) RequeueSubmission(ctx context.Context, idText string) (*grader.Submission, error) {
	return s.transition(ctx, idText, "regrade submission", func(sub *grader.Submission) error {
		return sub.Regrade()
	})
}

// transition loads a submission, lets change (a grader transition) edit it
// and saves it with its status index moved, in one transaction; when change
// refuses, nothing is written.
func (s *Store) transition(ctx context.Context, idText, op string, change func(*grader.Submission) error) (*grader.Submission, error) {
	key, ok := parseID(idText)
	if !ok {
		return nil, notFound()
	}
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	var out *grader.Submission
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
		from := sub.Status
		if err := change(sub); err != nil {
			return err
		}
		out = sub
		return save(b, key[:], sub, from)
	})
	if err != nil {
		return nil, storeErr(err, op)
	}
	return out, nil
}
