// Package image holds the djgrade sandbox image: its Dockerfile and the
// Python that runs inside it (the init that unpacks a workspace and runs a
// command, and the pytest plugin that writes the report). Both are embedded
// in the binary so that a djgrade binary can build its own image anywhere,
// and the image is tagged by a hash of exactly these inputs so that a changed
// input can never run against a stale image.
package image

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// Version is mixed into the hash. Bump it when the way the image is built
// changes without any embedded file changing (new build args, say).
const Version = "2"

// Repository is the image repository the sandbox image is tagged in.
const Repository = "djgrade-sandbox"

// "all:" is needed because embed otherwise drops files whose names start
// with '_' or '.', which would silently lose any __init__.py; Python's caches
// that "all:" lets in are filtered out by skip instead.
//
//go:embed Dockerfile judge-pg.sh all:python
var files embed.FS

// skip reports whether an embedded path must neither be hashed nor sent to
// the daemon: bytecode caches differ between machines, and python/tests
// holds the plugin's own tests, which have no business on the sandbox's
// PYTHONPATH (a candidate's "import tests" could find them there).
func skip(p string) bool {
	if p == "python/tests" || strings.HasPrefix(p, "python/tests/") {
		return true
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "__pycache__" || seg == ".pytest_cache" {
			return true
		}
	}
	return strings.HasSuffix(p, ".pyc") || strings.HasSuffix(p, ".pyo")
}

// file is one input of the image.
type file struct {
	path string
	data []byte
}

// inputs returns the image's inputs sorted by path.
func inputs() ([]file, error) {
	var out []file
	err := fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip(p) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		out = append(out, file{path: p, data: data})
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, err
}

// Files returns the sorted paths of the image's inputs, for display.
func Files() []string {
	in, err := inputs()
	if err != nil {
		panic(err) // the embedded FS cannot fail to read
	}
	names := make([]string, len(in))
	for i, f := range in {
		names[i] = f.path
	}
	return names
}

// Hash returns the hex sha256 of Version and every input's path and contents.
// Each field is length-prefixed so that moving bytes between a path and its
// contents cannot produce the same hash.
func Hash() string {
	in, err := inputs()
	if err != nil {
		panic(err)
	}
	return hashOf(in)
}

func hashOf(in []file) string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(Version))
	for _, f := range in {
		field([]byte(f.path))
		field(f.data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Tag returns the image reference for the current inputs,
// djgrade-sandbox:<first 12 hex digits of Hash>.
func Tag() string { return Repository + ":" + Hash()[:12] }

// Context returns the docker build context: a tar of the Dockerfile and the
// python/ folder. Entries have fixed owners and times so the daemon's build
// cache sees identical contexts as identical.
func Context() (io.Reader, error) {
	in, err := inputs()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	epoch := time.Unix(0, 0)
	for _, f := range in {
		// Parent folders first, as the daemon expects a well-formed tree.
		for d := path.Dir(f.path); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var dl []string
	for d := range dirs {
		dl = append(dl, d)
	}
	sort.Strings(dl)
	for _, d := range dl {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	for _, f := range in {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.path, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return &buf, nil
}
