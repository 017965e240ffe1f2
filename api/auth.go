package api

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// Defaults of the per-token rate limit.
const (
	DefaultRatePerSecond = 20
	DefaultRateBurst     = 40
)

// authenticate is the API's use of the one authentication step: a bearer
// token (Authorization: Bearer <token>) naming an unrevoked token, within
// its rate; see Authenticator.Resolve for the answers when it is not.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.auth.Resolve(c, BearerToken); err != nil {
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
			return forbiddenRole(tok, roles)
		}
	}
}

// forbiddenRole says which roles the route is for and what the caller's
// token is, so that the caller knows which token to use instead.
func forbiddenRole(tok *grader.Token, roles []grader.Role) error {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	have := "no"
	if tok != nil {
		r := string(tok.Role)
		have = "a " + r
		if r != "" && strings.ContainsAny(r[:1], "aeiou") {
			have = "an " + r
		}
	}
	return grader.Errorf(grader.EFORBIDDEN, "this route is for %s tokens; this request has %s token", strings.Join(names, " or "), have)
}

// staff lets admins and interviewers through.
var staff = require(grader.RoleAdmin, grader.RoleInterviewer)

// caller returns the token of the request's principal, or nil.
func caller(c echo.Context) *grader.Token {
	if p := PrincipalOf(c); p != nil {
		return p.Token
	}
	return nil
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
