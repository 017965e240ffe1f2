package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// appGitHub is a small GitHub for the serve test: the App's JWT is checked
// on /app and the installation look-up (RS256 with the App's key, iss, the
// 10-minute window), and repository calls take only an installation token
// it issued. It records the take-home's calls.
type appGitHub struct {
	t     *testing.T
	key   *rsa.PrivateKey
	mu    sync.Mutex
	calls []string
	// tokens issued -> expiry
	tokens map[string]time.Time
}

func newAppGitHub(t *testing.T) (*appGitHub, *httptest.Server) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	g := &appGitHub{t: t, key: key, tokens: map[string]time.Time{}}
	srv := httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *appGitHub) jwtOK(r *http.Request) bool {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	var c jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return &g.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer("4242"), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	return err == nil && c.IssuedAt != nil && c.ExpiresAt.Sub(c.IssuedAt.Time) <= 10*time.Minute
}

func (g *appGitHub) tokenOK(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "token ")
	g.mu.Lock()
	defer g.mu.Unlock()
	exp, known := g.tokens[tok]
	return ok && known && time.Now().Before(exp)
}

func (g *appGitHub) serve(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/api/v3/")
	g.mu.Lock()
	g.calls = append(g.calls, r.Method+" "+p)
	g.mu.Unlock()
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	app := strings.HasPrefix(p, "app/") || strings.HasSuffix(p, "/installation")
	if app && !g.jwtOK(r) || !app && !g.tokenOK(r) {
		answer(http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	io.Copy(io.Discard, r.Body)
	switch {
	case r.Method == "GET" && p == "orgs/acme/installation":
		answer(200, map[string]any{"id": 777})
	case r.Method == "POST" && p == "app/installations/777/access_tokens":
		g.mu.Lock()
		tok := fmt.Sprintf("ghs_serve%d", len(g.tokens))
		g.tokens[tok] = time.Now().Add(time.Hour)
		g.mu.Unlock()
		answer(201, map[string]any{"token": tok, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	case r.Method == "POST" && p == "orgs/acme/repos":
		answer(201, map[string]any{"name": "takehome-ada", "full_name": "acme/takehome-ada", "default_branch": "main", "html_url": "https://github.example/acme/takehome-ada"})
	case r.Method == "GET" && p == "repos/acme/takehome-ada/git/ref/heads/main":
		answer(200, map[string]any{"ref": "refs/heads/main", "object": map[string]any{"sha": "aaaa"}})
	case r.Method == "POST" && p == "repos/acme/takehome-ada/git/trees":
		answer(201, map[string]any{"sha": "tree1"})
	case r.Method == "POST" && p == "repos/acme/takehome-ada/git/commits":
		answer(201, map[string]any{"sha": "commit1"})
	case r.Method == "PATCH" && p == "repos/acme/takehome-ada/git/refs/heads/main":
		answer(200, map[string]any{"ref": "refs/heads/main", "object": map[string]any{"sha": "commit1"}})
	case r.Method == "PUT" && p == "repos/acme/takehome-ada/collaborators/ada-l":
		answer(201, map[string]any{"id": 1})
	default:
		g.t.Errorf("unexpected %s %s", r.Method, p)
		answer(404, map[string]string{"message": "Not Found"})
	}
}

// TestServeTakeHomeRoute: the real server, configured with a GitHub App
// whose key comes from the environment's PEM, prepares a take-home through
// POST /api/v1/takehomes while it runs; the assignment is then listed.
func TestServeTakeHomeRoute(t *testing.T) {
	skipShort(t)
	g, gh := newAppGitHub(t)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(g.key)})
	bootstrap := "bootstrap-admin-secret-0123456789"
	srv, err := startServer(context.Background(), serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1, AdminToken: bootstrap,
		GitHub: githubConfig{APIURL: gh.URL + "/api/v3/", AppID: 4242, AppKey: string(pemKey)}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, "http://"+srv.addr+"/api/v1/takehomes",
		strings.NewReader(`{"exercise":"n-plus-one","github_login":"ada-l","repo":"acme/takehome-ada"}`))
	req.Header.Set("Authorization", "Bearer "+bootstrap)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Assignment struct{ ID, Exercise, Candidate string }
		URL        string
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || out.URL != "https://github.example/acme/takehome-ada" || out.Assignment.Candidate != "ada-l" {
		t.Fatalf("%d %+v; GitHub saw %q", resp.StatusCode, out, g.calls)
	}
	a, err := srv.store.RepoAssignment(context.Background(), "acme/takehome-ada")
	if err != nil || a.ID != out.Assignment.ID || a.Exercise != "n-plus-one" {
		t.Fatalf("%+v %v", a, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.tokens) != 1 || g.calls[0] != "GET orgs/acme/installation" {
		t.Fatalf("tokens %d, calls %q", len(g.tokens), g.calls)
	}
}
