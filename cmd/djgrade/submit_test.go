package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestSubmit runs `djgrade submit` against a real server on loopback, with
// the scaffold of `exercises new` as its private catalog: a candidate's
// folder is packed, posted, graded in the real sandbox and its result shown
// (exit 0); the server's refusals come back with the API's message and
// code (exit 1) and nothing is graded for them.
func TestSubmit(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	catalog := t.TempDir()
	if err := writeScaffold(filepath.Join(catalog, "list-by-name"), "list-by-name"); err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Concurrency: 1, Exercises: catalog,
		AdminToken: "bootstrap-admin-secret-0123456789"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.addr
	// A candidate token assigned the exercise, as an interviewer makes one.
	secret := grader.NewSecret()
	tok := &grader.Token{Name: "ada", Role: grader.RoleCandidate, Hash: grader.HashSecret(secret)}
	if err := srv.store.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := srv.store.CreateAssignment(ctx, &grader.Assignment{Exercise: "list-by-name", Candidate: "Ada Lovelace", Token: tok.ID, Mode: "practice"}); err != nil {
		t.Fatal(err)
	}
	// The candidate's project: the starter with the reference's views.
	project := filepath.Join(t.TempDir(), "project")
	ex := filepath.Join(catalog, "list-by-name")
	if err := os.CopyFS(project, os.DirFS(filepath.Join(ex, "starter"))); err != nil {
		t.Fatal(err)
	}
	views, err := os.ReadFile(filepath.Join(ex, "solutions", "reference", "items", "views.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "items", "views.py"), views, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DJGRADE_SERVER", "")
	t.Setenv("DJGRADE_TOKEN", "")

	// A bad token: the API's own 401 message and code, exit 1.
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/submissions", nil)
	req.Header.Set("Authorization", "Bearer djg_not-a-real-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var apiErr struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.NewDecoder(res.Body).Decode(&apiErr); err != nil || res.StatusCode != http.StatusUnauthorized || apiErr.Error.Message == "" {
		t.Fatalf("bad token: %d %+v %v", res.StatusCode, apiErr, err)
	}
	res.Body.Close()
	code, stdout, stderr := runArgs("submit", "--server", base, "--token", "djg_not-a-real-token", "--exercise", "list-by-name", project)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "401") || !strings.Contains(stderr, apiErr.Error.Message) || !strings.Contains(stderr, "("+apiErr.Error.Code+")") {
		t.Errorf("bad token: exit %d, stdout %q, stderr %q; want 1 with %q", code, stdout, stderr, apiErr.Error.Message)
	}
	// An exercise the candidate was not assigned: 400 from the API (an
	// unknown exercise), flags from the environment.
	t.Setenv("DJGRADE_SERVER", base)
	t.Setenv("DJGRADE_TOKEN", secret)
	code, _, stderr = runArgs("submit", "--exercise", "n-plus-one", project)
	if code != 1 || !strings.Contains(stderr, "400") || !strings.Contains(stderr, `unknown exercise "n-plus-one"`) || !strings.Contains(stderr, "(invalid)") {
		t.Errorf("unknown exercise: exit %d %q", code, stderr)
	}
	if list, err := srv.store.ListSubmissions(ctx, grader.SubmissionFilter{}); err != nil || len(list) != 0 {
		t.Errorf("refused submissions were stored: %d %v", len(list), err)
	}

	// The real one, with DJGRADE_SERVER and DJGRADE_TOKEN.
	code, stdout, stderr = runArgs("submit", "--exercise", "list-by-name", project, "--wait", "3m")
	if code != 0 {
		t.Fatalf("submit: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	id, _, _ := strings.Cut(strings.TrimPrefix(stdout, "submission "), "\n")
	if !strings.HasPrefix(stdout, "submission ") || id == "" || !strings.Contains(stderr, " as "+id+": queued") {
		t.Errorf("the submission id is not printed first: stdout %q, stderr %q", stdout, stderr)
	}
	for _, want := range []string{"The list is sorted by name", "2/2", "Score: 2/2  PASSED", "By category: correctness 2/2"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "djgrade: submitted "+project) || !strings.Contains(stderr, "done after") {
		t.Errorf("stderr shows no progress:\n%s", stderr)
	}
}
