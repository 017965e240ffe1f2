// Package similar finds copied code among answers to one exercise, the way
// MOSS does: it normalises Python tokens, hashes every k-gram of the
// normalised stream and keeps a winnowed subset of the hashes as the
// document's fingerprints (Schleimer, Wilkerson and Aiken, "Winnowing: local
// algorithms for document fingerprinting", SIGMOD 2003). Two answers that
// share many fingerprints share long runs of code up to renaming,
// reordering, comments and layout.
//
// What survives a disguise:
//
//   - Renaming: an identifier the submission binds (def, class, parameter,
//     assignment, for and as targets, self.attribute = ...) becomes one
//     token class wherever it appears, in all of the submission's files; an
//     import alias reads as the name imported. Keywords, keyword-argument
//     names and names the submission does not bind (the framework's API,
//     builtins, the starter's models) are kept, since no rename that keeps
//     the code working changes them, and they tell answers apart.
//   - Reordering: k-grams never cross a region (a function or method with
//     its decorators, a class header with the attributes before its first
//     method, one module-level statement), winnowing runs per region, and
//     fingerprints are compared as sets of hashes, so moving functions,
//     classes or methods changes no fingerprint.
//   - Comments, docstrings (any statement that is only a string), blank
//     lines, indentation width, spacing, line breaks inside brackets and
//     the quotes of strings never reach a token; string and number
//     literals become one class each.
//
// Code the candidate was given is no evidence: Fingerprints drops every
// fingerprint whose k-gram occurs anywhere in the starter's editable files.
//
// Each fingerprint keeps its file and line range, so a match is shown as
// merged line ranges on each side. The package takes plain values and
// knows nothing of exercises, submissions or stores; grader.SimilarityStore
// is the index that compares a new document against the stored ones.
package similar

import (
	"hash/fnv"
	"sort"
)

// Source is one file of a document: its clean slash path and content. Only
// paths ending in .py are read.
type Source struct {
	Path string
	Data []byte
}

// Parameters of the fingerprints. Answers here are short (a changed
// function or two over a starter), so the k-gram is short too.
//
// K is the k-gram length in normalised tokens: 12 tokens is about one line
// of Python (`book = Book.objects.get(pk=pk)` is 13 with its end of line),
// long enough that idioms every answer uses do not match alone, short
// enough that a three-line function yields several fingerprints.
//
// Window is the winnowing window: of every Window consecutive k-gram
// hashes the smallest is kept. Winnowing guarantees that any shared run of
// at least Window+K-1 tokens (here 15, a line and a bit) yields at least
// one shared fingerprint, and keeps about 2/(Window+1) of the hashes.
//
// Both were chosen on TestMeasureDisguisedCopies, with MinScore 0.5 and
// MinShared 4 (caught copies; flagged independent solution pairs; highest
// independent score):
//
//	K=8  W=4   99.5%, 1 of 18, 0.53 (12 copies too small to judge)
//	K=10 W=4   99.4%, 1 of 18, 0.51 (12 too small)
//	K=12 W=4   99.0%, 0 of 18, 0.40
//	K=12 W=3   99.1%, 0 of 18, 0.44
//	K=12 W=6   98.9%, 0 of 18, 0.48 (12 too small)
//	K=15 W=4   98.6%, 0 of 18, 0.44 (12 too small)
//	K=20 W=4   94.9%, 1 of 18, 0.54 (24 too small)
//
// Shorter grams make two independent answers share idioms; longer ones
// leave the smallest answers too few fingerprints to judge and lose the
// copies that have statements inserted.
const (
	K      = 12
	Window = 4
)

// Fingerprint is one selected k-gram hash and where its k-gram lies.
type Fingerprint struct {
	Hash uint64 `json:"h"`
	Path string `json:"p"`
	// Start and End are the 1-based lines of the k-gram's first and last
	// token, inclusive.
	Start int `json:"s"`
	End   int `json:"e"`
}

// Fingerprints returns a document's fingerprints, with every one whose
// k-gram occurs anywhere in starter (the exercise's starter versions of the
// editable files; nil for none) removed. They are ordered by path and line.
func Fingerprints(files, starter []Source) []Fingerprint {
	given := map[uint64]bool{}
	for _, r := range normalise(starter) {
		for _, h := range grams(r) {
			given[h] = true
		}
	}
	var out []Fingerprint
	for _, r := range normalise(files) {
		hs := grams(r)
		for _, i := range winnow(hs) {
			if given[hs[i]] {
				continue
			}
			out = append(out, Fingerprint{Hash: hs[i], Path: r.path, Start: r.toks[i].line, End: r.toks[i+K-1].until})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Start < out[j].Start
	})
	return out
}

// grams returns the hash of every k-gram of a region, in order; a region
// shorter than K has none.
func grams(r region) []uint64 {
	if len(r.toks) < K {
		return nil
	}
	out := make([]uint64, 0, len(r.toks)-K+1)
	for i := 0; i+K <= len(r.toks); i++ {
		h := fnv.New64a()
		for _, t := range r.toks[i : i+K] {
			h.Write([]byte(t.text))
			h.Write([]byte{0})
		}
		out = append(out, h.Sum64())
	}
	return out
}

// winnow returns the positions of the hashes selected by winnowing: in each
// window of Window consecutive hashes the smallest, the rightmost one on a
// tie, each position once. A region with fewer hashes than a window keeps
// its smallest, so that no region with a k-gram goes unrepresented.
func winnow(hs []uint64) []int {
	if len(hs) == 0 {
		return nil
	}
	w := min(Window, len(hs))
	var out []int
	last := -1
	for s := 0; s+w <= len(hs); s++ {
		m := s
		for i := s + 1; i < s+w; i++ {
			if hs[i] <= hs[m] {
				m = i
			}
		}
		if m != last {
			out = append(out, m)
			last = m
		}
	}
	return out
}

// Size is the number of distinct hashes among fps: a document's size in
// the score.
func Size(fps []Fingerprint) int {
	seen := map[uint64]bool{}
	for _, f := range fps {
		seen[f.Hash] = true
	}
	return len(seen)
}
