package similar

import "sort"

// Thresholds for flagging a pair (see Match.Flagged), chosen on
// TestMeasureDisguisedCopies. Copies disguised without touching the code's
// tokens score 1; with a do-nothing statement inserted before one
// statement in four, 0.68 at the 5th percentile. Independent solutions of
// one exercise score 0.20 at the median and 0.40 at most, so 0.5 sits
// between (0.4 flags one independent pair; 0.6 catches 98.4% of the
// copies instead of 99.0%). A pair must also share MinShared fingerprints
// so that two tiny answers are not flagged for one common line; 3 and 4
// catch the same copies, 6 leaves the smallest answers out.
const (
	MinScore  = 0.5
	MinShared = 4
)

// Candidate is a stored document as an index returns it for a query: the
// fingerprints of it whose hashes the query holds, and its size.
type Candidate struct {
	Doc string `json:"doc"`
	// Size is the number of distinct hashes of the whole document.
	Size int `json:"size"`
	// Fingerprints are those of the document whose hash is among the query's.
	Fingerprints []Fingerprint `json:"fingerprints"`
}

// Region is a range of lines of one file, inclusive and 1-based.
type Region struct {
	Path  string `json:"path"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Match is how much of a pair of documents is shared, and where.
type Match struct {
	// Doc is the other document's id.
	Doc string `json:"doc"`
	// Score is Shared over the smaller document's size: 1 when every
	// fingerprint of the smaller one is in the other.
	Score float64 `json:"score"`
	// Shared is the number of distinct hashes the two hold in common.
	Shared int `json:"shared"`
	// Sizes of the query document and of the other one.
	QuerySize int `json:"query_size"`
	OtherSize int `json:"other_size"`
	// Query and Other are the matching regions, merged, on each side,
	// ordered by path and line.
	Query []Region `json:"query"`
	Other []Region `json:"other"`
}

// Flagged reports whether the pair is likely a copy: a score of MinScore or
// more over at least MinShared shared fingerprints.
func (m Match) Flagged() bool { return m.Score >= MinScore && m.Shared >= MinShared }

// Score compares a query document's fingerprints with a candidate.
func Score(query []Fingerprint, c Candidate) Match {
	other := map[uint64]bool{}
	for _, f := range c.Fingerprints {
		other[f.Hash] = true
	}
	shared := map[uint64]bool{}
	var q []Fingerprint
	for _, f := range query {
		if other[f.Hash] {
			shared[f.Hash] = true
			q = append(q, f)
		}
	}
	var o []Fingerprint
	for _, f := range c.Fingerprints {
		if shared[f.Hash] {
			o = append(o, f)
		}
	}
	m := Match{Doc: c.Doc, Shared: len(shared), QuerySize: Size(query), OtherSize: c.Size,
		Query: Regions(q), Other: Regions(o)}
	if small := min(m.QuerySize, m.OtherSize); small > 0 {
		m.Score = float64(m.Shared) / float64(small)
	}
	return m
}

// Compare scores two whole documents, a query and another named doc.
func Compare(query []Fingerprint, doc string, other []Fingerprint) Match {
	return Score(query, Candidate{Doc: doc, Size: Size(other), Fingerprints: other})
}

// Regions merges the line ranges of fingerprints into regions per file:
// overlapping or adjacent ranges become one.
func Regions(fps []Fingerprint) []Region {
	rs := make([]Region, len(fps))
	for i, f := range fps {
		rs[i] = Region{Path: f.Path, Start: f.Start, End: f.End}
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Path != rs[j].Path {
			return rs[i].Path < rs[j].Path
		}
		return rs[i].Start < rs[j].Start
	})
	var out []Region
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].Path == r.Path && r.Start <= out[n-1].End+1 {
			out[n-1].End = max(out[n-1].End, r.End)
			continue
		}
		out = append(out, r)
	}
	return out
}
