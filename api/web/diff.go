package web

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"

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
	Status  string // "changed", "added", "unchanged", "binary"
	Added   int
	Deleted int
	Hunks   []hunk
	Refused string // why the grader did not apply it, if it did not
}

const (
	diffContext = 3
	// diffTimeout bounds the time one file's diff may take. Myers' diff
	// is O((N+M)·D) for D edits, fast for the edits candidates make; a
	// file rewritten from top to bottom could take long, so past the
	// deadline the library stops refining and returns a correct edit
	// script that may be longer than the shortest one.
	diffTimeout = time.Second
)

// lineDiff returns the edit script from a to b as lines, by Myers' diff
// (github.com/sergi/go-diff in line mode: each distinct line becomes one
// rune, the runes are diffed, and the runes turned back into lines).
// Deletions come before insertions where both replace the same lines, as
// diff(1) shows them.
func lineDiff(a, b []string) []diffLine {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffTimeout
	ra, rb, lines := dmp.DiffLinesToRunes(joinLines(a), joinLines(b))
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), lines)
	out := make([]diffLine, 0, len(a)+len(b))
	oldN, newN := 0, 0
	for _, d := range diffs {
		if d.Text == "" {
			continue
		}
		// Every line of d.Text ends with a newline (joinLines).
		for _, text := range strings.Split(strings.TrimSuffix(d.Text, "\n"), "\n") {
			switch d.Type {
			case diffmatchpatch.DiffEqual:
				oldN++
				newN++
				out = append(out, diffLine{Kind: lineSame, Old: oldN, New: newN, Text: text})
			case diffmatchpatch.DiffDelete:
				oldN++
				out = append(out, diffLine{Kind: lineDel, Old: oldN, Text: text})
			case diffmatchpatch.DiffInsert:
				newN++
				out = append(out, diffLine{Kind: lineAdd, New: newN, Text: text})
			}
		}
	}
	return out
}

// joinLines ends every line with a newline, so that the last line of a
// file compares equal to the same line anywhere else.
func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
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
		h.Header = fmt.Sprintf("@@ -%d,%d +%d,%d @@", oldStart, oldN, newStart, newN)
		out = append(out, h)
		i = stop
	}
	return out
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
