package archive_test

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader/archive"
)

func TestWriteTar(t *testing.T) {
	var buf bytes.Buffer
	err := archive.WriteTar(&buf, []archive.File{{Path: "a/b/c.py", Data: []byte("c")}, {Path: "run.sh", Data: []byte("#!"), Exec: true}})
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "run.sh" && h.Mode != 0o755 {
			t.Errorf("run.sh mode %o", h.Mode)
		}
	}
	if strings.Join(names, ",") != "a/,a/b/,a/b/c.py,run.sh" {
		t.Fatalf("entries %v", names)
	}
}
