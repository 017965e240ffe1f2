package similar

import "sort"

// Index is an in-memory index from fingerprint hash to the documents that
// hold it, for one exercise: a new document is compared through it with
// the documents sharing a hash only. grader/bolt keeps the same index on
// disk (grader.SimilarityStore); this one serves tests and one-off runs.
// It is not safe for concurrent use.
type Index struct {
	docs     map[string][]Fingerprint
	postings map[uint64]map[string][]Fingerprint
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{docs: map[string][]Fingerprint{}, postings: map[uint64]map[string][]Fingerprint{}}
}

// Put replaces the fingerprints of doc.
func (x *Index) Put(doc string, fps []Fingerprint) {
	x.Delete(doc)
	x.docs[doc] = fps
	for _, f := range fps {
		p := x.postings[f.Hash]
		if p == nil {
			p = map[string][]Fingerprint{}
			x.postings[f.Hash] = p
		}
		p[doc] = append(p[doc], f)
	}
}

// Delete removes doc, if it is there.
func (x *Index) Delete(doc string) {
	for _, f := range x.docs[doc] {
		delete(x.postings[f.Hash], doc)
		if len(x.postings[f.Hash]) == 0 {
			delete(x.postings, f.Hash)
		}
	}
	delete(x.docs, doc)
}

// Query returns every document holding one of the hashes of fps, with the
// fingerprints of it that hold them, ordered by document id. A stored
// document that is the query itself is among them.
func (x *Index) Query(fps []Fingerprint) []Candidate {
	byDoc := map[string]*Candidate{}
	seen := map[uint64]bool{}
	for _, f := range fps {
		if seen[f.Hash] {
			continue
		}
		seen[f.Hash] = true
		for doc, held := range x.postings[f.Hash] {
			c := byDoc[doc]
			if c == nil {
				c = &Candidate{Doc: doc, Size: Size(x.docs[doc])}
				byDoc[doc] = c
			}
			c.Fingerprints = append(c.Fingerprints, held...)
		}
	}
	out := make([]Candidate, 0, len(byDoc))
	for _, c := range byDoc {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Doc < out[j].Doc })
	return out
}

// Rank scores the query against each candidate but the one named self and
// returns the matches, highest score first (then by document id).
func Rank(query []Fingerprint, cands []Candidate, self string) []Match {
	var out []Match
	for _, c := range cands {
		if c.Doc == self {
			continue
		}
		out = append(out, Score(query, c))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Doc < out[j].Doc
	})
	return out
}
