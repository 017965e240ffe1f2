package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// writeVersion0 writes, with bbolt alone, a version-0 file: a meta bucket
// that says 0 and the submissions and files buckets, with no indexes. It
// returns the ids of a queued, a running and a done submission, in that order.
func writeVersion0(t *testing.T, path string) []string {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	blob, err := encodeFiles([]grader.File{{Path: "app/views.py", Data: []byte("x")}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	err = db.Update(func(tx *bbolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		subs, _ := tx.CreateBucket(bucketSubmissions)
		files, err := tx.CreateBucket(bucketFiles)
		if err != nil {
			return err
		}
		if err := meta.Put(keySchemaVersion, []byte("0")); err != nil {
			return err
		}
		var last []byte
		now := time.Now().UTC().Add(-time.Hour)
		for i, st := range []grader.Status{grader.StatusQueued, grader.StatusRunning, grader.StatusDone} {
			key, err := newID(now.Add(time.Duration(i)*time.Second), last)
			if err != nil {
				return err
			}
			last = key[:]
			sub := grader.Submission{ID: key.String(), Exercise: "n-plus-one", Candidate: "old " + strconv.Itoa(i), Status: st, CreatedAt: now}
			if st == grader.StatusDone {
				sub.Result = &grader.Result{Score: 10, MaxScore: 10, Verdict: grader.VerdictPassed}
			}
			if st != grader.StatusQueued {
				sub.Attempts = 1
			}
			data, _ := json.Marshal(sub)
			if err := subs.Put(key[:], data); err != nil {
				return err
			}
			if err := files.Put(key[:], blob); err != nil {
				return err
			}
			ids = append(ids, sub.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestOpenMigratesVersion0File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	ids := writeVersion0(t, path)
	s := MustOpenPath(t, path)
	ctx := context.Background()
	if v, err := s.Version(); err != nil || v != SchemaVersion {
		t.Fatalf("version after open: %d, %v; want %d", v, err, SchemaVersion)
	}
	// The exercise index was rebuilt: the filtered listing finds all three.
	list, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Exercise: "n-plus-one"})
	if err != nil || len(list) != 3 {
		t.Fatalf("listed %d, %v; want 3", len(list), err)
	}
	list, err = s.ListSubmissions(ctx, grader.SubmissionFilter{Candidate: "old 2"})
	if err != nil || len(list) != 1 || list[0].ID != ids[2] || list[0].Result.Score != 10 {
		t.Fatalf("by candidate: %+v, %v", list, err)
	}
	// The status index was rebuilt: the running one is requeued, and the
	// queue hands out the requeued one first (work interrupted by a crash
	// takes the first turn), then the old queued one.
	if n, err := s.RequeueRunning(ctx); err != nil || n != 1 {
		t.Fatalf("requeued %d, %v; want 1", n, err)
	}
	for _, want := range []string{ids[1], ids[0]} {
		sub, err := s.ClaimNext(ctx)
		if err != nil || sub == nil || sub.ID != want {
			t.Fatalf("claimed %+v, %v; want %s", sub, err, want)
		}
	}
	if sub, err := s.ClaimNext(ctx); err != nil || sub != nil {
		t.Fatalf("queue should be empty: %+v, %v", sub, err)
	}
	if files, err := s.SubmissionFiles(ctx, ids[0]); err != nil || len(files) != 1 || !bytes.Equal(files[0].Data, []byte("x")) {
		t.Fatalf("files: %+v, %v", files, err)
	}
	if n, err := s.Count(ctx, grader.StatusDone); err != nil || n != 1 {
		t.Fatalf("count done: %d, %v", n, err)
	}
}

// A version-0 file whose record cannot be read is refused whole: the
// migration's transaction rolls back and the file stays at version 0.
func TestOpenRefusesABrokenVersion0File(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	writeVersion0(t, path)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketSubmissions).Put([]byte("0123456789abcdef"), []byte("{not json"))
	})
	db.Close()
	if s, err := Open(path); err == nil {
		s.Close()
		t.Fatal("opened a file with a broken record")
	}
	db, err = bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bbolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != "0" || tx.Bucket(bucketStatus) != nil {
			t.Errorf("a failed migration changed the file: version %q, status bucket %v", v, tx.Bucket(bucketStatus) != nil)
		}
		return nil
	})
}

// A backup (tx.WriteTo) of a live store opens as a valid store with the
// same submissions.
func TestBackupOpensAsAStore(t *testing.T) {
	s := MustOpen(t)
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, mustCreate(t, s, "n-plus-one", "ada").ID)
	}
	if _, err := s.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := s.BackupFile(path); err != nil {
		t.Fatal(err)
	}
	c := MustOpenPath(t, path)
	if v, err := c.Version(); err != nil || v != SchemaVersion {
		t.Fatalf("copy version %d, %v", v, err)
	}
	if n, _ := c.Count(ctx, grader.StatusQueued); n != 4 {
		t.Fatalf("copy has %d queued, want 4", n)
	}
	if sub, err := c.Submission(ctx, ids[0]); err != nil || sub.Status != grader.StatusRunning {
		t.Fatalf("copy's first: %+v, %v", sub, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// Each store gets its own id once; it survives reopening and migration.
func TestStoreID(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(filepath.Join(dir, "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	idA, err := a.ID()
	a.Close()
	if err != nil || len(idA) != 16 {
		t.Fatalf("id %q, %v", idA, err)
	}
	a = MustOpenPath(t, filepath.Join(dir, "a.db"))
	if again, _ := a.ID(); again != idA {
		t.Fatalf("id changed on reopen: %q -> %q", idA, again)
	}
	b := MustOpenPath(t, filepath.Join(dir, "b.db"))
	if idB, _ := b.ID(); idB == idA || idB == "" {
		t.Fatalf("two stores share id %q", idA)
	}
	path := filepath.Join(dir, "old.db")
	writeVersion0(t, path)
	if id, _ := MustOpenPath(t, path).ID(); id == "" {
		t.Fatal("a migrated file has no id")
	}
}
