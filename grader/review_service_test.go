package grader_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// recordingOutbox keeps what the service publishes.
type recordingOutbox struct {
	mu     sync.Mutex
	events []grader.OutboundEvent
}

func (o *recordingOutbox) Publish(_ context.Context, ev grader.OutboundEvent) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, ev)
	return nil
}

// scored stores a submission of candidate and finishes it done with the
// score out of 10.
func scored(t *testing.T, store *bolt.Store, candidate string, score int) *grader.Submission {
	t.Helper()
	ctx := context.Background()
	sub := &grader.Submission{Exercise: "n-plus-one", Candidate: candidate}
	if err := store.CreateSubmission(ctx, sub, []grader.File{{Path: "app/views.py", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	res := &grader.Result{Score: score, MaxScore: 10, Verdict: grader.VerdictFailed}
	if err := store.Finish(ctx, sub.ID, grader.StatusDone, res, ""); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Submission(ctx, sub.ID)
	return got
}

func wantErr(t *testing.T, what string, err error, code string) {
	t.Helper()
	if grader.ErrorCode(err) != code {
		t.Fatalf("%s: got %v (%s), want %s", what, err, grader.ErrorCode(err), code)
	}
}

// Notes and overrides on a real store: every input is checked before
// anything is stored, the automatic score is kept beside the override,
// the effective score follows the latest override (or a clear), each
// override publishes its event with a deterministic id, and the review is
// shown to staff only.
func TestReviewNotesAndOverrides(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	out := &recordingOutbox{}
	svc := grader.NewService(grader.Config{Store: store, Reviews: store, Outbox: out, Image: "img"})
	ivy := &grader.Token{ID: "tok_ivy", Name: "Ivy", Role: grader.RoleInterviewer}
	cand := &grader.Token{ID: "tok_c", Role: grader.RoleCandidate}
	sub := scored(t, store, "Ada", 6)
	queued := &grader.Submission{Exercise: "n-plus-one", Candidate: "Ada"}
	if err := store.CreateSubmission(ctx, queued, []grader.File{{Path: "app/views.py", Data: []byte("y")}}); err != nil {
		t.Fatal(err)
	}

	// Refused inputs store nothing.
	for _, c := range []struct {
		name, text string
		tok        *grader.Token
		code       string
	}{
		{"empty", "  \n", ivy, grader.EINVALID},
		{"too long", strings.Repeat("a", grader.MaxReviewNoteBytes+1), ivy, grader.ETOOLARGE},
		{"not utf-8", "\xff\xfe", ivy, grader.EINVALID},
		{"candidate", "hi", cand, grader.EFORBIDDEN},
		{"nobody", "hi", nil, grader.EFORBIDDEN},
	} {
		_, err := svc.AddReviewNote(ctx, sub.ID, c.tok, c.text)
		wantErr(t, "note "+c.name, err, c.code)
	}
	_, err = svc.AddReviewNote(ctx, "sub_missing", ivy, "hi")
	wantErr(t, "note on a missing submission", err, grader.ENOTFOUND)
	n, err := svc.AddReviewNote(ctx, sub.ID, ivy, "  good structure \n")
	if err != nil || n.Seq != 1 || n.Text != "good structure" || n.By != (grader.ReviewAuthor{Token: "tok_ivy", Name: "Ivy", Role: grader.RoleInterviewer}) || n.At.IsZero() {
		t.Fatalf("note: %+v %v", n, err)
	}
	// A queued submission takes notes but no override.
	if _, err := svc.AddReviewNote(ctx, queued.ID, ivy, "waiting"); err != nil {
		t.Fatal(err)
	}
	nine, eleven, neg := 9, 11, -1
	for _, c := range []struct {
		name string
		id   string
		req  grader.OverrideRequest
		code string
	}{
		{"no reason", sub.ID, grader.OverrideRequest{Score: &nine}, grader.EINVALID},
		{"long reason", sub.ID, grader.OverrideRequest{Score: &nine, Reason: strings.Repeat("r", grader.MaxReviewReasonBytes+1)}, grader.ETOOLARGE},
		{"no score", sub.ID, grader.OverrideRequest{Reason: "why"}, grader.EINVALID},
		{"over max", sub.ID, grader.OverrideRequest{Score: &eleven, Reason: "why"}, grader.EINVALID},
		{"negative", sub.ID, grader.OverrideRequest{Score: &neg, Reason: "why"}, grader.EINVALID},
		{"bad verdict", sub.ID, grader.OverrideRequest{Score: &nine, Verdict: "timeout", Reason: "why"}, grader.EINVALID},
		{"clear with score", sub.ID, grader.OverrideRequest{Score: &nine, Clear: true, Reason: "why"}, grader.EINVALID},
		{"clear with none", sub.ID, grader.OverrideRequest{Clear: true, Reason: "why"}, grader.ECONFLICT},
		{"not graded", queued.ID, grader.OverrideRequest{Score: &nine, Reason: "why"}, grader.ECONFLICT},
		{"missing", "sub_missing", grader.OverrideRequest{Score: &nine, Reason: "why"}, grader.ENOTFOUND},
	} {
		_, err := svc.OverrideScore(ctx, c.id, ivy, c.req)
		wantErr(t, "override "+c.name, err, c.code)
	}
	if _, err := svc.OverrideScore(ctx, sub.ID, cand, grader.OverrideRequest{Score: &nine, Reason: "why"}); grader.ErrorCode(err) != grader.EFORBIDDEN {
		t.Fatalf("candidate override: %v", err)
	}
	if len(out.events) != 0 {
		t.Fatalf("refused overrides published %+v", out.events)
	}
	if rv, _ := svc.Review(ctx, sub.ID); len(rv.Overrides) != 0 || len(rv.Notes) != 1 || rv.Overridden || rv.Effective.Score != 6 {
		t.Fatalf("after refusals: %+v", rv)
	}

	o, err := svc.OverrideScore(ctx, sub.ID, ivy, grader.OverrideRequest{Score: &nine, Verdict: grader.VerdictPassed, Reason: "the failed check is flaky on this exercise"})
	if err != nil || o.Seq != 2 || *o.Score != 9 || *o.AutomaticScore != 6 || o.MaxScore != 10 {
		t.Fatalf("override: %+v %v", o, err)
	}
	rv, err := svc.Review(ctx, sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !rv.Overridden || rv.Effective.Score != 9 || rv.Effective.Verdict != grader.VerdictPassed ||
		rv.Automatic.Score != 6 || rv.Automatic.Verdict != grader.VerdictFailed || len(rv.Overrides) != 1 || len(rv.Notes) != 1 {
		t.Fatalf("review: %+v", rv)
	}
	// The automatic result is untouched.
	if got, _ := store.Submission(ctx, sub.ID); got.Result.Score != 6 || got.Result.Verdict != grader.VerdictFailed {
		t.Fatalf("result changed: %+v", got.Result)
	}
	if len(out.events) != 1 {
		t.Fatalf("events: %+v", out.events)
	}
	ev := out.events[0]
	if ev.Type != grader.OutboundOverrideMade || ev.ID != "override.made:"+sub.ID+":2" || ev.At.IsZero() {
		t.Fatalf("event: %+v", ev)
	}
	var data grader.OverrideEventData
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.Submission != sub.ID || data.Automatic.Score != 6 || data.Effective.Score != 9 || data.Effective.Verdict != grader.VerdictPassed ||
		data.By.Token != "tok_ivy" || data.Cleared || data.Seq != 2 || data.Candidate != "Ada" {
		t.Fatalf("event data: %+v", data)
	}

	// A second override wins; a clear returns to the automatic score.
	three := 3
	if _, err := svc.OverrideScore(ctx, sub.ID, ivy, grader.OverrideRequest{Score: &three, Reason: "copied"}); err != nil {
		t.Fatal(err)
	}
	if rv, _ := svc.Review(ctx, sub.ID); rv.Effective.Score != 3 || rv.Effective.Verdict != grader.VerdictFailed {
		t.Fatalf("second override: %+v", rv.Effective)
	}
	if _, err := svc.OverrideScore(ctx, sub.ID, ivy, grader.OverrideRequest{Clear: true, Reason: "not copied after all"}); err != nil {
		t.Fatal(err)
	}
	rv, _ = svc.Review(ctx, sub.ID)
	if rv.Overridden || rv.Effective.Score != 6 || len(rv.Overrides) != 3 || rv.Overrides[2].Kind != grader.ReviewClear {
		t.Fatalf("after clear: %+v", rv)
	}
	if len(out.events) != 3 || out.events[2].ID != "override.made:"+sub.ID+":4" {
		t.Fatalf("events: %+v", out.events)
	}

	// Who sees it: staff all, exports the scores only, candidates nothing.
	if v := rv.View(grader.AudienceStaff); len(v.Notes) != 1 || len(v.Overrides) != 3 {
		t.Fatalf("staff view: %+v", v)
	}
	if v := rv.View(grader.AudienceExport); v == nil || len(v.Notes) != 0 || len(v.Overrides) != 0 || v.Effective.Score != 6 {
		t.Fatalf("export view: %+v", v)
	}
	for _, a := range append(slices.Clone(grader.Audiences), grader.Audience(99)) {
		if a == grader.AudienceStaff || a == grader.AudienceExport {
			continue
		}
		if v := rv.View(a); v != nil {
			t.Fatalf("%s sees the review: %+v", a, v)
		}
	}

	// Without a store: unavailable, not a crash.
	bare := grader.NewService(grader.Config{Store: store, Image: "img"})
	if _, err := bare.Review(ctx, sub.ID); grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Fatalf("no review store: %v", err)
	}
}

// The full trail refuses more, and says so.
func TestReviewTrailIsBounded(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := grader.NewService(grader.Config{Store: store, Reviews: store, Image: "img"})
	ivy := &grader.Token{ID: "tok_ivy", Role: grader.RoleAdmin}
	sub := scored(t, store, "Ada", 6)
	for i := range grader.MaxReviewEntries {
		if _, err := svc.AddReviewNote(ctx, sub.ID, ivy, "n"); err != nil {
			t.Fatalf("note %d: %v", i, err)
		}
	}
	_, err = svc.AddReviewNote(ctx, sub.ID, ivy, "one more")
	wantErr(t, "full", err, grader.ETOOLARGE)
	one := 1
	_, err = svc.OverrideScore(ctx, sub.ID, ivy, grader.OverrideRequest{Score: &one, Reason: "r"})
	wantErr(t, "full override", err, grader.ETOOLARGE)
}

// The candidate view gathers one candidate's submissions (any case of the
// name, not another's whose name contains it), assignments and live
// sessions, with automatic and effective scores, notes and time used.
func TestCandidateOverview(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := grader.NewService(grader.Config{Store: store, Reviews: store, Auth: store, LiveStore: store, Image: "img"})
	ivy := &grader.Token{ID: "tok_ivy", Role: grader.RoleInterviewer}
	a := &grader.Assignment{Exercise: "n-plus-one", Candidate: "Ada Lovelace", Token: "tok_ada", Mode: grader.ModeAssessment}
	if err := store.CreateAssignment(ctx, a); err != nil {
		t.Fatal(err)
	}
	l := &grader.LiveSession{Exercise: "n-plus-one", Candidate: "ada lovelace", CandidateToken: "tok_ada2", Limit: time.Hour}
	if err := store.CreateLive(ctx, l); err != nil {
		t.Fatal(err)
	}
	first := scored(t, store, "Ada Lovelace", 4)
	scored(t, store, "Ada Lovelace-King", 10) // another candidate
	// Under the assignment, made a little later.
	sub := &grader.Submission{Exercise: "n-plus-one", Candidate: "ADA LOVELACE ", Assignment: a.ID, Owner: "tok_ada"}
	if err := store.CreateSubmission(ctx, sub, []grader.File{{Path: "app/views.py", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	five := 5
	if _, err := svc.OverrideScore(ctx, first.ID, ivy, grader.OverrideRequest{Score: &five, Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddReviewNote(ctx, first.ID, ivy, "n"); err != nil {
		t.Fatal(err)
	}
	ov, err := svc.Candidate(ctx, " ada LOVELACE ")
	if err != nil {
		t.Fatal(err)
	}
	if ov.Name != "Ada Lovelace" {
		t.Errorf("name %q: want the assignment's spelling, not the caller's", ov.Name)
	}
	if len(ov.Submissions) != 2 || ov.Submissions[0].ID != sub.ID || ov.Submissions[1].ID != first.ID {
		t.Fatalf("submissions: %+v", ov.Submissions)
	}
	f := ov.Submissions[1]
	if !f.Overridden || f.Automatic.Score != 4 || f.Effective.Score != 5 || f.Notes != 1 {
		t.Fatalf("first: %+v", f)
	}
	if s := ov.Submissions[0]; s.Automatic != nil || s.Effective != nil || s.TimeUsed <= 0 {
		t.Fatalf("queued one: %+v", s)
	}
	if len(ov.Assignments) != 1 || ov.Assignments[0].ID != a.ID || ov.Assignments[0].Submissions != 1 || ov.Assignments[0].Latest != sub.ID {
		t.Fatalf("assignments: %+v", ov.Assignments)
	}
	if len(ov.Live) != 1 || ov.Live[0].ID != l.ID || ov.Live[0].State != grader.LiveActive {
		t.Fatalf("live: %+v", ov.Live)
	}
	if _, err := svc.Candidate(ctx, "Nobody"); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("nobody: %v", err)
	}
	if _, err := svc.Candidate(ctx, strings.Repeat("x", 300)); grader.ErrorCode(err) != grader.EINVALID {
		t.Fatalf("long name: %v", err)
	}
}

// An override outlives a regrade: the new automatic score is shown beside
// it, and the trail keeps the automatic score it replaced.
func TestOverrideOutlivesRegrade(t *testing.T) {
	ctx := context.Background()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc := grader.NewService(grader.Config{Store: store, Reviews: store, Image: "img"})
	ivy := &grader.Token{ID: "tok_ivy", Role: grader.RoleInterviewer}
	sub := scored(t, store, "Ada", 6)
	two := 2
	if _, err := svc.OverrideScore(ctx, sub.ID, ivy, grader.OverrideRequest{Score: &two, Reason: "copied"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.RequeueSubmission(ctx, sub.ID); err != nil {
		t.Fatal(err)
	}
	rv, _ := svc.Review(ctx, sub.ID)
	if rv.Automatic != nil || rv.Effective != nil || len(rv.Overrides) != 1 {
		t.Fatalf("while regrading: %+v", rv)
	}
	if _, err := store.ClaimNext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Finish(ctx, sub.ID, grader.StatusDone, &grader.Result{Score: 8, MaxScore: 10, Verdict: grader.VerdictFailed}, ""); err != nil {
		t.Fatal(err)
	}
	rv, _ = svc.Review(ctx, sub.ID)
	if rv.Automatic.Score != 8 || rv.Effective.Score != 2 || !rv.Overridden || *rv.Overrides[0].AutomaticScore != 6 {
		t.Fatalf("after the regrade: %+v", rv)
	}
}
