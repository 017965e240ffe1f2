package grader_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// changedOf lists each snapshot's Changed, by seq.
func changedOf(t *testing.T, svc *grader.Service, id string) [][]string {
	t.Helper()
	list, err := svc.LiveSnapshots(context.Background(), id, false)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, sn := range list {
		if sn.Files != nil {
			t.Fatalf("snapshot %d listed with its files", sn.Seq)
		}
		out = append(out, sn.Changed)
	}
	return out
}

// Each snapshot records, when it is saved, which files it changed from
// the one before (the starter, for the first): the playback's time per
// file is counted from that, not from every snapshot's files. A session
// stored before that was recorded is worked out from its files once, at
// the first listing, and recorded, so that the next listing reads none.
func TestLiveSnapshotChanged(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "djgrade.db")
	store, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newSvc := func(store *bolt.Store) *grader.Service {
		svc := grader.NewService(grader.Config{Store: store, LiveStore: store, Auth: store, Sandbox: &fakeSandbox{},
			Catalog: oneCatalog{testExercise()}, Image: "img", Concurrency: 1, Poll: 50 * time.Millisecond})
		return svc
	}
	svc := newSvc(store)
	l, _, err := svc.StartLive(ctx, grader.LiveStart{Exercise: "demo", Candidate: "Ada", CreatedBy: "tok_staff"})
	if err != nil {
		t.Fatal(err)
	}
	saves := [][]grader.File{
		{{Path: "app/views.py", Data: []byte("slow\n")}}, // the starter's text: nothing changed
		{{Path: "app/views.py", Data: []byte("fast\n")}},
		{{Path: "app/views.py", Data: []byte("fast\n")}, {Path: "app/cache_helpers.py", Data: []byte("x = 1\n")}},
		{{Path: "app/views.py", Data: []byte("faster\n")}, {Path: "app/cache_helpers.py", Data: []byte("x = 2\n")}},
	}
	for _, files := range saves {
		if _, err := svc.SaveLive(ctx, l.ID, files); err != nil {
			t.Fatal(err)
		}
	}
	want := [][]string{{}, {"app/views.py"}, {"app/cache_helpers.py"}, {"app/cache_helpers.py", "app/views.py"}}
	check := func(what string, got [][]string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d snapshots, want %d", what, len(got), len(want))
		}
		for i := range want {
			if got[i] == nil || !slices.Equal(got[i], want[i]) {
				t.Errorf("%s: snapshot %d changed %q, want %q", what, i+1, got[i], want[i])
			}
		}
	}
	check("recorded at save time", changedOf(t, svc, l.ID))
	if sn, err := svc.LiveSnapshot(ctx, l.ID, 3); err != nil || !slices.Equal(sn.Changed, want[2]) {
		t.Errorf("snapshot 3 read alone: %v, %v", sn, err)
	}

	// Make the file one written before Changed was recorded: no index,
	// snapshots without "changed".
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		if err := tx.DeleteBucket([]byte("live_snapshot_index")); err != nil {
			return err
		}
		b := tx.Bucket([]byte("live_snapshots")).Bucket([]byte(l.ID))
		return b.ForEach(func(k, v []byte) error {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			delete(m, "changed")
			data, _ := json.Marshal(m)
			return b.Put(k, data)
		})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	store, err = bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if list, _ := store.LiveSnapshots(ctx, l.ID, false); len(list) != 4 || list[1].Changed != nil {
		t.Fatalf("the old file's snapshots: %+v", list)
	}
	svc = newSvc(store)
	check("worked out for an old session", changedOf(t, svc, l.ID))
	// Recorded: the store's own listing has them now, from the index.
	list, err := store.LiveSnapshots(ctx, l.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, sn := range list {
		got = append(got, sn.Changed)
	}
	check("recorded for the next listing", got)
}
