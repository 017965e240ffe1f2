package grader

import (
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/djgrade/djgrade/grader/archive"
)

// HiddenDir is the folder of the judge's workspace that holds the hidden
// checks. It exists only in the judge's container; a candidate's files may
// not use the name (it is reserved), so that no one mistakes one for the other.
const HiddenDir = "djgrade_hidden"

// Reasons a candidate file is not applied.
const (
	ReasonNotEditable = "not editable in this exercise"
	ReasonReserved    = "reserved for the grader"
)

// reservedDirs are workspace folders only the grader writes.
var reservedDirs = []string{HiddenDir, ".djgrade"}

// StarterFiles returns the exercise's starter project.
func StarterFiles(ex *Exercise) ([]File, error) { return readTree(ex.FS, "starter") }

// HiddenFiles returns the exercise's hidden tests, as paths below HiddenDir.
func HiddenFiles(ex *Exercise) ([]File, error) {
	files, err := readTree(ex.FS, "hidden")
	for i := range files {
		files[i].Path = HiddenDir + "/" + files[i].Path
	}
	return files, err
}

// OverlayFiles returns the files of a solution or variant folder, such as
// "solutions/reference" or "variants/fk-only".
func OverlayFiles(ex *Exercise, dir string) ([]File, error) { return readTree(ex.FS, dir) }

// readTree reads every regular file below dir in fsys, with paths relative to dir.
func readTree(fsys fs.FS, dir string) ([]File, error) {
	var files []File
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if d.IsDir() {
			if rel != "" && archive.IsNoise(rel+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if archive.IsNoise(rel) || !d.Type().IsRegular() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		files = append(files, File{Path: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}

// StripWrapper removes one top-level folder that wraps every file, as GitHub
// tarballs and "zip the folder" uploads have, unless that folder is itself a
// top-level folder of the starter (then the upload is already rooted).
func StripWrapper(files []File, starter []File) []File {
	if len(files) == 0 {
		return files
	}
	first, _, ok := strings.Cut(files[0].Path, "/")
	if !ok {
		return files
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Path, first+"/") {
			return files
		}
	}
	for _, f := range starter {
		if top, _, _ := strings.Cut(f.Path, "/"); top == first {
			return files
		}
	}
	out := make([]File, len(files))
	for i, f := range files {
		f.Path = strings.TrimPrefix(f.Path, first+"/")
		out[i] = f
	}
	return out
}

// Apply lays the candidate's files over the starter: a file at an editable
// path replaces or adds; a file elsewhere that is identical to the starter's
// is an unchanged copy and ignored; anything else is refused and listed,
// never applied. It returns the candidate files applied and those refused.
func Apply(ex *Exercise, starter, candidate []File) (applied []File, refused []RefusedFile) {
	orig := make(map[string][]byte, len(starter))
	for _, f := range starter {
		orig[f.Path] = f.Data
	}
	for _, f := range candidate {
		switch {
		case isReserved(f.Path):
			refused = append(refused, RefusedFile{Path: f.Path, Reason: ReasonReserved})
		case ex.IsEditable(f.Path):
			applied = append(applied, f)
		default:
			if data, ok := orig[f.Path]; ok && bytes.Equal(data, f.Data) {
				continue
			}
			refused = append(refused, RefusedFile{Path: f.Path, Reason: ReasonNotEditable})
		}
	}
	return applied, refused
}

func isReserved(p string) bool {
	for _, d := range reservedDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// Workspace is one submission laid over its exercise, with the exercise's
// files read once: what the candidate's container gets, what the judge's
// container gets, and which of the candidate's files were applied or refused.
type Workspace struct {
	// Files is the candidate's workspace: the starter with Applied laid
	// over it, sorted by path.
	Files []File
	// Judge is the judge's workspace: the exercise's untouched starter with
	// the hidden checks below HiddenDir. It never holds a candidate file:
	// the judge imports the exercise's own models and settings, and reaches
	// the candidate's code only over HTTP.
	Judge []File
	// Applied are the candidate's files laid over the starter (see Apply).
	Applied []File
	// Refused are the candidate's files not applied, and why.
	Refused []RefusedFile
}

// NewWorkspace reads the exercise's starter and hidden checks once and lays
// the candidate's files (a wrapping folder stripped) over the starter.
//
// The hidden checks are only in Judge: they run in the judge's container,
// which the candidate's code cannot reach.
func NewWorkspace(ex *Exercise, candidate []File) (*Workspace, error) {
	starter, err := StarterFiles(ex)
	if err != nil {
		return nil, err
	}
	hidden, err := HiddenFiles(ex)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Judge: append(slices.Clip(starter), hidden...)}
	w.Applied, w.Refused = Apply(ex, starter, StripWrapper(candidate, starter))
	merged := make(map[string]File, len(starter)+len(w.Applied))
	for _, set := range [][]File{starter, w.Applied} {
		for _, f := range set {
			merged[f.Path] = f
		}
	}
	w.Files = make([]File, 0, len(merged))
	for _, f := range merged {
		w.Files = append(w.Files, f)
	}
	sort.Slice(w.Files, func(i, j int) bool { return w.Files[i].Path < w.Files[j].Path })
	return w, nil
}
