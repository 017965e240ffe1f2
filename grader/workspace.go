package grader

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

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
			if rel != "" && isNoise(rel+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if isNoise(rel) || !d.Type().IsRegular() {
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

// Assemble builds the workspace of one run: the starter and the candidate's
// applicable files over it. It also returns the candidate files it refused.
//
// The hidden checks are not in it: they run in the judge's container (see
// JudgeFiles), which the candidate's code cannot reach.
func Assemble(ex *Exercise, candidate []File) (workspace []File, refused []RefusedFile, err error) {
	starter, err := StarterFiles(ex)
	if err != nil {
		return nil, nil, err
	}
	applied, refused := Apply(ex, starter, StripWrapper(candidate, starter))
	merged := make(map[string]File, len(starter)+len(applied))
	for _, set := range [][]File{starter, applied} {
		for _, f := range set {
			merged[f.Path] = f
		}
	}
	workspace = make([]File, 0, len(merged))
	for _, f := range merged {
		workspace = append(workspace, f)
	}
	sort.Slice(workspace, func(i, j int) bool { return workspace[i].Path < workspace[j].Path })
	return workspace, refused, nil
}

// JudgeFiles returns the judge's workspace: the exercise's untouched
// starter with the hidden checks below HiddenDir. It never holds a
// candidate file: the judge imports the exercise's own models and
// settings, and reaches the candidate's code only over HTTP.
func JudgeFiles(ex *Exercise) ([]File, error) {
	starter, err := StarterFiles(ex)
	if err != nil {
		return nil, err
	}
	hidden, err := HiddenFiles(ex)
	if err != nil {
		return nil, err
	}
	return append(starter, hidden...), nil
}

// WriteTar writes files as a tar stream with their parent folders, owned by
// nobody in particular and readable by the sandbox user.
func WriteTar(w io.Writer, files []File) error {
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // parents sort before children
	for _, d := range sorted {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}); err != nil {
			return err
		}
	}
	for _, f := range files {
		mode := int64(0o644)
		if f.Exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Mode: mode, Size: int64(len(f.Data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// WriteZip writes files as a zip archive, for people who download a starter
// or a submission's files.
func WriteZip(w io.Writer, files []File) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate}
		mode := fs.FileMode(0o644)
		if f.Exec {
			mode = 0o755
		}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}
