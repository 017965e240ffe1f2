package grader

import (
	"context"
	"slices"
	"strings"

	"github.com/djgrade/djgrade/grader/similar"
)

// The service's side of similarity: every graded submission is
// fingerprinted once, when it is done, into Config.Similarity; staff read
// its flagged pairs (Similar) and an exercise's (ExerciseSimilar) through
// the index. A candidate never sees any of it.

// SimilarMatch is a flagged pair as staff see it from one submission: the
// other side is another submission (Submission set) or one of the
// catalog's answers (Catalog, "solutions/reference"), whose code is never
// shown, only named.
type SimilarMatch struct {
	similar.Match
	Submission *Submission `json:"submission,omitempty"`
	Catalog    string      `json:"catalog,omitempty"`
}

// SimilarPair is a flagged pair of an exercise: two submissions, or a
// submission and a catalog answer; Match is from A's side.
type SimilarPair struct {
	A *Submission `json:"a"`
	B *Submission `json:"b,omitempty"`
	// Catalog names B when it is a catalog answer.
	Catalog string        `json:"catalog,omitempty"`
	Match   similar.Match `json:"match"`
}

// SeedSimilarity stores the fingerprints of every catalog exercise's
// answers (idempotent: each answer's are replaced), so that submissions are
// compared with them from the first. Without Config.Similarity it does
// nothing.
func (s *Service) SeedSimilarity(ctx context.Context) error {
	if s.Similarity == nil {
		return nil
	}
	for _, ex := range s.Catalog.Exercises() {
		if err := SeedSimilarity(ctx, s.Similarity, ex); err != nil {
			return err
		}
	}
	return nil
}

// BackfillSimilarity fingerprints every done submission of the store that
// the index does not hold yet (those graded before it existed), newest
// first, and returns how many it stored. serve runs it once at start-up,
// in the background; a submission graded meanwhile is fingerprinted by its
// worker.
func (s *Service) BackfillSimilarity(ctx context.Context) (int, error) {
	if s.Similarity == nil {
		return 0, nil
	}
	n, before := 0, ""
	for {
		page, err := s.Store.ListSubmissions(ctx, SubmissionFilter{Status: StatusDone, Before: before, Limit: 100})
		if err != nil {
			return n, err
		}
		for _, sub := range page {
			if _, err := s.Similarity.DocumentFingerprints(ctx, sub.Exercise, sub.ID); ErrorCode(err) != ENOTFOUND {
				continue
			}
			if _, err := s.fingerprints(ctx, sub); err != nil {
				return n, err
			}
			n++
		}
		if len(page) < 100 {
			return n, nil
		}
		before = page[len(page)-1].ID
	}
}

// fingerprint stores the fingerprints of a done submission; a failure is
// logged, never the candidate's grade.
func (s *Service) fingerprint(ctx context.Context, sub *Submission) {
	if s.Similarity == nil || sub.Status != StatusDone {
		return
	}
	if _, err := s.fingerprints(ctx, sub); err != nil {
		s.Logger.Warn("similarity: fingerprint", "submission", sub.ID, "err", err)
	}
}

// fingerprints returns the submission's stored fingerprints, computing and
// storing them first if they are not (a submission graded before the index
// existed).
func (s *Service) fingerprints(ctx context.Context, sub *Submission) ([]similar.Fingerprint, error) {
	fps, err := s.Similarity.DocumentFingerprints(ctx, sub.Exercise, sub.ID)
	if ErrorCode(err) != ENOTFOUND {
		return fps, err
	}
	ex, err := s.Catalog.Exercise(sub.Exercise)
	if err != nil {
		return nil, err
	}
	files, err := s.Store.SubmissionFiles(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	if fps, err = SubmissionFingerprints(ex, files); err != nil {
		return nil, err
	}
	return fps, s.Similarity.PutFingerprints(ctx, sub.Exercise, sub.ID, fps)
}

// Similar returns the flagged pairs of a done submission, best first:
// other submissions and catalog answers that share at least
// similar.MinScore of the smaller side's fingerprints. The candidate's own
// other submissions are left out (resubmissions resemble each other).
func (s *Service) Similar(ctx context.Context, id string) ([]SimilarMatch, error) {
	if s.Similarity == nil {
		return nil, Errorf(EUNAVAILABLE, "this server keeps no similarity index")
	}
	sub, err := s.Store.Submission(ctx, id)
	if err != nil {
		return nil, err
	}
	if sub.Status != StatusDone {
		return []SimilarMatch{}, nil
	}
	fps, err := s.fingerprints(ctx, sub)
	if err != nil {
		return nil, err
	}
	cands, err := s.Similarity.SimilarTo(ctx, sub.Exercise, fps)
	if err != nil {
		return nil, err
	}
	out := []SimilarMatch{}
	for _, m := range similar.Rank(fps, cands, sub.ID) {
		if !m.Flagged() {
			continue
		}
		if dir, ok := strings.CutPrefix(m.Doc, CatalogDocPrefix); ok {
			out = append(out, SimilarMatch{Match: m, Catalog: dir})
			continue
		}
		other, err := s.Store.Submission(ctx, m.Doc)
		if ErrorCode(err) == ENOTFOUND {
			continue // deleted since
		} else if err != nil {
			return nil, err
		}
		if sameCandidate(sub, other) {
			continue
		}
		out = append(out, SimilarMatch{Match: m, Submission: other})
	}
	return out, nil
}

// sameCandidate reports whether two submissions are one candidate's: the
// same assignment, or the same name in any case.
func sameCandidate(a, b *Submission) bool {
	if a.Assignment != "" && a.Assignment == b.Assignment {
		return true
	}
	return a.Candidate != "" && strings.EqualFold(strings.TrimSpace(a.Candidate), strings.TrimSpace(b.Candidate))
}

// ExerciseSimilar returns the exercise's flagged pairs, each once, best
// first.
func (s *Service) ExerciseSimilar(ctx context.Context, exercise string) ([]SimilarPair, error) {
	if s.Similarity == nil {
		return nil, Errorf(EUNAVAILABLE, "this server keeps no similarity index")
	}
	if _, err := s.Catalog.Exercise(exercise); err != nil {
		return nil, err
	}
	docs, err := s.Similarity.SimilarityDocuments(ctx, exercise)
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	out := []SimilarPair{}
	for _, doc := range docs {
		if strings.HasPrefix(doc, CatalogDocPrefix) {
			continue
		}
		matches, err := s.Similar(ctx, doc)
		if ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		for _, m := range matches {
			key := [2]string{doc, m.Doc}
			if key[0] > key[1] {
				key[0], key[1] = key[1], key[0]
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			a, _ := s.Store.Submission(ctx, doc)
			out = append(out, SimilarPair{A: a, B: m.Submission, Catalog: m.Catalog, Match: m.Match})
		}
	}
	slices.SortStableFunc(out, func(x, y SimilarPair) int {
		switch {
		case x.Match.Score > y.Match.Score:
			return -1
		case x.Match.Score < y.Match.Score:
			return 1
		}
		return 0
	})
	return out, nil
}
