package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// storeSubmissions stores n queued submissions and returns their ids.
func storeSubmissions(t *testing.T, s *bolt.Store, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		sub := &grader.Submission{Exercise: "n-plus-one", Candidate: "Ada"}
		if err := s.CreateSubmission(context.Background(), sub, []grader.File{{Path: "library/views.py", Data: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	return ids
}

// openCopy opens a backup and checks that it holds every id.
func openCopy(t *testing.T, path string, ids []string) {
	t.Helper()
	c, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("the backup does not open as a store: %v", err)
	}
	defer c.Close()
	for _, id := range ids {
		if _, err := c.Submission(context.Background(), id); err != nil {
			t.Fatalf("backup lacks %s: %v", id, err)
		}
	}
}

// With no server running, backup opens the store itself.
func TestBackupOfAStoreNotInUse(t *testing.T) {
	data := t.TempDir()
	s, err := bolt.Open(filepath.Join(data, DBName))
	if err != nil {
		t.Fatal(err)
	}
	ids := storeSubmissions(t, s, 3)
	s.Close()
	dest := filepath.Join(t.TempDir(), "copy.db")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--data", data, dest}, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, &stderr)
	}
	if !strings.Contains(stderr.String(), "opened directly") {
		t.Fatalf("stderr: %s", &stderr)
	}
	openCopy(t, dest, ids)
	// A missing store is an error, not a new empty backup.
	if code := run(context.Background(), []string{"backup", "--data", t.TempDir(), dest + "2"}, io.Discard, &stderr); code != 1 {
		t.Fatalf("backup of no store: exit %d", code)
	}
}

// With a server holding the store, backup streams it from the server's
// admin-only route.
func TestBackupOfALiveStore(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	data := t.TempDir()
	bootstrap := "bootstrap-admin-secret-0123456789"
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: data, Concurrency: 1, AdminToken: bootstrap}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ids := storeSubmissions(t, srv.store, 5)
	// A stored admin token works too; a candidate's does not.
	admin, candidate := grader.NewSecret(), grader.NewSecret()
	for secret, role := range map[string]grader.Role{admin: grader.RoleAdmin, candidate: grader.RoleCandidate} {
		if err := srv.store.CreateToken(ctx, &grader.Token{Name: string(role), Role: role, Hash: grader.HashSecret(secret)}); err != nil {
			t.Fatal(err)
		}
	}
	base := "http://" + srv.addr
	dest := filepath.Join(t.TempDir(), "live.db")
	backup := func(token string) (int, string) {
		var stderr bytes.Buffer
		args := []string{"backup", "--data", data, "--server", base, "--token", token, dest}
		if token == "" {
			args = []string{"backup", "--data", data, "--server", base, dest}
		}
		code := run(ctx, args, io.Discard, &stderr)
		return code, stderr.String()
	}
	t.Setenv("DJGRADE_ADMIN_TOKEN", "")
	for token, want := range map[string]string{
		"":                      "admin token",
		"wrong-secret-of-words": "401",
		candidate:               "403",
	} {
		if code, msg := backup(token); code != 1 || !strings.Contains(msg, want) {
			t.Errorf("token %q: exit %d %q, want 1 and %q", token, code, msg, want)
		}
	}
	for _, token := range []string{bootstrap, admin} {
		if code, msg := backup(token); code != 0 || !strings.Contains(msg, "streamed from the server") {
			t.Fatalf("admin backup: exit %d %s", code, msg)
		}
		openCopy(t, dest, ids)
	}
	// The store is the only authority: a revoked bootstrap token is refused
	// although the server still has it in its environment.
	tok, err := srv.store.TokenBySecret(ctx, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.store.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if code, msg := backup(bootstrap); code != 1 || !strings.Contains(msg, "401") {
		t.Errorf("revoked bootstrap token: exit %d %q, want 1 and 401", code, msg)
	}
	// The server kept working: its store still takes writes.
	storeSubmissions(t, srv.store, 1)
}
