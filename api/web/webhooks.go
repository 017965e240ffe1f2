package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/webhook"
)

// The outbound webhooks' pages, for admins: the endpoints and a form to
// register one, each endpoint's recent deliveries with their attempts, and
// buttons to ping and to redeliver. An interviewer gets 403, a candidate
// the 404 of a page that does not exist (staff).

// maxPageDeliveries is how many deliveries an endpoint's page lists.
const maxPageDeliveries = 50

// admin is staff for admins only.
func (h *Handler) admin(next http.HandlerFunc) http.HandlerFunc {
	return h.staff(func(w http.ResponseWriter, r *http.Request) {
		if sessionOf(r).Role() != grader.RoleAdmin {
			h.fail(w, r, grader.Errorf(grader.EFORBIDDEN, "only an admin manages webhooks"))
			return
		}
		if h.cfg.Webhooks == nil {
			h.fail(w, r, grader.Errorf(grader.EUNAVAILABLE, "this server does not deliver webhooks"))
			return
		}
		next(w, r)
	})
}

type webhooksData struct {
	Endpoints []*webhook.Endpoint
	Events    []string
	// Created is the endpoint just registered, shown with its secret once.
	Created *webhook.Endpoint
	Error   string
	Form    webhookForm
}

type webhookForm struct {
	URL, Description string
	Events           []string
}

// Has reports whether the form chose the event type.
func (f webhookForm) Has(t string) bool { return slices.Contains(f.Events, t) }

func (h *Handler) webhookList(w http.ResponseWriter, r *http.Request) {
	h.renderWebhooks(w, r, http.StatusOK, webhooksData{})
}

func (h *Handler) renderWebhooks(w http.ResponseWriter, r *http.Request, status int, d webhooksData) {
	list, err := h.cfg.Webhooks.Endpoints(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Endpoints, d.Events = list, webhook.EventTypes
	h.render(w, r, status, "webhooks", &page{Title: "Webhooks", Nav: "webhooks", Data: d})
}

// webhookCreate registers an endpoint from the form and shows its secret
// once; a refused form is shown again with the reason, nothing stored.
func (h *Handler) webhookCreate(w http.ResponseWriter, r *http.Request) {
	form := webhookForm{URL: r.PostFormValue("url"), Description: r.PostFormValue("description"), Events: r.PostForm["events"]}
	e, err := h.cfg.Webhooks.CreateEndpoint(r.Context(), webhook.NewEndpoint{
		URL: form.URL, Description: form.Description, Events: form.Events, CreatedBy: sessionOf(r).Token.ID,
	})
	if err != nil {
		if code := grader.ErrorCode(err); code == grader.EINVALID || code == grader.ETOOLARGE {
			h.renderWebhooks(w, r, statusOf(code), webhooksData{Error: grader.ErrorMessage(err), Form: form})
			return
		}
		h.fail(w, r, err)
		return
	}
	h.renderWebhooks(w, r, http.StatusCreated, webhooksData{Created: e})
}

type webhookData struct {
	E          *webhook.Endpoint
	Deliveries []*webhook.Delivery
	Notice     string
}

// webhookPath is the page of the endpoint with the id.
func webhookPath(id string) string { return Prefix + "/webhooks/" + url.PathEscape(id) }

func (h *Handler) webhookPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" || len(id) > 128 {
		h.fail(w, r, grader.Errorf(grader.ENOTFOUND, "webhook not found"))
		return
	}
	e, err := h.cfg.Webhooks.Endpoint(r.Context(), id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	ds, err := h.cfg.Webhooks.Deliveries(r.Context(), id, "", maxPageDeliveries)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	notice := ""
	switch r.URL.Query().Get("done") {
	case "ping":
		notice = "A ping is on its way; reload to see its attempt."
	case "redeliver":
		notice = "The event is being sent again as a new delivery; reload to see its attempt."
	}
	h.render(w, r, http.StatusOK, "webhook", &page{Title: "Webhook " + e.URL, Nav: "webhooks", Data: webhookData{E: e, Deliveries: ds, Notice: notice}})
}

func (h *Handler) webhookPing(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.cfg.Webhooks.Ping(r.Context(), id); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, webhookPath(id)+"?done=ping", http.StatusSeeOther)
}

func (h *Handler) webhookRedeliver(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := h.cfg.Webhooks.Redeliver(r.Context(), id, r.PathValue("delivery")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, webhookPath(id)+"?done=redeliver", http.StatusSeeOther)
}

// lastAttempt is a delivery's latest attempt, for the table.
func lastAttempt(d *webhook.Delivery) *webhook.Attempt {
	if len(d.Attempts) == 0 {
		return nil
	}
	return &d.Attempts[len(d.Attempts)-1]
}

// joinEvents renders a subscription list.
func joinEvents(events []string) string {
	if slices.Contains(events, webhook.AllEvents) {
		return "all events"
	}
	return strings.Join(events, ", ")
}

func init() {
	funcs["lastAttempt"] = lastAttempt
	funcs["joinEvents"] = joinEvents
}
