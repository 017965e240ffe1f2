package web_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/api/web"
	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// TestOneServerEdge mounts the pages on the API's server, as serve does, and
// checks that each group gets its own edge: the pages' CSP and HTML errors
// under /ui, the API's CSP and JSON errors elsewhere, and the API's small
// body cap not applied to a page's upload.
func TestOneServerEdge(t *testing.T) {
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	logger := slog.New(slog.DiscardHandler)
	svc := grader.NewService(grader.Config{Store: store, Catalog: cat, Logger: logger})
	httpAPI := api.New(api.Config{Grader: svc, Catalog: cat, Auth: store, Logger: logger})
	pages, err := web.New(web.Config{Grader: svc, Catalog: cat, Auth: store, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	pages.Mount(httpAPI.Echo())
	srv := httptest.NewServer(httpAPI.Handler())
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tc := range []struct {
		method, path string
		body         []byte
		status       int
		contentType  string
		csp          string // a fragment of the Content-Security-Policy
		origin       string
	}{
		{"GET", "/ui/login", nil, 200, "text/html", "script-src 'self'", ""},
		{"GET", "/ui/no-such-page", nil, 404, "text/html", "script-src 'self'", ""},
		{"DELETE", "/ui/submissions", nil, 404, "text/html", "script-src 'self'", ""},
		{"GET", "/ui", nil, 301, "", "script-src 'self'", ""},
		{"GET", "/", nil, 303, "", "default-src 'none'; frame-ancestors", ""},
		{"GET", "/api/v1/no-such-route", nil, 404, "application/json", "form-action 'none'", ""},
		{"GET", "/api/v1/exercises", nil, 401, "application/json", "form-action 'none'", ""},
		// 100 KiB is over the API's cap of small bodies but under the
		// upload's: a page's upload gets past the edge to its handler,
		// which wants a session (303 to sign in is for GET; a POST is 401).
		{"POST", "/ui/a/x/submit", bytes.Repeat([]byte("x"), 100<<10), 401, "text/html", "script-src 'self'", ""},
		{"POST", "/api/v1/assignments", bytes.Repeat([]byte("x"), 100<<10), 413, "application/json", "form-action 'none'", ""},
		// A cross-site form is refused by the group's edge, as a page.
		{"POST", "/ui/login", []byte("--b--"), 403, "text/html", "script-src 'self'", "https://evil.example"},
		{"POST", "/ui/login", bytes.Repeat([]byte("x"), 100<<10), 413, "text/html", "script-src 'self'", ""},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, bytes.NewReader(tc.body))
		if tc.body != nil {
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.status || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.contentType) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, res.StatusCode, res.Header.Get("Content-Type"), tc.status, tc.contentType)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, tc.csp) {
			t.Errorf("%s %s: CSP %q, want it to contain %q", tc.method, tc.path, csp, tc.csp)
		}
		if res.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s %s: no X-Request-ID", tc.method, tc.path)
		}
	}
}
