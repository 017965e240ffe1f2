package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/webhook"
)

// Webhooks is what the webhook routes need (implemented by *webhook.Outbox):
// the endpoints hiring tools registered, and their delivery logs.
type Webhooks interface {
	CreateEndpoint(ctx context.Context, req webhook.NewEndpoint) (*webhook.Endpoint, error)
	UpdateEndpoint(ctx context.Context, id string, up webhook.EndpointUpdate) (*webhook.Endpoint, error)
	Endpoint(ctx context.Context, id string) (*webhook.Endpoint, error)
	Endpoints(ctx context.Context) ([]*webhook.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	Deliveries(ctx context.Context, endpoint, before string, limit int) ([]*webhook.Delivery, error)
	Delivery(ctx context.Context, endpoint, id string) (*webhook.Delivery, error)
	Redeliver(ctx context.Context, endpoint, id string) (*webhook.Delivery, error)
	Ping(ctx context.Context, endpoint string) (*webhook.Delivery, error)
}

// The webhook routes (outbound webhooks for hiring tools), for admins only:
// an interviewer gets 403, a candidate the 404 of a route that does not
// exist (candidates do not learn that hiring tools are told anything).
const (
	pathWebhooks   = "/api/v1/webhooks"
	pathWebhook    = pathWebhooks + "/:id"
	pathDeliveries = pathWebhook + "/deliveries"
	pathDelivery   = pathDeliveries + "/:delivery"
)

// webhookRoutes registers the webhook routes; routes calls it.
func (s *Server) webhookRoutes(authn echo.MiddlewareFunc) {
	e, admin := s.echo, adminHidden
	e.POST(pathWebhooks, s.createWebhook, authn, admin)
	GET(e, pathWebhooks, s.listWebhooks, authn, admin)
	GET(e, pathWebhook, s.getWebhook, authn, admin)
	e.PATCH(pathWebhook, s.updateWebhook, authn, admin)
	e.DELETE(pathWebhook, s.deleteWebhook, authn, admin)
	e.POST(pathWebhook+"/ping", s.pingWebhook, authn, admin)
	GET(e, pathDeliveries, s.listDeliveries, authn, admin)
	GET(e, pathDelivery, s.getDelivery, authn, admin)
	e.POST(pathDelivery+"/redeliver", s.redeliver, authn, admin)
}

// adminHidden lets admins through, refuses interviewers (403) and answers
// candidates as if the route did not exist.
func adminHidden(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := caller(c)
		switch {
		case tok == nil || !tok.Role.Staff():
			return echo.ErrNotFound
		case tok.Role != grader.RoleAdmin:
			return grader.Errorf(grader.EFORBIDDEN, "only an admin manages webhooks")
		}
		return next(c)
	}
}

func (s *Server) webhooks() (Webhooks, error) {
	if s.cfg.Webhooks == nil {
		return nil, grader.Errorf(grader.EUNAVAILABLE, "this server does not deliver webhooks")
	}
	return s.cfg.Webhooks, nil
}

// endpointJSON is an endpoint as the API shows it: its secret only in the
// answer that created it.
type endpointJSON struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description"`
	Events      []string  `json:"events"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Secret      string    `json:"secret,omitempty"`
}

func endpointView(e *webhook.Endpoint) endpointJSON {
	return endpointJSON{ID: e.ID, URL: e.URL, Description: e.Description, Events: e.Events, Enabled: e.Enabled, CreatedAt: e.CreatedAt.UTC(), CreatedBy: e.CreatedBy}
}

type webhookRequest struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret"`
	Enabled     *bool    `json:"enabled"`
}

// createWebhook registers an endpoint; the answer holds its secret, shown
// nowhere else.
func (s *Server) createWebhook(c echo.Context) error {
	w, err := s.webhooks()
	if err != nil {
		return err
	}
	var req webhookRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	e, err := w.CreateEndpoint(c.Request().Context(), webhook.NewEndpoint{
		URL: req.URL, Description: req.Description, Events: req.Events, Secret: req.Secret,
		Disabled: req.Enabled != nil && !*req.Enabled, CreatedBy: caller(c).ID,
	})
	if err != nil {
		return err
	}
	out := endpointView(e)
	out.Secret = e.Secret
	c.Response().Header().Set(echo.HeaderLocation, pathWebhooks+"/"+e.ID)
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) listWebhooks(c echo.Context) error {
	w, err := s.webhooks()
	if err != nil {
		return err
	}
	list, err := w.Endpoints(c.Request().Context())
	if err != nil {
		return err
	}
	out := struct {
		Webhooks []endpointJSON `json:"webhooks"`
	}{Webhooks: make([]endpointJSON, 0, len(list))}
	for _, e := range list {
		out.Webhooks = append(out.Webhooks, endpointView(e))
	}
	return c.JSON(http.StatusOK, out)
}

// webhookID is the path's endpoint id, or the 404 of one too long to be.
func webhookID(c echo.Context) (string, error) {
	id := c.Param("id")
	if id == "" || len(id) > maxIDLen {
		return "", grader.Errorf(grader.ENOTFOUND, "webhook not found")
	}
	return id, nil
}

// webhookOf is the webhook store and the path's endpoint id of a route on
// one endpoint.
func (s *Server) webhookOf(c echo.Context) (Webhooks, string, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, "", err
	}
	id, err := webhookID(c)
	return w, id, err
}

func (s *Server) getWebhook(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	e, err := w.Endpoint(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, endpointView(e))
}

type webhookUpdate struct {
	Description *string   `json:"description"`
	Events      *[]string `json:"events"`
	Enabled     *bool     `json:"enabled"`
}

// updateWebhook changes an endpoint's description, events or enabled flag
// (its URL and secret are fixed: register a new endpoint to change them).
func (s *Server) updateWebhook(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	var req webhookUpdate
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	up := webhook.EndpointUpdate{Description: req.Description, Enabled: req.Enabled}
	if req.Events != nil {
		up.Events = *req.Events
		if up.Events == nil {
			up.Events = []string{}
		}
	}
	e, err := w.UpdateEndpoint(c.Request().Context(), id, up)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, endpointView(e))
}

func (s *Server) deleteWebhook(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	if err := w.DeleteEndpoint(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// deliveryJSON is a delivery in a listing: its last attempt, not its log.
type deliveryJSON struct {
	*webhook.Delivery
	Attempts    []webhook.Attempt `json:"attempts,omitempty"`
	LastAttempt *webhook.Attempt  `json:"last_attempt"`
}

func deliveryView(d *webhook.Delivery, full bool) deliveryJSON {
	out := deliveryJSON{Delivery: d}
	if n := len(d.Attempts); n > 0 {
		out.LastAttempt = &d.Attempts[n-1]
	}
	if full {
		out.Attempts = d.Attempts
		if out.Attempts == nil {
			out.Attempts = []webhook.Attempt{}
		}
	}
	return out
}

// listDeliveries is the endpoint's delivery log, newest first, a page at a
// time (?limit=1..100, ?cursor= from the previous page).
func (s *Server) listDeliveries(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > webhook.MaxListLimit {
			return grader.Errorf(grader.EINVALID, "limit must be 1 to %d", webhook.MaxListLimit)
		}
		limit = n
	}
	before := ""
	if v := c.QueryParam("cursor"); v != "" {
		if before, err = decodeCursor(v); err != nil {
			return err
		}
	}
	list, err := w.Deliveries(c.Request().Context(), id, before, limit)
	if err != nil {
		return err
	}
	out := struct {
		Deliveries []deliveryJSON `json:"deliveries"`
		NextCursor *string        `json:"next_cursor"`
	}{Deliveries: make([]deliveryJSON, 0, len(list))}
	for _, d := range list {
		out.Deliveries = append(out.Deliveries, deliveryView(d, false))
	}
	if len(list) == limit {
		next := encodeCursor(list[len(list)-1].ID)
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// getDelivery is one delivery with its log of attempts.
func (s *Server) getDelivery(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	d, err := w.Delivery(c.Request().Context(), id, c.Param("delivery"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deliveryView(d, true))
}

// redeliver sends a delivered or failed delivery's event again, as a new
// delivery (202: it is attempted by the dispatcher).
func (s *Server) redeliver(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	d, err := w.Redeliver(c.Request().Context(), id, c.Param("delivery"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryView(d, true))
}

// pingWebhook sends the endpoint a ping event (202).
func (s *Server) pingWebhook(c echo.Context) error {
	w, id, err := s.webhookOf(c)
	if err != nil {
		return err
	}
	d, err := w.Ping(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, deliveryView(d, true))
}
