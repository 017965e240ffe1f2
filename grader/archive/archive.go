// Package archive reads a candidate's archive or folder into files under
// limits, refusing what is malformed or unsafe (paths that climb out, links
// that point out, devices, bombs), and writes files as tar and zip. Its one
// reason to change is the archive formats and their hazards; it knows
// nothing of exercises or grading.
package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/djgrade/djgrade/grader/internal/text"
	"github.com/docker/go-units"
)

// Limits bound what a candidate's archive or folder may hold. They
// apply to the uncompressed content, so a zip bomb stops at MaxTotalBytes.
type Limits struct {
	// MaxArchiveBytes caps the archive itself (compressed).
	MaxArchiveBytes int64
	// MaxFiles caps the number of regular files.
	MaxFiles int
	// MaxFileBytes caps one file, uncompressed.
	MaxFileBytes int64
	// MaxTotalBytes caps all files together, uncompressed.
	MaxTotalBytes int64
}

// DefaultLimits are generous for a Django exercise and small for an attacker.
var DefaultLimits = Limits{
	MaxArchiveBytes: 10 << 20,
	MaxFiles:        1000,
	MaxFileBytes:    1 << 20,
	MaxTotalBytes:   20 << 20,
}

// maxPathBytes caps a path's length; maxSegmentBytes one segment's.
const (
	maxPathBytes    = 512
	maxSegmentBytes = 255
)

// Read reads a candidate's archive (zip, gzip'd tar or plain tar,
// recognised by content, not by name) into files, enforcing limits. It
// returns an *Error: Invalid for a malformed, empty or unsafe archive,
// TooLarge for one over a limit. Folders, links that stay inside the
// archive and editor or VCS noise (.git, __pycache__, .DS_Store) are left out.
func Read(r io.Reader, limits Limits) ([]File, error) {
	data, err := io.ReadAll(io.LimitReader(r, limits.MaxArchiveBytes+1))
	if err != nil {
		return nil, Wrap(err, Invalid, "cannot read the archive")
	}
	if int64(len(data)) > limits.MaxArchiveBytes {
		return nil, Errorf(TooLarge, "the archive is larger than %s", FormatBytes(limits.MaxArchiveBytes))
	}
	if len(data) == 0 {
		return nil, Errorf(Invalid, "the archive is empty")
	}
	c := newCollector(limits)
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		err = c.readZip(data)
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(data)); err != nil {
			return nil, Wrap(err, Invalid, "the archive is not a valid gzip stream")
		}
		// Everything inflated counts, entries left out too: a .git folder
		// of zeros must not cost the server gigabytes of CPU.
		err = c.readTar(&inflateLimit{r: zr, left: limits.MaxTotalBytes + int64(limits.MaxFiles)*tarEntryOverhead})
	case len(data) > 262 && string(data[257:262]) == "ustar":
		err = c.readTar(bytes.NewReader(data))
	default:
		return nil, Errorf(Invalid, "the archive is not a .zip, .tar.gz or .tar file")
	}
	if err != nil {
		return nil, err
	}
	return c.finish()
}

// ReadDir reads a candidate's project folder into files with the same rules
// and limits as Read. Symbolic links are left out.
func ReadDir(root string, limits Limits) ([]File, error) {
	c := newCollector(limits)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return Wrap(err, Invalid, "cannot read %s", p)
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if IsNoise(rel + "/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // links, sockets, devices: never followed
		}
		info, err := d.Info()
		if err != nil {
			return Wrap(err, Invalid, "cannot read %s", rel)
		}
		f, err := os.Open(p)
		if err != nil {
			return Wrap(err, Invalid, "cannot read %s", rel)
		}
		defer f.Close()
		return c.add(rel, f, info.Mode()&0o111 != 0)
	})
	if err != nil {
		return nil, err
	}
	return c.finish()
}

// tarEntryOverhead bounds the header and padding bytes of one tar entry
// (a PAX header and a 512-byte header, rounded up generously).
const tarEntryOverhead = 4096

// maxEntriesPerFile bounds entries of any kind (folders, links, left-out
// noise) per regular file allowed.
const maxEntriesPerFile = 4

// inflateLimit fails a decompressed stream that grows past left bytes.
type inflateLimit struct {
	r    io.Reader
	left int64
}

func (l *inflateLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errInflated
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

var errInflated = errors.New("inflated past the limit")

// collector gathers validated files under the limits.
type collector struct {
	limits Limits
	files  []File
	seen   map[string]bool
	total  int64
}

func newCollector(l Limits) *collector {
	return &collector{limits: l, seen: map[string]bool{}}
}

func (c *collector) readZip(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Wrap(err, Invalid, "the archive is not a valid zip file")
	}
	if len(zr.File) > c.limits.MaxFiles*maxEntriesPerFile {
		return Errorf(TooLarge, "the archive holds more than %d entries", c.limits.MaxFiles*maxEntriesPerFile)
	}
	for _, zf := range zr.File {
		mode := zf.Mode()
		switch {
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			if err := checkDir(zf.Name); err != nil {
				return err
			}
			continue
		case mode&fs.ModeSymlink != 0:
			if err := c.link(zf.Name, readZipLink(zf)); err != nil {
				return err
			}
			continue
		case !mode.IsRegular():
			return Errorf(Invalid, "%q is not a regular file", text.Printable(zf.Name))
		}
		rc, err := zf.Open()
		if err != nil {
			return Wrap(err, Invalid, "cannot read %q from the zip", text.Printable(zf.Name))
		}
		err = c.add(zf.Name, rc, mode&0o111 != 0)
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func readZipLink(zf *zip.File) string {
	rc, err := zf.Open()
	if err != nil {
		return "/"
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 4096))
	return string(b)
}

func (c *collector) readTar(r io.Reader) error {
	tr := tar.NewReader(r)
	for entries := 0; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if errors.Is(err, errInflated) {
			return c.inflatedTooMuch()
		} else if err != nil {
			return Wrap(err, Invalid, "the archive is not a valid tar file")
		}
		if entries >= c.limits.MaxFiles*maxEntriesPerFile {
			return Errorf(TooLarge, "the archive holds more than %d entries", c.limits.MaxFiles*maxEntriesPerFile)
		}
		switch h.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			if err := c.add(h.Name, tr, h.Mode&0o111 != 0); err != nil {
				return err
			}
		case tar.TypeDir:
			if err := checkDir(h.Name); err != nil {
				return err
			}
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
			// Metadata (GitHub tarballs start with a pax global header).
		case tar.TypeSymlink:
			if err := c.link(h.Name, h.Linkname); err != nil {
				return err
			}
		case tar.TypeLink:
			// A hard link names another entry by its archive path.
			if _, err := CleanPath(h.Name); err != nil {
				return err
			}
			if _, err := CleanPath(h.Linkname); err != nil {
				return Errorf(Invalid, "%q is a link that points outside the archive", text.Printable(h.Name))
			}
		default:
			return Errorf(Invalid, "%q is a device, fifo or other special file", text.Printable(h.Name))
		}
	}
}

// checkDir checks a directory entry. The archive's own root, as
// `tar czf attempt.tgz .` writes it ("./", or "." and ".//"), names no file
// and is ignored; any other directory must be a usable path.
func checkDir(name string) error {
	if isRoot(name) {
		return nil
	}
	_, err := CleanPath(name)
	return err
}

// isRoot reports a name made of "." and "/" only that starts with "." and
// climbs nowhere: the folder the archive was made from.
func isRoot(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Trim(name, "./") == "" && !strings.Contains(name, "..")
}

// link checks a symbolic link entry: one whose target is absolute or climbs
// out of the archive refuses the whole archive; one that stays inside is left
// out (links are never followed or applied).
func (c *collector) link(name, target string) error {
	p, err := CleanPath(name)
	if err != nil {
		return err
	}
	if strings.HasPrefix(target, "/") || target == "" {
		return Errorf(Invalid, "%q is a link that points outside the archive", text.Printable(name))
	}
	if _, err := CleanPath(path.Join(path.Dir(p), target)); err != nil {
		return Errorf(Invalid, "%q is a link that points outside the archive", text.Printable(name))
	}
	return nil
}

func (c *collector) add(name string, r io.Reader, exec bool) error {
	p, err := CleanPath(name)
	if err != nil {
		return err
	}
	if IsNoise(p) {
		return nil
	}
	if c.seen[p] {
		return Errorf(Invalid, "%q appears twice in the archive", p)
	}
	if len(c.files) >= c.limits.MaxFiles {
		return Errorf(TooLarge, "the archive holds more than %d files", c.limits.MaxFiles)
	}
	budget := min(c.limits.MaxFileBytes, c.limits.MaxTotalBytes-c.total)
	data, err := io.ReadAll(io.LimitReader(r, budget+1))
	if errors.Is(err, errInflated) {
		return c.inflatedTooMuch()
	} else if err != nil {
		return Wrap(err, Invalid, "cannot read %q from the archive", p)
	}
	if int64(len(data)) > budget {
		if budget < c.limits.MaxFileBytes {
			return Errorf(TooLarge, "the archive's files add up to more than %s uncompressed", FormatBytes(c.limits.MaxTotalBytes))
		}
		return Errorf(TooLarge, "%q is larger than %s", p, FormatBytes(c.limits.MaxFileBytes))
	}
	c.total += int64(len(data))
	c.seen[p] = true
	c.files = append(c.files, File{Path: p, Data: data, Exec: exec})
	return nil
}

func (c *collector) inflatedTooMuch() error {
	return Errorf(TooLarge, "the archive inflates to more than %s", FormatBytes(c.limits.MaxTotalBytes))
}

func (c *collector) finish() ([]File, error) {
	if len(c.files) == 0 {
		return nil, Errorf(Invalid, "the archive holds no files")
	}
	sort.Slice(c.files, func(i, j int) bool { return c.files[i].Path < c.files[j].Path })
	return c.files, nil
}

// CleanPath validates a path from outside and returns it clean and
// slash-separated: a leading "./" (as `tar czf a.tgz .` writes every
// entry) is dropped, "./app/views.py" is "app/views.py". It refuses absolute paths, "..", backslashes, control
// characters, invalid UTF-8 and overlong names with an Invalid error.
func CleanPath(name string) (string, error) {
	shown := text.Printable(name)
	if !utf8.ValidString(name) {
		return "", Errorf(Invalid, "%q is not a valid UTF-8 file name", shown)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\\' || r == utf8.RuneError {
			return "", Errorf(Invalid, "%q has a character not allowed in a file name", shown)
		}
		// Invisible formatting characters (Unicode's Cf: bidirectional
		// overrides and isolates, zero-width joiners and spaces) could
		// make one path read as another where staff see it (u+202E turns
		// "x\u202eyp.py" around).
		if unicode.Is(unicode.Cf, r) {
			return "", Errorf(Invalid, "%q has an invisible or direction-changing character in its name", shown)
		}
	}
	if strings.HasPrefix(name, "/") || (len(name) >= 2 && name[1] == ':') {
		return "", Errorf(Invalid, "%q is an absolute path", shown)
	}
	trimmed := strings.TrimSuffix(name, "/")
	for seg := range strings.SplitSeq(trimmed, "/") {
		if seg == ".." {
			return "", Errorf(Invalid, "%q leaves the archive with ..", shown)
		}
		if len(seg) > maxSegmentBytes {
			return "", Errorf(Invalid, "%q has a name longer than %d bytes", shown, maxSegmentBytes)
		}
	}
	p := path.Clean(trimmed)
	if p == "." || p == "" || len(p) > maxPathBytes {
		return "", Errorf(Invalid, "%q is not a usable file path", shown)
	}
	return p, nil
}

// IsNoise reports files that are never part of a candidate's answer: VCS
// folders, Python caches, OS metadata.
func IsNoise(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case ".git", "__pycache__", "__MACOSX", ".DS_Store", ".pytest_cache", ".venv", "node_modules":
			return true
		}
	}
	return strings.HasSuffix(p, ".pyc")
}

// FormatBytes renders a byte count for people in binary units, to four
// significant digits: 10 MiB, 512 KiB, 1.5 KiB, 300 B.
func FormatBytes(n int64) string {
	return units.CustomSize("%.4g %s", float64(n), 1024, binaryUnits)
}

// binaryUnits are go-units' binary abbreviations; its BytesSize writes
// them without the space that djgrade's messages have always had.
var binaryUnits = []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
