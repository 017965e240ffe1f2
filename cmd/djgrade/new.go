package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/djgrade/djgrade/exercises"
)

// scaffold is the template of `djgrade exercises new`: a small, complete,
// valid exercise. Files ending in .tmpl are text/template files (the suffix
// is dropped; .ID is the new exercise's id); the others are copied as they
// are. all: keeps the Python packages' __init__.py.
//
//go:embed all:scaffold
var scaffold embed.FS

const scaffoldRoot = "scaffold"

// runExercisesNew writes the scaffold to DIR/ID.
func runExercisesNew(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("exercises new", stderr)
	dir := fs.String("dir", ".", "the catalog `DIR` to create the exercise's folder in (DIR/ID)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "exercises new needs exactly one exercise ID")
	}
	id := fs.Arg(0)
	if !exercises.ValidID(id) {
		return usageError(fs, fmt.Sprintf("%q is not a valid exercise id: it must be %s (e.g. list-by-name)", id, exercises.IDRule))
	}
	target := filepath.Join(*dir, id)
	if err := writeScaffold(target, id); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s\n", target)
	fmt.Fprintf(stderr, "djgrade: a working exercise to change into yours; prove it with\n\n"+
		"    djgrade exercises validate --exercises %s %s\n\n"+
		"and see one answer's hidden messages with\n\n"+
		"    djgrade grade --exercises %s --exercise %s --details %s\n",
		*dir, id, *dir, id, filepath.Join(target, "solutions", "reference"))
	return nil
}

// writeScaffold writes the scaffold for id into target, which must not
// exist or be an empty folder.
func writeScaffold(target, id string) error {
	entries, err := os.ReadDir(target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(entries) > 0:
		return &exitError{1, fmt.Sprintf("%s exists and is not empty: choose another ID or --dir, or remove it", target)}
	}
	data := struct{ ID string }{id}
	return fs.WalkDir(scaffold, scaffoldRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, scaffoldRoot), "/")
		out := filepath.Join(target, filepath.FromSlash(strings.TrimSuffix(rel, ".tmpl")))
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		b, err := scaffold.ReadFile(p)
		if err != nil {
			return err
		}
		if path.Ext(p) == ".tmpl" {
			t, err := template.New(rel).Option("missingkey=error").Parse(string(b))
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := t.Execute(&buf, data); err != nil {
				return err
			}
			b = buf.Bytes()
		}
		mode := os.FileMode(0o644)
		if path.Base(p) == "manage.py" {
			mode = 0o755
		}
		return os.WriteFile(out, b, mode)
	})
}
