package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"testing"
)

// A new store without DJGRADE_ADMIN_TOKEN gets one admin token, printed
// once: without it nobody could use the API of a fresh `make run`.
func TestFirstStartPrintsAdminToken(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	data := t.TempDir()
	var out bytes.Buffer
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: data, Concurrency: 1}, &out)
	if err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`djg_[A-Za-z0-9_-]+`).FindString(out.String())
	if secret == "" {
		srv.Close()
		t.Fatalf("no admin token announced:\n%s", out.String())
	}
	for token, want := range map[string]int{secret: http.StatusOK, "": http.StatusUnauthorized, secret + "x": http.StatusUnauthorized} {
		req, _ := http.NewRequest("GET", "http://"+srv.addr+"/api/v1/tokens", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("token %q: %d, want %d", token, resp.StatusCode, want)
		}
	}
	srv.Close()

	// The second start of the same store makes no new token.
	out.Reset()
	srv, err = startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: data, Concurrency: 1}, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if regexp.MustCompile(`djg_`).MatchString(out.String()) {
		t.Fatalf("a second token was announced:\n%s", out.String())
	}
}
