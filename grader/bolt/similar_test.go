package bolt

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/similar"
)

// TestSimilarityStoreOnDisk seeds a real bbolt file with a catalog
// exercise's answers, records a renamed copy of one through the index,
// reopens the file and checks that the index answers as the in-memory one
// does for the same documents.
func TestSimilarityStoreOnDisk(t *testing.T) {
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := cat.Exercise("n-plus-one")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "djgrade.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := grader.SeedSimilarity(ctx, s, ex); err != nil {
		t.Fatal(err)
	}

	// A candidate's copy of the reference solution: names changed, the
	// comments gone.
	ref, err := grader.OverlayFiles(ex, "solutions/reference")
	if err != nil {
		t.Fatal(err)
	}
	var copied []grader.File
	for _, f := range ref {
		src := string(f.Data)
		var kept []string
		for _, line := range strings.Split(src, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") {
				kept = append(kept, line)
			}
		}
		src = strings.NewReplacer("book_queryset", "all_books", "BookListView", "Books").Replace(strings.Join(kept, "\n"))
		copied = append(copied, grader.File{Path: f.Path, Data: []byte(src)})
	}
	fps, err := grader.SubmissionFingerprints(ex, copied)
	if err != nil || len(fps) == 0 {
		t.Fatalf("fingerprints: %d, %v", len(fps), err)
	}
	matches, err := grader.RecordSimilarity(ctx, s, ex.ID, "sub_1", fps)
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) == 0 || matches[0].Doc != grader.CatalogDoc("solutions/reference") || !matches[0].Flagged() {
		t.Fatalf("best match %+v, want the reference solution, flagged", matches)
	}
	inViews := false
	for _, r := range matches[0].Query {
		inViews = inViews || (r.Path == "library/views.py" && r.Start <= 9 && r.End >= 9)
	}
	if !inViews {
		t.Errorf("regions on the copy's side %+v do not hold all_books (library/views.py:9)", matches[0].Query)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened, the file holds every document and answers as an in-memory
	// index of the same documents.
	s = MustOpenPath(t, path)
	docs, err := s.SimilarityDocuments(ctx, ex.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(grader.AnswerDirs(ex)) + 1; len(docs) != want {
		t.Fatalf("%d documents stored, want %d: %v", len(docs), want, docs)
	}
	mem := similar.NewIndex()
	for _, d := range docs {
		got, err := s.DocumentFingerprints(ctx, ex.ID, d)
		if err != nil {
			t.Fatal(err)
		}
		mem.Put(d, got)
	}
	got, err := s.DocumentFingerprints(ctx, ex.ID, "sub_1")
	if err != nil || !reflect.DeepEqual(got, fps) {
		t.Fatalf("stored fingerprints differ from those put: %v", err)
	}
	for _, d := range docs {
		q, _ := s.DocumentFingerprints(ctx, ex.ID, d)
		onDisk, err := s.SimilarTo(ctx, ex.ID, q)
		if err != nil {
			t.Fatal(err)
		}
		inMem := mem.Query(q)
		for i := range inMem {
			sortFingerprints(inMem[i].Fingerprints)
		}
		for i := range onDisk {
			sortFingerprints(onDisk[i].Fingerprints)
		}
		if !reflect.DeepEqual(onDisk, inMem) {
			t.Errorf("SimilarTo(%s) on disk differs from the in-memory index:\n%+v\n%+v", d, onDisk, inMem)
		}
	}

	// Replacing a document drops its old postings; deleting removes it.
	if err := s.PutFingerprints(ctx, ex.ID, "sub_1", nil); err != nil {
		t.Fatal(err)
	}
	cands, err := s.SimilarTo(ctx, ex.ID, fps)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cands {
		if c.Doc == "sub_1" {
			t.Errorf("sub_1 still found by its old fingerprints: %+v", c)
		}
	}
	if err := s.DeleteFingerprints(ctx, ex.ID, "sub_1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFingerprints(ctx, ex.ID, "sub_1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	_, err = s.DocumentFingerprints(ctx, ex.ID, "sub_1")
	wantCode(t, err, grader.ENOTFOUND)

	// Another exercise's index is its own.
	if cands, err := s.SimilarTo(ctx, "oversell", fps); err != nil || len(cands) != 0 {
		t.Errorf("an exercise with no documents answered %+v, %v", cands, err)
	}
	wantCode(t, s.PutFingerprints(ctx, "", "sub_2", fps), grader.EINVALID)
	wantCode(t, s.PutFingerprints(ctx, ex.ID, "", fps), grader.EINVALID)
}

func sortFingerprints(fps []similar.Fingerprint) {
	sort.Slice(fps, func(i, j int) bool {
		a, b := fps[i], fps[j]
		if a.Hash != b.Hash {
			return a.Hash < b.Hash
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Start < b.Start
	})
}
