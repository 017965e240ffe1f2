package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/similar"
)

// The similarity pages, for staff only (a candidate gets 404 from the
// staff wrapper, as for every dashboard page): the flagged pairs of a
// submission (a section of its page), of an exercise (a section of its
// page), and one pair side by side with the matching lines highlighted.
// The pairs, their scores and their regions are the service's
// (grader.Service.Similar); the pages only lay them out. A catalog answer
// is named, never shown.

// Similarity is what the similarity pages need of the grading service
// (*grader.Service implements it).
type Similarity interface {
	// Similar returns a submission's flagged pairs, best first.
	Similar(ctx context.Context, id string) ([]grader.SimilarMatch, error)
	// ExerciseSimilar returns an exercise's flagged pairs, each once.
	ExerciseSimilar(ctx context.Context, exercise string) ([]grader.SimilarPair, error)
}

// Bounds of what the similarity pages show.
const (
	// maxPairsShown caps the rows of an exercise's list of pairs.
	maxPairsShown = 200
	// maxPairLines caps the lines of one file on the pair page.
	maxPairLines = 5000
	// matchColours is the number of highlight colours (app.css .m0 ...);
	// matching blocks take them in turn.
	matchColours = 6
)

// similarRow is one flagged pair in a list: the submission the list is
// about (A, on an exercise's list) and the other side, a submission or a
// catalog answer (named only).
type similarRow struct {
	A       *grader.Submission
	B       *grader.Submission
	Catalog string
	Match   similar.Match
	// Href is the pair's side-by-side page.
	Href string
}

// Percent is the pair's score as people read it ("87%"), rounded down so
// that a pair short of a whole copy never reads 100%.
func (r similarRow) Percent() string { return percent(r.Match.Score) }

// Lines counts the lines of the regions on A's side.
func (r similarRow) Lines() int { return regionLines(r.Match.Query) }

// Files names the files of the regions on A's side, each once.
func (r similarRow) Files() []string { return regionFiles(r.Match.Query) }

func percent(score float64) string { return strconv.Itoa(int(score*100)) + "%" }

func regionLines(rs []similar.Region) int {
	n := 0
	for _, r := range rs {
		n += r.End - r.Start + 1
	}
	return n
}

func regionFiles(rs []similar.Region) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Path) {
			out = append(out, r.Path)
		}
	}
	return out
}

// similarSection is the "Similar submissions" section of a page: the rows,
// or why there are none.
type similarSection struct {
	// Off: the server keeps no similarity index; the section is left out.
	Off bool
	// Pending: the submission is not graded yet, so not compared.
	Pending bool
	// Error is shown instead of the rows when the index could not be read.
	Error string
	Rows  []similarRow
	// More counts the pairs left out of Rows (maxPairsShown).
	More int
	// Both: the list is an exercise's, each row naming both sides.
	Both bool
}

// pairHref is the side-by-side page of a pair seen from submission id.
func pairHref(id string, m grader.SimilarMatch) string {
	base := Prefix + "/submissions/" + url.PathEscape(id) + "/similar/"
	if m.Catalog != "" {
		kind, name, _ := strings.Cut(m.Catalog, "/")
		return base + "catalog/" + url.PathEscape(kind) + "/" + url.PathEscape(name)
	}
	return base + url.PathEscape(m.Submission.ID)
}

// similarOf is the section of a submission's page. A failure to read the
// index is shown in the section and logged; it never costs the page.
func (h *Handler) similarOf(ctx context.Context, sub *grader.Submission) *similarSection {
	if h.cfg.Similarity == nil {
		return &similarSection{Off: true}
	}
	if sub.Status != grader.StatusDone {
		return &similarSection{Pending: true}
	}
	matches, err := h.cfg.Similarity.Similar(ctx, sub.ID)
	switch {
	case grader.ErrorCode(err) == grader.EUNAVAILABLE:
		return &similarSection{Off: true}
	case err != nil:
		h.log.Error("web: similarity", "submission", sub.ID, "err", err)
		return &similarSection{Error: "The similarity index could not be read; reload the page to try again."}
	}
	s := &similarSection{}
	for _, m := range matches {
		s.Rows = append(s.Rows, similarRow{A: sub, B: m.Submission, Catalog: m.Catalog, Match: m.Match, Href: pairHref(sub.ID, m)})
	}
	return s
}

// exerciseSimilarOf is the section of an exercise's page.
func (h *Handler) exerciseSimilarOf(ctx context.Context, exercise string) *similarSection {
	if h.cfg.Similarity == nil {
		return &similarSection{Off: true}
	}
	pairs, err := h.cfg.Similarity.ExerciseSimilar(ctx, exercise)
	switch {
	case grader.ErrorCode(err) == grader.EUNAVAILABLE:
		return &similarSection{Off: true}
	case err != nil:
		h.log.Error("web: similarity", "exercise", exercise, "err", err)
		return &similarSection{Error: "The similarity index could not be read; reload the page to try again."}
	}
	s := &similarSection{Both: true}
	for _, p := range pairs {
		if p.A == nil {
			continue // deleted since
		}
		if len(s.Rows) == maxPairsShown {
			s.More++
			continue
		}
		m := grader.SimilarMatch{Match: p.Match, Submission: p.B, Catalog: p.Catalog}
		s.Rows = append(s.Rows, similarRow{A: p.A, B: p.B, Catalog: p.Catalog, Match: p.Match, Href: pairHref(p.A.ID, m)})
	}
	return s
}

// pairLine is one line of a file on the pair page; Block is the matching
// block it is part of (1-based, 0 for none) and Anchor the id of the
// block's first line on this side.
type pairLine struct {
	N      int
	Text   string
	Block  int
	Colour int
	Anchor string
	// Jump is the anchor of the block's first line on the other side, set
	// on the first line of a block.
	Jump string
}

// pairFile is one file of one side.
type pairFile struct {
	// Side is "left" or "right"; Who is that side's candidate.
	Side, Who string
	Path      string
	Lines     []pairLine
	Truncated bool
	// Missing: the side has no such file.
	Missing bool
}

// pairBlock is one matching block: regions of each side that share
// fingerprints (one function on the left may match two merged ranges on
// the right), numbered in the order of the left side.
type pairBlock struct {
	N, Colour   int
	Left, Right []similar.Region
	// Shared counts the distinct fingerprints the block's regions share.
	Shared int
}

// pairRow is the left and right file of one path.
type pairRow struct {
	Path        string
	Left, Right pairFile
}

type pairData struct {
	Sub, Other *grader.Submission
	Catalog    string
	Exercise   *grader.Exercise
	Match      similar.Match
	Blocks     []pairBlock
	Rows       []pairRow
}

// Percent is the pair's score ("87%").
func (d *pairData) Percent() string { return percent(d.Match.Score) }

// Smaller is the size, in fingerprints, of the smaller side: the score is
// Shared over it.
func (d *pairData) Smaller() int { return min(d.Match.QuerySize, d.Match.OtherSize) }

// similarPair shows one flagged pair side by side.
func (h *Handler) similarPair(w http.ResponseWriter, r *http.Request) {
	other := r.PathValue("other")
	catalog := ""
	if r.PathValue("kind") != "" {
		catalog = r.PathValue("kind") + "/" + r.PathValue("name")
		other = grader.CatalogDoc(catalog)
	}
	d, err := h.pair(r.Context(), r.PathValue("id"), other, catalog)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	title := "Similarity: " + d.Sub.Candidate + " and "
	if d.Other != nil {
		title += d.Other.Candidate
	} else {
		title += "the catalog's " + d.Catalog
	}
	h.render(w, r, http.StatusOK, "similar", &page{Title: title, Nav: "submissions", Data: d})
}

// errNotFlagged answers a pair page of two submissions that are not a
// flagged pair (only those are shown).
var errNotFlagged = grader.Errorf(grader.ENOTFOUND, "these two are not a flagged pair: only pairs listed under a submission's similar submissions have a page")

// pair reads the flagged pair of submission id and doc (another
// submission's id, or the catalog's document of the answer folder catalog)
// and lays out both sides.
func (h *Handler) pair(ctx context.Context, id, doc, catalog string) (*pairData, error) {
	if h.cfg.Similarity == nil {
		return nil, grader.Errorf(grader.EUNAVAILABLE, "this server keeps no similarity index")
	}
	sub, err := h.cfg.Grader.Submission(ctx, id)
	if err != nil {
		return nil, err
	}
	matches, err := h.cfg.Similarity.Similar(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(matches, func(m grader.SimilarMatch) bool { return m.Doc == doc })
	if i < 0 {
		return nil, errNotFlagged
	}
	m := matches[i]
	ex, err := h.cfg.Catalog.Exercise(sub.Exercise)
	if err != nil {
		return nil, err
	}
	d := &pairData{Sub: sub, Other: m.Submission, Catalog: m.Catalog, Exercise: ex, Match: m.Match}
	left, leftFPs, err := h.similarityDoc(ctx, ex, sub.ID, "")
	if err != nil {
		return nil, err
	}
	var rightFPs []similar.Fingerprint
	var right map[string][]byte
	if catalog != "" {
		_, rightFPs, err = h.similarityDoc(ctx, ex, "", catalog)
	} else {
		right, rightFPs, err = h.similarityDoc(ctx, ex, m.Submission.ID, "")
	}
	if err != nil {
		return nil, err
	}
	d.Blocks = matchBlocks(m.Query, m.Other, leftFPs, rightFPs)
	d.Rows = pairRows(d.Blocks, left, right, catalog == "")
	for i := range d.Rows {
		d.Rows[i].Left.Side, d.Rows[i].Left.Who = "left", sub.Candidate
		if d.Other != nil {
			d.Rows[i].Right.Side, d.Rows[i].Right.Who = "right", d.Other.Candidate
		}
	}
	return d, nil
}

// similarityDoc returns the files the similarity check read of a
// submission (or of a catalog answer folder), by path, and their
// fingerprints: the same function of the same files as the stored ones, so
// that the stored regions' line numbers are these files' lines.
func (h *Handler) similarityDoc(ctx context.Context, ex *grader.Exercise, id, catalog string) (map[string][]byte, []similar.Fingerprint, error) {
	var files []grader.File
	var err error
	if catalog != "" {
		if !slices.Contains(grader.AnswerDirs(ex), catalog) {
			return nil, nil, errNotFlagged
		}
		files, err = grader.OverlayFiles(ex, catalog)
	} else {
		files, err = h.cfg.Grader.SubmissionFiles(ctx, id)
	}
	if err != nil {
		return nil, nil, err
	}
	doc, starter, err := grader.SimilarityFiles(ex, files)
	if err != nil {
		return nil, nil, grader.Wrap(err, grader.EINTERNAL, "read the starter")
	}
	out := make(map[string][]byte, len(doc))
	for _, f := range doc {
		out[f.Path] = f.Data
	}
	return out, similar.Fingerprints(doc, starter), nil
}

// matchBlocks groups a pair's merged regions into matching blocks: a left
// region and a right region are in one block when a fingerprint of the one
// and a fingerprint of the other have the same hash (connected components,
// so that a block is everything that matches together). Blocks are
// numbered in the order of their first left region.
func matchBlocks(left, right []similar.Region, leftFPs, rightFPs []similar.Fingerprint) []pairBlock {
	in := func(rs []similar.Region, f similar.Fingerprint) int {
		return slices.IndexFunc(rs, func(r similar.Region) bool { return r.Path == f.Path && r.Start <= f.Start && f.End <= r.End })
	}
	// Nodes 0..len(left)-1 are left regions, the rest right ones.
	parent := make([]int, len(left)+len(right))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	byHash := map[uint64][]int{}
	for _, f := range rightFPs {
		if j := in(right, f); j >= 0 {
			byHash[f.Hash] = append(byHash[f.Hash], len(left)+j)
		}
	}
	hashesOf := map[int]map[uint64]bool{} // left region -> shared hashes
	for _, f := range leftFPs {
		i := in(left, f)
		if i < 0 || len(byHash[f.Hash]) == 0 {
			continue
		}
		if hashesOf[i] == nil {
			hashesOf[i] = map[uint64]bool{}
		}
		hashesOf[i][f.Hash] = true
		for _, j := range byHash[f.Hash] {
			parent[find(j)] = find(i)
		}
	}
	var blocks []pairBlock
	index := map[int]int{} // root -> block
	add := func(node int, r similar.Region, leftSide bool) {
		root := find(node)
		b, ok := index[root]
		if !ok {
			b = len(blocks)
			index[root] = b
			blocks = append(blocks, pairBlock{N: b + 1, Colour: b % matchColours})
		}
		if leftSide {
			blocks[b].Left = append(blocks[b].Left, r)
		} else {
			blocks[b].Right = append(blocks[b].Right, r)
		}
	}
	for i, r := range left { // left regions are in path and line order
		add(i, r, true)
	}
	for j, r := range right {
		add(len(left)+j, r, false)
	}
	shared := make([]map[uint64]bool, len(blocks))
	for i, hs := range hashesOf {
		b := index[find(i)]
		if shared[b] == nil {
			shared[b] = map[uint64]bool{}
		}
		for h := range hs {
			shared[b][h] = true
		}
	}
	for b := range blocks {
		blocks[b].Shared = len(shared[b])
	}
	return blocks
}

// anchor is the id of a block's first line on one side ("L3", "R3").
func anchor(side byte, block int) string {
	return string(side) + strconv.Itoa(block)
}

// pairRows lays out every path that holds a block on either side, in path
// order: the left file beside the right one (withRight false: the right is
// a catalog answer, never shown), each line marked with its block.
func pairRows(blocks []pairBlock, left, right map[string][]byte, withRight bool) []pairRow {
	paths := map[string]bool{}
	for _, b := range blocks {
		for _, r := range b.Left {
			paths[r.Path] = true
		}
		if withRight {
			for _, r := range b.Right {
				paths[r.Path] = true
			}
		}
	}
	sorted := make([]string, 0, len(paths))
	for p := range paths {
		sorted = append(sorted, p)
	}
	slices.Sort(sorted)
	var rows []pairRow
	for _, p := range sorted {
		row := pairRow{Path: p, Left: sideFile(p, left, blocks, 'L', withRight)}
		if withRight {
			row.Right = sideFile(p, right, blocks, 'R', true)
		}
		rows = append(rows, row)
	}
	return rows
}

// sideFile is the file at path of one side with its lines marked; jump
// links each block's lines to the other side's (not when that side is not
// shown).
func sideFile(path string, files map[string][]byte, blocks []pairBlock, side byte, jump bool) pairFile {
	f := pairFile{Path: path}
	data, ok := files[path]
	if !ok {
		f.Missing = true
		return f
	}
	text := strings.ReplaceAll(string(bytes.TrimSuffix(data, []byte("\n"))), "\r\n", "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > maxPairLines {
		lines, f.Truncated = lines[:maxPairLines], true
	}
	f.Lines = make([]pairLine, len(lines))
	for i, l := range lines {
		f.Lines[i] = pairLine{N: i + 1, Text: l}
	}
	other := byte('R')
	if side == 'R' {
		other = 'L'
	}
	for _, b := range blocks {
		regions := b.Left
		if side == 'R' {
			regions = b.Right
		}
		for k, r := range regions {
			if r.Path != path {
				continue
			}
			for n := max(r.Start, 1); n <= min(r.End, len(f.Lines)); n++ {
				f.Lines[n-1].Block, f.Lines[n-1].Colour = b.N, b.Colour
			}
			// The block's first region on this side carries its anchor;
			// each region's first line links to the other side's.
			if r.Start >= 1 && r.Start <= len(f.Lines) {
				l := &f.Lines[r.Start-1]
				if k == 0 {
					l.Anchor = anchor(side, b.N)
				}
				if jump && len(b.Left) > 0 && len(b.Right) > 0 {
					l.Jump = anchor(other, b.N)
				}
			}
		}
	}
	return f
}
