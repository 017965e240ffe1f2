package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/webhook"
)

// hookWorld is a server with webhooks kept in their own bbolt file and a
// dispatcher running, and a loopback receiver that verifies signatures
// with the secret it is told.
type hookWorld struct {
	*world
	outbox *webhook.Outbox
	store  *bolt.Store
	rcv    *httptest.Server
	secret chan string
	got    chan http.Header
}

func newHookWorld(t *testing.T) *hookWorld {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "hooks.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	outbox := webhook.New(webhook.Config{Store: st, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); outbox.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	hw := &hookWorld{outbox: outbox, store: st, secret: make(chan string, 1), got: make(chan http.Header, 10)}
	var secret string
	hw.rcv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case secret = <-hw.secret:
		default:
		}
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, webhook.DefaultTolerance, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		hw.got <- r.Header.Clone()
		w.Write([]byte("thanks"))
	}))
	t.Cleanup(hw.rcv.Close)
	hw.world = newWorld(t, &gateSandbox{}, false, func(c *Config) { c.Webhooks = outbox })
	return hw
}

func (w *hookWorld) json(t *testing.T, who, method, path, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	ctype := ""
	if body != "" {
		r, ctype = strings.NewReader(body), "application/json"
	}
	res, data := w.do(t, who, method, path, ctype, r, nil)
	var out map[string]any
	json.Unmarshal(data, &out)
	if out == nil {
		out = map[string]any{"raw": string(data)}
	}
	return res.StatusCode, out
}

func TestWebhookRoutes(t *testing.T) {
	w := newHookWorld(t)
	st, ep := w.json(t, "admin", "POST", "/api/v1/webhooks", `{"url":"`+w.rcv.URL+`/hook","description":"Greenhouse bridge","events":["submission.finished"]}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, ep)
	}
	id, _ := ep["id"].(string)
	secret, _ := ep["secret"].(string)
	if !strings.HasPrefix(id, "whk_") || !strings.HasPrefix(secret, webhook.SecretPrefix) || ep["enabled"] != true || ep["created_by"] != w.ids["admin"] {
		t.Fatalf("created %v", ep)
	}
	w.secret <- secret

	st, got := w.json(t, "admin", "GET", "/api/v1/webhooks/"+id, "")
	if st != http.StatusOK || got["url"] != w.rcv.URL+"/hook" || got["description"] != "Greenhouse bridge" {
		t.Errorf("get: %d %v", st, got)
	}
	if _, ok := got["secret"]; ok {
		t.Errorf("the secret is shown again: %v", got)
	}
	st, list := w.json(t, "admin", "GET", "/api/v1/webhooks", "")
	if hooks, _ := list["webhooks"].([]any); st != http.StatusOK || len(hooks) != 1 || strings.Contains(mustJSON(list), secret) {
		t.Errorf("list: %d %v", st, list)
	}

	// A ping reaches the receiver, signed with the secret shown once.
	st, ping := w.json(t, "admin", "POST", "/api/v1/webhooks/"+id+"/ping", "")
	if st != http.StatusAccepted || ping["state"] != "pending" {
		t.Fatalf("ping: %d %v", st, ping)
	}
	h := <-w.got
	if h.Get(webhook.HeaderEventType) != webhook.EventPing || h.Get(webhook.HeaderDelivery) != ping["id"] {
		t.Errorf("ping headers %v", h)
	}
	dpath := "/api/v1/webhooks/" + id + "/deliveries/" + ping["id"].(string)
	var d map[string]any
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if st, d = w.json(t, "admin", "GET", dpath, ""); d["state"] == "delivered" || time.Now().After(deadline) {
			break
		}
	}
	attempts, _ := d["attempts"].([]any)
	if st != http.StatusOK || d["state"] != "delivered" || len(attempts) != 1 || attempts[0].(map[string]any)["status_code"] != float64(200) || attempts[0].(map[string]any)["response"] != "thanks" {
		t.Fatalf("delivery: %d %v", st, d)
	}
	st, page := w.json(t, "admin", "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=1", "")
	items, _ := page["deliveries"].([]any)
	if st != http.StatusOK || len(items) != 1 || page["next_cursor"] == nil {
		t.Fatalf("deliveries: %d %v", st, page)
	}
	if item := items[0].(map[string]any); item["attempts"] != nil || item["last_attempt"] == nil {
		t.Errorf("a listed delivery shows its log: %v", item)
	}
	st, page = w.json(t, "admin", "GET", "/api/v1/webhooks/"+id+"/deliveries?limit=1&cursor="+page["next_cursor"].(string), "")
	if items, _ := page["deliveries"].([]any); st != http.StatusOK || len(items) != 0 {
		t.Errorf("second page: %d %v", st, page)
	}

	// Redelivered: a new delivery of the same event.
	st, again := w.json(t, "admin", "POST", dpath+"/redeliver", "")
	if st != http.StatusAccepted || again["redelivery_of"] != ping["id"] || again["event"] != ping["event"] || again["id"] == ping["id"] {
		t.Fatalf("redeliver: %d %v", st, again)
	}
	if h := <-w.got; h.Get(webhook.HeaderEventID) != ping["event"] || h.Get(webhook.HeaderDelivery) != again["id"] {
		t.Errorf("redelivery headers %v", h)
	}
	if st, _ := w.json(t, "admin", "POST", "/api/v1/webhooks/"+id+"/deliveries/dlv_nope/redeliver", ""); st != http.StatusNotFound {
		t.Errorf("redeliver a missing delivery: %d", st)
	}

	st, up := w.json(t, "admin", "PATCH", "/api/v1/webhooks/"+id, `{"enabled":false,"events":["*"]}`)
	if st != http.StatusOK || up["enabled"] != false || up["events"].([]any)[0] != "*" || up["url"] != w.rcv.URL+"/hook" {
		t.Errorf("patch: %d %v", st, up)
	}
	if st, _ := w.json(t, "admin", "DELETE", "/api/v1/webhooks/"+id, ""); st != http.StatusNoContent {
		t.Errorf("delete: %d", st)
	}
	for _, p := range []string{"/api/v1/webhooks/" + id, "/api/v1/webhooks/" + id + "/deliveries", dpath} {
		if st, _ := w.json(t, "admin", "GET", p, ""); st != http.StatusNotFound {
			t.Errorf("GET %s after the delete: %d", p, st)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestWebhookRoutesAdminOnly: every webhook route refuses an interviewer
// (403) and answers a candidate exactly as a route that does not exist.
func TestWebhookRoutesAdminOnly(t *testing.T) {
	w := newHookWorld(t)
	st, ep := w.json(t, "admin", "POST", "/api/v1/webhooks", `{"url":"`+w.rcv.URL+`"}`)
	if st != http.StatusCreated {
		t.Fatalf("create: %d %v", st, ep)
	}
	id := ep["id"].(string)
	d, err := w.outbox.Ping(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	answer := func(who, method, path string) (int, string) {
		var body io.Reader
		ctype := ""
		if method == "POST" || method == "PATCH" {
			ctype, body = "application/json", strings.NewReader(`{"url":"http://127.0.0.1:1/"}`)
		}
		res, data := w.do(t, who, method, path, ctype, body, nil)
		text := string(data)
		if rid := res.Header.Get(echo.HeaderXRequestID); rid != "" {
			text = strings.ReplaceAll(text, rid, "RID")
		}
		return res.StatusCode, text
	}
	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/webhooks"},
		{"GET", "/api/v1/webhooks"},
		{"GET", "/api/v1/webhooks/" + id},
		{"PATCH", "/api/v1/webhooks/" + id},
		{"DELETE", "/api/v1/webhooks/" + id},
		{"POST", "/api/v1/webhooks/" + id + "/ping"},
		{"GET", "/api/v1/webhooks/" + id + "/deliveries"},
		{"GET", "/api/v1/webhooks/" + id + "/deliveries/" + d.ID},
		{"POST", "/api/v1/webhooks/" + id + "/deliveries/" + d.ID + "/redeliver"},
	} {
		if st, body := answer("interviewer", r.method, r.path); st != http.StatusForbidden {
			t.Errorf("%s %s as an interviewer: %d %s", r.method, r.path, st, body)
		}
		for _, who := range []string{"unassigned", grader.ModeAssessment} {
			st, body := answer(who, r.method, r.path)
			st2, body2 := answer(who, "GET", "/api/v1/no-such-route")
			if st != http.StatusNotFound || st != st2 || body != body2 {
				t.Errorf("%s %s as %s: %d %s; a missing route: %d %s", r.method, r.path, who, st, body, st2, body2)
			}
		}
		if st, _ := answer("", r.method, r.path); st != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d", r.method, r.path, st)
		}
	}
	if list, _ := w.outbox.Endpoints(context.Background()); len(list) != 1 {
		t.Errorf("%d endpoints after the refused calls", len(list))
	}
}

func TestWebhookRoutesLimits(t *testing.T) {
	w := newHookWorld(t)
	for _, c := range []struct {
		name, body string
		status     int
	}{
		{"not http", `{"url":"file:///etc/passwd"}`, 400},
		{"metadata", `{"url":"http://169.254.169.254/latest/"}`, 400},
		{"no url", `{}`, 400},
		{"long url", `{"url":"http://127.0.0.1/` + strings.Repeat("a", webhook.MaxURLLen) + `"}`, 400},
		{"unknown event", `{"url":"http://127.0.0.1/","events":["everything"]}`, 400},
		{"short secret", `{"url":"http://127.0.0.1/","secret":"abc"}`, 400},
		{"unknown field", `{"url":"http://127.0.0.1/","retries":99}`, 400},
		{"two objects", `{"url":"http://127.0.0.1/"}{}`, 400},
		{"huge", `{"url":"http://127.0.0.1/","description":"` + strings.Repeat("a", 70<<10) + `"}`, 413},
	} {
		if st, out := w.json(t, "admin", "POST", "/api/v1/webhooks", c.body); st != c.status {
			t.Errorf("%s: %d %v, want %d", c.name, st, out, c.status)
		}
	}
	res, _ := w.do(t, "admin", "POST", "/api/v1/webhooks", "text/plain", strings.NewReader(`{"url":"http://127.0.0.1/"}`), nil)
	if res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: %d", res.StatusCode)
	}
	if list, _ := w.outbox.Endpoints(context.Background()); len(list) != 0 {
		t.Errorf("refused requests stored %d endpoints", len(list))
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=bm9wZQ", "cursor=" + encodeCursor("not-a-delivery")} {
		st, ep := w.json(t, "admin", "POST", "/api/v1/webhooks", `{"url":"http://127.0.0.1:1/"}`)
		if st != http.StatusCreated {
			t.Fatal(st)
		}
		if st, out := w.json(t, "admin", "GET", "/api/v1/webhooks/"+ep["id"].(string)+"/deliveries?"+q, ""); st != http.StatusBadRequest {
			t.Errorf("deliveries?%s: %d %v", q, st, out)
		}
	}
	if st, _ := w.json(t, "admin", "GET", "/api/v1/webhooks/"+strings.Repeat("x", 300), ""); st != http.StatusNotFound {
		t.Errorf("an overlong id: %d", st)
	}
}

func TestWebhookRoutesWithoutOutbox(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, body := w.do(t, "admin", "GET", "/api/v1/webhooks", "", nil, nil)
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("without webhooks: %d %s", res.StatusCode, body)
	}
}
