package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// Principal is the caller of a request, whichever credential it showed: the
// token as stored now and, when it came through a page session, that
// session's id and form (CSRF) token. The one authentication step,
// Authenticator.Resolve, sets it; the API's handlers and the pages read it
// with PrincipalOf (echo) or PrincipalFrom (the request's context, for the
// pages' net/http handlers).
type Principal struct {
	Token     *grader.Token
	SessionID string // "" for a bearer token
	CSRF      string // the session's form token; "" for a bearer token
}

// Staff reports whether the principal is an admin or an interviewer.
func (p *Principal) Staff() bool { return p != nil && p.Token != nil && p.Token.Role.Staff() }

// Name is the token's name (the pages' header shows it).
func (p *Principal) Name() string { return p.Token.Name }

// Role is the token's role.
func (p *Principal) Role() grader.Role { return p.Token.Role }

// Credential is a kind of credential; each group accepts one.
type Credential int

// The credentials: /api/v1 takes only bearer tokens (a page's session
// cookie does not authenticate it, so that a cross-site request riding on
// the cookie cannot reach the API), /ui only the session cookie.
const (
	BearerToken Credential = iota + 1
	SessionCookie
)

// Sessions is the pages' session table as the authentication step sees it:
// Lookup returns the live session's token id and form token and marks it
// seen; Drop ends it.
type Sessions interface {
	Lookup(id string) (tokenID, csrf string, ok bool)
	Drop(id string)
}

// Authenticator is the one authentication step of every group.
type Authenticator struct {
	Tokens grader.AuthStore // nil: no credential is valid
	// Sessions is the pages' session table, for SessionCookie.
	Sessions Sessions
	// Cookie is the session cookie's name.
	Cookie string
	// Limits, if set, is the per-token rate a bearer token's request takes.
	// The pages take it where they act (an upload), not on every page view.
	Limits *Limits
}

const ctxPrincipal = "djgrade.principal"

type principalKey struct{}

// PrincipalOf returns the principal Resolve set on c, or nil.
func PrincipalOf(c echo.Context) *Principal {
	p, _ := c.Get(ctxPrincipal).(*Principal)
	return p
}

// PrincipalFrom returns the principal Resolve put in the request's
// context, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Resolve finds c's caller from the credential of the kind, sets it on c
// (and on the request's context) and returns it.
//
// A bearer token that is missing, unknown or revoked is the same 401 (which
// of them it was helps only an attacker), with WWW-Authenticate; a token
// over its rate is 429. A missing or ended session is a nil principal and
// no error: a page decides whether to send the browser to sign in. A
// session whose token was revoked is ended here, since the token is looked
// up on every request.
func (a *Authenticator) Resolve(c echo.Context, kind Credential) (*Principal, error) {
	var (
		p   *Principal
		err error
	)
	switch kind {
	case BearerToken:
		p, err = a.bearer(c)
	case SessionCookie:
		p, err = a.session(c.Request())
	}
	if err != nil || p == nil {
		return nil, err
	}
	c.Set(ctxPrincipal, p)
	r := c.Request()
	c.SetRequest(r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	if kind == BearerToken && a.Limits != nil {
		if err := a.Limits.Allow(p.Token.ID); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (a *Authenticator) bearer(c echo.Context) (*Principal, error) {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="djgrade"`)
		return nil, grader.Errorf(grader.EUNAUTHORIZED, "an API token is required: Authorization: Bearer <token>")
	}
	if a.Tokens == nil {
		// A server built without a token store serves no /api/v1 route.
		return nil, grader.Errorf(grader.EUNAUTHORIZED, "this server has no API tokens configured")
	}
	tok, err := a.Tokens.TokenBySecret(c.Request().Context(), strings.TrimSpace(secret))
	if err != nil {
		if grader.ErrorCode(err) == grader.EUNAUTHORIZED {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="djgrade", error="invalid_token"`)
		}
		return nil, err
	}
	return &Principal{Token: tok}, nil
}

func (a *Authenticator) session(r *http.Request) (*Principal, error) {
	if a.Sessions == nil || a.Tokens == nil {
		return nil, nil
	}
	ck, err := r.Cookie(a.Cookie)
	if err != nil || ck.Value == "" || len(ck.Value) > 100 {
		return nil, nil
	}
	tokenID, csrf, ok := a.Sessions.Lookup(ck.Value)
	if !ok {
		return nil, nil
	}
	tok, err := a.Tokens.Token(r.Context(), tokenID)
	if err != nil || tok.Revoked() {
		a.Sessions.Drop(ck.Value)
		return nil, nil
	}
	return &Principal{Token: tok, SessionID: ck.Value, CSRF: csrf}, nil
}
