package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/djgrade/djgrade/grader"
)

// MustOpen opens a store in a fresh file under t.TempDir and closes it when
// the test ends.
func MustOpen(tb testing.TB) *Store {
	tb.Helper()
	return MustOpenPath(tb, filepath.Join(tb.TempDir(), "data", "djgrade.db"))
}

// MustOpenPath opens the store at path and closes it when the test ends.
func MustOpenPath(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// mustCreate stores a submission with one file and returns it.
func mustCreate(tb testing.TB, s *Store, exercise, candidate string) *grader.Submission {
	tb.Helper()
	sub := &grader.Submission{Exercise: exercise, Candidate: candidate}
	files := []grader.File{{Path: "app/views.py", Data: []byte("# " + candidate + "\n")}}
	if err := s.CreateSubmission(context.Background(), sub, files); err != nil {
		tb.Fatalf("CreateSubmission: %v", err)
	}
	return sub
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := grader.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
	var e *grader.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *grader.Error", err)
	}
}

var ctx = context.Background()

func TestOpenCreatesFolderAndFilePrivately(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "djgrade.db")
	s := MustOpenPath(t, path)
	if s.Path() != path {
		t.Errorf("Path() = %q, want %q", s.Path(), path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode = %v, want 0600", fi.Mode().Perm())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("folder mode = %v, want 0700", di.Mode().Perm())
	}
}

func TestCreateGetRoundTrip(t *testing.T) {
	s := MustOpen(t)
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	s.now = func() time.Time { return fixed }
	sub := &grader.Submission{
		Exercise:  "drf-n-plus-one",
		Candidate: "ada@example.com",
		// Life-cycle fields the store must reset, whatever a caller sets.
		Status:   grader.StatusDone,
		Attempts: 7,
		Error:    "forged",
		Result:   &grader.Result{Score: 100},
		Refused:  []grader.RefusedFile{{Path: "settings.py", Reason: "not editable"}},
	}
	if err := s.CreateSubmission(ctx, sub, nil); err != nil {
		t.Fatal(err)
	}
	if !ValidID(sub.ID) {
		t.Fatalf("assigned id %q is not valid", sub.ID)
	}
	want := grader.Submission{
		ID: sub.ID, Exercise: "drf-n-plus-one", Candidate: "ada@example.com",
		Status: grader.StatusQueued, CreatedAt: fixed,
		Refused: []grader.RefusedFile{{Path: "settings.py", Reason: "not editable"}},
	}
	if !reflect.DeepEqual(*sub, want) {
		t.Errorf("after create sub = %+v\nwant %+v", *sub, want)
	}
	got, err := s.Submission(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("Submission() = %+v\nwant %+v", *got, want)
	}
	// The id's time part is the creation time.
	key, _ := parseID(sub.ID)
	var ms [8]byte
	copy(ms[2:], key[:6])
	if got := time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))); !got.Equal(fixed.Truncate(time.Millisecond)) {
		t.Errorf("id time = %v, want %v", got, fixed)
	}
}

func TestCreateNilSubmission(t *testing.T) {
	s := MustOpen(t)
	wantCode(t, s.CreateSubmission(ctx, nil, nil), grader.EINVALID)
}

func TestFilesRoundTrip(t *testing.T) {
	s := MustOpen(t)
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	long := strings.Repeat("deep/", 40) + "módulo_ünïcode.py"
	files := []grader.File{
		{Path: "shop/views.py", Data: []byte("from rest_framework import viewsets\n")},
		{Path: "empty.py", Data: []byte{}},
		{Path: "nil.py"},
		{Path: "a/b/c/d/e/nested.txt", Data: []byte("nested\r\nwith CRLF\x00and NUL")},
		{Path: "bin/run.sh", Data: []byte("#!/bin/sh\necho hi\n"), Exec: true},
		{Path: "data.bin", Data: bin},
		{Path: long, Data: bytes.Repeat([]byte("x"), 1<<20)},
	}
	sub := &grader.Submission{Exercise: "e", Candidate: "c"}
	if err := s.CreateSubmission(ctx, sub, files); err != nil {
		t.Fatal(err)
	}
	got, err := s.SubmissionFiles(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(files) {
		t.Fatalf("got %d files, want %d", len(got), len(files))
	}
	for i, f := range files {
		g := got[i]
		if g.Path != f.Path || g.Exec != f.Exec || !bytes.Equal(g.Data, f.Data) {
			t.Errorf("file %d = {%q exec=%v %d bytes}, want {%q exec=%v %d bytes}",
				i, g.Path, g.Exec, len(g.Data), f.Path, f.Exec, len(f.Data))
		}
	}

	// No files at all is a valid submission with an empty list.
	none := &grader.Submission{Exercise: "e", Candidate: "c"}
	if err := s.CreateSubmission(ctx, none, nil); err != nil {
		t.Fatal(err)
	}
	got, err = s.SubmissionFiles(ctx, none.ID)
	if err != nil || len(got) != 0 {
		t.Errorf("SubmissionFiles(no files) = %v, %v; want empty, nil", got, err)
	}
}

func TestCreateRefusesBadPathsAndStoresNothing(t *testing.T) {
	s := MustOpen(t)
	for _, p := range []string{"", ".", "/etc/passwd", "../escape.py", "a/../../b", "a//b", "a/./b", "dir/"} {
		t.Run(p, func(t *testing.T) {
			sub := &grader.Submission{Exercise: "e", Candidate: "c"}
			err := s.CreateSubmission(ctx, sub, []grader.File{{Path: "ok.py"}, {Path: p, Data: []byte("x")}})
			wantCode(t, err, grader.EINVALID)
			if sub.ID != "" {
				t.Errorf("sub.ID = %q after a refused create", sub.ID)
			}
		})
	}
	err := s.CreateSubmission(ctx, &grader.Submission{}, []grader.File{{Path: "a.py"}, {Path: "a.py"}})
	wantCode(t, err, grader.EINVALID)
	list, err := s.ListSubmissions(ctx, grader.SubmissionFilter{})
	if err != nil || len(list) != 0 {
		t.Fatalf("after refused creates: %d submissions, %v; want none", len(list), err)
	}
	if next, err := s.ClaimNext(ctx); next != nil || err != nil {
		t.Fatalf("ClaimNext after refused creates = %v, %v; want nil, nil", next, err)
	}
}

func TestIDsSortableAndUnique(t *testing.T) {
	// Every id from one frozen millisecond, then from a clock stepped back
	// an hour: key order must still be creation order.
	const n = 10000
	frozen := time.Now()
	seen := make(map[string]bool, n)
	var ids []string
	var last []byte
	for i := 0; i < n; i++ {
		now := frozen
		if i >= n/2 {
			now = frozen.Add(-time.Hour)
		}
		x, err := newID(now, last)
		if err != nil {
			t.Fatal(err)
		}
		if last != nil && bytes.Compare(x[:], last) <= 0 {
			t.Fatalf("id %d (%x) not greater than the previous (%x)", i, x, last)
		}
		last = append(last[:0], x[:]...)
		s := x.String()
		if seen[s] {
			t.Fatalf("id %q repeated", s)
		}
		seen[s] = true
		if back, ok := parseID(s); !ok || back != x {
			t.Fatalf("parseID(%q) = %x, %v; want %x", s, back, ok, x)
		}
		ids = append(ids, s)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids in creation order are not sorted as text")
	}
	// Fresh ids in consecutive milliseconds are random beyond the time:
	// two ids one millisecond apart share no more than the time prefix.
	a, _ := newID(frozen, nil)
	b, _ := newID(frozen, nil)
	if a == b || bytes.Equal(a[6:], b[6:]) {
		t.Fatalf("two ids in one millisecond share their random part: %s %s", a, b)
	}
}

func TestIDsFromStoreSortByCreation(t *testing.T) {
	s := MustOpen(t)
	s.db.NoSync = true // 1,000 commits; durability is not what is tested here
	frozen := time.Now()
	s.now = func() time.Time { return frozen }
	var ids []string
	for i := 0; i < 1000; i++ {
		ids = append(ids, mustCreate(t, s, "e", fmt.Sprint(i)).ID)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids of submissions created in one millisecond are not in creation order")
	}
	list, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Candidate != "999" || list[2].Candidate != "997" {
		t.Fatalf("newest three = %v", candidates(list))
	}
}

func TestIDEncoding(t *testing.T) {
	var zero, max id
	for i := range max {
		max[i] = 0xff
	}
	if got := zero.String(); got != "00000000000000000000000000" {
		t.Errorf("zero id = %q", got)
	}
	if got := max.String(); got != "7zzzzzzzzzzzzzzzzzzzzzzzzz" {
		t.Errorf("max id = %q", got)
	}
	if _, err := newID(time.Now(), max[:]); !errors.Is(err, errIDSpace) {
		t.Errorf("newID after the max id: err = %v, want errIDSpace", err)
	}
}

func TestInvalidIDs(t *testing.T) {
	s := MustOpen(t)
	real := mustCreate(t, s, "e", "c")
	unknown, _ := newID(time.Now(), nil)
	cases := map[string]string{
		"empty":          "",
		"short":          "abc",
		"long":           real.ID + "0",
		"upper case":     strings.ToUpper(real.ID),
		"letter u":       "u" + real.ID[1:],
		"alias i":        real.ID[:25] + "i",
		"first above 7":  "8" + real.ID[1:],
		"path traversal": "../../../../../etc/passwd0",
		"unicode":        "é" + real.ID[2:],
		"NUL":            "\x00" + real.ID[1:],
		"unknown":        unknown.String(),
	}
	for name, idText := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := s.Submission(ctx, idText)
			wantCode(t, err, grader.ENOTFOUND)
			_, err = s.SubmissionFiles(ctx, idText)
			wantCode(t, err, grader.ENOTFOUND)
			err = s.Finish(ctx, idText, grader.StatusError, nil, "x")
			wantCode(t, err, grader.ENOTFOUND)
		})
	}
	if _, err := s.Submission(ctx, real.ID); err != nil {
		t.Fatalf("the real id: %v", err)
	}
}

func TestClaimNextConcurrent(t *testing.T) {
	const total, workers = 500, 8
	s := MustOpen(t)
	want := make(map[string]bool, total)
	for i := 0; i < total; i++ {
		want[mustCreate(t, s, "e", fmt.Sprint(i)).ID] = true
	}
	var mu sync.Mutex
	claims := make(map[string]int, total)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prev := ""
			for {
				sub, err := s.ClaimNext(ctx)
				if err != nil {
					errs <- err
					return
				}
				if sub == nil {
					return
				}
				if sub.Status != grader.StatusRunning || sub.Attempts != 1 || sub.StartedAt.IsZero() {
					errs <- fmt.Errorf("claimed %+v: want running, attempt 1, started", sub)
					return
				}
				// Oldest first: one worker's claims only go forward.
				if sub.ID <= prev {
					errs <- fmt.Errorf("claimed %s after %s", sub.ID, prev)
					return
				}
				prev = sub.ID
				mu.Lock()
				claims[sub.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claims) != total {
		t.Fatalf("claimed %d distinct submissions, want %d", len(claims), total)
	}
	for id, n := range claims {
		if n != 1 || !want[id] {
			t.Errorf("submission %s claimed %d times (known: %v)", id, n, want[id])
		}
	}
	running, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Status: grader.StatusRunning})
	if err != nil || len(running) != MaxList {
		t.Fatalf("running list = %d, %v; want %d", len(running), err, MaxList)
	}
	queued, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Status: grader.StatusQueued})
	if err != nil || len(queued) != 0 {
		t.Fatalf("queued list = %d, %v; want 0", len(queued), err)
	}
}

func TestClaimNextEmpty(t *testing.T) {
	s := MustOpen(t)
	sub, err := s.ClaimNext(ctx)
	if sub != nil || err != nil {
		t.Fatalf("ClaimNext on empty store = %v, %v; want nil, nil", sub, err)
	}
}

func TestFinish(t *testing.T) {
	s := MustOpen(t)
	sub := mustCreate(t, s, "e", "c")
	result := &grader.Result{
		Score: 7, MaxScore: 10, Verdict: grader.VerdictFailed, Reason: "1 check failed",
		Categories: []grader.CategoryScore{{Name: "performance", Score: 3, MaxScore: 6}},
		Tests:      []grader.TestResult{{Name: "constant queries", NodeID: "djgrade_hidden/t.py::t", Hidden: true, Outcome: "failed", MaxPoints: 3, Queries: 12}},
		Timings:    map[string]int64{"run": 1234},
	}

	// Not running yet: a conflict, and nothing changes.
	wantCode(t, s.Finish(ctx, sub.ID, grader.StatusDone, result, ""), grader.ECONFLICT)

	claimed, err := s.ClaimNext(ctx)
	if err != nil || claimed == nil || claimed.ID != sub.ID {
		t.Fatalf("ClaimNext = %v, %v", claimed, err)
	}
	// Bad arguments are refused before the state is looked at.
	wantCode(t, s.Finish(ctx, sub.ID, grader.StatusDone, nil, ""), grader.EINVALID)
	wantCode(t, s.Finish(ctx, sub.ID, grader.StatusError, nil, ""), grader.EINVALID)
	wantCode(t, s.Finish(ctx, sub.ID, grader.StatusQueued, result, ""), grader.EINVALID)
	wantCode(t, s.Finish(ctx, sub.ID, grader.StatusCancelled, result, "x"), grader.EINVALID)
	wantCode(t, s.Finish(ctx, sub.ID, "bogus", result, "x"), grader.EINVALID)

	if err := s.Finish(ctx, sub.ID, grader.StatusDone, result, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.Submission(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != grader.StatusDone || got.FinishedAt.IsZero() || !reflect.DeepEqual(got.Result, result) {
		t.Fatalf("after Finish: %+v", got)
	}
	// A second finish (a late or duplicate worker) conflicts and keeps the first.
	wantCode(t, s.Finish(ctx, sub.ID, grader.StatusError, nil, "late worker"), grader.ECONFLICT)
	again, _ := s.Submission(ctx, sub.ID)
	if again.Status != grader.StatusDone || again.Error != "" {
		t.Fatalf("second Finish changed the submission: %+v", again)
	}

	// The error path records the reason.
	sub2 := mustCreate(t, s, "e", "c2")
	if _, err := s.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, sub2.ID, grader.StatusError, nil, "docker daemon gone"); err != nil {
		t.Fatal(err)
	}
	got2, _ := s.Submission(ctx, sub2.ID)
	if got2.Status != grader.StatusError || got2.Error != "docker daemon gone" || got2.Result != nil {
		t.Fatalf("after Finish(error): %+v", got2)
	}
	for st, n := range map[grader.Status]int{grader.StatusDone: 1, grader.StatusError: 1, grader.StatusRunning: 0} {
		list, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Status: st})
		if err != nil || len(list) != n {
			t.Errorf("status %s lists %d, %v; want %d", st, len(list), err, n)
		}
	}
}

func TestRequeueRunningAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "djgrade.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	a := mustCreate(t, s, "e", "a")
	b := mustCreate(t, s, "e", "b")
	c := mustCreate(t, s, "e", "c")
	for range 2 {
		if _, err := s.ClaimNext(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A crash: the workers are gone, the file holds two running submissions.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpenPath(t, path)
	n, err := s.RequeueRunning(ctx)
	if err != nil || n != 2 {
		t.Fatalf("RequeueRunning = %d, %v; want 2", n, err)
	}
	if n, err := s.RequeueRunning(ctx); err != nil || n != 0 {
		t.Fatalf("second RequeueRunning = %d, %v; want 0", n, err)
	}
	// They go back in their original places, before c, with attempts kept.
	for i, want := range []struct {
		id       string
		attempts int
	}{{a.ID, 2}, {b.ID, 2}, {c.ID, 1}} {
		sub, err := s.ClaimNext(ctx)
		if err != nil || sub == nil {
			t.Fatalf("claim %d: %v, %v", i, sub, err)
		}
		if sub.ID != want.id || sub.Attempts != want.attempts {
			t.Errorf("claim %d = %s attempt %d; want %s attempt %d", i, sub.ID, sub.Attempts, want.id, want.attempts)
		}
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "djgrade.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	files := []grader.File{{Path: "app/models.py", Data: []byte("class A: pass\n")}, {Path: "x/empty"}}
	done := &grader.Submission{Exercise: "e1", Candidate: "ann"}
	if err := s.CreateSubmission(ctx, done, files); err != nil {
		t.Fatal(err)
	}
	queued := mustCreate(t, s, "e2", "bob")
	if _, err := s.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Finish(ctx, done.ID, grader.StatusDone, &grader.Result{Score: 5, MaxScore: 5, Verdict: grader.VerdictPassed}, ""); err != nil {
		t.Fatal(err)
	}
	before, err := s.ListSubmissions(ctx, grader.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustOpenPath(t, path)
	after, err := s.ListSubmissions(ctx, grader.SubmissionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) || len(after) != 2 {
		t.Fatalf("after reopen:\n%+v\nwant\n%+v", after, before)
	}
	gotFiles, err := s.SubmissionFiles(ctx, done.ID)
	if err != nil || len(gotFiles) != 2 || string(gotFiles[0].Data) != "class A: pass\n" || gotFiles[1].Path != "x/empty" {
		t.Fatalf("files after reopen = %+v, %v", gotFiles, err)
	}
	next, err := s.ClaimNext(ctx)
	if err != nil || next == nil || next.ID != queued.ID {
		t.Fatalf("queue after reopen: ClaimNext = %+v, %v; want %s", next, err, queued.ID)
	}
}

func TestListSubmissionsFilters(t *testing.T) {
	s := MustOpen(t)
	s.db.NoSync = true
	for i := 0; i < 150; i++ {
		mustCreate(t, s, fmt.Sprintf("ex%d", i%3), fmt.Sprintf("cand%d", i%5))
	}
	// Claim and finish the oldest two: they are ex0/cand0 and ex1/cand1.
	for range 2 {
		sub, err := s.ClaimNext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, sub.ID, grader.StatusDone, &grader.Result{}, ""); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filter grader.SubmissionFilter
		want   int
	}{
		{grader.SubmissionFilter{}, MaxList},
		{grader.SubmissionFilter{Limit: 7}, 7},
		{grader.SubmissionFilter{Limit: -1}, MaxList},
		{grader.SubmissionFilter{Limit: 1000}, MaxList},
		{grader.SubmissionFilter{Exercise: "ex1"}, 50},
		{grader.SubmissionFilter{Candidate: "cand3"}, 30},
		{grader.SubmissionFilter{Exercise: "ex0", Candidate: "cand0"}, 10},
		{grader.SubmissionFilter{Exercise: "nope"}, 0},
		{grader.SubmissionFilter{Status: grader.StatusDone}, 2},
		{grader.SubmissionFilter{Status: grader.StatusDone, Exercise: "ex1"}, 1},
		{grader.SubmissionFilter{Status: grader.StatusQueued, Limit: 200}, MaxList},
		{grader.SubmissionFilter{Status: grader.StatusCancelled}, 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%+v", tt.filter), func(t *testing.T) {
			list, err := s.ListSubmissions(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != tt.want {
				t.Fatalf("got %d, want %d", len(list), tt.want)
			}
			for i, sub := range list {
				if (tt.filter.Exercise != "" && sub.Exercise != tt.filter.Exercise) ||
					(tt.filter.Candidate != "" && sub.Candidate != tt.filter.Candidate) ||
					(tt.filter.Status != "" && sub.Status != tt.filter.Status) {
					t.Errorf("item %d %+v does not match the filter", i, sub)
				}
				if i > 0 && sub.ID >= list[i-1].ID {
					t.Errorf("item %d (%s) not older than item %d (%s)", i, sub.ID, i-1, list[i-1].ID)
				}
			}
		})
	}
	_, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Status: "bogus"})
	wantCode(t, err, grader.EINVALID)
}

func TestCancelledContext(t *testing.T) {
	s := MustOpen(t)
	sub := mustCreate(t, s, "e", "c")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := s.CreateSubmission(cctx, &grader.Submission{}, nil)
	wantCode(t, err, grader.EUNAVAILABLE)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v does not wrap context.Canceled", err)
	}
	_, err = s.ClaimNext(cctx)
	wantCode(t, err, grader.EUNAVAILABLE)
	_, err = s.Submission(cctx, sub.ID)
	wantCode(t, err, grader.EUNAVAILABLE)
	if got, _ := s.Submission(ctx, sub.ID); got.Status != grader.StatusQueued {
		t.Fatalf("a cancelled ClaimNext changed the submission: %+v", got)
	}
}

func TestSchemaVersion(t *testing.T) {
	t.Run("newer version refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "djgrade.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		setRaw(t, path, func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(fmt.Sprint(SchemaVersion+1)))
		})
		_, err = Open(path)
		wantCode(t, err, grader.EINVALID)
		if !strings.Contains(grader.ErrorMessage(err), "upgrade djgrade") {
			t.Errorf("message %q does not say what to do", grader.ErrorMessage(err))
		}
	})
	t.Run("garbage version refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "djgrade.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		setRaw(t, path, func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte("one"))
		})
		_, err = Open(path)
		wantCode(t, err, grader.EINVALID)
	})
	t.Run("foreign bbolt file refused", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		setRaw(t, path, func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucket([]byte("somebody_else"))
			return err
		})
		_, err := Open(path)
		wantCode(t, err, grader.EINVALID)
		// And it was left untouched.
		db, err := bbolt.Open(path, 0o600, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		db.View(func(tx *bbolt.Tx) error {
			if tx.Bucket(bucketMeta) != nil {
				t.Error("Open wrote a meta bucket into a foreign file")
			}
			return nil
		})
	})
	t.Run("older version migrated", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "djgrade.db")
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sub := mustCreate(t, s, "e", "c")
		s.Close()
		// Pretend the file is one version behind with a migration that marks it.
		setRaw(t, path, func(tx *bbolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchemaVersion, []byte(fmt.Sprint(SchemaVersion-1)))
		})
		old := migrations[SchemaVersion-1]
		ran := false
		migrations[SchemaVersion-1] = func(tx *bbolt.Tx) error { ran = true; return old(tx) }
		defer func() { migrations[SchemaVersion-1] = old }()
		s = MustOpenPath(t, path)
		if !ran {
			t.Fatal("the migration hook did not run")
		}
		if _, err := s.Submission(ctx, sub.ID); err != nil {
			t.Fatalf("data lost in migration: %v", err)
		}
		s.Close()
		setRaw(t, path, func(tx *bbolt.Tx) error {
			if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != fmt.Sprint(SchemaVersion) {
				t.Errorf("schema version after migration = %q", v)
			}
			return nil
		})
	})
}

// setRaw changes a closed store file directly through bbolt.
func setRaw(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLockedFileFailsFast(t *testing.T) {
	old := openTimeout
	openTimeout = 200 * time.Millisecond
	defer func() { openTimeout = old }()
	path := filepath.Join(t.TempDir(), "djgrade.db")
	MustOpenPath(t, path)
	start := time.Now()
	_, err := Open(path)
	wantCode(t, err, grader.EUNAVAILABLE)
	if !strings.Contains(grader.ErrorMessage(err), "in use by another process") {
		t.Errorf("message = %q", grader.ErrorMessage(err))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second Open took %v", d)
	}
}

func TestOpenEmptyPath(t *testing.T) {
	_, err := Open("")
	wantCode(t, err, grader.EINVALID)
}

func TestBackup(t *testing.T) {
	s := MustOpen(t)
	sub := &grader.Submission{Exercise: "e", Candidate: "c"}
	if err := s.CreateSubmission(ctx, sub, []grader.File{{Path: "f.py", Data: []byte("print(1)\n")}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	n, err := s.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("WriteTo = %d, %v (buffer %d)", n, err, buf.Len())
	}
	// A copy written while the store stays open opens as a store.
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(copyPath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	filePath := filepath.Join(t.TempDir(), "backup.db")
	if err := s.BackupFile(filePath); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filePath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v", fi, err)
	}
	for _, p := range []string{copyPath, filePath} {
		c := MustOpenPath(t, p)
		got, err := c.Submission(ctx, sub.ID)
		if err != nil || got.Candidate != "c" {
			t.Fatalf("%s: Submission = %+v, %v", p, got, err)
		}
		files, err := c.SubmissionFiles(ctx, sub.ID)
		if err != nil || len(files) != 1 || string(files[0].Data) != "print(1)\n" {
			t.Fatalf("%s: files = %+v, %v", p, files, err)
		}
		next, err := c.ClaimNext(ctx)
		if err != nil || next == nil || next.ID != sub.ID {
			t.Fatalf("%s: queue = %+v, %v", p, next, err)
		}
	}
	// Backing up into a missing folder fails cleanly.
	err = s.BackupFile(filepath.Join(t.TempDir(), "missing", "b.db"))
	wantCode(t, err, grader.EINTERNAL)
}

func candidates(list []*grader.Submission) []string {
	var out []string
	for _, s := range list {
		out = append(out, s.Candidate)
	}
	return out
}

func TestListIndexKeepsValuesApart(t *testing.T) {
	s := MustOpen(t)
	// Values that are prefixes of each other, hold 0xff and NUL bytes, or
	// sort first and last in the index: each must list only its own.
	values := []string{"", "a", "ab", "abc", "ab\u00ff", "ab\x00c", "\U0010ffff", "\x00", "zé", strings.Repeat("q", MaxFieldLen)}
	for i, v := range values {
		for j := 0; j <= i; j++ { // value i has i+1 submissions
			mustCreate(t, s, v, v)
		}
	}
	for i, v := range values {
		if v == "" {
			continue // an empty filter field matches everything
		}
		for _, f := range []grader.SubmissionFilter{{Candidate: v}, {Exercise: v}, {Exercise: v, Candidate: v}} {
			list, err := s.ListSubmissions(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != i+1 {
				t.Errorf("filter %q lists %d, want %d", v, len(list), i+1)
			}
			for _, sub := range list {
				if sub.Candidate != v {
					t.Errorf("filter %q lists a submission of %q", v, sub.Candidate)
				}
			}
		}
	}
	long := strings.Repeat("q", MaxFieldLen+1)
	wantCode(t, s.CreateSubmission(ctx, &grader.Submission{Exercise: "e", Candidate: long}, nil), grader.EINVALID)
	wantCode(t, s.CreateSubmission(ctx, &grader.Submission{Exercise: long, Candidate: "c"}, nil), grader.EINVALID)
	if list, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Candidate: long}); err != nil || len(list) != 0 {
		t.Errorf("too-long filter = %d, %v; want none", len(list), err)
	}
	// Bytes that are not UTF-8 would be changed by JSON: refused, not mangled.
	wantCode(t, s.CreateSubmission(ctx, &grader.Submission{Exercise: "e", Candidate: "ab\xff"}, nil), grader.EINVALID)
	if list, err := s.ListSubmissions(ctx, grader.SubmissionFilter{Candidate: "ab\xff"}); err != nil || len(list) != 0 {
		t.Errorf("non-UTF-8 filter = %d, %v; want none", len(list), err)
	}
}
