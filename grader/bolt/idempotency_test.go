package bolt

import (
	"bytes"
	"context"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// TestIdempotencyFingerprint: a key with the same fingerprint returns the
// first submission, with another is EKEYREUSED and stores nothing, and a
// key recorded before fingerprints (an id alone) matches any request.
func TestIdempotencyFingerprint(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	files := []grader.File{{Path: "app/views.py", Data: []byte("# a\n")}}
	create := func(key string, fp []byte) (*grader.Submission, bool, error) {
		sub := &grader.Submission{Exercise: "ex", Candidate: "Ada", Owner: "tok_1"}
		created, err := s.CreateSubmissionWith(ctx, sub, files, grader.CreateOptions{IdempotencyKey: key, Fingerprint: fp})
		return sub, created, err
	}
	fpA, fpB := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	first, created, err := create("k", fpA)
	if err != nil || !created {
		t.Fatalf("first: %v %v", created, err)
	}
	again, created, err := create("k", fpA)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("retry: %v %v %v", again.ID, created, err)
	}
	_, _, err = create("k", fpB)
	wantCode(t, err, grader.EKEYREUSED)
	if list, _ := s.ListSubmissions(ctx, grader.SubmissionFilter{}); len(list) != 1 {
		t.Errorf("%d submissions stored, want 1", len(list))
	}

	// A key stored by an older version: the id without a fingerprint.
	legacy, _, err := create("old", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketIdempotency)
		k := append(fieldPrefix("tok_1"), "old"...)
		if v := b.Get(k); len(v) != len(id{}) {
			t.Errorf("a key without fingerprint stored %d bytes", len(v))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, created, err := create("old", fpB)
	if err != nil || created || got.ID != legacy.ID {
		t.Errorf("legacy key: %v %v %v", got.ID, created, err)
	}
}
