package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

const ctxRequestID = "djgrade.request_id"

// requestID gives every request an id (echo's RequestID middleware), kept in
// the context for logs and error bodies and sent back in X-Request-ID. A
// caller's id (from a proxy) is kept only if it is short and plain, because
// it ends up in logs: dropBadRequestID removes any other first.
var requestID = middleware.RequestIDWithConfig(middleware.RequestIDConfig{
	Generator: newRequestID,
	RequestIDHandler: func(c echo.Context, rid string) {
		c.Set(ctxRequestID, rid)
	},
})

// dropBadRequestID removes a caller's X-Request-ID that validRequestID
// refuses, so that requestID generates one instead.
func dropBadRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if rid := h.Get(echo.HeaderXRequestID); rid != "" && !validRequestID(rid) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func validRequestID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func getRequestID(c echo.Context) string {
	rid, _ := c.Get(ctxRequestID).(string)
	return rid
}

// logRequests renders a handler's error through the error handler (so the
// logged status is the one sent) and logs one line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		level := slog.LevelInfo
		if res.Status >= 500 {
			level = slog.LevelError
		} else if res.Status >= 400 {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(req.Context(), level, "request",
			slog.String("request_id", getRequestID(c)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.String("route", c.Path()),
			slog.Int("status", res.Status),
			slog.Int64("bytes_in", req.ContentLength),
			slog.Int64("bytes_out", res.Size),
			slog.Duration("latency", time.Since(start)),
			slog.String("remote", c.RealIP()),
		)
		// The error is handled; returning it would render it twice.
		return nil
	}
}

// recoverPanics turns a handler's panic into an internal error (echo's
// Recover middleware), logged with its stack and the request id; the caller
// sees only the generic message. http.ErrAbortHandler is re-panicked: it is
// net/http's way to abort. The error goes back up the chain (to
// logRequests) rather than to the error handler directly.
func (s *Server) recoverPanics() echo.MiddlewareFunc {
	return middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableErrorHandler: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "request_id", getRequestID(c), "err", err, "stack", string(stack))
			return &panicError{err: err}
		},
	})
}

// contentSecurityPolicy forbids everything: the API serves JSON only, so a
// response rendered by a browser by mistake can run or load nothing.
const contentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// secureHeaders sets the headers that stop browsers from sniffing, framing
// or leaking the referrer, on every response including errors (echo's
// Secure middleware; no X-XSS-Protection, which modern browsers ignore and
// the API never sent), and forbids caching.
var secureHeaders = middleware.SecureWithConfig(middleware.SecureConfig{
	ContentTypeNosniff:    "nosniff",
	XFrameOptions:         "DENY",
	ReferrerPolicy:        "no-referrer",
	ContentSecurityPolicy: contentSecurityPolicy,
})

// JSONHeaders sets the API's security headers and forbids caching, for a
// group of JSON routes with an edge of its own (the webhooks).
func JSONHeaders(next echo.HandlerFunc) echo.HandlerFunc { return secureHeaders(noStore(next)) }

// noStore forbids caching of every response: tokens, results and logs are
// not for shared caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return next(c)
	}
}

// timeout bounds the context of every request but the upload, a live
// session's run and submit, and the long polls (see Config.RequestTimeout),
// with echo's ContextTimeout. A deadline is left as
// context.DeadlineExceeded for classify to word.
func (s *Server) timeout() echo.MiddlewareFunc {
	return middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{
		Skipper: func(c echo.Context) bool { return isUpload(c) || isLiveWork(c) || isLongPoll(c) || inGroup(c) },
		ErrorHandler: func(err error, _ echo.Context) error {
			return err
		},
		Timeout: s.cfg.RequestTimeout,
	})
}
