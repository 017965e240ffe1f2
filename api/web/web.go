// Package web is djgrade's browser interface: the interviewer's dashboard
// (submissions, exercises, assignments, live sessions, compare, similar
// submissions side by side) and the candidate's pages reached through an
// assignment or live-session link.
// Pages are rendered on the server with html/template from templates
// embedded in the binary. The JavaScript is hand-written and served from
// the binary too (no build step, no CDN): app.js for live progress and
// filters, editor.js and live.js for the live sessions' editor, watch page
// and playback (live.go). Every read-only page works without it; the live
// editor needs it.
//
// The dashboard authenticates with the same tokens as the API: signing in
// with a token creates a server-side session whose random id is the only
// thing the browser keeps (an HttpOnly, SameSite=Strict cookie). Every form
// carries the session's CSRF token.
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/export"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Prefix is the path every page lives under.
const Prefix = "/ui"

// Defaults of Config's zero fields.
const (
	DefaultMaxUploadBytes = 10 << 20
	DefaultSessionIdle    = 8 * time.Hour
	DefaultSessionMax     = 24 * time.Hour
	requestTimeout        = 15 * time.Second
	maxFormBytes          = 64 << 10
)

// Config is what New needs. Grader, Catalog and Auth are required.
type Config struct {
	// Grader is the grading service, through the API's interface of it:
	// the pages need nothing the API does not.
	Grader  api.Grader
	Catalog grader.Catalog
	Auth    grader.AuthStore
	Logger  *slog.Logger
	// BaseURL, if set (https://grader.example.com), prefixes the assignment
	// links shown to interviewers; otherwise the request's host is used.
	BaseURL string
	// MaxUploadBytes caps a candidate's upload (the whole request body).
	MaxUploadBytes int64
	// ArchiveLimits bound an upload's unpacked content.
	ArchiveLimits archive.Limits
	// SessionIdle and SessionMax end a session after that long without a
	// request, or that long after sign-in, whichever comes first.
	SessionIdle, SessionMax time.Duration
	// Secure marks the session cookie Secure (serve over HTTPS). It is off
	// by default because djgrade listens on plain HTTP on 127.0.0.1.
	Secure bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Limits are the per-token rate limit and upload slots a candidate's
	// upload takes; pass the API's (api.Server.Limits) so that the pages
	// share its caps. Nil means limits of the pages' own, with the API's
	// defaults.
	Limits *api.Limits
	// Live runs live-coding sessions (*grader.Service implements it); nil
	// means the live pages answer that this server does not run them.
	Live grader.LiveService
	// ExportColumns, if set, adds columns to the result exports, as the
	// API's Config.ExportColumns does (pass the same function).
	ExportColumns func(ctx context.Context, t *export.Table) []export.Column
	// Reviews keeps reviewers' notes and score overrides and answers the
	// candidate page (*grader.Service implements it); nil hides the review
	// panel and answers the candidate page that this server keeps none.
	Reviews grader.ReviewService
	// Similarity lists flagged pairs of similar submissions
	// (*grader.Service implements it); nil leaves the similarity sections
	// out and the pair pages answer that this server keeps no index.
	Similarity Similarity
	// Webhooks manages the outbound webhooks of the admins' pages
	// (*webhook.Outbox implements it); nil means those pages answer 503.
	Webhooks api.Webhooks
}

// Handler serves the pages. Create it with New.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	pages    map[string]*template.Template
	sessions *sessions
	logins   *loginLimiter
	auth     *api.Authenticator
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Grader == nil || cfg.Catalog == nil || cfg.Auth == nil {
		return nil, errors.New("web: Grader, Catalog and Auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.ArchiveLimits == (archive.Limits{}) {
		cfg.ArchiveLimits = archive.DefaultLimits
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = DefaultSessionMax
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limits == nil {
		cfg.Limits = api.NewLimits(0, 0, 0, 0)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		cfg:      cfg,
		log:      cfg.Logger,
		pages:    pages,
		sessions: newSessions(cfg.SessionIdle, cfg.SessionMax, cfg.Now),
		logins:   newLoginLimiter(),
	}
	h.auth = &api.Authenticator{Tokens: cfg.Auth, Sessions: h.sessions, Cookie: cookieSession}
	return h, nil
}

// route is one page of the routing table: method, path under Prefix (Echo
// syntax) and handler.
type route struct {
	method, path string
	handler      http.HandlerFunc
}

// routes is the pages' routing table. The role checks live in the
// wrappers: staff for interviewers and admins, signedIn for pages that check
// per item. A GET route also answers HEAD.
func (h *Handler) routes() []route {
	return []route{
		{http.MethodGet, "/", h.home},
		{http.MethodGet, "/login", h.loginForm},
		{http.MethodPost, "/login", h.login},
		{http.MethodPost, "/logout", h.signedIn(h.logout)},

		{http.MethodGet, "/submissions", h.staff(h.submissions)},
		{http.MethodGet, "/submissions/:id", h.staff(h.submission)},
		{http.MethodPost, "/submissions/:id/regrade", h.staff(h.regrade)},
		{http.MethodPost, "/submissions/:id/cancel", h.staff(h.cancel)},
		{http.MethodGet, "/submissions/:id/similar/:other", h.staff(h.similarPair)},
		{http.MethodGet, "/submissions/:id/similar/catalog/:kind/:name", h.staff(h.similarPair)},
		{http.MethodGet, "/events", h.staff(h.staffEvents)},
		{http.MethodGet, "/exercises", h.staff(h.exercises)},
		{http.MethodGet, "/exercises/:id", h.staff(h.exercise)},
		{http.MethodGet, "/assignments", h.staff(h.assignments)},
		{http.MethodPost, "/assignments", h.staff(h.createAssignment)},
		{http.MethodPost, "/submissions/:id/notes", h.staff(h.reviewNote)},
		{http.MethodPost, "/submissions/:id/override", h.staff(h.reviewOverride)},
		{http.MethodGet, "/candidates/:name", h.staff(h.candidatePage)},
		{http.MethodGet, "/assignments/:id", h.staff(h.staffAssignment)},
		{http.MethodPost, "/assignments/:id/revoke", h.staff(h.revokeAssignment)},
		{http.MethodPost, "/assignments/:id/extend", h.staff(h.extendAssignment)},
		{http.MethodGet, "/compare", h.staff(h.compare)},
		{http.MethodGet, "/compare.csv", h.staff(h.compareCSV)},
		{http.MethodGet, "/exercises/:id/results.csv", h.staff(h.exportResults(api.FormatCSV, false))},
		{http.MethodGet, "/exercises/:id/results.json", h.staff(h.exportResults(api.FormatJSON, false))},
		{http.MethodGet, "/assignments/:id/results.csv", h.staff(h.exportResults(api.FormatCSV, true))},
		{http.MethodGet, "/assignments/:id/results.json", h.staff(h.exportResults(api.FormatJSON, true))},

		{http.MethodGet, "/a/", h.signedIn(h.myAssignments)},
		{http.MethodGet, "/a/:id", h.signedIn(h.assignment)},
		{http.MethodGet, "/a/:id/starter.zip", h.signedIn(h.starter)},
		{http.MethodPost, "/a/:id/submit", h.signedIn(h.submit)},
		{http.MethodGet, "/a/:id/s/:sid", h.signedIn(h.result)},
		{http.MethodGet, "/a/:id/s/:sid/events", h.signedIn(h.resultEvents)},

		{http.MethodGet, "/live", h.staff(h.liveList)},
		{http.MethodPost, "/live", h.staff(h.liveStart)},
		{http.MethodGet, "/live/:id", h.staff(h.liveWatch)},
		{http.MethodPost, "/live/:id/end", h.staff(h.liveEnd)},
		{http.MethodPost, "/live/:id/notes", h.staff(h.liveNote)},
		{http.MethodGet, "/live/:id/events", h.staff(h.liveStaffEvents)},
		{http.MethodGet, "/live/:id/diff", h.staff(h.liveDiff)},
		{http.MethodGet, "/live/:id/playback", h.staff(h.livePlayback)},
		{http.MethodGet, "/live/:id/preview", h.staff(h.livePreview)},
		{http.MethodGet, "/live/:id/preview/files", h.staff(h.livePreviewFiles)},
		{http.MethodGet, "/live/:id/snapshots/:seq", h.staff(h.liveSnapshot)},

		{http.MethodGet, "/webhooks", h.admin(h.webhookList)},
		{http.MethodPost, "/webhooks", h.admin(h.webhookCreate)},
		{http.MethodGet, "/webhooks/:id", h.admin(h.webhookPage)},
		{http.MethodPost, "/webhooks/:id/ping", h.admin(h.webhookPing)},
		{http.MethodPost, "/webhooks/:id/deliveries/:delivery/redeliver", h.admin(h.webhookRedeliver)},

		{http.MethodGet, "/l/:id", h.signedIn(h.liveEditor)},
		{http.MethodGet, "/l/:id/files", h.signedIn(h.liveFiles)},
		{http.MethodPost, "/l/:id/save", h.signedIn(h.liveSave)},
		{http.MethodPost, "/l/:id/run", h.signedIn(h.liveRun)},
		{http.MethodPost, "/l/:id/submit", h.signedIn(h.liveSubmit)},
		{http.MethodGet, "/l/:id/events", h.signedIn(h.liveCandidateEvents)},
	}
}

// Mount adds the pages to e as the group Prefix, with the pages' own edge
// (see edge), and makes "/" redirect to the dashboard. The API's edge
// middleware skips the group (api.PathUI); the request id, the log line and
// the outer panic guard are the server's.
func (h *Handler) Mount(e *echo.Echo) {
	toUI := func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, Prefix+"/") }
	e.GET("/", toUI)
	e.HEAD("/", toUI)
	h.renderErrors(e)
	g := e.Group(Prefix, h.edge()...)
	for _, rt := range h.routes() {
		g.Add(rt.method, rt.path, pageHandler(rt.handler))
		if rt.method == http.MethodGet {
			g.Add(http.MethodHead, rt.path, pageHandler(rt.handler))
		}
	}
	static, _ := fs.Sub(staticFS, "static")
	files := pageHandler(http.StripPrefix(Prefix+"/static/", staticFiles(static)).ServeHTTP)
	g.GET("/static/*", files)
	g.HEAD("/static/*", files)
	notFound := func(echo.Context) error { return errNoPage }
	// Every other path or method under Prefix is a page that does not
	// exist (an HTML 404, not the API's JSON one); Prefix itself moves to
	// Prefix+"/".
	g.Any("/*", notFound)
	g.Any("", func(c echo.Context) error { return c.Redirect(http.StatusMovedPermanently, Prefix+"/") })
}

// errNoPage answers a path under Prefix that no page has.
var errNoPage = grader.Errorf(grader.ENOTFOUND, "there is no such page")

// renderErrors makes e's error handler answer errors under Prefix with an
// HTML page (h.fail, through the one code-to-status table api.StatusOf) and
// pass every other on to the handler e had (the API's JSON).
func (h *Handler) renderErrors(e *echo.Echo) {
	next := e.HTTPErrorHandler
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if p := c.Request().URL.Path; p != Prefix && !strings.HasPrefix(p, Prefix+"/") {
			next(err, c)
			return
		}
		if c.Response().Committed {
			return
		}
		h.fail(c.Response(), c.Request(), pageError(err))
	}
}

// pageError is the coded error a page shows for err: grader's own, or one
// for what Echo and the middleware produce (no route, a deadline).
func pageError(err error) error {
	var herr *echo.HTTPError
	switch {
	case grader.ErrorCode(err) != grader.EINTERNAL:
		return err
	case errors.As(err, &herr) && (herr.Code == http.StatusNotFound || herr.Code == http.StatusMethodNotAllowed):
		return errNoPage
	case errors.Is(err, context.DeadlineExceeded):
		return grader.Errorf(grader.EUNAVAILABLE, "the page took too long; try again")
	}
	return err
}

// pageHandler adapts a net/http page handler to Echo, passing the route's
// parameters on as the request's path values.
func pageHandler(fn http.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		for _, name := range c.ParamNames() {
			r.SetPathValue(name, c.Param(name))
		}
		fn(c.Response(), r)
		return nil
	}
}

// edge is the middleware of the pages' group, from echo's library where it
// has one: the security headers, a panic guard that answers with an HTML
// page, the one authentication step (the session cookie), the body cap and
// same-origin check of forms, and the request timeout, which event streams
// and the upload skip.
func (h *Handler) edge() []echo.MiddlewareFunc {
	return []echo.MiddlewareFunc{
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: pageCSP,
		}),
		setPageHeaders,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableErrorHandler: true,
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				h.log.Error("web: panic", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
				return grader.Errorf(grader.EINTERNAL, "panic")
			},
		}),
		h.authenticate,
		h.forms,
		middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
			Skipper: func(c echo.Context) bool { r := c.Request(); return isStream(r) || isSubmit(r) || isLiveRun(r) },
			Timeout: requestTimeout,
			// A deadline stays context.DeadlineExceeded for pageError.
			ErrorHandler: func(err error, _ echo.Context) error { return err },
		}),
	}
}

// isSubmit reports whether r is a candidate's upload, which has the upload
// body cap and no request timeout.
func isSubmit(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, Prefix+"/a/") && strings.HasSuffix(r.URL.Path, "/submit")
}

// isLiveAction reports whether r is one of the live editor's JSON posts
// (save, run, submit): their body cap fits a snapshot (liveBodyMax) and
// they carry the CSRF token in a header.
func isLiveAction(r *http.Request) bool {
	p := r.URL.Path
	if r.Method != http.MethodPost || !strings.HasPrefix(p, Prefix+"/l/") {
		return false
	}
	return strings.HasSuffix(p, "/save") || strings.HasSuffix(p, "/run") || strings.HasSuffix(p, "/submit")
}

// isLiveRun reports whether r is a live run, which waits for the public
// tests and so has no request timeout (the service bounds the run).
func isLiveRun(r *http.Request) bool {
	return isLiveAction(r) && strings.HasSuffix(r.URL.Path, "/run")
}

// forms caps a POST's body before any handler reads it and refuses a
// cross-site POST. The cap is http.MaxBytesReader rather than echo's
// BodyLimit so that the handlers' *http.MaxBytesError, which carries the
// limit for the message, stays what they see.
func (h *Handler) forms(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, w := c.Request(), c.Response()
		if r.Method != http.MethodPost {
			return next(c)
		}
		limit := int64(maxFormBytes)
		switch {
		case isSubmit(r):
			limit = h.cfg.MaxUploadBytes
		case isLiveAction(r):
			limit = liveBodyMax
		}
		if r.ContentLength > limit {
			if isLiveAction(r) {
				return errLiveTooLarge
			}
			return grader.Errorf(grader.ETOOLARGE, "the upload is over the limit of %s", archive.FormatBytes(limit))
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		// A cross-site POST is refused before any handler: SameSite keeps
		// the cookie off it already, and this also covers the sign-in form.
		if !sameOrigin(r) {
			return grader.Errorf(grader.EFORBIDDEN, "cross-site form submissions are refused")
		}
		return next(c)
	}
}

// isStream reports whether r asks for an event stream, which outlives the
// page timeout.
func isStream(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/events")
}

// sameOrigin checks a POST's Origin (or, without one, Sec-Fetch-Site)
// against the request's host. Browsers send at least one of them on every
// form POST; a request with neither comes from a non-browser client, which
// the CSRF token still guards.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		if o == "null" {
			return false
		}
		o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
		return strings.EqualFold(o, r.Host)
	}
	site := r.Header.Get("Sec-Fetch-Site")
	return site == "" || site == "same-origin" || site == "none"
}

// pageCSP lets pages load only their own scripts, styles and images: no
// inline script or style, no frames, forms posting only here.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setPageHeaders sets the pages' headers that echo's Secure middleware does
// not: cross-origin isolation, permissions, no caching. Together they replace
// the API's, whose CSP forbids everything a page needs.
func setPageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		hd.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// staticFiles serves the embedded CSS and JS. They change only with the
// binary, so a short cache is safe.
func staticFiles(fsys fs.FS) http.Handler {
	fh := http.FileServer(http.FS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || r.URL.Path == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		fh.ServeHTTP(w, r)
	})
}
