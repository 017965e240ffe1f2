// Package api is djgrade's HTTP API: an Echo server that accepts candidate
// submissions as archives, reports their grading, lists the exercise
// catalog, and answers liveness and readiness probes.
//
// The edge: one Echo server carries every route, in groups by prefix, each
// with its own middleware from echo/v4/middleware. Every group gets a
// request id (RequestID), one log line and a panic guard (Recover). The
// API's own routes (/api/v1, the admin routes under PathAdmin that other
// packages add with AdminGET, /healthz, /readyz, /metrics) get the Secure
// headers below, a body cap and a ContextTimeout that the upload and the long
// polls skip. The pages (PathUI, package api/web) and the webhooks
// (PathWebhooks, package api/githubhook) are groups with edges of their own,
// which the API's skips; paths kept as they were, grouped by prefix, so no
// client breaks. One error handler renders errors: HTML pages under PathUI
// (api/web installs that part), JSON everywhere else. One per-token rate
// limit (golang.org/x/time/rate, Limits) and one event-stream writer
// (ServeEvents) serve the API and the pages, and so do one authentication
// step (Authenticator.Resolve in principal.go: a bearer token for /api/v1, the
// session cookie for /ui, either into one Principal on the echo context) and
// one upload reader (api/upload, whose coded error each caller words).
//
// Routes: api/openapi.yaml describes every route (served at
// /api/v1/openapi.yaml; a test checks it against the router both ways), and
// Server.routes registers them. Every /api/v1 route authenticates a bearer
// token (auth.go; a page's session cookie does not count there): admin manages tokens; interviewer sees every submission
// and result and creates assignments; candidate submits to
// assigned exercises and sees only its own submissions, rendered by the
// assignment's mode (view in submissions.go). /healthz and /readyz are open.
//
// A submission's JSON holds id, exercise, candidate, status (queued, running,
// done, error, cancelled), score, max_score and verdict (null until done),
// reason, error (a fixed text when status is error), created_at, started_at
// and finished_at (null until set), categories [{name, score, max_score}],
// tests [{name, category, outcome, points, max_points, message, queries,
// hidden, duration}] and refused [{path, reason}]. Messages of hidden tests
// are shown to staff only; node ids, attempts and timings are never shown,
// and logs only on the staff-only logs route.
//
// An exercise summary holds id, title, summary, max_score, topics,
// difficulty, time_budget (a Go duration such as "45m", "" if none),
// database and categories [{name, points}].
//
// Uploads: the whole body is capped at Config.MaxUploadBytes (default
// 10 MiB) before anything is parsed; over it is 413 too_large. The form is
// streamed part by part and nothing is spooled to disk. A missing or
// repeated field, an unknown field, an empty, garbage or unsafe archive, a
// bad candidate name and an unknown exercise are 400 invalid (an unknown
// exercise is not a 404: the resource addressed exists, a field is wrong).
// A body that is not multipart/form-data is 415. At most
// Config.MaxConcurrentUploads uploads are held at once; more get 503.
//
// Errors: every error, including Echo's own 404 and 405, is rendered by one
// handler as
//
//	{"error": {"code": "not_found", "message": "...", "request_id": "..."}}
//
// with the status from one table of grader error codes (statusOf in
// errors.go); 405 has code method_not_allowed and 415 unsupported_media_type.
// Internal errors and panics are logged with the request id and shown as a
// generic message. Every response carries X-Request-ID and headers that
// stop sniffing, framing, referrers and caching, and a CSP that allows
// nothing.
//
// The API's JSON is a contract with clients. Handlers never serialise domain
// types directly: they flatten them into response structs of this package,
// so that a field added to a domain type is not published by accident.
package api
