package grader_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/webhook"
)

// hookSink is a loopback receiver that keeps the verified deliveries.
type hookSink struct {
	mu     sync.Mutex
	secret string
	events map[string][]byte // event id -> body
	count  map[string]int
	bad    int
}

func newHookSink(t *testing.T, secret string) (*hookSink, *httptest.Server) {
	s := &hookSink{secret: secret, events: map[string][]byte{}, count: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := webhook.Verify(s.secret, r.Header.Get(webhook.HeaderSignature), body, webhook.DefaultTolerance, time.Now()); err != nil {
			s.bad++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(webhook.HeaderEventID)
		s.events[id] = body
		s.count[id]++
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *hookSink) get(id string) ([]byte, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events[id], s.count[id]
}

func (s *hookSink) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id := range s.events {
		out = append(out, id)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// finishBehindTheService records a graded submission the way a worker
// does, without the publish that follows: what a crash between the two
// leaves.
func finishBehindTheService(t *testing.T, store *bolt.Store, candidate string) string {
	t.Helper()
	ctx := context.Background()
	sub := &grader.Submission{Exercise: "demo", Candidate: candidate}
	if err := store.CreateSubmission(ctx, sub, []grader.File{{Path: "app/views.py", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := store.ClaimNext(ctx)
	if err != nil || claimed == nil || claimed.ID != sub.ID {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	if err := store.Finish(ctx, sub.ID, grader.StatusDone, &grader.Result{Score: 3, MaxScore: 10, Verdict: grader.VerdictFailed, Seed: 42, Log: "secret log"}, ""); err != nil {
		t.Fatal(err)
	}
	return sub.ID
}

// TestWebhookServicePublishesFinishedAndCompleted: a graded submission
// reaches a real loopback receiver, signed, as submission finished with the
// export view of its result; the first one of an assessment assignment also
// completes it, once.
func TestWebhookServicePublishesFinishedAndCompleted(t *testing.T) {
	svc, store := newService(t, &fakeSandbox{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outbox := webhook.New(webhook.Config{Store: store, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	sink, srv := newHookSink(t, "service-secret-0123456789")
	if _, err := outbox.CreateEndpoint(ctx, webhook.NewEndpoint{URL: srv.URL, Secret: "service-secret-0123456789"}); err != nil {
		t.Fatal(err)
	}
	svc.Outbox, svc.Auth, svc.OutboundLinkURL = outbox, store, "https://djgrade.example"
	asg := &grader.Assignment{Exercise: "demo", Candidate: "Ada", Token: "tok_cand", Mode: grader.ModeAssessment}
	practice := &grader.Assignment{Exercise: "demo", Candidate: "Bob", Token: "tok_cand2", Mode: grader.ModePractice}
	for _, a := range []*grader.Assignment{asg, practice} {
		if err := store.CreateAssignment(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	go outbox.Run(ctx)
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	files := []grader.File{{Path: "app/views.py", Data: []byte("fast")}}
	var ids []string
	for _, req := range []grader.SubmitRequest{
		{Exercise: "demo", Candidate: "Ada", Files: files, Assignment: asg.ID},
		{Exercise: "demo", Candidate: "Ada", Files: files, Assignment: asg.ID},
		{Exercise: "demo", Candidate: "Bob", Files: files, Assignment: practice.ID},
	} {
		sub, err := svc.Create(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got := waitFinal(t, svc, sub.ID)
		if got.Result.Seed == 0 {
			t.Fatal("the staff result has no seed: the export check below proves nothing")
		}
		ids = append(ids, sub.ID)
	}
	for _, id := range ids {
		waitFor(t, "submission finished of "+id, func() bool { b, _ := sink.get("submission.finished:" + id + ":1"); return b != nil })
	}
	body, n := sink.get("submission.finished:" + ids[0] + ":1")
	var ev struct {
		ID, Type string
		Data     struct {
			Submission grader.OutboundSubmission `json:"submission"`
			Result     map[string]any            `json:"result"`
			Links      grader.OutboundLinks      `json:"links"`
		}
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	s := ev.Data.Submission
	if n != 1 || ev.Type != grader.OutboundSubmissionFinished || s.ID != ids[0] || s.Exercise != "demo" || s.Candidate != "Ada" || s.Assignment != asg.ID ||
		s.Status != grader.StatusDone || s.Attempt != 1 || s.FinishedAt.IsZero() {
		t.Errorf("event %s", body)
	}
	if ev.Data.Result["score"] != float64(10) || ev.Data.Result["verdict"] != string(grader.VerdictPassed) {
		t.Errorf("result %v", ev.Data.Result)
	}
	for _, staffOnly := range []string{"seed", "log", "judge_log", "findings", "timings_ms", "exit_code"} {
		if _, ok := ev.Data.Result[staffOnly]; ok {
			t.Errorf("the event's result holds %s: %s", staffOnly, body)
		}
	}
	// The result is in the one schema (grader.ResultJSON), as an export
	// renders the same view: not the stored shape (duration_s, exit_code).
	staff, err := svc.Submission(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(staff.Result.View(grader.AudienceExport).JSON())
	if err != nil {
		t.Fatal(err)
	}
	var wantMap map[string]any
	if err := json.Unmarshal(want, &wantMap); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ev.Data.Result, wantMap) {
		t.Errorf("the event's result is not the export's ResultJSON:\n got %v\nwant %v", ev.Data.Result, wantMap)
	}
	if tests, _ := ev.Data.Result["tests"].([]any); len(tests) == 0 {
		t.Errorf("the event's result has no tests: the schema check proves little: %s", body)
	}
	if ev.Data.Links.API != "https://djgrade.example/api/v1/submissions/"+ids[0] || ev.Data.Links.Dashboard != "https://djgrade.example/ui/submissions/"+ids[0] {
		t.Errorf("links %+v", ev.Data.Links)
	}

	waitFor(t, "assignment completed", func() bool { b, _ := sink.get("assignment.completed:" + asg.ID); return b != nil })
	body, n = sink.get("assignment.completed:" + asg.ID)
	var comp grader.AssignmentCompletedData
	if err := json.Unmarshal(body, &struct {
		Data *grader.AssignmentCompletedData
	}{&comp}); err != nil {
		t.Fatal(err)
	}
	if n != 1 || comp.Assignment.ID != asg.ID || comp.Assignment.Mode != grader.ModeAssessment || comp.Submission.ID != ids[0] || comp.Score != 10 || comp.MaxScore != 10 {
		t.Errorf("completed %s", body)
	}
	if b, _ := sink.get("assignment.completed:" + practice.ID); b != nil {
		t.Errorf("a practice assignment was completed: %s", b)
	}
	if sink.bad != 0 {
		t.Errorf("%d deliveries failed verification", sink.bad)
	}

	// A regrade is a new attempt: a new event.
	if _, err := svc.Regrade(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the regrade's event", func() bool { b, _ := sink.get("submission.finished:" + ids[1] + ":2"); return b != nil })
	if _, n := sink.get("assignment.completed:" + asg.ID); n != 1 {
		t.Errorf("assignment completed %d times", n)
	}
}

// TestWebhookServiceSweepRepublishesAfterACrash: a submission recorded as
// finished whose event was never published (a crash in between) is
// published by the start-up sweep; one finished before webhooks were set up
// is not, and a second sweep sends nothing again.
func TestWebhookServiceSweepRepublishesAfterACrash(t *testing.T) {
	svc, store := newService(t, &fakeSandbox{})
	ctx := context.Background()
	before := finishBehindTheService(t, store, "Before")
	outbox := webhook.New(webhook.Config{Store: store, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	sink, srv := newHookSink(t, "sweep-secret-0123456789")
	ep, err := outbox.CreateEndpoint(ctx, webhook.NewEndpoint{URL: srv.URL, Secret: "sweep-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	svc.Outbox = outbox
	// The first sweep of an outbox only sets its watermark.
	if n, err := svc.SweepOutbound(ctx); err != nil || n != 0 {
		t.Fatalf("first sweep: %d %v", n, err)
	}
	lost := finishBehindTheService(t, store, "Lost")
	// Run sweeps at start-up, before anything else is graded.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { svc.Run(rctx); close(done) }()
	go outbox.Run(rctx)
	waitFor(t, "the lost event", func() bool { b, _ := sink.get("submission.finished:" + lost + ":1"); return b != nil })
	cancel()
	<-done
	body, _ := sink.get("submission.finished:" + lost + ":1")
	if strings.Contains(string(body), "secret log") || strings.Contains(string(body), `"seed"`) {
		t.Errorf("the swept event shows staff-only fields: %s", body)
	}
	if b, _ := sink.get("submission.finished:" + before + ":1"); b != nil {
		t.Error("a submission finished before webhooks existed was sent")
	}
	// Sweeping again (a second restart) stores nothing new.
	svc2 := grader.NewService(svc.Config)
	if _, err := svc2.SweepOutbound(ctx); err != nil {
		t.Fatal(err)
	}
	lost2 := finishBehindTheService(t, store, "Lost again")
	if n, err := svc2.SweepOutbound(ctx); err != nil || n != 1 {
		t.Errorf("third sweep looked at %d (%v), want the one finished since", n, err)
	}
	ds, err := store.Deliveries(ctx, ep.ID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.Event]++
	}
	if len(ds) != 2 || seen["submission.finished:"+lost+":1"] != 1 || seen["submission.finished:"+lost2+":1"] != 1 {
		t.Errorf("deliveries %v (sink has %v)", seen, sink.ids())
	}
}

// TestWebhookOverrideDelivered: a reviewer's override reaches a hiring
// tool's endpoint through the real outbox, signed, as override made, with
// both scores and the reason (hiring tools are staff's own).
func TestWebhookOverrideDelivered(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := bolt.Open(t.TempDir() + "/djgrade.db")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	outbox := webhook.New(webhook.Config{Store: store, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	sink, srv := newHookSink(t, "override-secret-0123456789")
	if _, err := outbox.CreateEndpoint(ctx, webhook.NewEndpoint{URL: srv.URL, Secret: "override-secret-0123456789", Events: []string{grader.OutboundOverrideMade}}); err != nil {
		t.Fatal(err)
	}
	go outbox.Run(ctx)
	svc := grader.NewService(grader.Config{Store: store, Reviews: store, Outbox: outbox, Image: "img"})
	sub := scored(t, store, "Ada", 6)
	nine := 9
	ivy := &grader.Token{ID: "tok_ivy", Name: "Ivy", Role: grader.RoleInterviewer}
	e, err := svc.OverrideScore(ctx, sub.ID, ivy, grader.OverrideRequest{Score: &nine, Reason: "the judge missed a correct edge case"})
	if err != nil {
		t.Fatal(err)
	}
	id := "override.made:" + sub.ID + ":" + strconv.Itoa(e.Seq)
	waitFor(t, "the override's delivery", func() bool { b, _ := sink.get(id); return b != nil })
	body, n := sink.get(id)
	if n != 1 || !strings.Contains(string(body), `"type":"override.made"`) || !strings.Contains(string(body), "the judge missed a correct edge case") {
		t.Errorf("delivered %d times: %s", n, body)
	}
	var ev struct {
		Data grader.OverrideEventData `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		t.Fatal(err)
	}
	if d := ev.Data; d.Submission != sub.ID || d.Candidate != "Ada" || d.Automatic.Score != 6 || d.Effective.Score != 9 || d.By.Token != "tok_ivy" || d.Cleared {
		t.Errorf("the event's data: %+v", d)
	}
	// Only the subscribed type: the submission's own events were never sent here.
	for _, other := range sink.ids() {
		if !strings.HasPrefix(other, "override.made:") {
			t.Errorf("an unsubscribed event was delivered: %s", other)
		}
	}
}
