package web

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader"
)

// Line kinds of a diff.
const (
	lineSame = ' '
	lineDel  = '-'
	lineAdd  = '+'
)

// diffLine is one line of a unified diff with its line numbers (0 where the
// line is not on that side).
type diffLine struct {
	Kind     rune
	Old, New int
	Text     string
}

// hunk is a run of changes with up to diffContext lines around them.
type hunk struct {
	Header string
	Lines  []diffLine
}

// fileDiff is one candidate file against the starter's file of that path.
type fileDiff struct {
	Path    string
	Status  string // "changed", "added", "unchanged", "binary", "too large"
	Added   int
	Deleted int
	Hunks   []hunk
	Refused string // why the grader did not apply it, if it did not
}

const (
	diffContext = 3
	// maxDiffCells bounds the LCS table (old lines x new lines): beyond it
	// the file is shown as too large to diff rather than using the memory.
	maxDiffCells = 4 << 20
)

// lineDiff returns the edit script from a to b as lines, by the longest
// common subsequence. It is quadratic, which maxDiffCells keeps bounded;
// exercise files are small.
func lineDiff(a, b []string) []diffLine {
	// Common prefix and suffix first: most edits touch a few lines.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(ma), len(mb)
	// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	out := make([]diffLine, 0, len(a)+len(b))
	for k := 0; k < pre; k++ {
		out = append(out, diffLine{Kind: lineSame, Old: k + 1, New: k + 1, Text: a[k]})
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && ma[i] == mb[j]:
			out = append(out, diffLine{Kind: lineSame, Old: pre + i + 1, New: pre + j + 1, Text: ma[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			// Deletions first, as diff(1) shows them.
			out = append(out, diffLine{Kind: lineDel, Old: pre + i + 1, Text: ma[i]})
			i++
		default:
			out = append(out, diffLine{Kind: lineAdd, New: pre + j + 1, Text: mb[j]})
			j++
		}
	}
	for k := 0; k < suf; k++ {
		oi, ni := len(a)-suf+k, len(b)-suf+k
		out = append(out, diffLine{Kind: lineSame, Old: oi + 1, New: ni + 1, Text: a[oi]})
	}
	return out
}

// hunks groups an edit script into hunks with diffContext lines of context.
func hunks(lines []diffLine) []hunk {
	var out []hunk
	for i := 0; i < len(lines); {
		if lines[i].Kind == lineSame {
			i++
			continue
		}
		start := max(0, i-diffContext)
		end := i
		// Extend while the next change is within 2*context lines.
		for end < len(lines) {
			if lines[end].Kind != lineSame {
				end++
				continue
			}
			k := end
			for k < len(lines) && lines[k].Kind == lineSame && k-end < 2*diffContext+1 {
				k++
			}
			if k < len(lines) && lines[k].Kind != lineSame {
				end = k
				continue
			}
			break
		}
		stop := min(len(lines), end+diffContext)
		h := hunk{Lines: lines[start:stop]}
		oldStart, newStart, oldN, newN := 0, 0, 0, 0
		for _, l := range h.Lines {
			if l.Old > 0 {
				if oldStart == 0 {
					oldStart = l.Old
				}
				oldN++
			}
			if l.New > 0 {
				if newStart == 0 {
					newStart = l.New
				}
				newN++
			}
		}
		h.Header = "@@ -" + itoa(oldStart) + "," + itoa(oldN) + " +" + itoa(newStart) + "," + itoa(newN) + " @@"
		out = append(out, h)
		i = stop
	}
	return out
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func splitLines(data []byte) []string {
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func isText(data []byte) bool {
	return utf8.Valid(data) && !bytes.ContainsRune(data, 0)
}

// diffFiles compares the candidate's files (already stripped of a wrapper
// folder) with the starter's, in path order.
func diffFiles(starter, candidate []grader.File, refused []grader.RefusedFile) []fileDiff {
	old := map[string][]byte{}
	for _, f := range starter {
		old[f.Path] = f.Data
	}
	why := map[string]string{}
	for _, r := range refused {
		why[r.Path] = r.Reason
	}
	files := append([]grader.File(nil), candidate...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	var out []fileDiff
	for _, f := range files {
		d := fileDiff{Path: f.Path, Refused: why[f.Path]}
		before, had := old[f.Path]
		switch {
		case !isText(f.Data) || had && !isText(before):
			d.Status = "binary"
		case had && bytes.Equal(before, f.Data):
			d.Status = "unchanged"
		default:
			a, b := splitLines(before), splitLines(f.Data)
			if len(a)*len(b) > maxDiffCells {
				d.Status = "too large"
				break
			}
			d.Status = "changed"
			if !had {
				d.Status = "added"
			}
			lines := lineDiff(a, b)
			for _, l := range lines {
				switch l.Kind {
				case lineAdd:
					d.Added++
				case lineDel:
					d.Deleted++
				}
			}
			d.Hunks = hunks(lines)
		}
		out = append(out, d)
	}
	return out
}
