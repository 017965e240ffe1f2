package archive

import (
	"archive/tar"
	"archive/zip"
	"io"
	"io/fs"
	"path"
	"sort"
	"time"
)

// WriteTar writes files as a tar stream with their parent folders, owned by
// nobody in particular and readable by the sandbox user, dated now.
func WriteTar(w io.Writer, files []File) error {
	tw := tar.NewWriter(w)
	now := time.Now().Truncate(time.Second)
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
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: now}); err != nil {
			return err
		}
	}
	for _, f := range files {
		mode := int64(0o644)
		if f.Exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Mode: mode, Size: int64(len(f.Data)), ModTime: now}); err != nil {
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
	// A zero Modified would be an MS-DOS date of 0 (not a date at all):
	// unzip and file managers show it as invalid.
	now := time.Now().Truncate(time.Second)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: now}
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
