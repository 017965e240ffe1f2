package grader_test

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// Every built-in exercise's download carries a README that holds the
// prompt, the editable files, the versions and how to run the public
// tests, and its zip entries have real dates.
func TestStarterDownload(t *testing.T) {
	cat, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range cat.Exercises() {
		t.Run(ex.ID, func(t *testing.T) {
			files, err := grader.StarterDownload(ex)
			if err != nil {
				t.Fatal(err)
			}
			starter, _ := grader.StarterFiles(ex)
			if len(files) != len(starter)+1 {
				t.Fatalf("%d files, want the starter's %d and a README", len(files), len(starter))
			}
			var readme string
			for _, f := range files {
				if f.Path == "README.md" {
					readme = string(f.Data)
				}
			}
			if readme == "" {
				t.Fatal("no README.md in the download")
			}
			firstPromptLine := strings.TrimLeft(strings.SplitN(strings.TrimSpace(ex.Prompt), "\n", 2)[0], "# ")
			for _, want := range append([]string{firstPromptLine, "pytest", "Django 4.2", "Python 3.13", "'Django==4.2.*'", "## Running the public tests"}, ex.Editable...) {
				if !strings.Contains(readme, want) {
					t.Errorf("README lacks %q:\n%s", want, readme)
				}
			}
			if strings.Contains(readme, ex.Rubric[:min(40, len(ex.Rubric))]) {
				t.Error("README holds the rubric")
			}
			var buf bytes.Buffer
			if err := archive.WriteZip(&buf, files); err != nil {
				t.Fatal(err)
			}
			zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range zr.File {
				if y := f.Modified.Year(); y < 2020 || f.Modified.After(time.Now().Add(time.Minute)) {
					t.Fatalf("%s dated %s", f.Name, f.Modified)
				}
			}
		})
	}
}

// A starter with a README of its own keeps it; djgrade's goes beside it.
func TestStarterReadmeName(t *testing.T) {
	if got := grader.StarterReadmeName([]grader.File{{Path: "app.py"}}); got != "README.md" {
		t.Errorf("got %s", got)
	}
	if got := grader.StarterReadmeName([]grader.File{{Path: "readme.md"}}); got != "DJGRADE.md" {
		t.Errorf("got %s", got)
	}
}
