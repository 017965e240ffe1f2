package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader/webhook"
)

// TestServeDeliversWebhooks: the real server runs the webhook dispatcher
// with the service: an endpoint registered through the API gets a signed
// ping on loopback, and Shutdown stops the dispatcher.
func TestServeDeliversWebhooks(t *testing.T) {
	skipShort(t)
	got := make(chan error, 1)
	var secret string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, webhook.DefaultTolerance, time.Now())
	}))
	defer rcv.Close()
	bootstrap := "bootstrap-admin-secret-0123456789"
	srv, err := startServer(context.Background(), serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1, AdminToken: bootstrap}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+srv.addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bootstrap)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, out)
		}
		return out
	}
	ep := call("POST", "/api/v1/webhooks", `{"url":"`+rcv.URL+`"}`)
	secret = ep["secret"].(string)
	call("POST", "/api/v1/webhooks/"+ep["id"].(string)+"/ping", "")
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("the ping's signature: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no ping arrived")
	}
	if err := srv.Shutdown(0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.hooksDone:
	default:
		t.Error("the dispatcher still runs after Shutdown")
	}
}

// TestServeBadFlagValuesMakeNoStore: a wrong --webhook-link-url or GitHub
// App configuration is a usage error (exit 2, saying what is wrong) found
// before the store is made: no store, no first admin token printed for a
// server that never ran.
func TestServeBadFlagValuesMakeNoStore(t *testing.T) {
	for _, args := range [][]string{
		{"--webhook-link-url", "ftp://x"},
		{"--github-app-id", "12"},
		{"--github-app-id", "12", "--github-app-key-file", filepath.Join(t.TempDir(), "missing.pem")},
		{"--github-app-id", "12", "--github-token", "ghp_x"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		var stderr strings.Builder
		code := run(context.Background(), append([]string{"serve", "--data", data, "--addr", "127.0.0.1:0"}, args...), &strings.Builder{}, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), "usage: djgrade serve") || strings.Contains(stderr.String(), "code=") {
			t.Errorf("%q: exit %d, stderr %q; want 2 with the message and the usage line", args, code, stderr.String())
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%q: the data folder was made (%v)", args, err)
		}
		if strings.Contains(stderr.String(), "djg_") {
			t.Errorf("%q: an admin token was printed: %q", args, stderr.String())
		}
	}
}
