package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
	"github.com/djgrade/djgrade/grader/export"
)

// Grader is what the API needs from the grading service (implemented by
// *grader.Service).
type Grader interface {
	// Create validates and stores a submission (status queued) and returns
	// it; errors are *grader.Error (EINVALID unknown exercise or bad files,
	// ETOOLARGE, EUNAVAILABLE queue full). A repeated idempotency key
	// returns the first submission, or EKEYREUSED (422) when the request
	// differs from the first (see grader.RequestFingerprint).
	Create(ctx context.Context, req grader.SubmitRequest) (*grader.Submission, error)
	// Submission returns the submission with the id, or an ENOTFOUND error.
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

// Defaults for Config's zero fields.
const (
	DefaultMaxUploadBytes       = 10 << 20
	DefaultRequestTimeout       = 15 * time.Second
	DefaultSubmitTimeout        = 30 * time.Second
	DefaultMaxConcurrentUploads = 8
)

// Config is what New needs. Grader, Catalog and Auth are required.
type Config struct {
	Grader  Grader
	Catalog grader.Catalog
	// Auth holds the API tokens and assignments; every /api/v1 route
	// requires a token.
	Auth grader.AuthStore
	// Live runs the live-coding sessions of /api/v1/live (implemented by
	// *grader.Service); nil answers those routes with 503.
	Live grader.LiveService
	// Reviews keeps reviewers' notes and score overrides and answers the
	// candidate view (implemented by *grader.Service); nil answers those
	// routes (api/review.go) with 503.
	Reviews grader.ReviewService
	// Webhooks manages the outbound webhooks of /api/v1/webhooks (admins
	// only; implemented by *webhook.Outbox); nil answers them with 503.
	Webhooks Webhooks
	// TakeHomes prepares GitHub take-homes for POST /api/v1/takehomes
	// (implemented by *githubhook.TakeHomes); nil answers that route 503.
	TakeHomes TakeHomes
	// RatePerSecond and RateBurst size each token's request bucket
	// (defaults DefaultRatePerSecond and DefaultRateBurst); a negative
	// RatePerSecond turns the limit off.
	RatePerSecond float64
	RateBurst     int
	// Logger receives request logs and internal errors; nil discards them.
	Logger *slog.Logger
	// MaxUploadBytes caps the whole request body of an upload (multipart
	// framing included); bigger requests get 413 before anything is parsed.
	MaxUploadBytes int64
	// ArchiveLimits bound the archive's unpacked content (files, sizes); a
	// zero value means archive.DefaultLimits. Its MaxArchiveBytes is
	// lowered to MaxUploadBytes when larger: the body cap bounds it anyway.
	ArchiveLimits archive.Limits
	// ReadyCheck reports whether the service can take work (the store is
	// open, Docker answers); nil means always ready.
	ReadyCheck func(ctx context.Context) error
	// Engines, when set, reports the Docker engines (see EngineState):
	// /readyz lists them and, with Metrics.Engines, /metrics has a gauge
	// set for each.
	Engines func() []EngineState
	// RequestTimeout bounds the context of every route except the upload,
	// whose time is dominated by the client's upload speed and is bounded
	// by the server's read timeout and SubmitTimeout instead, the runs of
	// public tests (a public run, a live session's run), which answer when
	// the sandbox is done, and the event streams.
	RequestTimeout time.Duration
	// SubmitTimeout bounds the call to Grader.Submit (and a live session's
	// SubmitLive) once the body is read.
	SubmitTimeout time.Duration
	// MaxConcurrentUploads bounds uploads held in memory at once; more get
	// 503 with Retry-After rather than exhausting memory.
	MaxConcurrentUploads int
	// MaxUploadsPerToken bounds one token's uploads in progress (default
	// DefaultMaxUploadsPerToken), so that a few slow connections from one
	// token cannot hold every slot.
	MaxUploadsPerToken int
	// ExportColumns, if set, adds columns to the result exports (see
	// Exports.Columns): the hook for data beside a result, such as a
	// reviewer's override of the score.
	ExportColumns func(ctx context.Context, t *export.Table) []export.Column
	// Now is the clock of assignments' time limits (the same as the
	// grader's Config.Now); nil means time.Now.
	Now func() time.Time
}

// Server is the HTTP API. Create it with New.
type Server struct {
	cfg    Config
	echo   *echo.Echo
	http   *http.Server
	log    *slog.Logger
	limits *Limits
	auth   *Authenticator
}

// Paths of the routes, shared with tests and Location headers.
const (
	pathSubmissions = "/api/v1/submissions"
	pathExercises   = "/api/v1/exercises"
	pathAssignments = "/api/v1/assignments"
	pathTokens      = "/api/v1/tokens"
	pathOpenAPI     = "/api/v1/openapi.yaml"
	pathEvents      = pathSubmissions + "/:id/events"
	pathPublicRun   = pathExercises + "/:id/public-run"
)

// New returns a Server for cfg, with every zero field of cfg defaulted.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.ArchiveLimits == (archive.Limits{}) {
		cfg.ArchiveLimits = archive.DefaultLimits
	}
	if cfg.ArchiveLimits.MaxArchiveBytes <= 0 || cfg.ArchiveLimits.MaxArchiveBytes > cfg.MaxUploadBytes {
		cfg.ArchiveLimits.MaxArchiveBytes = cfg.MaxUploadBytes
	}
	if cfg.ReadyCheck == nil {
		cfg.ReadyCheck = func(context.Context) error { return nil }
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.SubmitTimeout <= 0 {
		cfg.SubmitTimeout = DefaultSubmitTimeout
	}
	if cfg.MaxConcurrentUploads <= 0 {
		cfg.MaxConcurrentUploads = DefaultMaxConcurrentUploads
	}
	if cfg.MaxUploadsPerToken <= 0 {
		cfg.MaxUploadsPerToken = DefaultMaxUploadsPerToken
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = DefaultRatePerSecond
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = DefaultRateBurst
	}
	s := &Server{
		cfg:    cfg,
		echo:   echo.New(),
		log:    cfg.Logger,
		limits: NewLimits(cfg.RatePerSecond, cfg.RateBurst, cfg.MaxConcurrentUploads, cfg.MaxUploadsPerToken),
	}
	s.auth = &Authenticator{Tokens: cfg.Auth, Limits: s.limits}
	e := s.echo
	e.HideBanner = true
	e.HidePort = true
	// Behind no proxy by default: never trust X-Forwarded-For for the
	// client address that goes into logs.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.handleError

	// Every group: a request id, one log line, a panic guard.
	e.Use(dropBadRequestID, requestID)
	e.Use(s.logRequests)
	e.Use(s.recoverPanics())
	// The API's own edge (/api/v1, the admin routes, the probes and
	// metrics); the groups of Groups set theirs.
	e.Use(skipGroups(secureHeaders), skipGroups(noStore))
	e.Use(skipGroups(s.limitBody))
	e.Use(s.timeout())

	// Load balancers often probe with HEAD; GET answers it everywhere.
	GET(e, "/healthz", s.healthz)
	GET(e, "/readyz", s.readyz)
	s.routes()

	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		// Long enough for a 10 MiB upload over a slow link, short enough
		// that a client trickling bytes cannot hold a slot for long.
		ReadTimeout:    2 * time.Minute,
		WriteTimeout:   2*time.Minute + cfg.SubmitTimeout,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Limits returns the server's rate limit and upload slots, for the other
// front doors that take uploads (the candidates' pages) to share.
func (s *Server) Limits() *Limits { return s.limits }

// Handler returns the API as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo returns the underlying Echo instance, for callers that mount more
// routes: the groups of Groups (the pages, the webhooks), with their own
// edge, and routes that share the API's (metrics).
func (s *Server) Echo() *echo.Echo { return s.echo }

// Serve serves the API on ln until Shutdown; it returns nil after a
// Shutdown and the listener's error otherwise.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.http.Shutdown(ctx)
}

// The prefixes of the server's groups besides the API's own (/api/v1 with
// PathAdmin under it, and the probes and metrics at the root). Each of these
// groups sets its own security headers, body limit and timeout, with its
// handlers (api/web, api/githubhook); the API's edge middleware skips them.
// Errors under PathUI are rendered as HTML pages by api/web, everything else
// as JSON by the server's error handler.
const (
	PathUI       = "/ui"
	PathWebhooks = "/webhooks"
)

// Groups are the prefixes of PathUI and PathWebhooks, in that order.
var Groups = []string{PathUI, PathWebhooks}

// inGroup reports whether c's route belongs to one of Groups: its route
// path (or, for a request no route matched, its URL path) is the prefix or
// under it.
func inGroup(c echo.Context) bool {
	p := c.Path()
	if p == "" {
		p = c.Request().URL.Path
	}
	for _, g := range Groups {
		if p == g || strings.HasPrefix(p, g+"/") {
			return true
		}
	}
	return false
}

// skipGroups runs m for the API's own routes only.
func skipGroups(m echo.MiddlewareFunc) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withM := m(next)
		return func(c echo.Context) error {
			if inGroup(c) {
				return next(c)
			}
			return withM(c)
		}
	}
}

// PathAdmin is the prefix of the admin-only routes that other packages add
// (the store's backup, in cmd/djgrade).
const PathAdmin = "/api/v1/admin"

// AdminGET adds the GET route PathAdmin+path for admins only, behind the same
// authentication (bearer token, per-token rate limit) and role check as the
// API's own admin routes, so that no route has an admin check of its own.
func (s *Server) AdminGET(path string, h echo.HandlerFunc) *echo.Route {
	return GET(s.echo, PathAdmin+path, h, s.authenticate, require(grader.RoleAdmin))
}

// GET adds the route for GET and HEAD: Echo does not answer HEAD for a GET
// route by itself (it answers 405). The handler runs for both; for HEAD,
// net/http sends the status and headers it sets (Content-Length included,
// for a body that fits its buffer) and discards the body. It returns the
// GET route. Every GET route of the API is added through it, and a test
// checks that every GET route has its HEAD.
func GET(e *echo.Echo, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	e.HEAD(path, h, m...)
	return e.GET(path, h, m...)
}

// routes registers the /api/v1 routes. Every one authenticates a token
// first; staff marks the routes that admins and interviewers only may use,
// admin those for admins only. Candidates' narrower rights on the routes
// they share (their own submissions, their assignments) are checked in the
// handlers. api/openapi.yaml describes exactly these routes (a test checks).
func (s *Server) routes() {
	e, authn := s.echo, s.authenticate
	admin := require(grader.RoleAdmin)
	GET(e, pathOpenAPI, s.openAPI, authn)

	e.POST(pathSubmissions, s.createSubmission, authn)
	GET(e, pathSubmissions, s.listSubmissions, authn)
	GET(e, pathSubmissions+"/:id", s.getSubmission, authn)
	GET(e, pathEvents, s.submissionEvents, authn)
	GET(e, pathSubmissions+"/:id/logs", s.submissionLogs, authn, staff)
	GET(e, pathSubmissions+"/:id/files", s.submissionFiles, authn)
	GET(e, pathSubmissions+"/:id/similar", s.submissionSimilar, authn, staff)
	e.POST(pathSubmissions+"/:id/cancel", s.cancelSubmission, authn)
	e.POST(pathSubmissions+"/:id/regrade", s.regradeSubmission, authn, staff)

	GET(e, pathExercises, s.listExercises, authn)
	GET(e, pathExercises+"/:id", s.getExercise, authn)
	GET(e, pathExercises+"/:id/similar", s.exerciseSimilar, authn, staff)
	GET(e, pathExercises+"/:id/starter.zip", s.starterZip, authn)
	GET(e, pathExercises+"/:id/starter.tar.gz", s.starterTarGz, authn)
	e.POST(pathPublicRun, s.runPublicTests, authn)

	e.POST(pathAssignments, s.createAssignment, authn, staff)
	GET(e, pathAssignments, s.listAssignments, authn)
	GET(e, pathAssignments+"/:id", s.getAssignment, authn)
	e.POST(pathAssignments+"/:id/revoke", s.revokeAssignment, authn, staff)
	e.POST(pathAssignments+"/:id/extend", s.extendAssignment, authn, staff)

	e.POST(pathTokens, s.createToken, authn, admin)
	GET(e, pathTokens, s.listTokens, authn, admin)
	e.DELETE(pathTokens+"/:id", s.revokeToken, authn, admin)

	s.liveRoutes(authn)
	s.exportRoutes(authn)
	s.reviewRoutes(authn)
	s.webhookRoutes(authn)
	s.takeHomeRoutes(authn)
}

// isLongPoll reports whether c may legitimately outlive RequestTimeout: an
// event stream (a submission's, a live session's), or a GET of a
// submission with ?wait (bounded by maxWait).
func isLongPoll(c echo.Context) bool {
	return c.Path() == pathEvents || c.Path() == pathLiveEvents ||
		isRead(c) && c.Path() == pathSubmissions+"/:id" && c.QueryParam("wait") != ""
}

// isRead reports whether c is a GET or a HEAD, which GET answers.
func isRead(c echo.Context) bool {
	m := c.Request().Method
	return m == http.MethodGet || m == http.MethodHead
}

// isUpload reports whether c is an upload route (a submission, a run of
// the public tests), which has its own body limit and no per-request
// context timeout: a public run answers when its tests are done.
func isUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && (c.Path() == pathSubmissions || c.Path() == pathPublicRun)
}

// maxSmallBody caps the body of every route but the upload and the live
// routes that carry files (maxLiveBody).
const maxSmallBody = 64 << 10

// limitBody caps request bodies before any handler reads them. It is
// http.MaxBytesReader rather than echo's middleware.BodyLimit, whose 413
// carries no limit: the upload reader (api/upload) and the JSON decoder see
// the *http.MaxBytesError and quote "over the limit of N bytes".
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := int64(maxSmallBody)
		switch {
		case isUpload(c):
			limit = s.cfg.MaxUploadBytes
		case isLiveFiles(c):
			limit = maxLiveBody
		}
		req := c.Request()
		if req.ContentLength > limit {
			return tooLarge(limit)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		return next(c)
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	if err := s.cfg.ReadyCheck(c.Request().Context()); err != nil {
		// The cause goes to the log; probes and users get only the code
		// and, from ReadyChecks, the names of the checks that failed.
		s.log.Warn("not ready", "request_id", getRequestID(c), "err", err)
		return notReady(err)
	}
	return c.JSON(http.StatusOK, s.readyBody())
}
