package image

import (
	"archive/tar"
	"errors"
	"io"
	"regexp"
	"slices"
	"testing"
)

func TestTagShape(t *testing.T) {
	if !regexp.MustCompile(`^djgrade-sandbox:[0-9a-f]{12}$`).MatchString(Tag()) {
		t.Fatalf("Tag() = %q", Tag())
	}
	if Hash()[:12] != Tag()[len(Repository)+1:] || Hash() != Hash() {
		t.Fatal("tag is not the hash prefix, or the hash is not stable")
	}
}

func TestHashChangesWithEveryInput(t *testing.T) {
	in, err := inputs()
	if err != nil {
		t.Fatal(err)
	}
	base := hashOf(in)
	seen := map[string]string{base: "unchanged"}
	for i := range in {
		for _, edit := range []struct {
			name string
			f    func(f *file)
		}{
			{"content", func(f *file) { f.data = append(slices.Clone(f.data), ' ') }},
			{"path", func(f *file) { f.path += "x" }},
		} {
			mod := slices.Clone(in)
			edit.f(&mod[i])
			h := hashOf(mod)
			if prev, ok := seen[h]; ok {
				t.Errorf("editing the %s of %s gives the same hash as %s", edit.name, in[i].path, prev)
			}
			seen[h] = edit.name + " of " + in[i].path
		}
	}
	// Moving a byte from a path into the contents must change the hash too.
	a := []file{{path: "ab", data: []byte("c")}}
	b := []file{{path: "a", data: []byte("bc")}}
	if hashOf(a) == hashOf(b) {
		t.Error("path/contents boundary is not part of the hash")
	}
}

func TestInputs(t *testing.T) {
	names := Files()
	for _, want := range []string{"Dockerfile", "judge-pg.sh", "python/djgrade_judge_init.py", "python/djgrade_judge.py", "python/djgrade_agent.py", "python/djgrade_settings.py"} {
		if !slices.Contains(names, want) {
			t.Errorf("inputs %v lack %s", names, want)
		}
	}
	for _, p := range []string{"python/__pycache__/x.pyc", "python/a.pyc", "python/.pytest_cache/v", "python/tests", "python/tests/test_x.py"} {
		if !skip(p) {
			t.Errorf("skip(%q) = false", p)
		}
	}
	for _, p := range []string{"python/__init__.py", "python/testsuite.py", "python/djgrade_tests/x.py"} {
		if skip(p) {
			t.Errorf("skip(%q) = true", p)
		}
	}
}

func TestContext(t *testing.T) {
	r, err := Context()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(r)
	var files []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			files = append(files, h.Name)
		}
	}
	if !slices.Equal(files, Files()) {
		t.Fatalf("context holds %v, want %v", files, Files())
	}
}
