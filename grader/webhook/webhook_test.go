package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/webhook"
)

// received is one request a receiver got.
type received struct {
	body    []byte
	header  http.Header
	verdict error // the signature check's
}

// receiver is a loopback hiring tool that verifies signatures with its
// secret (unless it is "") and answers with the statuses of answer, in turn (the last one
// repeats); a status of 0 holds the request until the client gives up.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu     sync.Mutex
	got    []received
	answer []int
	gotCh  chan received
}

func newReceiver(t *testing.T, secret string, answer ...int) *receiver {
	r := &receiver{t: t, secret: secret, answer: answer, gotCh: make(chan received, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var err error
	if r.secret != "" { // "" trusts every request
		err = webhook.Verify(r.secret, req.Header.Get(webhook.HeaderSignature), body, webhook.DefaultTolerance, time.Now())
	}
	r.mu.Lock()
	n := len(r.got)
	got := received{body: body, header: req.Header.Clone(), verdict: err}
	r.got = append(r.got, got)
	status := http.StatusOK
	if len(r.answer) > 0 {
		status = r.answer[min(n, len(r.answer)-1)]
	}
	r.mu.Unlock()
	r.gotCh <- got
	if status == 0 {
		<-req.Context().Done()
		return
	}
	if err != nil {
		http.Error(w, "bad signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d to request %d", status, n+1)
}

func (r *receiver) setAnswers(a ...int) {
	r.mu.Lock()
	r.answer = a
	r.got = nil
	r.mu.Unlock()
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func openStore(t *testing.T, path string) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fastConfig retries at once (jitter between 0.5 and 1 ms).
func fastConfig(st webhook.Store) webhook.Config {
	return webhook.Config{Store: st, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: 5 * time.Second, Logger: quiet()}
}

// run starts o's dispatcher and returns a function that stops it and
// waits for it.
func run(t *testing.T, o *webhook.Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually waits for cond, failing the test if it is not true within a
// generous bound (a guard against a hang, not a timing assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func onlyDelivery(t *testing.T, st webhook.Store, endpoint string) *webhook.Delivery {
	t.Helper()
	ds, err := st.Deliveries(context.Background(), endpoint, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("deliveries of %s: %d, want 1", endpoint, len(ds))
	}
	return ds[0]
}

func state(t *testing.T, st webhook.Store, id string) *webhook.Delivery {
	t.Helper()
	d, err := st.Delivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func event(id string) grader.OutboundEvent {
	return grader.OutboundEvent{ID: id, Type: grader.OutboundSubmissionFinished, At: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), Data: json.RawMessage(`{"submission":{"id":"` + id + `"}}`)}
}

func TestWebhookVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"e1"}`)
	h := webhook.Sign("s3cret-s3cret-s3cret", now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") {
		t.Fatalf("header %q", h)
	}
	// The documented computation, by Python's hmac (the README's example):
	// hmac.new(secret, b"1800000000." + body, hashlib.sha256).hexdigest().
	if want := "t=1800000000,v1=f13027d3b2448e1c5f3e7d7bbcb23231d6775c58a02b94950abbaf18774ae597"; h != want {
		t.Fatalf("%q != %q", h, want)
	}
	for _, c := range []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
		ok                   bool
	}{
		{"good", "s3cret-s3cret-s3cret", h, body, now, true},
		{"rotating: a second v1", "s3cret-s3cret-s3cret", "t=1800000000,v1=00ff," + h[len("t=1800000000,"):], body, now, true},
		{"tampered body", "s3cret-s3cret-s3cret", h, []byte(`{"id":"e2"}`), now, false},
		{"wrong secret", "another-secret-here", h, body, now, false},
		{"too old", "s3cret-s3cret-s3cret", h, body, now.Add(6 * time.Minute), false},
		{"from the future", "s3cret-s3cret-s3cret", h, body, now.Add(-6 * time.Minute), false},
		{"no timestamp", "s3cret-s3cret-s3cret", h[len("t=1800000000,"):], body, now, false},
		{"no signature", "s3cret-s3cret-s3cret", "t=1800000000", body, now, false},
		{"timestamp changed", "s3cret-s3cret-s3cret", "t=1800000001," + h[len("t=1800000000,"):], body, now, false},
		{"empty", "s3cret-s3cret-s3cret", "", body, now, false},
	} {
		err := webhook.Verify(c.secret, c.header, c.body, webhook.DefaultTolerance, c.now)
		if (err == nil) != c.ok {
			t.Errorf("%s: Verify = %v, want ok %v", c.name, err, c.ok)
		}
	}
}

func TestWebhookDeliversSignedEvent(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	o := webhook.New(fastConfig(st))
	ctx := context.Background()
	secret := "given-secret-0123456789"
	rcv := newReceiver(t, secret)
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL + "/hook", Secret: secret, CreatedBy: "tok_admin"})
	if err != nil {
		t.Fatal(err)
	}
	// An endpoint with a generated secret, subscribed to another type.
	other := newReceiver(t, "")
	ep2, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: other.srv.URL, Events: []string{grader.OutboundOverrideMade}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ep2.Secret, webhook.SecretPrefix) || len(ep2.Secret) < 40 {
		t.Errorf("generated secret %q", ep2.Secret)
	}
	run(t, o)
	if err := o.Publish(ctx, event("submission.finished:s1:1")); err != nil {
		t.Fatal(err)
	}
	got := <-rcv.gotCh
	if got.verdict != nil {
		t.Fatalf("signature: %v", got.verdict)
	}
	if h := got.header; h.Get(webhook.HeaderEventID) != "submission.finished:s1:1" || h.Get(webhook.HeaderEventType) != grader.OutboundSubmissionFinished ||
		!strings.HasPrefix(h.Get(webhook.HeaderDelivery), "dlv_") || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	var env struct {
		ID   string          `json:"id"`
		Type string          `json:"type"`
		At   time.Time       `json:"created_at"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(got.body, &env); err != nil || env.ID != "submission.finished:s1:1" || env.Type != grader.OutboundSubmissionFinished ||
		!env.At.Equal(event("x").At) || string(env.Data) != `{"submission":{"id":"submission.finished:s1:1"}}` {
		t.Errorf("body %s (%v)", got.body, err)
	}
	// Tampering with what arrived breaks the signature.
	tampered := bytes.Replace(got.body, []byte("s1"), []byte("s2"), 1)
	if webhook.Verify(secret, got.header.Get(webhook.HeaderSignature), tampered, webhook.DefaultTolerance, time.Now()) == nil {
		t.Error("a tampered body verified")
	}
	if webhook.Verify("not-the-secret-at-all", got.header.Get(webhook.HeaderSignature), got.body, webhook.DefaultTolerance, time.Now()) == nil {
		t.Error("the wrong secret verified")
	}
	eventually(t, "the delivery recorded", func() bool { return onlyDelivery(t, st, ep.ID).State == webhook.StateDelivered })
	d := onlyDelivery(t, st, ep.ID)
	if d.AttemptCount != 1 || len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 || d.Attempts[0].Response != "answer 200 to request 1" || d.Attempts[0].Error != "" || d.DoneAt.IsZero() {
		t.Errorf("delivery %+v", d)
	}
	if ds, _ := st.Deliveries(ctx, ep2.ID, "", 10); len(ds) != 0 || len(other.requests()) != 0 {
		t.Errorf("the endpoint subscribed to %s got %d deliveries", grader.OutboundOverrideMade, len(ds))
	}
}

func TestWebhookRetriesWithBackoffThenGivesUpAndRedelivers(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	cfg := fastConfig(st)
	cfg.MaxAttempts = 3
	o := webhook.New(cfg)
	ctx := context.Background()
	rcv := newReceiver(t, "retry-secret-0123456789", 500, 503, 200)
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL, Secret: "retry-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	run(t, o)
	if err := o.Publish(ctx, event("e-retry")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delivered after two failures", func() bool { return onlyDelivery(t, st, ep.ID).State == webhook.StateDelivered })
	d := onlyDelivery(t, st, ep.ID)
	var codes []int
	for _, a := range d.Attempts {
		codes = append(codes, a.StatusCode)
	}
	if fmt.Sprint(codes) != "[500 503 200]" || d.AttemptCount != 3 || d.Attempts[0].Error != "the receiver answered 500" || !strings.Contains(d.Attempts[1].Response, "answer 503") {
		t.Errorf("attempts %+v", d.Attempts)
	}
	reqs := rcv.requests()
	for i, r := range reqs {
		if r.verdict != nil || !bytes.Equal(r.body, reqs[0].body) || r.header.Get(webhook.HeaderDelivery) != d.ID {
			t.Errorf("attempt %d: %v, body %s", i, r.verdict, r.body)
		}
	}

	// Always failing: given up after MaxAttempts, then redelivered.
	rcv.setAnswers(500)
	if err := o.Publish(ctx, event("e-fail")); err != nil {
		t.Fatal(err)
	}
	var failed *webhook.Delivery
	eventually(t, "given up", func() bool {
		ds, _ := st.Deliveries(ctx, ep.ID, "", 1)
		failed = ds[0]
		return failed.Event == "e-fail" && failed.State == webhook.StateFailed
	})
	if failed.AttemptCount != 3 || len(rcv.requests()) != 3 {
		t.Errorf("gave up after %d attempts, %d requests", failed.AttemptCount, len(rcv.requests()))
	}
	// A delivered delivery is not pending: another event's redelivery of it is refused only while pending.
	if _, err := o.Redeliver(ctx, "whk_other", failed.ID); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Errorf("redeliver under another webhook: %v", err)
	}
	rcv.setAnswers(200)
	again, err := o.Redeliver(ctx, ep.ID, failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == failed.ID || again.RedeliveryOf != failed.ID || again.Event != "e-fail" || again.State != webhook.StatePending {
		t.Errorf("redelivery %+v", again)
	}
	eventually(t, "redelivered", func() bool { return state(t, st, again.ID).State == webhook.StateDelivered })
	got := rcv.requests()
	if len(got) != 1 || got[0].header.Get(webhook.HeaderEventID) != "e-fail" || got[0].header.Get(webhook.HeaderDelivery) != again.ID || got[0].verdict != nil {
		t.Errorf("redelivery requests %+v", got)
	}
	if f := state(t, st, failed.ID); f.State != webhook.StateFailed || f.AttemptCount != 3 {
		t.Errorf("the original changed: %+v", f)
	}
}

func TestWebhookRedeliverPendingConflicts(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	o := webhook.New(fastConfig(st))
	ctx := context.Background()
	rcv := newReceiver(t, "")
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Publish(ctx, event("e-pending")); err != nil {
		t.Fatal(err)
	}
	d := onlyDelivery(t, st, ep.ID)
	if _, err := o.Redeliver(ctx, ep.ID, d.ID); grader.ErrorCode(err) != grader.ECONFLICT {
		t.Errorf("redeliver a pending one: %v", err)
	}
	for _, bad := range []string{"", "dlv_", "dlv_zz", "dlv_00000000000000ff", strings.Repeat("x", 5000)} {
		if _, err := o.Redeliver(ctx, ep.ID, bad); grader.ErrorCode(err) != grader.ENOTFOUND {
			t.Errorf("redeliver %q: %v", bad, err)
		}
	}
}

func TestWebhookRepublishedEventIsStoredOnce(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	o := webhook.New(fastConfig(st))
	ctx := context.Background()
	rcv := newReceiver(t, "")
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		ev := event("e-dup")
		ev.Data = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)) // a sweep's copy may differ; the first stands
		if err := o.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	d := onlyDelivery(t, st, ep.ID)
	run(t, o)
	eventually(t, "delivered", func() bool { return state(t, st, d.ID).State == webhook.StateDelivered })
	if got := rcv.requests(); len(got) != 1 || !strings.Contains(string(got[0].body), `"data":{"n":0}`) {
		t.Errorf("requests %+v", got)
	}
}

// TestWebhookRestartLosesNothing: a delivery whose first attempt failed and
// whose second was cut off by a shutdown completes after the store and the
// dispatcher are opened again, with the stored body and the log as stored;
// an event published while no dispatcher ran is delivered at the next start.
func TestWebhookRestartLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "djgrade.db")
	st := openStore(t, path)
	ctx := context.Background()
	// 500, then hold the second attempt until the client gives up.
	rcv := newReceiver(t, "restart-secret-0123456789", 500, 0)
	o := webhook.New(fastConfig(st))
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL, Secret: "restart-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, o)
	if err := o.Publish(ctx, event("e-restart")); err != nil {
		t.Fatal(err)
	}
	<-rcv.gotCh // the 500
	<-rcv.gotCh // the held one: the first is recorded before the second is sent
	d := onlyDelivery(t, st, ep.ID)
	if d.State != webhook.StatePending || d.AttemptCount != 1 {
		t.Fatalf("before the stop: %+v", d)
	}
	stop()
	// Published while no dispatcher runs.
	if err := o.Publish(ctx, event("e-while-down")); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	rcv.setAnswers(200)
	st = openStore(t, path)
	defer st.Close()
	o = webhook.New(fastConfig(st))
	run(t, o)
	eventually(t, "both delivered after the restart", func() bool {
		ds, err := st.Deliveries(ctx, ep.ID, "", 10)
		return err == nil && len(ds) == 2 && ds[0].State == webhook.StateDelivered && ds[1].State == webhook.StateDelivered
	})
	after := state(t, st, d.ID)
	if after.AttemptCount != 2 || after.Attempts[0].StatusCode != 500 || after.Attempts[1].StatusCode != 200 {
		t.Errorf("log after the restart: %+v", after.Attempts)
	}
	got := rcv.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests after the restart", len(got))
	}
	byEvent := map[string]received{}
	for _, r := range got {
		if r.verdict != nil {
			t.Errorf("signature after the restart: %v", r.verdict)
		}
		byEvent[r.header.Get(webhook.HeaderEventID)] = r
	}
	want, _ := json.Marshal(event("e-restart"))
	if r := byEvent["e-restart"]; !bytes.Equal(r.body, want) || r.header.Get(webhook.HeaderDelivery) != d.ID {
		t.Errorf("redelivered body %s, want %s", r.body, want)
	}
	if _, ok := byEvent["e-while-down"]; !ok {
		t.Error("the event published while down was not delivered")
	}
}

func TestWebhookEndpointLimits(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	o := webhook.New(fastConfig(st))
	ctx := context.Background()
	for _, c := range []struct {
		name string
		req  webhook.NewEndpoint
	}{
		{"no url", webhook.NewEndpoint{}},
		{"ftp", webhook.NewEndpoint{URL: "ftp://127.0.0.1/x"}},
		{"javascript", webhook.NewEndpoint{URL: "javascript:alert(1)"}},
		{"relative", webhook.NewEndpoint{URL: "/hook"}},
		{"no host", webhook.NewEndpoint{URL: "http:///hook"}},
		{"user info", webhook.NewEndpoint{URL: "http://u:p@127.0.0.1/hook"}},
		{"too long", webhook.NewEndpoint{URL: "http://127.0.0.1/" + strings.Repeat("a", webhook.MaxURLLen)}},
		{"metadata", webhook.NewEndpoint{URL: "http://169.254.169.254/latest/meta-data/"}},
		{"link-local v6", webhook.NewEndpoint{URL: "http://[fe80::1]:8080/"}},
		{"unspecified", webhook.NewEndpoint{URL: "http://0.0.0.0:8080/"}},
		{"mapped metadata", webhook.NewEndpoint{URL: "http://[::ffff:169.254.169.254]/"}},
		{"aws v6 metadata", webhook.NewEndpoint{URL: "http://[fd00:ec2::254]/"}},
		{"multicast", webhook.NewEndpoint{URL: "http://224.0.0.1/"}},
		{"unknown event", webhook.NewEndpoint{URL: "http://127.0.0.1/", Events: []string{"submission.deleted"}}},
		{"too many events", webhook.NewEndpoint{URL: "http://127.0.0.1/", Events: []string{"*", "*", "*", "*", "*"}}},
		{"short secret", webhook.NewEndpoint{URL: "http://127.0.0.1/", Secret: "short"}},
		{"secret with space", webhook.NewEndpoint{URL: "http://127.0.0.1/", Secret: "has a space in it, long enough"}},
		{"long description", webhook.NewEndpoint{URL: "http://127.0.0.1/", Description: strings.Repeat("é", webhook.MaxDescriptionChars+1)}},
		{"control in description", webhook.NewEndpoint{URL: "http://127.0.0.1/", Description: "a\x00b"}},
	} {
		if _, err := o.CreateEndpoint(ctx, c.req); grader.ErrorCode(err) != grader.EINVALID {
			t.Errorf("%s: %v, want EINVALID", c.name, err)
		}
	}
	if list, _ := o.Endpoints(ctx); len(list) != 0 {
		t.Fatalf("refused endpoints were stored: %d", len(list))
	}
	for i := 0; i < webhook.MaxEndpoints; i++ {
		if _, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: fmt.Sprintf("https://hooks.example.com/%d", i), Description: strings.Repeat("é", webhook.MaxDescriptionChars)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: "https://hooks.example.com/one-more"}); grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("endpoint %d: %v", webhook.MaxEndpoints+1, err)
	}
	list, _ := o.Endpoints(ctx)
	if len(list) != webhook.MaxEndpoints || list[0].URL != "https://hooks.example.com/0" || list[0].Events[0] != webhook.AllEvents {
		t.Errorf("%d endpoints, first %+v", len(list), list[0])
	}
	// Events an outbox refuses to store.
	for _, ev := range []grader.OutboundEvent{
		{Type: "x"}, {ID: "a b", Type: "x"}, {ID: strings.Repeat("i", webhook.MaxEventIDLen+1), Type: "x"},
		{ID: "i", Type: ""}, {ID: "i", Type: "x", Data: json.RawMessage("{")},
		{ID: "big", Type: "x", Data: json.RawMessage(`"` + strings.Repeat("a", webhook.MaxEventBytes) + `"`)},
	} {
		if err := o.Publish(ctx, ev); err == nil {
			t.Errorf("event %.40q stored", ev.ID)
		}
	}
}

func TestWebhookTargetPolicyAtDial(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	ctx := context.Background()
	rcv := newReceiver(t, "")
	port := rcv.srv.URL[strings.LastIndex(rcv.srv.URL, ":"):]
	// A name, not an address: registration cannot tell; the dial refuses.
	cfg := fastConfig(st)
	cfg.Policy = webhook.Policy{DenyLoopback: true}
	cfg.MaxAttempts = 1
	o := webhook.New(cfg)
	if _, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: "http://127.0.0.1" + port}); grader.ErrorCode(err) != grader.EINVALID {
		t.Errorf("loopback address under DenyLoopback: %v", err)
	}
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: "http://localhost" + port})
	if err != nil {
		t.Fatal(err)
	}
	run(t, o)
	if err := o.Publish(ctx, event("e-dial")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "refused", func() bool { return onlyDelivery(t, st, ep.ID).State == webhook.StateFailed })
	d := onlyDelivery(t, st, ep.ID)
	if len(rcv.requests()) != 0 || !strings.Contains(d.Attempts[0].Error, "loopback") {
		t.Errorf("attempt %+v, %d requests", d.Attempts[0], len(rcv.requests()))
	}
}

func TestWebhookRedirectAndLongAnswer(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	ctx := context.Background()
	target := newReceiver(t, "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, target.srv.URL, http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		w.Write(bytes.Repeat([]byte("\x00long\xff"), 10_000))
	}))
	defer srv.Close()
	cfg := fastConfig(st)
	cfg.MaxAttempts = 1
	o := webhook.New(cfg)
	moved, _ := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: srv.URL + "/moved"})
	long, _ := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: srv.URL + "/long"})
	run(t, o)
	if err := o.Publish(ctx, event("e-x")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "both failed", func() bool {
		return onlyDelivery(t, st, moved.ID).State == webhook.StateFailed && onlyDelivery(t, st, long.ID).State == webhook.StateFailed
	})
	if a := onlyDelivery(t, st, moved.ID).Attempts[0]; a.StatusCode != http.StatusFound || !strings.Contains(a.Error, "redirect") || len(target.requests()) != 0 {
		t.Errorf("redirect attempt %+v", a)
	}
	if a := onlyDelivery(t, st, long.ID).Attempts[0]; a.StatusCode != http.StatusBadRequest || len(a.Response) > webhook.MaxSnippetBytes || strings.ContainsRune(a.Response, 0) {
		t.Errorf("long answer kept %d bytes: %.60q", len(a.Response), a.Response)
	}
}

func TestWebhookDisableDeleteAndPages(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	ctx := context.Background()
	o := webhook.New(fastConfig(st))
	rcv := newReceiver(t, "")
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL, Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Publish(ctx, event("e-off")); err != nil {
		t.Fatal(err)
	}
	if ds, _ := st.Deliveries(ctx, ep.ID, "", 10); len(ds) != 0 {
		t.Errorf("a disabled endpoint got %d deliveries", len(ds))
	}
	on := true
	if _, err := o.UpdateEndpoint(ctx, ep.ID, webhook.EndpointUpdate{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 7; i++ {
		if err := o.Publish(ctx, event(fmt.Sprintf("e-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// Pages of 3, newest first.
	before := ""
	for {
		page, err := o.Deliveries(ctx, ep.ID, before, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			ids = append(ids, d.Event)
		}
		if len(page) < 3 {
			break
		}
		before = page[len(page)-1].ID
	}
	if fmt.Sprint(ids) != "[e-6 e-5 e-4 e-3 e-2 e-1 e-0]" {
		t.Errorf("pages %v", ids)
	}
	if _, err := o.Deliveries(ctx, "whk_nope", "", 3); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Errorf("deliveries of an unknown webhook: %v", err)
	}
	if err := o.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if due, _, _ := st.DueDeliveries(ctx, time.Now().Add(time.Hour), 100); len(due) != 0 {
		t.Errorf("%d deliveries due after the delete", len(due))
	}
	if err := o.DeleteEndpoint(ctx, ep.ID); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Errorf("delete twice: %v", err)
	}
	if _, err := o.Ping(ctx, ep.ID); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Errorf("ping a deleted endpoint: %v", err)
	}
}

func TestWebhookPing(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	ctx := context.Background()
	o := webhook.New(fastConfig(st))
	rcv := newReceiver(t, "ping-secret-0123456789")
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: rcv.srv.URL, Secret: "ping-secret-0123456789", Events: []string{grader.OutboundOverrideMade}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, o)
	d, err := o.Ping(ctx, ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := <-rcv.gotCh
	if got.verdict != nil || got.header.Get(webhook.HeaderEventType) != webhook.EventPing || !strings.Contains(string(got.body), ep.ID) {
		t.Errorf("ping %v %s", got.verdict, got.body)
	}
	eventually(t, "ping delivered", func() bool { return state(t, st, d.ID).State == webhook.StateDelivered })
}

// TestWebhookPrune: finished deliveries and events past the retention go,
// pending and young ones stay, and a pruned event's id is still stored
// once: publishing it again sends nothing.
func TestWebhookPrune(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	ctx := context.Background()
	o := webhook.New(fastConfig(st))
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: "http://127.0.0.1:1/"})
	if err != nil {
		t.Fatal(err)
	}
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	young := old.Add(60 * 24 * time.Hour)
	publish := func(id string, at time.Time) *webhook.Delivery {
		t.Helper()
		created, ds, err := st.PublishEvent(ctx, &webhook.Event{ID: id, Type: grader.OutboundSubmissionFinished, At: at, Body: []byte(`{}`)}, "", at)
		if err != nil || !created || len(ds) != 1 {
			t.Fatalf("publish %s: %v %v %d", id, created, err, len(ds))
		}
		return ds[0]
	}
	done := func(d *webhook.Delivery, state webhook.State) {
		t.Helper()
		if _, err := st.RecordAttempt(ctx, d.ID, webhook.Attempt{At: d.CreatedAt, StatusCode: 200}, state, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	oldDelivered, oldFailed, oldPending, youngDone := publish("old-1", old), publish("old-2", old.Add(time.Hour)), publish("old-3", old.Add(2*time.Hour)), publish("young", young)
	done(oldDelivered, webhook.StateDelivered)
	done(oldFailed, webhook.StateFailed)
	done(youngDone, webhook.StateDelivered)
	n, err := st.Prune(ctx, young.Add(-time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2+3 {
		t.Errorf("pruned %d, want 2 deliveries and 3 events", n)
	}
	for _, d := range []*webhook.Delivery{oldDelivered, oldFailed} {
		if _, err := st.Delivery(ctx, d.ID); grader.ErrorCode(err) != grader.ENOTFOUND {
			t.Errorf("%s kept: %v", d.ID, err)
		}
	}
	for _, d := range []*webhook.Delivery{oldPending, youngDone} {
		if _, err := st.Delivery(ctx, d.ID); err != nil {
			t.Errorf("%s pruned: %v", d.ID, err)
		}
	}
	if ds, _ := st.Deliveries(ctx, ep.ID, "", 10); len(ds) != 2 {
		t.Errorf("the log lists %d deliveries after the prune", len(ds))
	}
	if _, err := st.Event(ctx, "old-1"); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Errorf("a pruned event is readable: %v", err)
	}
	if _, err := st.Event(ctx, "young"); err != nil {
		t.Errorf("a young event went: %v", err)
	}
	if err := o.Publish(ctx, grader.OutboundEvent{ID: "old-1", Type: grader.OutboundSubmissionFinished}); err != nil {
		t.Fatal(err)
	}
	if ds, _ := st.Deliveries(ctx, ep.ID, "", 10); len(ds) != 2 {
		t.Errorf("a pruned event's id was published again: %d deliveries", len(ds))
	}
	if _, err := st.Redeliver(ctx, ep.ID, youngDone.ID, young); err != nil {
		t.Errorf("redeliver a young one: %v", err)
	}
	// The pending old one fails when attempted: its event is gone.
	if due, _, _ := st.DueDeliveries(ctx, young, 10); len(due) != 2 || due[0].ID != oldPending.ID {
		t.Errorf("due %v", due)
	}
}

// TestWebhookRetryAfter: a 429's Retry-After, when longer than the backoff
// and within MaxBackoff, sets the next attempt's time.
func TestWebhookRetryAfter(t *testing.T) {
	st := openStore(t, filepath.Join(t.TempDir(), "djgrade.db"))
	defer st.Close()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	cfg := fastConfig(st)
	cfg.MaxBackoff = time.Hour
	o := webhook.New(cfg)
	ep, err := o.CreateEndpoint(ctx, webhook.NewEndpoint{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	run(t, o)
	if err := o.Publish(ctx, event("e-429")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first attempt", func() bool { return onlyDelivery(t, st, ep.ID).AttemptCount == 1 })
	d := onlyDelivery(t, st, ep.ID)
	if d.State != webhook.StatePending || d.Attempts[0].StatusCode != 429 || d.NextAt.Sub(d.Attempts[0].At) != time.Minute {
		t.Errorf("after a 429 with Retry-After 60: %+v, next in %s", d.Attempts[0], d.NextAt.Sub(d.Attempts[0].At))
	}
}
