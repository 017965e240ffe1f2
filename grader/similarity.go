package grader

import (
	"context"
	"io/fs"
	"sort"
	"strings"

	"github.com/djgrade/djgrade/grader/similar"
)

// SimilarityStore is the index of similarity fingerprints (see package
// similar), kept per exercise: fingerprint hash -> the documents that hold
// it. A document is a submission (its id) or one of the catalog's answers
// (CatalogDoc). A new submission is fingerprinted once, stored, and
// compared through the index with the documents that share a hash, not
// with every document again. Each call is one transaction.
type SimilarityStore interface {
	// PutFingerprints replaces the fingerprints stored for doc.
	PutFingerprints(ctx context.Context, exercise, doc string, fps []similar.Fingerprint) error
	// SimilarTo returns every document of the exercise that holds one of
	// the hashes of fps: those of its fingerprints and its size, ordered by
	// document id. It reads the index entries of those hashes only. The
	// query's own document, if stored, is among them.
	SimilarTo(ctx context.Context, exercise string, fps []similar.Fingerprint) ([]similar.Candidate, error)
	// DocumentFingerprints returns the fingerprints stored for doc, or
	// ENOTFOUND.
	DocumentFingerprints(ctx context.Context, exercise, doc string) ([]similar.Fingerprint, error)
	// DeleteFingerprints removes doc from the index; a document not stored
	// is no error.
	DeleteFingerprints(ctx context.Context, exercise, doc string) error
	// SimilarityDocuments returns the ids of the exercise's stored
	// documents, in order.
	SimilarityDocuments(ctx context.Context, exercise string) ([]string, error)
}

// CatalogDocPrefix starts the id of a catalog answer in a SimilarityStore,
// which no submission id does.
const CatalogDocPrefix = "catalog:"

// CatalogDoc is the document id of a catalog answer folder, such as
// "solutions/reference".
func CatalogDoc(dir string) string { return CatalogDocPrefix + dir }

// SimilarityFiles returns what the similarity check reads of a candidate's
// files: every editable Python file of the exercise, the candidate's
// version where there is one and the starter's elsewhere (so that a file
// left out reads as the starter's, whatever the upload held), and the
// starter's versions of those files, which package similar subtracts.
func SimilarityFiles(ex *Exercise, candidate []File) (doc, starter []similar.Source, err error) {
	start, err := StarterFiles(ex)
	if err != nil {
		return nil, nil, err
	}
	byPath := map[string][]byte{}
	for _, f := range start {
		if ex.IsEditable(f.Path) && strings.HasSuffix(f.Path, ".py") {
			byPath[f.Path] = f.Data
			starter = append(starter, similar.Source{Path: f.Path, Data: f.Data})
		}
	}
	for _, f := range candidate {
		if ex.IsEditable(f.Path) && strings.HasSuffix(f.Path, ".py") {
			byPath[f.Path] = f.Data
		}
	}
	for p, data := range byPath {
		doc = append(doc, similar.Source{Path: p, Data: data})
	}
	sort.Slice(doc, func(i, j int) bool { return doc[i].Path < doc[j].Path })
	sort.Slice(starter, func(i, j int) bool { return starter[i].Path < starter[j].Path })
	return doc, starter, nil
}

// SubmissionFingerprints fingerprints a candidate's files for an exercise.
func SubmissionFingerprints(ex *Exercise, candidate []File) ([]similar.Fingerprint, error) {
	doc, starter, err := SimilarityFiles(ex, candidate)
	if err != nil {
		return nil, err
	}
	return similar.Fingerprints(doc, starter), nil
}

// RecordSimilarity stores doc's fingerprints and returns its matches with
// every other document of the exercise that shares a hash with it, best
// first. Whether a match is a likely copy is Match.Flagged.
func RecordSimilarity(ctx context.Context, st SimilarityStore, exercise, doc string, fps []similar.Fingerprint) ([]similar.Match, error) {
	if err := st.PutFingerprints(ctx, exercise, doc, fps); err != nil {
		return nil, err
	}
	cands, err := st.SimilarTo(ctx, exercise, fps)
	if err != nil {
		return nil, err
	}
	return similar.Rank(fps, cands, doc), nil
}

// SeedSimilarity stores the fingerprints of every solution and variant
// folder of the exercise (those kept for reference too), as CatalogDoc
// documents, so that submissions are compared with the catalog's answers
// as with each other's.
func SeedSimilarity(ctx context.Context, st SimilarityStore, ex *Exercise) error {
	for _, dir := range AnswerDirs(ex) {
		files, err := OverlayFiles(ex, dir)
		if err != nil {
			return Wrap(err, EINTERNAL, "read %s of exercise %s", dir, ex.ID)
		}
		fps, err := SubmissionFingerprints(ex, files)
		if err != nil {
			return Wrap(err, EINTERNAL, "fingerprint %s of exercise %s", dir, ex.ID)
		}
		if err := st.PutFingerprints(ctx, ex.ID, CatalogDoc(dir), fps); err != nil {
			return err
		}
	}
	return nil
}

// AnswerDirs returns the exercise's answer folders, "solutions/<name>" then
// "variants/<name>", each in name order: every folder, listed in the
// manifest's variants or kept for reference.
func AnswerDirs(ex *Exercise) []string {
	var out []string
	for _, kind := range []string{"solutions", "variants"} {
		entries, _ := fs.ReadDir(ex.FS, kind) // an exercise may have none
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, kind+"/"+e.Name())
			}
		}
	}
	return out
}
