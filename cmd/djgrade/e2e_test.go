package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
)

// These tests run the real thing: the sandbox image on the Docker Engine, a
// bbolt file in a temporary folder, HTTP on a loopback port. -short skips them.

func skipShort(t testing.TB) {
	if testing.Short() {
		t.Skip("real containers: skipped in -short mode")
	}
}

// projectFiles returns the exercise's starter with an overlay folder
// ("solutions/reference") laid over it: what a candidate would upload.
func projectFiles(t testing.TB, exerciseID, overlay string) []grader.File {
	t.Helper()
	c, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.Exercise(exerciseID)
	if err != nil {
		t.Fatal(err)
	}
	files, err := grader.StarterFiles(ex)
	if err != nil {
		t.Fatal(err)
	}
	if overlay == "" {
		return files
	}
	over, err := grader.OverlayFiles(ex, overlay)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]int{}
	for i, f := range files {
		byPath[f.Path] = i
	}
	for _, f := range over {
		if i, ok := byPath[f.Path]; ok {
			files[i] = f
		} else {
			files = append(files, f)
		}
	}
	return files
}

// zipProject zips files under one wrapping folder, as "compress this folder" does.
func zipProject(t testing.TB, wrapper string, files []grader.File) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := zw.Create(wrapper + "/" + f.Path)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.Data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeProject writes files into a new folder and returns it.
func writeProject(t testing.TB, files []grader.File) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// e2eAdminToken is the bootstrap admin secret of the servers these tests
// start (DJGRADE_ADMIN_TOKEN); an admin may do all an interviewer may.
const e2eAdminToken = "djg_e2e-bootstrap-admin-0123456789abcdef"

func upload(t testing.TB, base string, fields map[string]string, archiveName string, archive []byte) (*http.Response, map[string]any) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if archive != nil {
		fw, _ := mw.CreateFormFile("archive", archiveName)
		fw.Write(archive)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/submissions", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%d: not JSON: %s", resp.StatusCode, data)
	}
	return resp, out
}

func getJSON(t testing.TB, url string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s: %d: not JSON: %v", url, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

func TestServeGradesAnUploadEndToEnd(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	data := t.TempDir()
	// Pool -1 is serve's default: one pre-started sandbox per worker.
	srv, err := startServer(ctx, serveConfig{Addr: "127.0.0.1:0", Data: data, Concurrency: 2, Pool: -1, PoolIdle: 10 * time.Minute, AdminToken: e2eAdminToken}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	base := "http://" + srv.addr

	if code, body := getJSON(t, base+"/healthz"); code != 200 {
		t.Fatalf("healthz %d %v", code, body)
	}
	if code, list := getJSON(t, base+"/api/v1/exercises"); code != 200 || !strings.Contains(fmt.Sprint(list), "n-plus-one") {
		// The list may come wrapped; its text must name the exercise either way.
		t.Fatalf("exercises %d %v", code, list)
	}

	// The reference solution, as a candidate would zip their project folder.
	archive := zipProject(t, "my-project", projectFiles(t, "n-plus-one", "solutions/reference"))
	start := time.Now()
	resp, sub := upload(t, base, map[string]string{"exercise": "n-plus-one", "candidate": "Ada Lovelace"}, "project.zip", archive)
	if resp.StatusCode != http.StatusAccepted || sub["status"] != "queued" || sub["id"] == "" {
		t.Fatalf("upload: %d %v", resp.StatusCode, sub)
	}
	id := sub["id"].(string)

	// The submission was stored before the API answered.
	stored, err := srv.store.Submission(ctx, id)
	if err != nil || stored.Candidate != "Ada Lovelace" {
		t.Fatalf("stored %+v %v", stored, err)
	}

	var got map[string]any
	deadline := time.Now().Add(3 * time.Minute)
	for {
		_, got = getJSON(t, base+"/api/v1/submissions/"+id)
		if got["status"] == "done" || got["status"] == "error" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not graded in time: %v", got)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("end to end (upload to done): %s", time.Since(start).Round(time.Millisecond))
	if got["status"] != "done" || got["verdict"] != "passed" || got["score"] != got["max_score"] || got["max_score"] == float64(0) {
		t.Fatalf("reference did not score full marks: %v", got)
	}
	tests, _ := got["tests"].([]any)
	if len(tests) == 0 {
		t.Fatalf("no tests in %v", got)
	}
	for _, key := range []string{"name", "category", "outcome", "points", "max_points"} {
		if _, ok := tests[0].(map[string]any)[key]; !ok {
			t.Fatalf("test entry lacks %q: %v", key, tests[0])
		}
	}

	// A regrade through the real sandbox keeps the first result in the
	// history and ends with a second full-marks result; ?wait blocks for it.
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/submissions/"+id+"/regrade", nil)
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	rres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rres.Body.Close()
	if rres.StatusCode != http.StatusAccepted {
		t.Fatalf("regrade: %d", rres.StatusCode)
	}
	for deadline := time.Now().Add(3 * time.Minute); ; {
		_, got = getJSON(t, base+"/api/v1/submissions/"+id+"?wait=50s")
		if got["status"] == "done" || got["status"] == "error" || time.Now().After(deadline) {
			break
		}
	}
	hist, _ := got["history"].([]any)
	if got["status"] != "done" || got["verdict"] != "passed" || len(hist) != 1 || hist[0].(map[string]any)["verdict"] != "passed" {
		t.Fatalf("regraded: %v", got)
	}
	if stored, _ := srv.store.Submission(ctx, id); stored == nil || stored.Attempts != 2 || len(stored.History) != 1 {
		t.Fatalf("stored after regrade: %+v", stored)
	}

	// The fast path over HTTP: the starter's public tests, some failing,
	// answered when they are done; nothing is stored.
	before, _ := srv.store.ListSubmissions(ctx, grader.SubmissionFilter{})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("archive", "starter.zip")
	fw.Write(zipProject(t, "starter", projectFiles(t, "n-plus-one", "")))
	mw.Close()
	preq, _ := http.NewRequest(http.MethodPost, base+"/api/v1/exercises/n-plus-one/public-run", &body)
	preq.Header.Set("Content-Type", mw.FormDataContentType())
	preq.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	pres, err := http.DefaultClient.Do(preq)
	if err != nil {
		t.Fatal(err)
	}
	var pr grader.PublicRun
	err = json.NewDecoder(pres.Body).Decode(&pr)
	pres.Body.Close()
	if err != nil || pres.StatusCode != http.StatusOK || pr.Verdict != grader.VerdictFailed || len(pr.Tests) == 0 {
		t.Fatalf("public run of the starter: %d %v %+v", pres.StatusCode, err, pr)
	}
	t.Logf("public run: %s, timings %v", pr.Reason, pr.Timings)

	// Garbage gets a clear 4xx and stores nothing.
	resp, bad := upload(t, base, map[string]string{"exercise": "n-plus-one", "candidate": "Mallory"}, "x.zip", []byte("definitely not a zip"))
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(fmt.Sprint(bad), "not a .zip") {
		t.Fatalf("garbage: %d %v", resp.StatusCode, bad)
	}
	resp, bad = upload(t, base, map[string]string{"exercise": "no-such-exercise", "candidate": "Mallory"}, "p.zip", archive)
	if resp.StatusCode < 400 || resp.StatusCode >= 500 {
		t.Fatalf("unknown exercise: %d %v", resp.StatusCode, bad)
	}
	resp, bad = upload(t, base, map[string]string{"exercise": "n-plus-one"}, "p.zip", archive)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("missing candidate: %d %v", resp.StatusCode, bad)
	}
	after, _ := srv.store.ListSubmissions(ctx, grader.SubmissionFilter{})
	if len(after) != len(before) {
		t.Fatalf("rejected uploads were stored: %d -> %d", len(before), len(after))
	}
	if code, body := getJSON(t, base+"/api/v1/submissions/nonexistent"); code != http.StatusNotFound {
		t.Fatalf("unknown id: %d %v", code, body)
	}
}

// TestGradeCommand runs `djgrade grade` on a folder and on an archive.
func TestGradeCommand(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	dir := writeProject(t, projectFiles(t, "n-plus-one", "solutions/reference"))
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"grade", "--exercise", "n-plus-one", "--json", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	var res gradeJSON
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Score == nil || res.MaxScore == nil || res.Verdict == nil {
		t.Fatalf("--json output: %v\n%s", err, stdout.String())
	}
	if *res.Score != *res.MaxScore || *res.Verdict != string(grader.VerdictPassed) || res.Exercise != "n-plus-one" {
		t.Fatalf("reference: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "running the judge and the candidate's project in the sandbox") {
		t.Fatalf("no progress on stderr: %s", stderr.String())
	}

	// The starter, as a wrapped zip, scores below full marks and exits 3;
	// the table for people names the score.
	archive := filepath.Join(t.TempDir(), "starter.zip")
	os.WriteFile(archive, zipProject(t, "repo-main", projectFiles(t, "n-plus-one", "")), 0o644)
	stdout.Reset()
	stderr.Reset()
	code := run(ctx, []string{"grade", "--exercise", "n-plus-one", archive}, &stdout, &stderr)
	if code != 3 || !strings.Contains(stdout.String(), "Score: ") || !strings.Contains(stdout.String(), "QUERIES") {
		t.Fatalf("starter: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String(), "Score: "+strconv.Itoa(*res.MaxScore)+"/") {
		t.Fatalf("starter scored full marks:\n%s", stdout.String())
	}
}

// `grade --public` runs the public tests only (the fast path): the
// reference passes them all and exits 0; the starter fails some and exits
// 3; the hidden checks are not run (no score in the output).
func TestGradePublicCommand(t *testing.T) {
	skipShort(t)
	ctx := context.Background()
	for _, tc := range []struct {
		overlay string
		code    int
		verdict grader.Verdict
	}{{"solutions/reference", 0, grader.VerdictPassed}, {"", 3, grader.VerdictFailed}} {
		dir := writeProject(t, projectFiles(t, "n-plus-one", tc.overlay))
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"grade", "--exercise", "n-plus-one", "--public", "--json", dir}, &stdout, &stderr)
		if code != tc.code {
			t.Fatalf("%q: exit %d, want %d\n%s\n%s", tc.overlay, code, tc.code, stdout.String(), stderr.String())
		}
		var pr grader.PublicRun
		if err := json.Unmarshal(stdout.Bytes(), &pr); err != nil {
			t.Fatalf("--json output: %v\n%s", err, stdout.String())
		}
		if pr.Verdict != tc.verdict || len(pr.Tests) == 0 {
			t.Fatalf("%q: %s (%s), %d tests\n%s", tc.overlay, pr.Verdict, pr.Reason, len(pr.Tests), pr.Log)
		}
		for _, tr := range pr.Tests {
			if tr.Hidden || tr.Category != "public" {
				t.Errorf("%q: a test that is not public: %+v", tc.overlay, tr)
			}
		}
		if strings.Contains(stdout.String(), `"score"`) {
			t.Errorf("%q: a public run has a score:\n%s", tc.overlay, stdout.String())
		}
	}
}

// TestExercisesValidate runs `djgrade exercises validate --repeat N` over the
// whole catalog: every solution full marks, the starter and every variant in
// its range, the same score on every run. N is DJGRADE_TEST_REPEAT (default 3).
func TestExercisesValidate(t *testing.T) {
	skipShort(t)
	repeat := "3"
	if v := os.Getenv("DJGRADE_TEST_REPEAT"); v != "" {
		repeat = v
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"exercises", "validate", "--repeat", repeat}, &stdout, &stderr)
	t.Logf("validation table:\n%s", stdout.String())
	// CI prints the table from here: go test shows a passing test's output only with -v.
	if dir := os.Getenv("DJGRADE_ARTIFACTS"); dir != "" {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "validation.txt"), stdout.Bytes(), 0o644)
	}
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), ", 0 missed") {
		t.Fatalf("unexpected summary:\n%s", stdout.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"frobnicate"},
		{"grade", "somewhere"},
		{"grade", "--exercise", "no-such-exercise", "."},
		{"exercises"},
		{"exercises", "validate", "--repeat", "-1"},
		{"serve", "--concurrency", "many"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, stderr.String())
		}
	}
}

func TestEnvFallback(t *testing.T) {
	t.Setenv("DJGRADE_CONCURRENCY", "lots")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, &stdout, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "DJGRADE_CONCURRENCY") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
