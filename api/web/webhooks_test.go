package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/webhook"
)

// TestWebhookPages: an admin registers an endpoint on the page (the secret
// shown once), pings it, sees the delivery's attempt and redelivers it,
// each POST with the session's CSRF token; an interviewer gets 403, a
// candidate the 404 of a page that does not exist.
func TestWebhookPages(t *testing.T) {
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	outbox := webhook.New(webhook.Config{Store: st, Backoff: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); outbox.Run(ctx) }()
	defer func() { cancel(); <-done }()
	got := make(chan http.Header, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Header.Clone()
		w.Write([]byte("received"))
	}))
	defer rcv.Close()
	e := newEnv(t, func(c *Config) { c.Webhooks = outbox })
	adminSecret, _ := e.token(grader.RoleAdmin, "Ada")
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris")
	candSecret, _ := e.assign("Carl", grader.ModeAssessment)

	ab := e.browser()
	ab.login(adminSecret)
	res, body := ab.get("/ui/webhooks")
	wantStatus(t, "list", res, body, http.StatusOK)
	if !strings.Contains(body, `href="/ui/webhooks" aria-current="page"`) {
		t.Errorf("no Webhooks link in the nav: %.400s", body)
	}
	// Refused: shown again with the reason, nothing stored.
	res, body = ab.post("/ui/webhooks", url.Values{"csrf": {ab.csrf}, "url": {"http://169.254.169.254/"}})
	wantStatus(t, "metadata URL", res, body, http.StatusBadRequest)
	if !strings.Contains(body, "link-local") {
		t.Errorf("the refusal does not say why: %.600s", body)
	}
	res, body = ab.post("/ui/webhooks", url.Values{"url": {rcv.URL}})
	wantStatus(t, "no CSRF", res, body, http.StatusForbidden)
	if list, _ := outbox.Endpoints(ctx); len(list) != 0 {
		t.Fatalf("refused forms stored %d endpoints", len(list))
	}
	res, body = ab.post("/ui/webhooks", url.Values{"csrf": {ab.csrf}, "url": {rcv.URL}, "description": {"ATS <bridge>"}, "events": {grader.OutboundSubmissionFinished}})
	wantStatus(t, "create", res, body, http.StatusCreated)
	list, _ := outbox.Endpoints(ctx)
	if len(list) != 1 || !strings.Contains(body, list[0].Secret) || list[0].Events[0] != grader.OutboundSubmissionFinished {
		t.Fatalf("created %v; page %.600s", list, body)
	}
	ep := list[0]
	res, body = ab.get("/ui/webhooks")
	if strings.Contains(body, ep.Secret) || !strings.Contains(body, "ATS &lt;bridge&gt;") {
		t.Errorf("the list shows the secret, or the description unescaped: %.800s", body)
	}

	res, body = ab.post("/ui/webhooks/"+ep.ID+"/ping", url.Values{"csrf": {ab.csrf}})
	wantStatus(t, "ping", res, body, http.StatusSeeOther)
	if h := <-got; h.Get(webhook.HeaderEventType) != webhook.EventPing {
		t.Errorf("ping headers %v", h)
	}
	var ds []*webhook.Delivery
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ds, _ = outbox.Deliveries(ctx, ep.ID, "", 10)
		if len(ds) == 1 && ds[0].State == webhook.StateDelivered || time.Now().After(deadline) {
			break
		}
	}
	res, body = ab.get("/ui/webhooks/" + ep.ID)
	wantStatus(t, "endpoint page", res, body, http.StatusOK)
	if !strings.Contains(body, ds[0].ID) || !strings.Contains(body, "HTTP 200") || !strings.Contains(body, "received") || !strings.Contains(body, "Redeliver") {
		t.Errorf("the endpoint page lacks the delivery: %.1500s", body)
	}
	redeliver := "/ui/webhooks/" + ep.ID + "/deliveries/" + ds[0].ID + "/redeliver"
	res, body = ab.post(redeliver, url.Values{"csrf": {"wrong"}})
	wantStatus(t, "redeliver without the token", res, body, http.StatusForbidden)
	res, body = ab.post(redeliver, url.Values{"csrf": {ab.csrf}})
	wantStatus(t, "redeliver", res, body, http.StatusSeeOther)
	if h := <-got; h.Get(webhook.HeaderEventID) != ds[0].Event || h.Get(webhook.HeaderDelivery) == ds[0].ID {
		t.Errorf("redelivery headers %v", h)
	}

	sb := e.browser()
	sb.login(staffSecret)
	for _, p := range []string{"/ui/webhooks", "/ui/webhooks/" + ep.ID} {
		res, body := sb.get(p)
		wantStatus(t, "interviewer "+p, res, body, http.StatusForbidden)
	}
	if _, body := sb.get("/ui/submissions"); strings.Contains(body, `href="/ui/webhooks"`) {
		t.Error("an interviewer's nav links to the webhooks")
	}
	res, body = sb.post(redeliver, url.Values{"csrf": {sb.csrf}})
	wantStatus(t, "interviewer redeliver", res, body, http.StatusForbidden)

	cb := e.browser()
	cb.login(candSecret)
	_, missing := cb.get("/ui/no-such-page")
	for _, p := range []string{"/ui/webhooks", "/ui/webhooks/" + ep.ID} {
		res, body := cb.get(p)
		wantStatus(t, "candidate "+p, res, body, http.StatusNotFound)
		if body != missing {
			t.Errorf("candidate %s differs from a missing page", p)
		}
	}
	if n, _ := outbox.Deliveries(ctx, ep.ID, "", 10); len(n) != 2 {
		t.Errorf("%d deliveries, want the ping and one redelivery", len(n))
	}
}
