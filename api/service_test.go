package api

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
)

// TestWithService runs the API over the real grader.Service, a bbolt store
// in a temporary file and the embedded exercise catalog: a reference solution zipped from the catalog
// is accepted, and an archive with nothing editable is refused by the
// service with a 400.
func TestWithService(t *testing.T) {
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		t.Skipf("exercise n-plus-one not in the catalog: %v", err)
	}
	files := map[string]string{}
	err = fs.WalkDir(ex.FS, "solutions/reference", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(ex.FS, p)
		files[p[len("solutions/reference/"):]] = string(b)
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("read reference solution: %v (%d files)", err, len(files))
	}

	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := grader.NewService(grader.Config{Store: store, Catalog: cat, Logger: slog.New(slog.DiscardHandler)})
	secret := addToken(t, store, grader.RoleInterviewer, "interviewer")
	srv := httptest.NewServer(withBearer(New(Config{Grader: svc, Catalog: cat, Auth: store}).Handler(), secret))
	t.Cleanup(srv.Close)
	e := &env{srv: srv}

	res, body := e.upload(t,
		part{name: "exercise", data: []byte("n-plus-one")},
		part{name: "candidate", data: []byte("Grace Hopper")},
		part{name: "archive", filename: "solution.tar.gz", data: tarGzArchive(t, files)})
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var sub struct{ ID, Status, Exercise string }
	if err := json.Unmarshal(body, &sub); err != nil || sub.ID == "" || sub.Status != "queued" || sub.Exercise != "n-plus-one" {
		t.Fatalf("submission %+v (%v): %s", sub, err, body)
	}
	stored, err := store.SubmissionFiles(context.Background(), sub.ID)
	if err != nil || len(stored) != len(files) {
		t.Errorf("store holds %d files (%v), want %d", len(stored), err, len(files))
	}
	for _, f := range stored {
		if files[f.Path] != string(f.Data) {
			t.Errorf("stored %s differs from the upload", f.Path)
		}
	}
	res, body = e.get(t, "/api/v1/submissions/"+sub.ID)
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET: %d %s", res.StatusCode, body)
	}

	res, body = e.upload(t,
		part{name: "exercise", data: []byte("n-plus-one")},
		part{name: "candidate", data: []byte("Grace Hopper")},
		part{name: "archive", filename: "a.zip", data: zipArchive(t, map[string]string{"notes.txt": "hello"})})
	wantError(t, res, body, http.StatusBadRequest, grader.EINVALID)

	res, body = e.get(t, "/api/v1/exercises/n-plus-one")
	if res.StatusCode != http.StatusOK {
		t.Errorf("exercise detail: %d %s", res.StatusCode, body)
	}
	var detail map[string]any
	if err := json.Unmarshal(body, &detail); err != nil || detail["prompt"] == "" || detail["time_budget"] != "45m" {
		t.Errorf("detail %v: %s", err, body)
	}
}
