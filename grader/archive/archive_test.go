package archive_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// entry is one archive member for the builders below.
type entry struct {
	name     string
	body     string
	typeflag byte // tar type; 0 means a regular file
	link     string
}

func makeTar(t testing.TB, gz bool, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	tw := tar.NewWriter(w)
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	}
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: e.typeflag, Linkname: e.link}
		if e.typeflag == tar.TypeXGlobalHeader {
			h = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "abc123"}}
		} else if e.typeflag == 0 {
			h.Typeflag = tar.TypeReg
		} else {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.link != "" {
			fh.SetMode(os.ModeSymlink | 0o777)
			e.body = e.link
		}
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func read(t *testing.T, data []byte) ([]archive.File, error) {
	t.Helper()
	return archive.Read(bytes.NewReader(data), archive.DefaultLimits)
}

func TestReadArchiveFormats(t *testing.T) {
	want := []entry{{name: "library/views.py", body: "x = 1\n"}, {name: "library/serializers.py", body: "y = 2\n"}}
	for name, data := range map[string][]byte{
		"zip":    makeZip(t, want...),
		"tar.gz": makeTar(t, true, want...),
		"tar":    makeTar(t, false, want...),
	} {
		t.Run(name, func(t *testing.T) {
			files, err := read(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 2 || files[0].Path != "library/serializers.py" || string(files[1].Data) != "x = 1\n" {
				t.Fatalf("got %+v", files)
			}
		})
	}
}

func TestReadArchiveSkipsNoiseAndMetadata(t *testing.T) {
	data := makeTar(t, true,
		entry{name: "pax_global_header", typeflag: tar.TypeXGlobalHeader},
		entry{name: "repo-abc123/", typeflag: tar.TypeDir},
		entry{name: "repo-abc123/library/views.py", body: "v"},
		entry{name: "repo-abc123/library/__pycache__/views.cpython-313.pyc", body: "junk"},
		entry{name: "repo-abc123/.git/config", body: "junk"},
		entry{name: "repo-abc123/inside-link", typeflag: tar.TypeSymlink, link: "library/views.py"},
	)
	files, err := read(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "repo-abc123/library/views.py" {
		t.Fatalf("got %+v", files)
	}
}

func TestReadArchiveRefusals(t *testing.T) {
	big := strings.Repeat("a", int(archive.DefaultLimits.MaxFileBytes)+1)
	many := make([]entry, archive.DefaultLimits.MaxFiles+1)
	for i := range many {
		many[i] = entry{name: filepath.Join("d", strings.Repeat("x", i%50)+string(rune('a'+i%26))+"_"+strings.Repeat("y", i/26)), body: "1"}
	}
	cases := []struct {
		name string
		data []byte
		code string
		msg  string
	}{
		{"empty input", nil, grader.EINVALID, "empty"},
		{"garbage", []byte("this is not an archive at all, just text"), grader.EINVALID, "not a .zip"},
		{"empty zip", makeZip(t), grader.EINVALID, "no files"},
		{"bad gzip", []byte{0x1f, 0x8b, 1, 2, 3}, grader.EINVALID, "gzip"},
		{"absolute path", makeTar(t, true, entry{name: "/etc/passwd", body: "x"}), grader.EINVALID, "absolute"},
		{"dot dot", makeTar(t, true, entry{name: "a/../../etc/x", body: "x"}), grader.EINVALID, ".."},
		{"dot dot zip", makeZip(t, entry{name: "../evil.py", body: "x"}), grader.EINVALID, ".."},
		{"backslash", makeZip(t, entry{name: "..\\evil.py", body: "x"}), grader.EINVALID, "character"},
		{"control char", makeTar(t, false, entry{name: "a\x01b.py", body: "x"}), grader.EINVALID, "character"},
		{"bad utf8", makeTar(t, false, entry{name: "a\xff.py", body: "x"}), grader.EINVALID, "UTF-8"},
		{"right-to-left override", makeZip(t, entry{name: "library/x\u202eyp.py", body: "x"}), grader.EINVALID, "invisible"},
		{"zero-width space", makeTar(t, true, entry{name: "library/vi\u200bews.py", body: "x"}), grader.EINVALID, "invisible"},
		{"symlink out", makeTar(t, true, entry{name: "l", typeflag: tar.TypeSymlink, link: "/etc/passwd"}), grader.EINVALID, "outside"},
		{"symlink climbs", makeTar(t, true, entry{name: "a/l", typeflag: tar.TypeSymlink, link: "../../x"}), grader.EINVALID, "outside"},
		{"zip symlink out", makeZip(t, entry{name: "l", link: "/etc/shadow"}), grader.EINVALID, "outside"},
		{"hardlink out", makeTar(t, true, entry{name: "h", typeflag: tar.TypeLink, link: "../../etc/passwd"}), grader.EINVALID, "outside"},
		{"device", makeTar(t, true, entry{name: "dev", typeflag: tar.TypeChar}), grader.EINVALID, "device"},
		{"fifo", makeTar(t, true, entry{name: "p", typeflag: tar.TypeFifo}), grader.EINVALID, "device"},
		{"duplicate", makeZip(t, entry{name: "a.py", body: "1"}, entry{name: "./a.py", body: "2"}), grader.EINVALID, "twice"},
		{"file too large", makeTar(t, true, entry{name: "big.py", body: big}), grader.ETOOLARGE, "larger than"},
		{"too many files", makeTar(t, true, many...), grader.ETOOLARGE, "more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files, err := read(t, tc.data)
			if err == nil {
				t.Fatalf("accepted: %d files", len(files))
			}
			if code := grader.ErrorCode(err); code != tc.code {
				t.Fatalf("code %q, want %q (%v)", code, tc.code, err)
			}
			if msg := grader.ErrorMessage(err); !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q lacks %q", msg, tc.msg)
			}
		})
	}
}

func TestReadArchiveZipBomb(t *testing.T) {
	// 30 files of 1 MiB of zeros compress to almost nothing but exceed the
	// 20 MiB total uncompressed limit.
	zero := strings.Repeat("\x00", 1<<20-1)
	var es []entry
	for i := range 30 {
		es = append(es, entry{name: "f" + string(rune('a'+i)) + ".py", body: zero})
	}
	data := makeZip(t, es...)
	if len(data) > 1<<20 {
		t.Fatalf("bomb is not compact: %d bytes", len(data))
	}
	_, err := read(t, data)
	if grader.ErrorCode(err) != grader.ETOOLARGE || !strings.Contains(grader.ErrorMessage(err), "uncompressed") {
		t.Fatalf("got %v", err)
	}
}

func TestReadArchiveTooLargeCompressed(t *testing.T) {
	limits := archive.DefaultLimits
	limits.MaxArchiveBytes = 100
	_, err := archive.Read(bytes.NewReader(make([]byte, 101)), limits)
	if grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Fatalf("got %v", err)
	}
}

func TestReadDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "library", "__pycache__"), 0o755)
	os.WriteFile(filepath.Join(dir, "library", "views.py"), []byte("v"), 0o644)
	os.WriteFile(filepath.Join(dir, "library", "__pycache__", "x.pyc"), []byte("c"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "library", "passwd.py"))
	files, err := archive.ReadDir(dir, archive.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "library/views.py" {
		t.Fatalf("got %+v", files)
	}
}

// FuzzReadArchive checks that no input makes Read panic, hang or
// return a path that could leave the workspace.
func FuzzReadArchive(f *testing.F) {
	f.Add(makeZip(f, entry{name: "a/b.py", body: "x"}))
	f.Add(makeTar(f, true, entry{name: "a/b.py", body: "x"}, entry{name: "l", typeflag: tar.TypeSymlink, link: "../x"}))
	f.Add(makeTar(f, false, entry{name: "../x", body: "x"}))
	f.Add([]byte("PK\x05\x06"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := archive.Read(bytes.NewReader(data), archive.DefaultLimits)
		if err != nil {
			if c := grader.ErrorCode(err); c != grader.EINVALID && c != grader.ETOOLARGE {
				t.Fatalf("error code %q: %v", c, err)
			}
			return
		}
		var total int64
		for _, f := range files {
			if _, err := archive.CleanPath(f.Path); err != nil || f.Path != filepath.ToSlash(filepath.Clean(f.Path)) {
				t.Fatalf("unsafe path %q", f.Path)
			}
			total += int64(len(f.Data))
		}
		if total > archive.DefaultLimits.MaxTotalBytes || len(files) > archive.DefaultLimits.MaxFiles {
			t.Fatalf("limits exceeded: %d bytes, %d files", total, len(files))
		}
	})
}

// Entries left out (.git, caches) still cost inflating: a gzip'd tar of a
// few hundred KiB that inflates to 48 MiB of zeros in .git is refused, not
// inflated to the end.
func TestReadArchiveInflateLimitCountsSkippedEntries(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "library/views.py", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	const big = 48 << 20
	tw.WriteHeader(&tar.Header{Name: ".git/objects/pack/big", Mode: 0o644, Size: big, Typeflag: tar.TypeReg})
	zeros := make([]byte, 1<<20)
	for i := 0; i < big>>20; i++ {
		tw.Write(zeros)
	}
	tw.Close()
	zw.Close()
	if buf.Len() > 1<<20 {
		t.Fatalf("not compact: %d", buf.Len())
	}
	_, err := read(t, buf.Bytes())
	if grader.ErrorCode(err) != grader.ETOOLARGE || !strings.Contains(grader.ErrorMessage(err), "inflates") {
		t.Fatalf("got %v", err)
	}
}

func TestReadArchiveEntryCount(t *testing.T) {
	var es []entry
	for i := 0; i < archive.DefaultLimits.MaxFiles*4+1; i++ {
		es = append(es, entry{name: "d" + strings.Repeat("x", i%40) + "/" + string(rune('a'+i%26)) + "/", typeflag: tar.TypeDir})
	}
	es = append(es, entry{name: "library/views.py", body: "x"})
	_, err := read(t, makeTar(t, true, es...))
	if grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Fatalf("got %v", err)
	}
}

// TestReadArchiveDotPrefix: `tar czf attempt.tgz .` and `zip -r a.zip .`
// name the folder itself "./" and every entry "./...": accepted, the prefix
// dropped and the root entry ignored, while climbing out stays refused.
func TestReadArchiveDotPrefix(t *testing.T) {
	entries := []entry{
		{name: "./", typeflag: tar.TypeDir},
		{name: "./app/", typeflag: tar.TypeDir},
		{name: "./app/views.py", body: "x = 1\n"},
		{name: "./manage.py", body: "m\n"},
	}
	zipEntries := []entry{{name: "./"}, {name: "./app/"}, {name: "./app/views.py", body: "x = 1\n"}, {name: "./manage.py", body: "m\n"}}
	for name, data := range map[string][]byte{
		"tar.gz": makeTar(t, true, entries...),
		"tar":    makeTar(t, false, entries...),
		"zip":    makeZip(t, zipEntries...),
		"tar .":  makeTar(t, true, append([]entry{{name: ".", typeflag: tar.TypeDir}}, entries[1:]...)...),
	} {
		t.Run(name, func(t *testing.T) {
			files, err := read(t, data)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 2 || files[0].Path != "app/views.py" || files[1].Path != "manage.py" || string(files[0].Data) != "x = 1\n" {
				t.Fatalf("got %+v", files)
			}
		})
	}
	for name, data := range map[string][]byte{
		"./.. dir":   makeTar(t, true, entry{name: "./../", typeflag: tar.TypeDir}, entry{name: "./a.py", body: "x"}),
		"./../ file": makeTar(t, true, entry{name: "./../evil.py", body: "x"}),
		"/./ dir":    makeTar(t, true, entry{name: "/./", typeflag: tar.TypeDir}, entry{name: "./a.py", body: "x"}),
		"zip ./../":  makeZip(t, entry{name: "./"}, entry{name: "./../evil.py", body: "x"}),
		"only root":  makeTar(t, true, entry{name: "./", typeflag: tar.TypeDir}),
	} {
		t.Run("refused "+name, func(t *testing.T) {
			if files, err := read(t, data); err == nil || grader.ErrorCode(err) != grader.EINVALID {
				t.Fatalf("got %+v, %v; want an invalid archive", files, err)
			}
		})
	}
}
