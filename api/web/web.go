// Package web is djgrade's browser interface: the interviewer's dashboard
// (submissions, exercises, assignments, compare) and the candidate's pages
// reached through an assignment link. Pages are rendered on the server with
// html/template from templates embedded in the binary; the only JavaScript
// is a small hand-written file for live progress and filters, and every
// read-only page works without it.
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
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Grader is what the pages need from the grading service (implemented by
// *grader.Service).
type Grader interface {
	// Create validates and stores a submission (status queued).
	Create(ctx context.Context, req grader.SubmitRequest) (*grader.Submission, error)
	// Submission returns the submission with the id, or ENOTFOUND.
	Submission(ctx context.Context, id string) (*grader.Submission, error)
	// ListSubmissions returns a page of submissions, newest first.
	ListSubmissions(ctx context.Context, filter grader.SubmissionFilter) ([]*grader.Submission, error)
	// SubmissionFiles returns the candidate's files of a submission.
	SubmissionFiles(ctx context.Context, id string) ([]grader.File, error)
	// Cancel cancels a queued submission (ECONFLICT otherwise).
	Cancel(ctx context.Context, id string) (*grader.Submission, error)
	// Regrade requeues a finished submission, keeping its old result.
	Regrade(ctx context.Context, id string) (*grader.Submission, error)
	// Subscribe returns a channel of the events of one submission ("" for
	// all) and a function that ends the subscription.
	Subscribe(id string) (<-chan grader.Event, func())
}

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
	Grader  Grader
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
}

// Handler serves the pages. Create it with New.
type Handler struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	pages    map[string]*template.Template
	sessions *sessions
	logins   *loginLimiter
	opened   *openedSet
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
		mux:      http.NewServeMux(),
		pages:    pages,
		sessions: newSessions(cfg.SessionIdle, cfg.SessionMax, cfg.Now),
		logins:   newLoginLimiter(),
		opened:   newOpenedSet(),
	}
	h.routes()
	return h, nil
}

// routes registers every page. The role checks live in the wrappers: staff
// for interviewers and admins, anyone for pages that check per item.
func (h *Handler) routes() {
	m := h.mux
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET "+Prefix+"/static/", http.StripPrefix(Prefix+"/static/", staticFiles(static)))
	m.HandleFunc("GET "+Prefix+"/{$}", h.home)
	m.HandleFunc("GET "+Prefix+"/login", h.loginForm)
	m.HandleFunc("POST "+Prefix+"/login", h.login)
	m.HandleFunc("POST "+Prefix+"/logout", h.signedIn(h.logout))

	m.HandleFunc("GET "+Prefix+"/submissions", h.staff(h.submissions))
	m.HandleFunc("GET "+Prefix+"/submissions/{id}", h.staff(h.submission))
	m.HandleFunc("POST "+Prefix+"/submissions/{id}/regrade", h.staff(h.regrade))
	m.HandleFunc("POST "+Prefix+"/submissions/{id}/cancel", h.staff(h.cancel))
	m.HandleFunc("GET "+Prefix+"/events", h.staff(h.staffEvents))
	m.HandleFunc("GET "+Prefix+"/exercises", h.staff(h.exercises))
	m.HandleFunc("GET "+Prefix+"/exercises/{id}", h.staff(h.exercise))
	m.HandleFunc("GET "+Prefix+"/assignments", h.staff(h.assignments))
	m.HandleFunc("POST "+Prefix+"/assignments", h.staff(h.createAssignment))
	m.HandleFunc("GET "+Prefix+"/compare", h.staff(h.compare))
	m.HandleFunc("GET "+Prefix+"/compare.csv", h.staff(h.compareCSV))

	m.HandleFunc("GET "+Prefix+"/a/{$}", h.signedIn(h.myAssignments))
	m.HandleFunc("GET "+Prefix+"/a/{id}", h.signedIn(h.assignment))
	m.HandleFunc("GET "+Prefix+"/a/{id}/starter.zip", h.signedIn(h.starter))
	m.HandleFunc("POST "+Prefix+"/a/{id}/submit", h.signedIn(h.submit))
	m.HandleFunc("GET "+Prefix+"/a/{id}/s/{sid}", h.signedIn(h.result))
	m.HandleFunc("GET "+Prefix+"/a/{id}/s/{sid}/events", h.signedIn(h.resultEvents))
	m.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, grader.Errorf(grader.ENOTFOUND, "there is no such page"))
	})
}

// ServeHTTP serves a page with the security headers, a panic guard, a body
// cap and a request log line.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	setPageHeaders(rec.Header())
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.Error("web: panic", "path", r.URL.Path, "err", v, "stack", string(debug.Stack()))
			if !rec.wrote {
				h.fail(rec, r, grader.Errorf(grader.EINTERNAL, "panic"))
			}
		}
		h.log.Info("web request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "latency", h.cfg.Now().Sub(start))
	}()
	if r.Method == http.MethodPost {
		limit := int64(maxFormBytes)
		if strings.HasSuffix(r.URL.Path, "/submit") {
			limit = h.cfg.MaxUploadBytes
		}
		if r.ContentLength > limit {
			h.fail(rec, r, grader.Errorf(grader.ETOOLARGE, "the upload is over the limit of %s", archive.FormatBytes(limit)))
			return
		}
		r.Body = http.MaxBytesReader(rec, r.Body, limit)
		// A cross-site POST is refused before any handler: SameSite keeps
		// the cookie off it already, and this also covers the sign-in form.
		if !sameOrigin(r) {
			h.fail(rec, r, grader.Errorf(grader.EFORBIDDEN, "cross-site form submissions are refused"))
			return
		}
	}
	if !isStream(r) && !strings.HasSuffix(r.URL.Path, "/submit") {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	h.mux.ServeHTTP(rec, r)
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

// setPageHeaders sets the security headers of every page; they replace the
// API's, whose CSP forbids everything a page needs.
func setPageHeaders(hd http.Header) {
	hd.Set("Content-Security-Policy", pageCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	hd.Set("Cache-Control", "no-store")
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

// Mount serves the pages from e, ahead of e's routing and middleware (whose
// CSP, body cap and timeouts are the API's): requests under Prefix come
// here, and "/" redirects to the dashboard. Everything else goes on to e.
func (h *Handler) Mount(e *echo.Echo) {
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := c.Request().URL.Path
			switch {
			case p == "/" && (c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead):
				return c.Redirect(http.StatusSeeOther, Prefix+"/")
			case p == Prefix || strings.HasPrefix(p, Prefix+"/"):
				h.ServeHTTP(c.Response(), c.Request())
				return nil
			}
			return next(c)
		}
	})
}

// statusRecorder remembers the status written, for the log and the panic
// guard, and passes Flush through for event streams.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (Flush, write
// deadlines).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
