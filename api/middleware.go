package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
)

const ctxRequestID = "djgrade.request_id"

// requestID gives every request an id, kept in the context for logs and
// error bodies and sent back in X-Request-ID. A caller's id (from a proxy)
// is kept only if it is short and plain, because it ends up in logs.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		rid := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(rid) {
			rid = newRequestID()
		}
		c.Set(ctxRequestID, rid)
		c.Response().Header().Set(echo.HeaderXRequestID, rid)
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

// recoverPanics turns a handler's panic into an internal error, logged with
// its stack and the request id; the caller sees only the generic message.
// http.ErrAbortHandler is re-panicked: it is net/http's way to abort.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			perr, ok := r.(error)
			if !ok {
				perr = fmt.Errorf("%v", r)
			}
			s.log.Error("panic", "request_id", getRequestID(c), "err", perr, "stack", string(debug.Stack()))
			err = &panicError{err: perr}
		}()
		return next(c)
	}
}

// contentSecurityPolicy forbids everything: the API serves JSON only, so a
// response rendered by a browser by mistake can run or load nothing.
const contentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// secureHeaders sets the headers that stop browsers from sniffing, framing
// or leaking the referrer, on every response including errors.
func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// timeout bounds the context of every request but the upload (see
// Config.RequestTimeout).
func (s *Server) timeout(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isUpload(c) || isLongPoll(c) {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.cfg.RequestTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}
