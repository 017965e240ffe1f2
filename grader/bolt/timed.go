package bolt

// Timed assessments: opening, revoking and extending an assignment, each a
// read-modify-write of its record in the assignments bucket in one
// transaction, so that concurrent opens keep the first.

import (
	"context"
	"encoding/json"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// OpenAssignment sets the assignment's OpenedAt to at unless it is set: the
// first open wins. It returns the assignment as stored.
func (s *Store) OpenAssignment(ctx context.Context, id string, at time.Time) (*grader.Assignment, error) {
	return s.updateAssignment(ctx, id, "open assignment", func(a *grader.Assignment) (bool, error) {
		if !a.OpenedAt.IsZero() {
			return false, nil
		}
		a.OpenedAt = at.UTC()
		return true, nil
	})
}

// RevokeAssignment revokes the assignment (grader's Assignment.Revoke:
// revoking twice keeps the first).
func (s *Store) RevokeAssignment(ctx context.Context, id, by string, at time.Time) (*grader.Assignment, error) {
	return s.updateAssignment(ctx, id, "revoke assignment", func(a *grader.Assignment) (bool, error) {
		if a.IsRevoked() {
			return false, nil
		}
		a.Revoke(by, at)
		return true, nil
	})
}

// ExtendAssignment records e as grader's Assignment.Extend decides; when it
// refuses, nothing is written.
func (s *Store) ExtendAssignment(ctx context.Context, id string, e grader.Extension) (*grader.Assignment, error) {
	return s.updateAssignment(ctx, id, "extend assignment", func(a *grader.Assignment) (bool, error) {
		return true, a.Extend(e)
	})
}

// updateAssignment loads the assignment, lets change edit it and saves it
// when change reports a change, in one transaction.
func (s *Store) updateAssignment(ctx context.Context, id, op string, change func(*grader.Assignment) (bool, error)) (*grader.Assignment, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	notFound := grader.Errorf(grader.ENOTFOUND, "assignment not found")
	if id == "" || len(id) > MaxFieldLen {
		return nil, notFound
	}
	var out *grader.Assignment
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketAssignments)
		if b == nil {
			return notFound
		}
		data := b.Get([]byte(id))
		if data == nil {
			return notFound
		}
		var a grader.Assignment
		if err := json.Unmarshal(data, &a); err != nil {
			return err
		}
		changed, err := change(&a)
		if err != nil {
			return err
		}
		out = &a
		if !changed {
			return nil
		}
		data, err = json.Marshal(&a)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), data)
	})
	if err != nil {
		return nil, storeErr(err, op)
	}
	return out, nil
}
