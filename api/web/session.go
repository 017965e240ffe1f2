package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/grader"
	"github.com/labstack/echo/v4"
)

// Cookie names. The "__Host-" prefix would pin the cookie to the host but
// requires Secure, which plain-HTTP deployments cannot set.
const (
	cookieSession = "djgrade_session"
	cookieLogin   = "djgrade_login" // the sign-in form's CSRF value, before any session
	fieldCSRF     = "csrf"
)

// session is a signed-in browser. It holds the token's id, never its
// secret: the secret is used once, at sign-in, and forgotten.
type session struct {
	id      string
	csrf    string
	tokenID string
	created time.Time
	seen    time.Time
}

// sessions is the in-memory session table: a restart signs everyone out,
// which costs a candidate one more paste of their token. It is bounded:
// a token keeps at most maxSessionsPerToken sessions (a new sign-in evicts
// its oldest), and expired sessions are swept at most once per pruneEvery,
// so that a sign-in does not scan the table under the lock each time.
type sessions struct {
	mu        sync.Mutex
	byID      map[string]*session
	byToken   map[string][]*session // oldest first
	idle, max time.Duration
	now       func() time.Time
	lastPrune time.Time
}

// maxSessionsPerToken is how many browsers one token may be signed in on.
const maxSessionsPerToken = 5

// pruneEvery is how often expired sessions are swept (a session that
// expires between sweeps is refused by get all the same).
const pruneEvery = time.Minute

func newSessions(idle, max time.Duration, now func() time.Time) *sessions {
	return &sessions{byID: map[string]*session{}, byToken: map[string][]*session{}, idle: idle, max: max, now: now}
}

// randomID returns 32 random bytes as unpadded URL-safe base64.
func randomID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (ss *sessions) create(tok *grader.Token) *session {
	now := ss.now()
	s := &session{id: randomID(), csrf: randomID(), tokenID: tok.ID, created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if now.Sub(ss.lastPrune) >= pruneEvery {
		ss.prune(now)
	}
	list := ss.byToken[tok.ID]
	for len(list) >= maxSessionsPerToken {
		delete(ss.byID, list[0].id)
		list = list[1:]
	}
	ss.byID[s.id] = s
	ss.byToken[tok.ID] = append(list, s)
	return s
}

// prune drops every expired session. Callers hold mu; it runs at most once
// per pruneEvery, so its cost is spread over the sign-ins of that time.
func (ss *sessions) prune(now time.Time) {
	ss.lastPrune = now
	for id, old := range ss.byID {
		if ss.expired(old, now) {
			ss.remove(id)
		}
	}
}

// remove drops the session with the id from both indexes. Callers hold mu.
func (ss *sessions) remove(id string) {
	s, ok := ss.byID[id]
	if !ok {
		return
	}
	delete(ss.byID, id)
	list := ss.byToken[s.tokenID]
	for i, o := range list {
		if o.id == id {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(ss.byToken, s.tokenID)
	} else {
		ss.byToken[s.tokenID] = list
	}
}

// count returns the number of sessions held, expired ones included.
func (ss *sessions) count() int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.byID)
}

func (ss *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) > ss.idle || now.Sub(s.created) > ss.max
}

// get returns the live session with the id and marks it seen.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return nil
	}
	now := ss.now()
	if ss.expired(s, now) {
		ss.remove(id)
		return nil
	}
	s.seen = now
	cp := *s
	return &cp
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.remove(id)
}

// Lookup returns the live session's token id and form token and marks it
// seen (api.Sessions, for the one authentication step).
func (ss *sessions) Lookup(id string) (tokenID, csrf string, ok bool) {
	s := ss.get(id)
	if s == nil {
		return "", "", false
	}
	return s.tokenID, s.csrf, true
}

// Drop ends the session with the id (api.Sessions).
func (ss *sessions) Drop(id string) { ss.delete(id) }

// authenticate is the pages' use of the one authentication step
// (api.Authenticator): the session cookie, resolved into the request's
// principal, or none. The token behind a session is looked up on every
// request, so that revoking a token ends its sessions. Static files skip
// it. Which page wants a principal is signedIn's and staff's to say.
func (h *Handler) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !strings.HasPrefix(c.Request().URL.Path, Prefix+"/static/") {
			if _, err := h.auth.Resolve(c, api.SessionCookie); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// current returns the request's principal, or nil.
func (h *Handler) current(r *http.Request) *api.Principal { return api.PrincipalFrom(r.Context()) }

// sessionOf returns the principal of a request that signedIn let through.
func sessionOf(r *http.Request) *api.Principal { return api.PrincipalFrom(r.Context()) }

// signedIn requires the principal of a session (set by authenticate): a GET
// without one goes to the sign-in page and comes back after; a POST must
// carry the session's CSRF token.
func (h *Handler) signedIn(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := h.current(r)
		if s == nil {
			if r.Method == http.MethodGet && !isStream(r) && !liveJSON(r) {
				http.Redirect(w, r, Prefix+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			h.fail(w, r, grader.Errorf(grader.EUNAUTHORIZED, "your session has ended; sign in again"))
			return
		}
		// The upload is multipart: its handler checks the token itself,
		// after reading the form, before acting on it.
		if r.Method == http.MethodPost && !isSubmit(r) && !validCSRF(s, csrfOf(r)) {
			h.fail(w, r, errCSRF)
			return
		}
		next(w, r)
	}
}

// headerCSRF carries the session's CSRF token on the live editor's JSON
// posts (fetch), whose body is not a form.
const headerCSRF = "X-CSRF-Token"

// csrfOf returns the CSRF token a POST carries: the live editor's header,
// or the form's field.
func csrfOf(r *http.Request) string {
	if isLiveAction(r) {
		return r.Header.Get(headerCSRF)
	}
	return r.PostFormValue(fieldCSRF)
}

// errCSRF refuses a form without the session's token.
var errCSRF = grader.Errorf(grader.EFORBIDDEN, "the form has expired or did not come from this site; reload the page and try again")

func validCSRF(s *api.Principal, got string) bool {
	return s != nil && s.CSRF != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// staff is signedIn for admins and interviewers only; a candidate gets the
// same 404 as for a page that does not exist.
func (h *Handler) staff(next http.HandlerFunc) http.HandlerFunc {
	return h.signedIn(func(w http.ResponseWriter, r *http.Request) {
		if !sessionOf(r).Staff() {
			h.fail(w, r, grader.Errorf(grader.ENOTFOUND, "there is no such page"))
			return
		}
		next(w, r)
	})
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: Prefix + "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteStrictMode,
	})
}

type loginData struct {
	Next  string
	Error string
}

// home sends staff to the submissions and candidates to their assignments.
func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	s := h.current(r)
	switch {
	case s == nil:
		http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
	case s.Staff():
		http.Redirect(w, r, Prefix+"/submissions", http.StatusSeeOther)
	default:
		http.Redirect(w, r, Prefix+"/a/", http.StatusSeeOther)
	}
}

// loginForm shows the token form. Its CSRF value lives in a cookie of its
// own (double submit), since there is no session yet.
func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	h.renderLogin(w, r, http.StatusOK, safeNext(r.URL.Query().Get("next")), "")
}

func (h *Handler) renderLogin(w http.ResponseWriter, r *http.Request, status int, next, msg string) {
	v := randomID()
	h.setCookie(w, cookieLogin, v, 3600)
	h.render(w, r, status, "login", &page{Title: "Sign in", CSRF: v, Data: loginData{Next: next, Error: msg}})
}

// safeNext keeps a redirect target only if it is a path of this site's
// pages, so that the sign-in form cannot be used as an open redirect.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// login exchanges a token for a session.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(cookieLogin)
	form := r.PostFormValue(fieldCSRF)
	if err != nil || form == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(form)) != 1 {
		h.fail(w, r, errCSRF)
		return
	}
	next := safeNext(r.PostFormValue("next"))
	ip := clientIP(r)
	if !h.logins.allow(ip, h.cfg.Now()) {
		w.Header().Set("Retry-After", "60")
		h.renderLogin(w, r, http.StatusTooManyRequests, next, "Too many sign-ins from here; wait a minute and try again.")
		return
	}
	secret := strings.TrimSpace(r.PostFormValue("token"))
	tok, err := h.cfg.Auth.TokenBySecret(r.Context(), secret)
	if secret == "" || err != nil {
		if err != nil && grader.ErrorCode(err) != grader.EUNAUTHORIZED {
			h.fail(w, r, err)
			return
		}
		h.logins.failed(ip, h.cfg.Now())
		h.renderLogin(w, r, http.StatusUnauthorized, next, "That token is not valid. Check that you pasted all of it.")
		return
	}
	if old, err := r.Cookie(cookieSession); err == nil {
		h.sessions.delete(old.Value)
	}
	s := h.sessions.create(tok)
	h.setCookie(w, cookieSession, s.id, int(h.cfg.SessionMax.Seconds()))
	h.setCookie(w, cookieLogin, "", -1)
	if next == "" {
		next = Prefix + "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	h.sessions.delete(sessionOf(r).SessionID)
	h.setCookie(w, cookieSession, "", -1)
	http.Redirect(w, r, Prefix+"/login", http.StatusSeeOther)
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter allows, per client address and minute, maxSignIns sign-in
// attempts of any outcome and maxFailures failed ones. Tokens carry 256
// random bits, so failures are limited only to keep a guesser from filling
// the logs; successes are limited because each one creates a session.
type loginLimiter struct {
	mu     sync.Mutex
	all    map[string][]time.Time
	fail   map[string][]time.Time
	lastGC time.Time
}

const (
	maxFailures = 10
	maxSignIns  = 20
)

func newLoginLimiter() *loginLimiter {
	return &loginLimiter{all: map[string][]time.Time{}, fail: map[string][]time.Time{}}
}

// recent keeps the times of the last minute of m[ip] and returns them.
func recent(m map[string][]time.Time, ip string, now time.Time) []time.Time {
	var keep []time.Time
	for _, t := range m[ip] {
		if now.Sub(t) < time.Minute {
			keep = append(keep, t)
		}
	}
	if keep == nil {
		delete(m, ip)
	} else {
		m[ip] = keep
	}
	return keep
}

// allow reports whether ip may try to sign in now, and counts the attempt.
func (l *loginLimiter) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) >= time.Minute {
		// Addresses quiet for a minute hold nothing: drop them.
		for _, m := range []map[string][]time.Time{l.all, l.fail} {
			for k := range m {
				recent(m, k, now)
			}
		}
		l.lastGC = now
	}
	if len(recent(l.fail, ip, now)) >= maxFailures || len(recent(l.all, ip, now)) >= maxSignIns {
		return false
	}
	l.all[ip] = append(l.all[ip], now)
	return true
}

func (l *loginLimiter) failed(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail[ip] = append(recent(l.fail, ip, now), now)
}
