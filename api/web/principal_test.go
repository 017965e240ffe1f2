package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
)

// TestOneAuthenticationStep checks that the one authentication step
// (api.Authenticator.Resolve, as the pages build it) turns a bearer token
// and a page session of the same token into the same principal, on the
// echo context and the request's context alike; that each credential
// counts only where it is accepted (a session cookie is no bearer token);
// and that revoking the token ends the session.
func TestOneAuthenticationStep(t *testing.T) {
	e := newEnv(t)
	secret, id := e.token(grader.RoleInterviewer, "Ivan Interviewer")
	b := e.browser()
	b.login(secret)
	u, _ := url.Parse(e.srv.URL + Prefix + "/")
	var cookie *http.Cookie
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == cookieSession {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie after sign-in")
	}
	ec := echo.New()
	resolve := func(kind api.Credential, bearer string, withCookie bool) (*api.Principal, echo.Context, error) {
		req := httptest.NewRequest(http.MethodGet, Prefix+"/submissions", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if withCookie {
			req.AddCookie(cookie)
		}
		c := ec.NewContext(req, httptest.NewRecorder())
		p, err := e.h.auth.Resolve(c, kind)
		return p, c, err
	}

	fromToken, c, err := resolve(api.BearerToken, secret, false)
	if err != nil || fromToken == nil {
		t.Fatalf("bearer: %v %v", fromToken, err)
	}
	if api.PrincipalOf(c) != fromToken || api.PrincipalFrom(c.Request().Context()) != fromToken {
		t.Error("bearer: the principal is not on the echo context and the request's context")
	}
	fromSession, c, err := resolve(api.SessionCookie, "", true)
	if err != nil || fromSession == nil {
		t.Fatalf("session: %v %v", fromSession, err)
	}
	if api.PrincipalOf(c) != fromSession || api.PrincipalFrom(c.Request().Context()) != fromSession {
		t.Error("session: the principal is not on the echo context and the request's context")
	}
	if fromToken.Token.ID != id || fromSession.Token.ID != id || fromToken.Role() != fromSession.Role() ||
		fromToken.Name() != fromSession.Name() || !fromToken.Staff() || !fromSession.Staff() {
		t.Errorf("token %+v and session %+v are not the same principal", fromToken.Token, fromSession.Token)
	}
	if fromToken.SessionID != "" || fromToken.CSRF != "" || fromSession.SessionID != cookie.Value || fromSession.CSRF == "" {
		t.Errorf("session fields: token %q %q, session %q %q", fromToken.SessionID, fromToken.CSRF, fromSession.SessionID, fromSession.CSRF)
	}

	// A session cookie is not a bearer token, nor a bearer token a session.
	if p, c, err := resolve(api.BearerToken, "", true); grader.ErrorCode(err) != grader.EUNAUTHORIZED || p != nil || api.PrincipalOf(c) != nil {
		t.Errorf("cookie as a bearer token: %v %v", p, err)
	}
	if p, _, err := resolve(api.SessionCookie, secret, false); p != nil || err != nil {
		t.Errorf("bearer token as a session: %v %v", p, err)
	}

	if _, err := e.store.RevokeToken(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if p, _, err := resolve(api.SessionCookie, "", true); p != nil || err != nil {
		t.Errorf("session of a revoked token: %v %v", p, err)
	}
	if e.h.sessions.count() != 0 {
		t.Errorf("the revoked token's session is kept")
	}
	if p, _, err := resolve(api.BearerToken, secret, false); p != nil || grader.ErrorCode(err) != grader.EUNAUTHORIZED {
		t.Errorf("revoked bearer token: %v %v", p, err)
	}
}
