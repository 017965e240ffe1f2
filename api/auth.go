package api

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

const ctxToken = "djgrade.token"

// Defaults of the per-token rate limit.
const (
	DefaultRatePerSecond = 20
	DefaultRateBurst     = 40
)

// authenticate requires "Authorization: Bearer <token>" naming an unrevoked
// token, and keeps the token in the context. Every failure is the same 401:
// which of missing, unknown or revoked it was helps only an attacker.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="djgrade"`)
			return grader.Errorf(grader.EUNAUTHORIZED, "an API token is required: Authorization: Bearer <token>")
		}
		if s.cfg.Auth == nil {
			// A server built without a token store serves no /api/v1 route.
			return grader.Errorf(grader.EUNAUTHORIZED, "this server has no API tokens configured")
		}
		tok, err := s.cfg.Auth.TokenBySecret(c.Request().Context(), strings.TrimSpace(secret))
		if err != nil {
			if grader.ErrorCode(err) == grader.EUNAUTHORIZED {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="djgrade", error="invalid_token"`)
			}
			return err
		}
		c.Set(ctxToken, tok)
		if err := s.limits.Allow(tok.ID); err != nil {
			return err
		}
		return next(c)
	}
}

// require lets only the given roles through; others get 403. It runs after
// authenticate.
func require(roles ...grader.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok := caller(c)
			for _, r := range roles {
				if tok != nil && tok.Role == r {
					return next(c)
				}
			}
			return grader.Errorf(grader.EFORBIDDEN, "this token's role may not do that")
		}
	}
}

// staff lets admins and interviewers through.
var staff = require(grader.RoleAdmin, grader.RoleInterviewer)

// caller returns the authenticated token of the request, or nil.
func caller(c echo.Context) *grader.Token {
	t, _ := c.Get(ctxToken).(*grader.Token)
	return t
}

// retryError is an error whose response carries Retry-After.
type retryError struct {
	err   error
	after time.Duration
}

func (r *retryError) Error() string { return r.err.Error() }
func (r *retryError) Unwrap() error { return r.err }

// retryAfterSeconds renders a wait as Retry-After's whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}
