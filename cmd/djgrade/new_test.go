package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/exercises"
)

// scaffoldIn runs `exercises new --dir dir id` and returns its folder.
func scaffoldIn(t *testing.T, dir, id string) string {
	t.Helper()
	code, stdout, stderr := runArgs("exercises", "new", "--dir", dir, id)
	if code != 0 {
		t.Fatalf("exercises new: exit %d: %s", code, stderr)
	}
	target := filepath.Join(dir, id)
	if !strings.Contains(stdout, target) || !strings.Contains(stderr, "exercises validate --exercises "+dir+" "+id) {
		t.Errorf("exercises new says %q / %q", stdout, stderr)
	}
	return target
}

var checkMarker = regexp.MustCompile(`@pytest\.mark\.check\("([^"]+)"\)`)

// TestExercisesNewLoads: the scaffold loads with the catalog loader (the one
// --exercises uses), with one solution, one variant, a public test, and
// hidden checks marked with exactly the manifest's check ids.
func TestExercisesNewLoads(t *testing.T) {
	dir := t.TempDir()
	target := scaffoldIn(t, dir, "list-by-name")
	c, err := exercises.Load(os.DirFS(dir))
	if err != nil {
		t.Fatalf("the scaffold does not load: %v", err)
	}
	ex, err := c.Exercise("list-by-name")
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Solutions) != 1 || len(ex.Variants) != 1 || ex.MaxScore() == 0 || ex.StarterScore.Max >= ex.MaxScore() {
		t.Errorf("solutions %v, variants %v, max %d, starter %v", ex.Solutions, ex.Variants, ex.MaxScore(), ex.StarterScore)
	}
	var marked []string
	hidden, _ := filepath.Glob(filepath.Join(target, "hidden", "*.py"))
	for _, f := range hidden {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range checkMarker.FindAllStringSubmatch(string(b), -1) {
			marked = append(marked, m[1])
		}
		if strings.Contains(string(b), "{{") {
			t.Errorf("%s holds an unrendered template", f)
		}
	}
	if !slices.Equal(marked, ex.CheckIDs()) {
		t.Errorf("hidden checks are marked %q, the manifest lists %q", marked, ex.CheckIDs())
	}
	if public, _ := filepath.Glob(filepath.Join(target, "starter", "tests", "test_*.py")); len(public) == 0 {
		t.Error("the starter has no public test")
	}
	for _, f := range []string{"starter/items/__init__.py", "starter/manage.py", "prompt.md", "rubric.md"} {
		if _, err := os.Stat(filepath.Join(target, f)); err != nil {
			t.Error(err)
		}
	}
	for _, f := range []string{"exercise.yaml.tmpl", "prompt.md.tmpl"} {
		if _, err := os.Stat(filepath.Join(target, f)); err == nil {
			t.Errorf("%s was copied as a template", f)
		}
	}
	// The same command and id again: the folder is not empty, refused.
	if code, _, stderr := runArgs("exercises", "new", "--dir", dir, "list-by-name"); code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("an existing exercise: exit %d %q", code, stderr)
	}
	// An empty existing folder is fine.
	if err := os.Mkdir(filepath.Join(dir, "empty-one"), 0o755); err != nil {
		t.Fatal(err)
	}
	scaffoldIn(t, dir, "empty-one")
}

// TestExercisesNewRefuses: ids the loader would refuse are refused with
// its rule (exit 2), and the default folder is ./ID.
func TestExercisesNewRefuses(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, id := range []string{"Upper", "under_score", "dash-", "two--dashes", "dot.ted", "../up", ""} {
		code, _, stderr := runArgs("exercises", "new", id)
		if code != 2 || !strings.Contains(stderr, "usage: djgrade exercises new") {
			t.Errorf("id %q: exit %d %q", id, code, stderr)
		}
		if id != "" && !strings.Contains(stderr, exercises.IDRule) {
			t.Errorf("id %q: the message lacks the rule: %q", id, stderr)
		}
	}
	if code, _, stderr := runArgs("exercises", "new"); code != 2 {
		t.Errorf("no id: exit %d %q", code, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused ids left %v", entries)
	}
	if code, _, stderr := runArgs("exercises", "new", "here"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "here", exercises.ManifestName)); err != nil {
		t.Errorf("the default folder is not ./ID: %v", err)
	}
}

// TestExercisesNewValidates is the real test: `exercises validate` grades
// the scaffold's solution, starter and variant in the real sandbox, and
// every one lands in its range.
func TestExercisesNewValidates(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	scaffoldIn(t, dir, "list-by-name")
	code, stdout, stderr := runArgs("exercises", "validate", "--exercises", dir, "list-by-name")
	if code != 0 || !strings.Contains(stdout, "3 answers checked, 0 missed") {
		t.Fatalf("validate: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
