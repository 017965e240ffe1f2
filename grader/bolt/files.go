package bolt

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// epoch is the modification time written for every file: the store keeps
// content, not timestamps, and a fixed time keeps the archive reproducible.
var epoch = time.Unix(0, 0).UTC()

// encodeFiles packs files into a gzip'd tar. It refuses (EINVALID) a path
// that is not clean, slash-separated and relative, and a path given twice:
// the grader's File contract promises clean paths, and the store is the last
// place that can stop a bad one from being kept and replayed later.
func encodeFiles(files []grader.File) ([]byte, error) {
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if f.Path == "." || !fs.ValidPath(f.Path) {
			return nil, grader.Errorf(grader.EINVALID, "file path %q is not a clean relative path", f.Path)
		}
		if seen[f.Path] {
			return nil, grader.Errorf(grader.EINVALID, "file path %q given twice", f.Path)
		}
		seen[f.Path] = true
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		mode := int64(0o644)
		if f.Exec {
			mode = 0o755
		}
		hdr := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Path,
			Size:     int64(len(f.Data)),
			Mode:     mode,
			ModTime:  epoch,
			// PAX keeps long and non-ASCII paths exactly.
			Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, grader.Wrap(err, grader.EINTERNAL, "pack file %q", f.Path)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, grader.Wrap(err, grader.EINTERNAL, "pack file %q", f.Path)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "pack files")
	}
	if err := zw.Close(); err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "pack files")
	}
	return buf.Bytes(), nil
}

// decodeFiles unpacks what encodeFiles packed, in the same order. Anything
// but a regular file means the stored value is damaged.
func decodeFiles(blob []byte) ([]grader.File, error) {
	zr, err := gzip.NewReader(bytes.NewReader(blob))
	if err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "stored files are damaged")
	}
	tr := tar.NewReader(zr)
	files := []grader.File{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, grader.Wrap(err, grader.EINTERNAL, "stored files are damaged")
		}
		// Deflate cannot expand more than about 1032:1, so a larger size
		// is a damaged header; refusing it avoids a huge allocation.
		if hdr.Typeflag != tar.TypeReg || hdr.Size < 0 || hdr.Size > int64(len(blob))*1032+1024 {
			return nil, grader.Wrap(fmt.Errorf("entry %q has type %q", hdr.Name, hdr.Typeflag),
				grader.EINTERNAL, "stored files are damaged")
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, grader.Wrap(err, grader.EINTERNAL, "stored files are damaged")
		}
		files = append(files, grader.File{Path: hdr.Name, Data: data, Exec: hdr.Mode&0o111 != 0})
	}
	if err := zr.Close(); err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "stored files are damaged")
	}
	return files, nil
}
