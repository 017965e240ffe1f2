package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/djgrade/djgrade/api"
)

// TestOpenAPIMatchesServedRoutes starts the real server (metrics, backup,
// GitHub webhook and pages mounted, as serve does) and checks its Echo
// routes against the OpenAPI document it serves, both ways: api's own test
// cannot see the routes cmd/djgrade adds. The pages share the routing
// table; they are checked to be there, not documented.
func TestOpenAPIMatchesServedRoutes(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	bootstrap := "bootstrap-admin-secret-0123456789"
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1, AdminToken: bootstrap}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, "http://"+srv.addr+"/api/v1/openapi.yaml", nil)
	req.Header.Set("Authorization", "Bearer "+bootstrap)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET openapi.yaml: %d %v", res.StatusCode, err)
	}
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served, pages := map[string]bool{}, map[string]bool{}
	for _, r := range srv.api.Echo().Routes() {
		if !strings.HasPrefix(r.Path, "/") || strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		// The pages (and "/", which redirects to them) are in the same
		// routing table but are HTML for browsers, not the API.
		if r.Path == "/" || r.Path == api.PathUI || strings.HasPrefix(r.Path, api.PathUI+"/") {
			pages[r.Method+" "+r.Path] = true
			continue
		}
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			if name, ok := strings.CutPrefix(s, ":"); ok {
				segs[i] = "{" + name + "}"
			}
		}
		served[r.Method+" "+strings.Join(segs, "/")] = true
	}
	for _, k := range []string{"GET /metrics", "GET /api/v1/admin/backup", "POST /webhooks/github"} {
		if !served[k] {
			t.Errorf("the server does not serve %s", k)
		}
	}
	for _, k := range []string{"GET /", "GET /ui/", "GET /ui/submissions/:id", "POST /ui/a/:id/submit", "GET /ui/a/:id/s/:sid/events"} {
		if !pages[k] {
			t.Errorf("the server does not route the page %s", k)
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.yaml", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.yaml documents %s, which the server does not have", k)
		}
	}
}
