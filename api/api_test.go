package api

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// fakeGrader is an in-memory Grader. Hooks let a test make a call block,
// fail or panic.
type fakeGrader struct {
	mu      sync.Mutex
	subs    map[string]*grader.Submission
	files   map[string][]grader.File
	next    int
	catalog *fakeCatalog

	onSubmit     func(ctx context.Context) error
	onSubmission func(ctx context.Context, id string) error
}

func newFakeGrader(cat *fakeCatalog) *fakeGrader {
	return &fakeGrader{subs: map[string]*grader.Submission{}, files: map[string][]grader.File{}, catalog: cat}
}

func (g *fakeGrader) Submit(ctx context.Context, exercise, candidate string, files []grader.File) (*grader.Submission, error) {
	if g.onSubmit != nil {
		if err := g.onSubmit(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := g.catalog.Exercise(exercise); err != nil {
		return nil, grader.Errorf(grader.EINVALID, "unknown exercise")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	sub := &grader.Submission{
		ID:        fmt.Sprintf("sub-%d", g.next),
		Exercise:  exercise,
		Candidate: candidate,
		Status:    grader.StatusQueued,
		CreatedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	g.subs[sub.ID] = sub
	g.files[sub.ID] = files
	cp := *sub
	return &cp, nil
}

func (g *fakeGrader) Submission(ctx context.Context, id string) (*grader.Submission, error) {
	if g.onSubmission != nil {
		if err := g.onSubmission(ctx, id); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	sub, ok := g.subs[id]
	if !ok {
		return nil, grader.Errorf(grader.ENOTFOUND, "no submission %q", id)
	}
	cp := *sub
	return &cp, nil
}

func (g *fakeGrader) put(sub *grader.Submission) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.subs[sub.ID] = sub
}

func (g *fakeGrader) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.subs)
}

// fakeCatalog is an in-memory Catalog.
type fakeCatalog struct{ list []*grader.Exercise }

func (c *fakeCatalog) Exercise(id string) (*grader.Exercise, error) {
	for _, e := range c.list {
		if e.ID == id {
			return e, nil
		}
	}
	return nil, grader.Errorf(grader.ENOTFOUND, "no exercise %q", id)
}

func (c *fakeCatalog) Exercises() []*grader.Exercise { return c.list }

func testCatalog() *fakeCatalog {
	return &fakeCatalog{list: []*grader.Exercise{{
		ID:         "drf-n-plus-one",
		Title:      "Fix the N+1",
		Summary:    "The order list runs a query per row.",
		Version:    2,
		Topics:     []string{"drf", "orm"},
		Difficulty: "medium",
		TimeBudget: 45 * time.Minute,
		Database:   grader.DatabaseSQLite,
		Editable:   []string{"shop/serializers.py", "shop/views.py"},
		Categories: []grader.Category{{Name: "correctness", Points: 6}, {Name: "performance", Points: 4}},
		Prompt:     "# Fix the N+1\n\nThe list is slow.",
		Rubric:     "RUBRIC-FOR-INTERVIEWERS-ONLY",
	}}}
}

// syncBuffer is a log sink that tests may read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	srv  *httptest.Server
	g    *fakeGrader
	cat  *fakeCatalog
	logs *syncBuffer
	api  *Server
}

// newEnv serves an API over real HTTP on 127.0.0.1; edit changes the config.
func newEnv(t *testing.T, edit func(*Config)) *env {
	t.Helper()
	cat := testCatalog()
	e := &env{g: newFakeGrader(cat), cat: cat, logs: &syncBuffer{}}
	auth, secret := newAuthStore(t, grader.RoleInterviewer)
	cfg := Config{
		Grader:  e.g,
		Catalog: cat,
		Auth:    auth,
		Logger:  slog.New(slog.NewJSONHandler(e.logs, nil)),
	}
	if edit != nil {
		edit(&cfg)
	}
	e.api = New(cfg)
	// These tests are about everything but auth (see auth_test.go): they
	// run as an interviewer unless a request says otherwise.
	e.srv = httptest.NewServer(withBearer(e.api.Handler(), secret))
	t.Cleanup(e.srv.Close)
	return e
}

// apiError is the JSON of an error response.
type apiError struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return res, body
}

func (e *env) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

// wantError checks an error response's status and JSON shape.
func wantError(t *testing.T, res *http.Response, body []byte, status int, code string) apiError {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want JSON", ct)
	}
	var ae apiError
	if err := json.Unmarshal(body, &ae); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if ae.Error.Code != code {
		t.Errorf("error code = %q, want %q; body %s", ae.Error.Code, code, body)
	}
	if ae.Error.Message == "" {
		t.Errorf("error message is empty; body %s", body)
	}
	if ae.Error.RequestID == "" || ae.Error.RequestID != res.Header.Get("X-Request-ID") {
		t.Errorf("request_id = %q, header %q", ae.Error.RequestID, res.Header.Get("X-Request-ID"))
	}
	return ae
}

// part is one multipart field; a non-empty filename makes it a file.
type part struct {
	name, filename string
	data           []byte
}

func multipartBody(t *testing.T, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func (e *env) upload(t *testing.T, parts ...part) (*http.Response, []byte) {
	t.Helper()
	body, ctype := multipartBody(t, parts...)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/submissions", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	return do(t, req)
}

var candidateFiles = map[string]string{
	"shop/serializers.py": "from rest_framework import serializers\n",
	"shop/views.py":       "# views\n",
}

func zipArchive(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tarGzArchive(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, data := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func validParts(archiveName string, archive []byte) []part {
	return []part{
		{name: "exercise", data: []byte("drf-n-plus-one")},
		{name: "candidate", data: []byte("  Ada Lovelace \n")},
		{name: "archive", filename: archiveName, data: archive},
	}
}

func TestCreateSubmission(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		archive func(*testing.T, map[string]string) []byte
	}{
		{"zip", "answer.zip", zipArchive},
		{"tar.gz", "answer.tar.gz", tarGzArchive},
		{"tgz", "answer.tgz", tarGzArchive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			res, body := e.upload(t, validParts(tc.file, tc.archive(t, candidateFiles))...)
			if res.StatusCode != http.StatusAccepted {
				t.Fatalf("status = %d, want 202; body %s", res.StatusCode, body)
			}
			if loc := res.Header.Get("Location"); loc != "/api/v1/submissions/sub-1" {
				t.Errorf("Location = %q", loc)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if got["id"] != "sub-1" || got["status"] != "queued" || got["exercise"] != "drf-n-plus-one" {
				t.Errorf("body = %s", body)
			}
			if got["candidate"] != "Ada Lovelace" {
				t.Errorf("candidate = %q, want it trimmed", got["candidate"])
			}
			for _, k := range []string{"score", "max_score", "verdict", "finished_at"} {
				if v, ok := got[k]; !ok || v != nil {
					t.Errorf("%s = %v (present %v), want null until done", k, v, ok)
				}
			}
			if tests, ok := got["tests"].([]any); !ok || len(tests) != 0 {
				t.Errorf("tests = %v, want []", got["tests"])
			}

			e.g.mu.Lock()
			files := e.g.files["sub-1"]
			e.g.mu.Unlock()
			if len(files) != len(candidateFiles) {
				t.Fatalf("grader got %d files, want %d", len(files), len(candidateFiles))
			}
			for _, f := range files {
				if candidateFiles[f.Path] != string(f.Data) {
					t.Errorf("file %s = %q", f.Path, f.Data)
				}
			}

			// The Location answers with the same submission.
			res, body = e.get(t, res.Header.Get("Location"))
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id":"sub-1"`) {
				t.Errorf("GET Location: %d %s", res.StatusCode, body)
			}
		})
	}
}

func TestCreateSubmissionInvalid(t *testing.T) {
	zipped := zipArchive(t, candidateFiles)
	secret := []byte("SECRET-CANDIDATE-CONTENT " + strings.Repeat("x", 600))
	for _, tc := range []struct {
		name    string
		parts   []part
		status  int
		code    string
		message string
	}{
		{"missing exercise", []part{{name: "candidate", data: []byte("Ada")}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, `missing form field "exercise"`},
		{"missing candidate", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, `missing form field "candidate"`},
		{"missing archive", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "candidate", data: []byte("Ada")}},
			400, grader.EINVALID, `missing form field "archive"`},
		{"archive not a file", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "candidate", data: []byte("Ada")}, {name: "archive", data: zipped}},
			400, grader.EINVALID, "must be a file"},
		{"empty archive", validParts("a.zip", nil), 400, grader.EINVALID, "empty"},
		{"garbage archive", validParts("a.zip", secret), 400, grader.EINVALID, "not a .zip"},
		{"truncated zip", validParts("a.zip", append([]byte("PK\x03\x04"), secret...)), 400, grader.EINVALID, "zip"},
		{"truncated gzip", validParts("a.tgz", append([]byte{0x1f, 0x8b}, secret...)), 400, grader.EINVALID, "gzip"},
		{"unknown exercise", []part{{name: "exercise", data: []byte("no-such-thing")}, {name: "candidate", data: []byte("Ada")}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, `unknown exercise "no-such-thing"; GET /api/v1/exercises lists`},
		{"blank candidate", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "candidate", data: []byte(" \t ")}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, "candidate"},
		{"candidate too long", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "candidate", data: []byte(strings.Repeat("a", 201))}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, "candidate"},
		{"candidate control char", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "candidate", data: []byte("Ada\x1b[31m")}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, "candidate"},
		{"candidate bad utf-8", []part{{name: "exercise", data: []byte("drf-n-plus-one")}, {name: "candidate", data: []byte("Ada\xff")}, {name: "archive", filename: "a.zip", data: zipped}},
			400, grader.EINVALID, "UTF-8"},
		{"duplicate field", append(validParts("a.zip", zipped), part{name: "candidate", data: []byte("Bob")}),
			400, grader.EINVALID, "twice"},
		{"unexpected field", append(validParts("a.zip", zipped), part{name: "extra", data: secret}),
			400, grader.EINVALID, "unexpected form field"},
		{"no editable file", validParts("a.zip", zipArchive(t, map[string]string{"README.md": "hi"})),
			0, "", ""}, // accepted by the API: the grader decides what is editable
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			res, body := e.upload(t, tc.parts...)
			if tc.status == 0 {
				if res.StatusCode != http.StatusAccepted {
					t.Fatalf("status = %d; body %s", res.StatusCode, body)
				}
				return
			}
			ae := wantError(t, res, body, tc.status, tc.code)
			if !strings.Contains(ae.Error.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", ae.Error.Message, tc.message)
			}
			if bytes.Contains(body, []byte("SECRET-CANDIDATE-CONTENT")) {
				t.Errorf("error echoes the upload: %s", body)
			}
			if n := e.g.count(); n != 0 {
				t.Errorf("grader stored %d submissions, want 0", n)
			}
		})
	}
}

func TestCreateSubmissionNotMultipart(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/submissions", strings.NewReader(`{"exercise":"drf-n-plus-one"}`))
	req.Header.Set("Content-Type", "application/json")
	res, body := do(t, req)
	wantError(t, res, body, http.StatusUnsupportedMediaType, codeUnsupportedMediaType)

	// A multipart body that is not well-formed.
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/submissions", strings.NewReader("--xyz\r\nnot a header\r\n"))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
	res, body = do(t, req)
	ae := wantError(t, res, body, http.StatusBadRequest, grader.EINVALID)
	if ae.Error.Message != "malformed multipart body" {
		t.Errorf("message = %q", ae.Error.Message)
	}
}

func TestCreateSubmissionTooLarge(t *testing.T) {
	const limit = 64 << 10
	big := make([]byte, 2*limit)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.MaxUploadBytes = limit })
			body, ctype := multipartBody(t, validParts("a.zip", big)...)
			var r io.Reader = body
			if chunked {
				// Hide the length so the cap must act while reading.
				r = io.MultiReader(body)
			}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v1/submissions", r)
			req.Header.Set("Content-Type", ctype)
			if chunked && req.ContentLength != 0 {
				t.Fatalf("ContentLength = %d, want unknown", req.ContentLength)
			}
			res, rb := do(t, req)
			ae := wantError(t, res, rb, http.StatusRequestEntityTooLarge, grader.ETOOLARGE)
			if !strings.Contains(ae.Error.Message, "65536") {
				t.Errorf("message = %q, want the limit", ae.Error.Message)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("413 lacks security headers")
			}
			if n := e.g.count(); n != 0 {
				t.Errorf("grader stored %d submissions, want 0", n)
			}
		})
	}

	// Just under the cap is accepted: the cap is on the body, not lower.
	e := newEnv(t, func(c *Config) { c.MaxUploadBytes = limit })
	files := map[string]string{"shop/views.py": strings.Repeat("#", limit/2)}
	res, body := e.upload(t, validParts("a.tar.gz", tarGzArchive(t, files))...)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status = %d; body %s", res.StatusCode, body)
	}
}

func TestCreateSubmissionGraderErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.g.onSubmit = func(context.Context) error {
		return grader.Errorf(grader.EUNAVAILABLE, "the queue is full")
	}
	res, body := e.upload(t, validParts("a.zip", zipArchive(t, candidateFiles))...)
	ae := wantError(t, res, body, http.StatusServiceUnavailable, grader.EUNAVAILABLE)
	if ae.Error.Message != "the queue is full" || res.Header.Get("Retry-After") == "" {
		t.Errorf("message %q, Retry-After %q", ae.Error.Message, res.Header.Get("Retry-After"))
	}
}

func TestUploadConcurrencyLimit(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	e := newEnv(t, func(c *Config) { c.MaxConcurrentUploads = 1 })
	e.g.onSubmit = func(context.Context) error {
		entered <- struct{}{}
		<-release
		return nil
	}
	archive := zipArchive(t, candidateFiles)
	first := make(chan int, 1)
	go func() {
		body, ctype := multipartBody(t, validParts("a.zip", archive)...)
		res, err := http.Post(e.srv.URL+"/api/v1/submissions", ctype, body)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	<-entered
	res, body := e.upload(t, validParts("a.zip", archive)...)
	wantError(t, res, body, http.StatusServiceUnavailable, grader.EUNAVAILABLE)
	close(release)
	if st := <-first; st != http.StatusAccepted {
		t.Errorf("first upload status = %d, want 202", st)
	}
	// The slot is free again.
	e.g.onSubmit = nil
	if res, body := e.upload(t, validParts("a.zip", archive)...); res.StatusCode != http.StatusAccepted {
		t.Errorf("after release: %d %s", res.StatusCode, body)
	}
}

func doneSubmission() *grader.Submission {
	return &grader.Submission{
		ID:         "sub-9",
		Exercise:   "drf-n-plus-one",
		Candidate:  "Ada",
		Status:     grader.StatusDone,
		CreatedAt:  time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		StartedAt:  time.Date(2025, 3, 1, 10, 0, 1, 0, time.UTC),
		FinishedAt: time.Date(2025, 3, 1, 10, 0, 31, 0, time.UTC),
		Error:      "",
		Refused:    []grader.RefusedFile{{Path: "shop/tests.py", Reason: "not editable"}},
		Attempts:   1,
		Result: &grader.Result{
			Score:      7,
			MaxScore:   10,
			Verdict:    grader.VerdictFailed,
			Reason:     "1 hidden check failed",
			Categories: []grader.CategoryScore{{Name: "correctness", Score: 6, MaxScore: 6}, {Name: "performance", Score: 1, MaxScore: 4}},
			Tests: []grader.TestResult{
				{Name: "List runs a constant number of queries", NodeID: "djgrade_hidden/test_perf.py::test_constant", Hidden: true,
					Category: "performance", Outcome: "failed", Points: 0, MaxPoints: 3, Message: "HIDDEN-ASSERTION: 12 != 3", Queries: 12, Duration: 0.25},
				{Name: "shop/tests.py::test_list", NodeID: "shop/tests.py::test_list", Category: "correctness",
					Outcome: "passed", Points: 6, MaxPoints: 6, Queries: 3, Duration: 0.1},
			},
			Log:      "SANDBOX-LOG",
			Timings:  map[string]int64{"run": 30000},
			ExitCode: 1,
		},
	}
}

func TestGetSubmission(t *testing.T) {
	e := newEnv(t, nil)
	e.g.put(doneSubmission())
	res, body := e.get(t, "/api/v1/submissions/sub-9")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	// The contract: exactly these keys, so an internal field added to a
	// domain type never leaks.
	// failed_checks: every view names the hidden checks not passed.
	wantKeys := []string{"id", "exercise", "candidate", "status", "score", "max_score", "verdict", "reason",
		"created_at", "started_at", "finished_at", "categories", "tests", "refused", "failed_checks"}
	if len(got) != len(wantKeys) {
		t.Errorf("keys = %v, want %v", keys(got), wantKeys)
	}
	for _, k := range wantKeys {
		if _, ok := got[k]; !ok {
			t.Errorf("missing key %q", k)
		}
	}
	if got["score"] != 7.0 || got["max_score"] != 10.0 || got["verdict"] != "failed" || got["status"] != "done" {
		t.Errorf("score fields: %s", body)
	}
	if got["finished_at"] != "2025-03-01T10:00:31Z" {
		t.Errorf("finished_at = %v", got["finished_at"])
	}
	tests := got["tests"].([]any)
	if len(tests) != 2 {
		t.Fatalf("tests = %v", tests)
	}
	hidden := tests[0].(map[string]any)
	wantTestKeys := []string{"name", "node_id", "category", "outcome", "points", "max_points", "message", "queries", "hidden", "duration"}
	if len(hidden) != len(wantTestKeys) {
		t.Errorf("test keys = %v, want %v", keys(hidden), wantTestKeys)
	}
	if hidden["name"] != "List runs a constant number of queries" || hidden["hidden"] != true ||
		hidden["max_points"] != 3.0 || hidden["queries"] != 12.0 || hidden["outcome"] != "failed" {
		t.Errorf("hidden test = %v", hidden)
	}
	// Interviewers are the grader's users: they see hidden messages and
	// node ids (the staff view); logs (at /logs), the run's figures and
	// internals stay out of the document (candidates' views: auth_test.go).
	if !strings.Contains(string(body), "HIDDEN-ASSERTION") || hidden["node_id"] != "djgrade_hidden/test_perf.py::test_constant" {
		t.Errorf("interviewer: hidden message or node id missing: %s", body)
	}
	for _, leak := range []string{"SANDBOX-LOG", "attempts", "exit_code", "timings_ms", `"log"`} {
		if strings.Contains(string(body), leak) {
			t.Errorf("response leaks %q: %s", leak, body)
		}
	}
}

func TestGetSubmissionStates(t *testing.T) {
	e := newEnv(t, nil)
	running := &grader.Submission{ID: "r", Exercise: "drf-n-plus-one", Candidate: "A", Status: grader.StatusRunning,
		CreatedAt: time.Now(), StartedAt: time.Now()}
	failed := &grader.Submission{ID: "f", Exercise: "drf-n-plus-one", Candidate: "A", Status: grader.StatusError,
		CreatedAt: time.Now(), FinishedAt: time.Now(), Error: "docker: /var/run/docker.sock: connection refused"}
	e.g.put(running)
	e.g.put(failed)

	_, body := e.get(t, "/api/v1/submissions/r")
	if !strings.Contains(string(body), `"score":null`) || !strings.Contains(string(body), `"status":"running"`) {
		t.Errorf("running: %s", body)
	}
	_, body = e.get(t, "/api/v1/submissions/f")
	if !strings.Contains(string(body), `"status":"error"`) || strings.Contains(string(body), "docker.sock") ||
		!strings.Contains(string(body), `"error":"`+errorStatusMessage+`"`) {
		t.Errorf("error status must not leak the infrastructure reason: %s", body)
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestGetSubmissionNotFound(t *testing.T) {
	e := newEnv(t, nil)
	for _, path := range []string{
		"/api/v1/submissions/nope",
		"/api/v1/submissions/" + strings.Repeat("a", 200),
		"/api/v1/submissions/%00bad",
	} {
		res, body := e.get(t, path)
		wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t, nil)
	res, body := e.get(t, "/no/such/route")
	ae := wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)
	if ae.Error.Message != "no such route" {
		t.Errorf("message = %q", ae.Error.Message)
	}

	for _, tc := range []struct{ method, path string }{
		{http.MethodDelete, "/api/v1/submissions"},
		{http.MethodPut, "/api/v1/submissions/sub-1"},
		{http.MethodPost, "/api/v1/exercises"},
		{http.MethodPost, "/healthz"},
	} {
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
		res, body := do(t, req)
		wantError(t, res, body, http.StatusMethodNotAllowed, codeMethodNotAllowed)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, nil)
	e.g.put(doneSubmission())
	for _, path := range []string{"/healthz", "/api/v1/exercises", "/api/v1/submissions/sub-9", "/api/v1/submissions/nope", "/nowhere"} {
		res, _ := e.get(t, path)
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": contentSecurityPolicy,
			"Cache-Control":           "no-store",
		} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		if res.Header.Get("X-Request-ID") == "" {
			t.Errorf("%s: no X-Request-ID", path)
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct{ in, want string }{
		{"abc-123.x_y", "abc-123.x_y"},
		{"bad id with spaces", ""},
		{strings.Repeat("a", 65), ""},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/healthz", nil)
		req.Header.Set("X-Request-ID", tc.in)
		res, _ := do(t, req)
		got := res.Header.Get("X-Request-ID")
		if tc.want != "" && got != tc.want || tc.want == "" && (got == tc.in || got == "") {
			t.Errorf("X-Request-ID %q -> %q", tc.in, got)
		}
	}
}

// graderCodes reads every E* error code constant from grader/error.go, so
// that a code added there without a row in statusOf fails this test.
func graderCodes(t *testing.T) map[string]string {
	t.Helper()
	src, err := readGraderErrorFile()
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestErrorTableComplete(t *testing.T) {
	codes := graderCodes(t)
	if len(codes) < 10 {
		t.Fatalf("found only %d codes in grader/error.go: %v", len(codes), codes)
	}
	e := newEnv(t, nil)
	for name, code := range codes {
		status, ok := statusOf[code]
		if !ok {
			t.Errorf("grader.%s (%q) has no row in statusOf", name, code)
			continue
		}
		t.Run(code, func(t *testing.T) {
			e.g.onSubmission = func(context.Context, string) error {
				return grader.Wrap(errors.New("CAUSE-FOR-LOGS-ONLY"), code, "message for %s", code)
			}
			res, body := e.get(t, "/api/v1/submissions/x")
			wantCode := code
			wantMsg := "message for " + code
			if code == grader.EINTERNAL {
				wantMsg = genericMessage
			}
			ae := wantError(t, res, body, status, wantCode)
			if ae.Error.Message != wantMsg {
				t.Errorf("message = %q, want %q", ae.Error.Message, wantMsg)
			}
			if strings.Contains(string(body), "CAUSE-FOR-LOGS-ONLY") {
				t.Errorf("cause leaked: %s", body)
			}
		})
	}
	for code := range statusOf {
		found := false
		for _, c := range codes {
			found = found || c == code
		}
		if !found {
			t.Errorf("statusOf has %q, which grader does not define", code)
		}
	}
}

func TestInternalErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.g.onSubmission = func(_ context.Context, id string) error {
		if id == "panic" {
			panic("PANIC-DETAIL")
		}
		return fmt.Errorf("bolt: open /var/lib/djgrade/SECRET-PATH: %w", errors.New("boom"))
	}
	for _, id := range []string{"plain", "panic"} {
		res, body := e.get(t, "/api/v1/submissions/"+id)
		ae := wantError(t, res, body, http.StatusInternalServerError, grader.EINTERNAL)
		if ae.Error.Message != genericMessage || strings.Contains(string(body), "SECRET-PATH") || strings.Contains(string(body), "PANIC-DETAIL") {
			t.Errorf("%s: body %s", id, body)
		}
		// The cause is in the log, under the request id the client got.
		logs := e.logs.String()
		found := false
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, ae.Error.RequestID) && (strings.Contains(line, "SECRET-PATH") || strings.Contains(line, "PANIC-DETAIL")) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no log line with request id %s and the cause:\n%s", id, ae.Error.RequestID, logs)
		}
	}
	// The server still serves after a panic.
	if res, _ := e.get(t, "/healthz"); res.StatusCode != http.StatusOK {
		t.Errorf("healthz after panic: %d", res.StatusCode)
	}
}

func TestRequestTimeout(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RequestTimeout = 50 * time.Millisecond })
	e.g.onSubmission = func(ctx context.Context, _ string) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
			return grader.Errorf(grader.ECONFLICT, "the context was never cancelled")
		}
	}
	start := time.Now()
	res, body := e.get(t, "/api/v1/submissions/slow")
	wantError(t, res, body, http.StatusServiceUnavailable, grader.EUNAVAILABLE)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHealth(t *testing.T) {
	var ready error
	e := newEnv(t, func(c *Config) {
		c.ReadyCheck = func(context.Context) error { return ready }
	})
	res, body := e.get(t, "/healthz")
	if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Errorf("healthz: %d %s", res.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+"/healthz", nil)
	if res, _ := do(t, req); res.StatusCode != http.StatusOK {
		t.Errorf("HEAD healthz: %d", res.StatusCode)
	}
	res, body = e.get(t, "/readyz")
	if res.StatusCode != http.StatusOK {
		t.Errorf("readyz: %d %s", res.StatusCode, body)
	}
	ready = errors.New("docker: DAEMON-DETAIL")
	res, body = e.get(t, "/readyz")
	wantError(t, res, body, http.StatusServiceUnavailable, grader.EUNAVAILABLE)
	if strings.Contains(string(body), "DAEMON-DETAIL") {
		t.Errorf("readyz leaks the cause: %s", body)
	}
}

func TestExercises(t *testing.T) {
	e := newEnv(t, nil)
	res, body := e.get(t, "/api/v1/exercises")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var list struct {
		Exercises []map[string]any `json:"exercises"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Exercises) != 1 {
		t.Fatalf("list: %v %s", err, body)
	}
	ex := list.Exercises[0]
	for k, want := range map[string]any{
		"id": "drf-n-plus-one", "title": "Fix the N+1", "max_score": 10.0, "difficulty": "medium",
		"time_budget": "45m", "database": "sqlite",
	} {
		if ex[k] != want {
			t.Errorf("%s = %v, want %v", k, ex[k], want)
		}
	}
	if len(ex) != 9 {
		t.Errorf("summary keys = %v", keys(ex))
	}
	if _, ok := ex["prompt"]; ok {
		t.Error("the list carries prompts")
	}

	res, body = e.get(t, "/api/v1/exercises/drf-n-plus-one")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	var detail map[string]any
	if err := json.Unmarshal(body, &detail); err != nil {
		t.Fatal(err)
	}
	if detail["prompt"] != "# Fix the N+1\n\nThe list is slow." || detail["id"] != "drf-n-plus-one" {
		t.Errorf("detail = %s", body)
	}
	if strings.Contains(string(body), "RUBRIC") {
		t.Errorf("detail leaks the rubric: %s", body)
	}

	res, body = e.get(t, "/api/v1/exercises/nope")
	wantError(t, res, body, http.StatusNotFound, grader.ENOTFOUND)
}

// TestServeShutdown serves on a real listener and checks that Shutdown
// waits for a request in flight and that Serve then returns nil.
func TestServeShutdown(t *testing.T) {
	cat := testCatalog()
	g := newFakeGrader(cat)
	g.put(doneSubmission())
	entered := make(chan struct{})
	release := make(chan struct{})
	g.onSubmission = func(context.Context, string) error {
		close(entered)
		<-release
		return nil
	}
	auth, secret := newAuthStore(t, grader.RoleInterviewer)
	s := New(Config{Grader: g, Catalog: cat, Auth: auth})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()

	got := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/api/v1/submissions/sub-9", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- 0
			return
		}
		res.Body.Close()
		got <- res.StatusCode
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	if st := <-got; st != http.StatusOK {
		t.Errorf("in-flight request: status %d", st)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("still accepting connections after Shutdown")
	}
}

// inUse counts the upload slots the limits hold for token ids.
func (l *Limits) inUse() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.active {
		n += v
	}
	return n
}

// TestUploadSlotsPerToken: two slow uploads (bodies that never end) take
// all of one token's slots, not the server's: a third upload with that
// token gets 503, another token's upload goes through, and the slots come
// back when the slow connections end.
func TestUploadSlotsPerToken(t *testing.T) {
	var auth grader.AuthStore
	e := newEnv(t, func(c *Config) { auth = c.Auth })
	other := addToken(t, auth, grader.RoleInterviewer, "other")
	var pipes []*io.PipeWriter
	done := make(chan struct{}, DefaultMaxUploadsPerToken)
	for range DefaultMaxUploadsPerToken {
		pr, pw := io.Pipe()
		pipes = append(pipes, pw)
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+pathSubmissions, pr)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "multipart/form-data; boundary=slow")
		go func() {
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
			done <- struct{}{}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); e.api.limits.inUse() < DefaultMaxUploadsPerToken; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("slow uploads hold %d slots, want %d", e.api.limits.inUse(), DefaultMaxUploadsPerToken)
		}
	}
	archive := zipArchive(t, candidateFiles)
	res, body := e.upload(t, validParts("a.zip", archive)...)
	wantError(t, res, body, http.StatusServiceUnavailable, grader.EUNAVAILABLE)
	if res.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	mp, ctype := multipartBody(t, validParts("a.zip", archive)...)
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+pathSubmissions, mp)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+other)
	if res, body := do(t, req); res.StatusCode != http.StatusAccepted {
		t.Errorf("another token's upload: %d %s", res.StatusCode, body)
	}
	for _, pw := range pipes {
		pw.CloseWithError(errors.New("the slow client gave up"))
	}
	for range pipes {
		<-done
	}
	for deadline := time.Now().Add(5 * time.Second); e.api.limits.inUse() > 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d slots still held after the slow clients left", e.api.limits.inUse())
		}
	}
	if res, body := e.upload(t, validParts("a.zip", archive)...); res.StatusCode != http.StatusAccepted {
		t.Errorf("after the slow clients left: %d %s", res.StatusCode, body)
	}
}
