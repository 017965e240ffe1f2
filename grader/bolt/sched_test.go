package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// createAs stores a queued submission with the given owner, assignment,
// candidate and priority, and returns its id.
func createAs(tb testing.TB, s *Store, owner, assignment, candidate string, p grader.Priority) string {
	tb.Helper()
	sub := &grader.Submission{Exercise: "e", Candidate: candidate, Owner: owner, Assignment: assignment, Priority: p}
	if err := s.CreateSubmission(context.Background(), sub, []grader.File{{Path: "app/views.py", Data: []byte("x")}}); err != nil {
		tb.Fatalf("CreateSubmission: %v", err)
	}
	return sub.ID
}

// claimAll claims until the queue is empty and returns the ids in order.
func claimAll(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for {
		sub, err := s.ClaimNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sub == nil {
			return out
		}
		out = append(out, sub.ID)
	}
}

// schedEmpty fails the test if any of the scheduler's buckets holds a key:
// once the queue is drained, no turn or entry may be left behind.
func schedEmpty(t *testing.T, s *Store) {
	t.Helper()
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, name := range schedClasses {
			c, err := schedClass(tx, name)
			if err != nil {
				return err
			}
			for i, b := range []*bbolt.Bucket{c.ring, c.tenants, c.members, c.positions, c.fifo} {
				if n := b.Stats().KeyN; n != 0 {
					t.Errorf("class %s bucket %s holds %d keys after the queue drained", name, schedClassBucket[i], n)
				}
			}
		}
		d, err := delayedBucket(tx)
		if err != nil {
			return err
		}
		if n := d.Stats().KeyN; n != 0 {
			t.Errorf("delayed holds %d keys", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// One tenant with five waiting and three others with one each: the three
// are all claimed within the first four claims, not after the five.
func TestClaimTakesTurnsAcrossTenants(t *testing.T) {
	s := MustOpen(t)
	var heavy []string
	for i := range 5 {
		heavy = append(heavy, createAs(t, s, "tok_heavy", "", fmt.Sprint("heavy ", i), ""))
	}
	var others []string
	for _, tok := range []string{"tok_b", "tok_c", "tok_d"} {
		others = append(others, createAs(t, s, tok, "", "someone", ""))
	}
	got := claimAll(t, s)
	want := []string{heavy[0], others[0], others[1], others[2], heavy[1], heavy[2], heavy[3], heavy[4]}
	if !slices.Equal(got, want) {
		t.Fatalf("claims %v\nwant   %v", got, want)
	}
	for _, id := range others {
		if i := slices.Index(got, id); i < 0 || i >= 4 {
			t.Errorf("%s claimed at %d, want within the first 4", id, i)
		}
	}
	schedEmpty(t, s)
}

// Submissions without a token take turns by candidate; under a token, the
// token is the tenant whatever the candidate's name.
func TestTenantKinds(t *testing.T) {
	s := MustOpen(t)
	a1 := createAs(t, s, "", "", "ada", "")
	a2 := createAs(t, s, "", "", "ada", "")
	b1 := createAs(t, s, "", "", "bob", "")
	got := claimAll(t, s)
	if want := []string{a1, b1, a2}; !slices.Equal(got, want) {
		t.Fatalf("claims %v, want %v", got, want)
	}
}

// Two levels: assignments take turns, and inside an assignment its
// members (candidates' tokens) take turns.
func TestClaimTakesTurnsInsideAnAssignment(t *testing.T) {
	s := MustOpen(t)
	x1 := []string{
		createAs(t, s, "tok_1", "asg_x", "one", ""),
		createAs(t, s, "tok_1", "asg_x", "one", ""),
		createAs(t, s, "tok_1", "asg_x", "one", ""),
	}
	x2 := []string{
		createAs(t, s, "tok_2", "asg_x", "two", ""),
		createAs(t, s, "tok_2", "asg_x", "two", ""),
	}
	y := []string{
		createAs(t, s, "tok_3", "asg_y", "three", ""),
		createAs(t, s, "tok_3", "asg_y", "three", ""),
	}
	got := claimAll(t, s)
	want := []string{x1[0], y[0], x2[0], y[1], x1[1], x2[1], x1[2]}
	if !slices.Equal(got, want) {
		t.Fatalf("claims %v\nwant   %v", got, want)
	}
	schedEmpty(t, s)
}

// Every live submission is claimed before any normal one, every normal one
// before any batch one, whatever the order they came in; a regrade is batch.
func TestClaimByPriority(t *testing.T) {
	s := MustOpen(t)
	done := createAs(t, s, "tok_old", "", "old", "")
	if sub, err := s.ClaimNext(ctx); err != nil || sub.ID != done {
		t.Fatalf("claim %v, %v", sub, err)
	}
	if err := s.Finish(ctx, done, grader.StatusDone, &grader.Result{Verdict: grader.VerdictPassed}, ""); err != nil {
		t.Fatal(err)
	}
	batch := createAs(t, s, "tok_a", "", "a", grader.PriorityBatch)
	regraded, err := s.RequeueSubmission(ctx, done)
	if err != nil || regraded.Priority != grader.PriorityBatch {
		t.Fatalf("regrade: %+v, %v; want batch", regraded, err)
	}
	normal1 := createAs(t, s, "tok_a", "", "a", "")
	live1 := createAs(t, s, "tok_b", "", "b", grader.PriorityLive)
	normal2 := createAs(t, s, "tok_c", "", "c", "")
	live2 := createAs(t, s, "tok_a", "", "a", grader.PriorityLive)
	live3 := createAs(t, s, "tok_b", "", "b", grader.PriorityLive)
	got := claimAll(t, s)
	// Within live, tok_b and tok_a take turns.
	want := []string{live1, live2, live3, normal1, normal2, batch, done}
	if !slices.Equal(got, want) {
		t.Fatalf("claims %v\nwant   %v", got, want)
	}
	schedEmpty(t, s)
}

// Whose turn it is lives in the file: after a restart the tenant that was
// just served does not go first again.
func TestTurnsSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "djgrade.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := []string{createAs(t, s, "tok_a", "", "a", ""), createAs(t, s, "tok_a", "", "a", ""), createAs(t, s, "tok_a", "", "a", "")}
	b := []string{createAs(t, s, "tok_b", "", "b", ""), createAs(t, s, "tok_b", "", "b", "")}
	first, err := s.ClaimNext(ctx)
	if err != nil || first.ID != a[0] {
		t.Fatalf("first claim %v, %v", first, err)
	}
	if err := s.Finish(ctx, first.ID, grader.StatusDone, &grader.Result{Verdict: grader.VerdictPassed}, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = MustOpenPath(t, path)
	got := claimAll(t, s)
	if want := []string{b[0], a[1], b[1], a[2]}; !slices.Equal(got, want) {
		t.Fatalf("claims after reopen %v, want %v", got, want)
	}
	schedEmpty(t, s)
}

// A cancelled submission leaves the rotation: the others of its tenant keep
// their turns, and a tenant whose only one is cancelled has no turn left.
// A cancelled one regraded is back, as batch.
func TestCancelAndRequeueKeepTheSchedulerInStep(t *testing.T) {
	s := MustOpen(t)
	a1 := createAs(t, s, "tok_a", "", "a", "")
	a2 := createAs(t, s, "tok_a", "", "a", "")
	b1 := createAs(t, s, "tok_b", "", "b", "")
	c1 := createAs(t, s, "tok_c", "", "c", "")
	for _, id := range []string{a1, c1} {
		if _, err := s.CancelSubmission(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	// Cancelling a cancelled one is still a conflict.
	_, err := s.CancelSubmission(ctx, c1)
	wantCode(t, err, grader.ECONFLICT)
	if _, err := s.RequeueSubmission(ctx, c1); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(ctx, grader.StatusQueued); n != 3 {
		t.Fatalf("queued %d, want 3", n)
	}
	got := claimAll(t, s)
	if want := []string{a2, b1, c1}; !slices.Equal(got, want) {
		t.Fatalf("claims %v, want %v", got, want)
	}
	schedEmpty(t, s)
}

// RetryLater puts a running submission back as queued, unclaimable until
// its time; it can be cancelled while it waits; at its time it is claimed
// with its attempts kept.
func TestRetryLater(t *testing.T) {
	s := MustOpen(t)
	base := time.Now().UTC()
	s.now = func() time.Time { return base }
	id := createAs(t, s, "tok_a", "", "a", "")
	other := createAs(t, s, "tok_b", "", "b", "")
	for _, want := range []string{id, other} {
		if sub, err := s.ClaimNext(ctx); err != nil || sub.ID != want {
			t.Fatalf("claim %v, %v; want %s", sub, err, want)
		}
	}
	at := base.Add(time.Minute)
	if err := s.RetryLater(ctx, id, at); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryLater(ctx, other, at); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RetryLater(ctx, id, at), grader.ECONFLICT) // queued, not running
	sub, _ := s.Submission(ctx, id)
	if sub.Status != grader.StatusQueued || !sub.RetryAt.Equal(at) || sub.Attempts != 1 {
		t.Fatalf("after RetryLater: %+v", sub)
	}
	if n, _ := s.Count(ctx, grader.StatusQueued); n != 2 {
		t.Fatalf("queued %d, want 2", n)
	}
	if sub, err := s.ClaimNext(ctx); err != nil || sub != nil {
		t.Fatalf("claimed %v, %v before its retry time", sub, err)
	}
	if _, err := s.CancelSubmission(ctx, other); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return at }
	sub, err := s.ClaimNext(ctx)
	if err != nil || sub == nil || sub.ID != id || sub.Attempts != 2 || !sub.RetryAt.IsZero() {
		t.Fatalf("claim at retry time: %+v, %v", sub, err)
	}
	if sub, err := s.ClaimNext(ctx); err != nil || sub != nil {
		t.Fatalf("the cancelled one was claimed: %v, %v", sub, err)
	}
	schedEmpty(t, s)
}

// writeVersion1 writes, with bbolt alone, a file in the version-1 layout
// (a FIFO queue: status/queued in id order, no scheduler buckets): tenant
// tok_a has three queued, tok_b one, and one is done. It returns the
// queued ids in id order.
func writeVersion1(t *testing.T, path string) (a, b []string) {
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
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketSubmissions, bucketFiles, bucketByExercise, bucketByCandidate, bucketByOwner} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		status, err := tx.CreateBucket(bucketStatus)
		if err != nil {
			return err
		}
		for _, st := range statuses {
			if _, err := status.CreateBucket([]byte(st)); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("1")); err != nil {
			return err
		}
		var last []byte
		now := time.Now().UTC().Add(-time.Hour)
		for i, owner := range []string{"tok_a", "tok_a", "tok_x", "tok_a", "tok_b"} {
			key, err := newID(now.Add(time.Duration(i)*time.Second), last)
			if err != nil {
				return err
			}
			last = key[:]
			sub := grader.Submission{ID: key.String(), Exercise: "e", Candidate: owner, Owner: owner, Status: grader.StatusQueued, CreatedAt: now}
			if owner == "tok_x" {
				sub.Status, sub.Attempts = grader.StatusDone, 1
				sub.Result = &grader.Result{Verdict: grader.VerdictPassed}
			}
			data, _ := json.Marshal(sub)
			for _, put := range []struct {
				b    *bbolt.Bucket
				k, v []byte
			}{
				{tx.Bucket(bucketSubmissions), key[:], data},
				{tx.Bucket(bucketFiles), key[:], blob},
				{status.Bucket([]byte(sub.Status)), key[:], nil},
				{tx.Bucket(bucketByExercise), fieldKey(sub.Exercise, key[:]), nil},
				{tx.Bucket(bucketByCandidate), fieldKey(sub.Candidate, key[:]), nil},
				{tx.Bucket(bucketByOwner), fieldKey(sub.Owner, key[:]), nil},
			} {
				if err := put.b.Put(put.k, put.v); err != nil {
					return err
				}
			}
			switch owner {
			case "tok_a":
				a = append(a, sub.ID)
			case "tok_b":
				b = append(b, sub.ID)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// A version-1 file (FIFO queue) opens as version 2 with every queued
// submission scheduled: nothing lost, and the turns already apply.
func TestOpenMigratesVersion1Queue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	a, b := writeVersion1(t, path)
	s := MustOpenPath(t, path)
	if v, err := s.Version(); err != nil || v != SchemaVersion || SchemaVersion != 2 {
		t.Fatalf("version %d, %v; want 2", v, err)
	}
	if n, _ := s.Count(ctx, grader.StatusQueued); n != 4 {
		t.Fatalf("queued %d, want 4", n)
	}
	// Cancel still works on a migrated entry.
	if _, err := s.CancelSubmission(ctx, a[1]); err != nil {
		t.Fatal(err)
	}
	got := claimAll(t, s)
	if want := []string{a[0], b[0], a[2]}; !slices.Equal(got, want) {
		t.Fatalf("claims %v, want %v", got, want)
	}
	schedEmpty(t, s)
}

// RequeueRunning trusts the record over the index: a record that says
// queued under the running index is mended into the queue and the
// scheduler, so it is claimed.
func TestRequeueRunningMendsIntoTheScheduler(t *testing.T) {
	s := MustOpen(t)
	id := createAs(t, s, "tok_a", "", "a", "")
	if sub, err := s.ClaimNext(ctx); err != nil || sub == nil {
		t.Fatalf("claim %v, %v", sub, err)
	}
	key, _ := parseID(id)
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b, err := open(tx)
		if err != nil {
			return err
		}
		sub, err := load(b, key[:])
		if err != nil {
			return err
		}
		sub.Status = grader.StatusQueued
		data, _ := json.Marshal(sub)
		return b.subs.Put(key[:], data)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RequeueRunning(ctx); err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, s); !slices.Equal(got, []string{id}) {
		t.Fatalf("claims %v, want [%s]", got, id)
	}
	schedEmpty(t, s)
}
