package githubhook

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The fake GitHub's App side, checked as GitHub checks it: /app routes and
// the installation look-ups take only an App JWT (RS256 signed by the App's
// key, iss the App's id, iat not in the future, exp not passed and at most
// ten minutes after iat); repository routes take an unexpired installation
// token the fake issued, for repositories of that installation's account,
// or the personal token, which check runs refuse as GitHub does.

const (
	testAppID        = 4242
	testInstallation = 777
)

var (
	appKeyOnce sync.Once
	appKey     *rsa.PrivateKey
)

// testAppKey is the App's private key, made once for the package's tests.
func testAppKey(t *testing.T) *rsa.PrivateKey {
	appKeyOnce.Do(func() {
		var err error
		appKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
	})
	return appKey
}

// pemOf is a key as GitHub hands it out (PKCS#1 "RSA PRIVATE KEY").
func pemOf(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

type fakeInstToken struct {
	installation int64
	expires      time.Time
}

// now is the fake's clock.
func (f *fakeGitHub) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return time.Now().Add(f.skew)
}

// advance moves the fake's clock forward.
func (f *fakeGitHub) advance(d time.Duration) {
	f.mu.Lock()
	f.skew += d
	f.mu.Unlock()
}

// revokeTokens makes every installation token issued so far unknown.
func (f *fakeGitHub) revokeTokens() {
	f.mu.Lock()
	f.instTokens = map[string]fakeInstToken{}
	f.mu.Unlock()
}

func (f *fakeGitHub) refuse(status int, why string) (int, string) {
	f.mu.Lock()
	f.refusals = append(f.refusals, why)
	f.mu.Unlock()
	if status == http.StatusUnauthorized {
		return status, "Bad credentials: " + why
	}
	return status, why
}

// credential returns the credential of r's Authorization header: GitHub
// takes "Bearer X" and "token X" alike.
func credential(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if c, ok := strings.CutPrefix(h, "Bearer "); ok {
		return c
	}
	if c, ok := strings.CutPrefix(h, "token "); ok {
		return c
	}
	return ""
}

// needsJWT reports whether the API path p authenticates as the App itself.
func needsJWT(p string) bool {
	return p == "app" || strings.HasPrefix(p, "app/") || strings.HasSuffix(p, "/installation")
}

// authorize answers 0 when r may call p about owner's resources, or the
// status and message GitHub would answer.
func (f *fakeGitHub) authorize(r *http.Request, p, owner string) (int, string) {
	cred := credential(r)
	if cred == "" {
		return f.refuse(http.StatusUnauthorized, "no credentials")
	}
	if needsJWT(p) {
		if why := f.verifyJWT(cred); why != "" {
			return f.refuse(http.StatusUnauthorized, why)
		}
		return 0, ""
	}
	if f.token != "" && cred == f.token {
		if strings.Contains(p, "/check-runs") {
			return f.refuse(http.StatusForbidden, "You must authenticate via a GitHub App.")
		}
		return 0, ""
	}
	now := f.now()
	f.mu.Lock()
	tok, ok := f.instTokens[cred]
	account := f.installations[tok.installation]
	f.mu.Unlock()
	switch {
	case !ok:
		return f.refuse(http.StatusUnauthorized, "unknown token")
	case !now.Before(tok.expires):
		return f.refuse(http.StatusUnauthorized, "expired installation token")
	case p == "user":
		return f.refuse(http.StatusForbidden, "Resource not accessible by integration")
	case owner != "" && !strings.EqualFold(owner, account):
		return f.refuse(http.StatusNotFound, "Not Found")
	}
	return 0, ""
}

// verifyJWT returns why raw is not a valid JWT of the App, or "".
func (f *fakeGitHub) verifyJWT(raw string) string {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &f.appKey.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(strconv.Itoa(int(f.appID))),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(f.now))
	if err != nil {
		return "A JSON web token could not be decoded: " + err.Error()
	}
	if claims.IssuedAt == nil {
		return "'Issued at' claim ('iat') is missing"
	}
	if claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute {
		return "'Expiration time' claim ('exp') is too far in the future"
	}
	return ""
}

func (f *fakeGitHub) appRoutes(mux *http.ServeMux) {
	handle := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+apiBase+path, func(w http.ResponseWriter, r *http.Request) {
			p := strings.TrimPrefix(r.URL.Path, apiBase)
			if status, msg := f.authorize(r, p, ""); status != 0 {
				writeJSON(w, status, map[string]any{"message": msg})
				return
			}
			f.mu.Lock()
			f.calls = append(f.calls, r.Method+" "+p)
			f.mu.Unlock()
			h(w, r)
		})
	}
	handle("POST app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
		now := f.now()
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.installations[id]; !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
			return
		}
		f.minted++
		tok := fmt.Sprintf("ghs_fake%04d", f.minted)
		exp := now.Add(time.Hour).Truncate(time.Second)
		f.instTokens[tok] = fakeInstToken{installation: id, expires: exp}
		writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "expires_at": exp.UTC().Format(time.RFC3339)})
	})
	lookup := func(w http.ResponseWriter, owner string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for id, acct := range f.installations {
			if strings.EqualFold(acct, owner) {
				writeJSON(w, http.StatusOK, map[string]any{"id": id, "account": map[string]any{"login": acct}})
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Not Found"})
	}
	handle("GET repos/{owner}/{repo}/installation", func(w http.ResponseWriter, r *http.Request) { lookup(w, r.PathValue("owner")) })
	handle("GET orgs/{org}/installation", func(w http.ResponseWriter, r *http.Request) { lookup(w, r.PathValue("org")) })
}

// newAppClient is a Client authenticating as the fake's App.
func (f *fakeGitHub) newAppClient(t *testing.T, installation int64, now func() time.Time) *Client {
	t.Helper()
	c, err := NewAppClient(f.apiURL(), AppConfig{AppID: f.appID, PrivateKey: pemOf(f.appKey), Installation: installation, Now: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Backoff = time.Millisecond
	return c
}

func (f *fakeGitHub) refusalsSoFar() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refusals...)
}
