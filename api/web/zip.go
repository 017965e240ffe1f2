package web

import (
	"archive/zip"
	"bytes"
	"io/fs"

	"github.com/djgrade/djgrade/grader"
)

// zipFiles packs files into a zip archive in memory (starters are small).
func zipFiles(files []grader.File) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		hd := &zip.FileHeader{Name: f.Path, Method: zip.Deflate}
		mode := fs.FileMode(0o644)
		if f.Exec {
			mode = 0o755
		}
		hd.SetMode(mode)
		w, err := zw.CreateHeader(hd)
		if err == nil {
			_, err = w.Write(f.Data)
		}
		if err != nil {
			return nil, grader.Wrap(err, grader.EINTERNAL, "pack the starter")
		}
	}
	if err := zw.Close(); err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "pack the starter")
	}
	return buf.Bytes(), nil
}
