package grader_test

import (
	"context"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func TestAssignmentAdmit(t *testing.T) {
	hour := time.Hour
	cases := []struct {
		name string
		a    grader.Assignment
		at   time.Time
		want grader.Admission
	}{
		{"no bounds", grader.Assignment{}, t0.Add(1000 * hour), grader.AdmitOnTime},
		{"before deadline", grader.Assignment{Deadline: t0}, t0.Add(-time.Second), grader.AdmitOnTime},
		{"at deadline", grader.Assignment{Deadline: t0}, t0, grader.AdmitOnTime},
		{"after deadline, default late", grader.Assignment{Deadline: t0}, t0.Add(time.Second), grader.AdmitLate},
		{"after deadline, refuse", grader.Assignment{Deadline: t0, AfterTime: grader.AfterRefuse}, t0.Add(time.Second), grader.AdmitRefused},
		{"limit not opened: the submission opens it", grader.Assignment{TimeLimit: hour, AfterTime: grader.AfterRefuse}, t0.Add(100 * hour), grader.AdmitOnTime},
		{"limit running", grader.Assignment{TimeLimit: hour, OpenedAt: t0, AfterTime: grader.AfterRefuse}, t0.Add(59 * time.Minute), grader.AdmitOnTime},
		{"limit over, late", grader.Assignment{TimeLimit: hour, OpenedAt: t0, AfterTime: grader.AfterLate}, t0.Add(61 * time.Minute), grader.AdmitLate},
		{"limit over, refuse", grader.Assignment{TimeLimit: hour, OpenedAt: t0, AfterTime: grader.AfterRefuse}, t0.Add(61 * time.Minute), grader.AdmitRefused},
		{"deadline before the limit's end", grader.Assignment{TimeLimit: hour, OpenedAt: t0, Deadline: t0.Add(30 * time.Minute), AfterTime: grader.AfterRefuse}, t0.Add(31 * time.Minute), grader.AdmitRefused},
		{"not opened, deadline passed", grader.Assignment{TimeLimit: hour, Deadline: t0, AfterTime: grader.AfterRefuse}, t0.Add(time.Minute), grader.AdmitRefused},
		{"extended by minutes", grader.Assignment{TimeLimit: hour, OpenedAt: t0, AfterTime: grader.AfterRefuse,
			Extensions: []grader.Extension{{Added: 30 * time.Minute}}}, t0.Add(89 * time.Minute), grader.AdmitOnTime},
		{"extended by minutes, over", grader.Assignment{TimeLimit: hour, OpenedAt: t0, AfterTime: grader.AfterRefuse,
			Extensions: []grader.Extension{{Added: 30 * time.Minute}}}, t0.Add(91 * time.Minute), grader.AdmitRefused},
		{"minutes push the deadline too", grader.Assignment{Deadline: t0, AfterTime: grader.AfterRefuse,
			Extensions: []grader.Extension{{Added: 10 * time.Minute}}}, t0.Add(9 * time.Minute), grader.AdmitOnTime},
		{"new deadline", grader.Assignment{Deadline: t0, AfterTime: grader.AfterRefuse,
			Extensions: []grader.Extension{{Deadline: t0.Add(24 * hour)}}}, t0.Add(23 * hour), grader.AdmitOnTime},
		{"revoked", grader.Assignment{RevokedAt: t0}, t0.Add(-hour), grader.AdmitRefused},
		{"revoked with late policy", grader.Assignment{RevokedAt: t0, AfterTime: grader.AfterLate}, t0, grader.AdmitRefused},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.a.Admit(c.at)
			if got != c.want {
				t.Fatalf("Admit = %s (%v), want %s", got, err, c.want)
			}
			if (got == grader.AdmitRefused) != (err != nil) {
				t.Fatalf("refused %v but err %v", got == grader.AdmitRefused, err)
			}
			if err != nil && grader.ErrorCode(err) != grader.EFORBIDDEN {
				t.Fatalf("code %s, want forbidden", grader.ErrorCode(err))
			}
			if c.a.LateAt(c.at) != (c.want == grader.AdmitLate) {
				t.Fatalf("LateAt disagrees with Admit")
			}
		})
	}
}

func TestAssignmentState(t *testing.T) {
	a := grader.Assignment{TimeLimit: time.Hour}
	if s := a.State(t0); s != grader.StateNotOpened || !a.Ends().IsZero() || a.Remaining(t0) != 0 {
		t.Fatalf("not opened: %s ends %v", s, a.Ends())
	}
	a.OpenedAt = t0
	if s := a.State(t0.Add(10 * time.Minute)); s != grader.StateOpen || a.Remaining(t0.Add(10*time.Minute)) != 50*time.Minute || !a.Ends().Equal(t0.Add(time.Hour)) {
		t.Fatalf("open: %s remaining %v", s, a.Remaining(t0.Add(10*time.Minute)))
	}
	if s := a.State(t0.Add(2 * time.Hour)); s != grader.StateExpired {
		t.Fatalf("expired: %s", s)
	}
	a.Revoke("tok_staff", t0)
	a.Revoke("tok_other", t0.Add(time.Hour))
	if s := a.State(t0); s != grader.StateRevoked || a.RevokedBy != "tok_staff" || !a.RevokedAt.Equal(t0) {
		t.Fatalf("revoked: %s by %s at %v", s, a.RevokedBy, a.RevokedAt)
	}
}

func TestAssignmentExtend(t *testing.T) {
	cases := []struct {
		name string
		a    grader.Assignment
		e    grader.Extension
		code string
	}{
		{"minutes on a limit", grader.Assignment{TimeLimit: time.Hour}, grader.Extension{Added: 15 * time.Minute}, ""},
		{"minutes on a deadline", grader.Assignment{Deadline: t0.Add(time.Hour)}, grader.Extension{Added: 15 * time.Minute}, ""},
		{"new deadline", grader.Assignment{}, grader.Extension{Deadline: t0.Add(time.Hour)}, ""},
		{"minutes on nothing", grader.Assignment{}, grader.Extension{Added: 15 * time.Minute}, grader.EINVALID},
		{"neither", grader.Assignment{TimeLimit: time.Hour}, grader.Extension{}, grader.EINVALID},
		{"both", grader.Assignment{TimeLimit: time.Hour}, grader.Extension{Added: time.Hour, Deadline: t0.Add(time.Hour)}, grader.EINVALID},
		{"too few minutes", grader.Assignment{TimeLimit: time.Hour}, grader.Extension{Added: time.Second}, grader.EINVALID},
		{"too many minutes", grader.Assignment{TimeLimit: time.Hour}, grader.Extension{Added: 8 * 24 * time.Hour}, grader.EINVALID},
		{"deadline in the past", grader.Assignment{}, grader.Extension{Deadline: t0.Add(-time.Hour)}, grader.EINVALID},
		{"revoked", grader.Assignment{TimeLimit: time.Hour, RevokedAt: t0}, grader.Extension{Added: time.Hour}, grader.ECONFLICT},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.e.At, c.e.By = t0, "tok_staff"
			n := len(c.a.Extensions)
			err := c.a.Extend(c.e)
			if grader.ErrorCode(err) != c.code {
				t.Fatalf("Extend: %v, want code %q", err, c.code)
			}
			if want := n + map[bool]int{true: 1}[c.code == ""]; len(c.a.Extensions) != want {
				t.Fatalf("%d extensions, want %d", len(c.a.Extensions), want)
			}
		})
	}
}

func TestParseTimeLimit(t *testing.T) {
	good := map[string]time.Duration{"90m": 90 * time.Minute, "1h30m": 90 * time.Minute, " 2h ": 2 * time.Hour, "45": 45 * time.Minute, "1m": time.Minute, "168h": 7 * 24 * time.Hour}
	for in, want := range good {
		if got, err := grader.ParseTimeLimit(in); err != nil || got != want {
			t.Errorf("ParseTimeLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
		if got, _ := grader.ParseTimeLimit(grader.FormatTimeLimit(want)); got != want {
			t.Errorf("FormatTimeLimit(%v) = %q does not read back", want, grader.FormatTimeLimit(want))
		}
	}
	for _, in := range []string{"", "soon", "30s", "0", "-5m", "169h", "90m30s", "1e9"} {
		if _, err := grader.ParseTimeLimit(in); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("ParseTimeLimit(%q): %v, want EINVALID", in, err)
		}
	}
	if _, err := grader.ParseAfterTime("never"); grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("ParseAfterTime(never): %v", err)
	}
	if _, err := grader.ParseCounts("worst"); grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("ParseCounts(worst): %v", err)
	}
	if v, _ := grader.ParseCounts(""); v != grader.CountsLatest {
		t.Errorf("ParseCounts default %q", v)
	}
}

func TestCountedSubmission(t *testing.T) {
	sub := func(id, asg string, status grader.Status, score int, at time.Duration) *grader.Submission {
		s := &grader.Submission{ID: id, Assignment: asg, Status: status, CreatedAt: t0.Add(at)}
		if status == grader.StatusDone {
			s.Result = &grader.Result{Score: score, MaxScore: 10}
		}
		return s
	}
	subs := []*grader.Submission{
		sub("newest-queued", "asg", grader.StatusQueued, 0, 5*time.Minute),
		sub("other-assignment", "other", grader.StatusDone, 10, 4*time.Minute),
		sub("latest", "asg", grader.StatusDone, 3, 3*time.Minute),
		sub("best-later", "asg", grader.StatusDone, 8, 2*time.Minute),
		sub("best-first", "asg", grader.StatusDone, 8, time.Minute),
		sub("error", "asg", grader.StatusError, 0, 6*time.Minute),
	}
	for counts, want := range map[string]string{"": "latest", grader.CountsLatest: "latest", grader.CountsBest: "best-later"} {
		a := &grader.Assignment{ID: "asg", Counts: counts}
		if got := grader.CountedSubmission(a, subs); got == nil || got.ID != want {
			t.Errorf("counts %q: %v, want %s", counts, got, want)
		}
	}
	if got := grader.CountedSubmission(&grader.Assignment{ID: "asg"}, subs[:2]); got != nil {
		t.Errorf("nothing graded: %v", got.ID)
	}
}

// newTimedService is a Service whose Auth is the bbolt store, with a clock
// the test moves.
func newTimedService(t *testing.T) (*grader.Service, *bolt.Store, *time.Time) {
	t.Helper()
	svc, store := newService(t, &fakeSandbox{})
	now := t0
	svc.Auth = store
	svc.Now = func() time.Time { return now }
	return svc, store, &now
}

func TestServiceAdmitsByTheAssignment(t *testing.T) {
	ctx := context.Background()
	svc, store, now := newTimedService(t)
	files := []grader.File{{Path: "app/views.py", Data: []byte("x")}}
	mk := func(after string) *grader.Assignment {
		a := &grader.Assignment{Exercise: "demo", Candidate: "Ada", Token: "tok_c", Mode: grader.ModeAssessment, TimeLimit: time.Hour, AfterTime: after}
		if err := store.CreateAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	submit := func(a *grader.Assignment) (*grader.Submission, error) {
		return svc.Create(ctx, grader.SubmitRequest{Exercise: "demo", Candidate: "Ada", Files: files, Owner: "tok_c", Assignment: a.ID})
	}
	refuse, late := mk(grader.AfterRefuse), mk(grader.AfterLate)

	// The first submission opens the assignment: its clock starts now.
	if sub, err := submit(refuse); err != nil || sub.Late {
		t.Fatalf("first submission: %v late=%v", err, sub != nil && sub.Late)
	}
	if a, _ := store.Assignment(ctx, refuse.ID); !a.OpenedAt.Equal(t0) {
		t.Fatalf("opened at %v, want %v", a.OpenedAt, t0)
	}
	if _, err := submit(late); err != nil {
		t.Fatal(err)
	}
	*now = t0.Add(61 * time.Minute)
	before, _ := store.ListSubmissions(ctx, grader.SubmissionFilter{})
	if _, err := submit(refuse); grader.ErrorCode(err) != grader.EFORBIDDEN {
		t.Fatalf("after time, refuse: %v", err)
	}
	if after, _ := store.ListSubmissions(ctx, grader.SubmissionFilter{}); len(after) != len(before) {
		t.Fatalf("a refused submission was stored")
	}
	if sub, err := submit(late); err != nil || !sub.Late {
		t.Fatalf("after time, late policy: %v", err)
	}
	// A caller's Late does not override the rule.
	if _, err := store.ExtendAssignment(ctx, late.ID, grader.Extension{At: *now, By: "tok_staff", Added: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if sub, err := svc.Create(ctx, grader.SubmitRequest{Exercise: "demo", Candidate: "Ada", Files: files, Owner: "tok_c", Assignment: late.ID, Late: true}); err != nil || sub.Late {
		t.Fatalf("after an extension: %v late=%v", err, sub != nil && sub.Late)
	}
	if _, err := store.RevokeAssignment(ctx, late.ID, "tok_staff", *now); err != nil {
		t.Fatal(err)
	}
	if _, err := submit(late); grader.ErrorCode(err) != grader.EFORBIDDEN {
		t.Fatalf("revoked: %v", err)
	}
}

func TestOpenAssignmentOnlyByItsCandidate(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a := &grader.Assignment{Exercise: "demo", Candidate: "Ada", Token: "tok_c", TimeLimit: time.Hour}
	if err := store.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	staff := &grader.Token{ID: "tok_s", Role: grader.RoleInterviewer}
	other := &grader.Token{ID: "tok_x", Role: grader.RoleCandidate}
	for _, tok := range []*grader.Token{staff, other, nil} {
		if got, err := grader.OpenAssignment(ctx, store, a, tok, t0); err != nil || !got.OpenedAt.IsZero() {
			t.Fatalf("%v opened it: %v %v", tok, got.OpenedAt, err)
		}
	}
	cand := &grader.Token{ID: "tok_c", Role: grader.RoleCandidate}
	got, err := grader.OpenAssignment(ctx, store, a, cand, t0)
	if err != nil || !got.OpenedAt.Equal(t0) {
		t.Fatalf("candidate open: %v %v", got.OpenedAt, err)
	}
	if again, _ := grader.OpenAssignment(ctx, store, got, cand, t0.Add(time.Hour)); !again.OpenedAt.Equal(t0) {
		t.Fatalf("reopened at %v", again.OpenedAt)
	}
}
