package exercises_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/djgrade/djgrade/exercises"
	"github.com/djgrade/djgrade/grader"
)

const goodManifest = `id: demo
title: Demo
summary: A demo exercise.
version: 1
topics: [drf]
difficulty: easy
time_budget: 30m
database: sqlite
editable: [app/views.py, app/extra/**]
limits: {timeout: 90s, memory: 512MiB}
categories:
  - {name: correctness, points: 4}
  - {name: performance, points: 6}
checks:
  - {id: body, name: Body unchanged, category: correctness, points: 4}
  - {id: constant, name: Constant queries, category: performance, points: 4}
  - {id: small, name: Few queries, category: performance, points: 2}
starter_score: {min: 0, max: 4}
solutions: [reference]
variants:
  - name: half
    summary: fixes half
    score: {min: 0, max: 6}
`

func demoFS(manifest string) fstest.MapFS {
	return fstest.MapFS{
		"demo/exercise.yaml":                    {Data: []byte(manifest)},
		"demo/prompt.md":                        {Data: []byte("# Demo\n")},
		"demo/rubric.md":                        {Data: []byte("# Rubric\n")},
		"demo/starter/app/views.py":             {Data: []byte("x")},
		"demo/starter/pytest.ini":               {Data: []byte("[pytest]\nDJANGO_SETTINGS_MODULE = app.settings\n")},
		"demo/starter/app/settings.py":          {Data: []byte("SECRET_KEY = 'x'\n")},
		"demo/hidden/test_hidden_demo.py":       {Data: []byte("x")},
		"demo/solutions/reference/app/views.py": {Data: []byte("y")},
		"demo/variants/half/app/views.py":       {Data: []byte("z")},
		"not-an-exercise/readme.txt":            {Data: []byte("ignored")},
	}
}

func TestLoadGood(t *testing.T) {
	c, err := exercises.Load(demoFS(goodManifest))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.Exercise("demo")
	if err != nil {
		t.Fatal(err)
	}
	if ex.MaxScore() != 10 || ex.Limits.Timeout.Seconds() != 90 || ex.Limits.MemoryBytes != 512<<20 || ex.Prompt != "# Demo\n" {
		t.Fatalf("loaded %+v", ex)
	}
	if len(ex.Checks) != 3 || ex.Checks[1] != (grader.HiddenCheck{ID: "constant", Name: "Constant queries", Category: "performance", Points: 4}) || ex.Settings != "app.settings" {
		t.Fatalf("checks %+v settings %q", ex.Checks, ex.Settings)
	}
	if len(ex.Variants) != 1 || ex.Variants[0].Score.Max != 6 || ex.Database != grader.DatabaseSQLite {
		t.Fatalf("variants %+v", ex.Variants)
	}
	if _, err := c.Exercise("nope"); grader.ErrorCode(err) != grader.ENOTFOUND {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestLoadNamesFileAndField(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"id mismatch", "id: demo", "id: other", "demo/exercise.yaml: id: \"other\" must equal the folder name"},
		{"unknown field", "version: 1", "version: 1\ncolour: red", "field colour not found"},
		{"bad difficulty", "difficulty: easy", "difficulty: trivial", "difficulty:"},
		{"bad budget", "time_budget: 30m", "time_budget: soon", "time_budget:"},
		{"bad database", "database: sqlite", "database: mysql", "database:"},
		{"editable escapes", "editable: [app/views.py, app/extra/**]", "editable: [../x.py]", "editable[0]"},
		{"editable hidden", "editable: [app/views.py, app/extra/**]", "editable: [djgrade_hidden/**]", "reserved"},
		{"zero points", "points: 4}", "points: 0}", "categories[0].points"},
		{"duplicate category", "name: performance", "name: correctness", "categories[1].name"},
		{"limit over max", "timeout: 90s", "timeout: 2h", "limits: timeout"},
		{"limit unknown", "timeout: 90s", "gpus: 90s", "unknown limit"},
		{"memory unit", "memory: 512MiB", "memory: 512MB", "limits: memory"},
		{"starter full marks", "starter_score: {min: 0, max: 4}", "starter_score: {min: 0, max: 10}", "starter_score: max must be below"},
		{"variant full marks", "score: {min: 0, max: 6}", "score: {min: 0, max: 10}", "variants[0].score"},
		{"variant range inverted", "score: {min: 0, max: 6}", "score: {min: 5, max: 2}", "variants[0].score"},
		{"missing solution folder", "solutions: [reference]", "solutions: [reference, other]", "demo/solutions/other"},
		{"no solutions", "solutions: [reference]", "solutions: []", "solutions: must list"},
		{"variant without summary", "summary: fixes half", "summary: \"\"", "variants[0].summary"},
		{"checks do not add up", "category: performance, points: 2}", "category: performance, points: 3}", "the performance checks add up to 7 points, the category has 6"},
		{"check in no category", "category: performance, points: 2}", "category: style, points: 2}", "checks[2].category"},
		{"duplicate check id", "id: small", "id: constant", "checks[2].id: \"constant\" appears twice"},
		{"duplicate check name", "name: Few queries", "name: Constant queries", "checks[2].name"},
		{"check without name", "name: Few queries, ", "", "checks[2].name: is required"},
		{"check points overflow", "category: correctness, points: 4}", "category: correctness, points: 99999999999}", "checks[0].points"},
		{"no checks", "checks:\n", "chex:\n", "field chex not found"},
		{"settings not a module", "database: sqlite", "database: sqlite\nsettings: app/settings.py", "settings:"},
		{"settings missing", "database: sqlite", "database: sqlite\nsettings: app.nosuch", "not a module of the starter"},
		{"unknown service", "database: sqlite", "database: sqlite\nservices: [rabbitmq]", "services[0]: \"rabbitmq\" is not a service djgrade runs (known: redis)"},
		{"service twice", "database: sqlite", "database: sqlite\nservices: [redis, redis]", "services[1]: \"redis\" appears twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := strings.Replace(goodManifest, tc.from, tc.to, 1)
			if m == goodManifest {
				t.Fatalf("replacement %q not applied", tc.from)
			}
			_, err := exercises.Load(demoFS(m))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadRefusesOverlayOutsideEditable(t *testing.T) {
	fsys := demoFS(goodManifest)
	fsys["demo/variants/half/tests/test_public.py"] = &fstest.MapFile{Data: []byte("x")}
	_, err := exercises.Load(fsys)
	if err == nil || !strings.Contains(err.Error(), "demo/variants/half/tests/test_public.py") {
		t.Fatalf("error %v", err)
	}
}

// A solution or variant folder the manifest does not list would never be
// validated; the loader names it.
func TestLoadRefusesUnlistedFolders(t *testing.T) {
	for _, file := range []string{"demo/variants/forgotten/app/views.py", "demo/solutions/second/app/views.py"} {
		fsys := demoFS(goodManifest)
		fsys[file] = &fstest.MapFile{Data: []byte("w")}
		_, err := exercises.Load(fsys)
		folder := file[:strings.LastIndex(file, "/app/")]
		if err == nil || !strings.Contains(err.Error(), folder+": is not listed") {
			t.Fatalf("with %s: error %v, want it to name %s as not listed", file, err, folder)
		}
	}
	// Kept, with the reason, it loads and is not validated; without a
	// reason, or naming no folder, it is refused.
	fsys := demoFS(goodManifest + "kept:\n  - {name: flaky, why: timing decides its score}\n")
	fsys["demo/variants/flaky/app/views.py"] = &fstest.MapFile{Data: []byte("w")}
	cat, err := exercises.Load(fsys)
	if err != nil {
		t.Fatalf("kept variant refused: %v", err)
	}
	if ex, _ := cat.Exercise("demo"); ex == nil || len(ex.Variants) != 1 || ex.Variants[0].Name != "half" {
		t.Fatalf("a kept variant must not be among the validated ones: %+v", ex)
	}
	for manifest, want := range map[string]string{
		goodManifest + "kept:\n  - {name: flaky, why: \"\"}\n":  "kept[0].why: is required",
		goodManifest + "kept:\n  - {name: gone, why: timing}\n": "kept[0].name: \"gone\" must name a non-empty folder",
		goodManifest + "kept:\n  - {name: half, why: timing}\n": "kept[0].name: \"half\" is a validated variant",
	} {
		fsys := demoFS(manifest)
		fsys["demo/variants/flaky/app/views.py"] = &fstest.MapFile{Data: []byte("w")}
		if _, err := exercises.Load(fsys); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
}

func TestLoadRequiresPromptAndHidden(t *testing.T) {
	for _, file := range []string{"demo/prompt.md", "demo/rubric.md", "demo/hidden/test_hidden_demo.py"} {
		fsys := demoFS(goodManifest)
		delete(fsys, file)
		if _, err := exercises.Load(fsys); err == nil {
			t.Errorf("loaded without %s", file)
		}
	}
}

// TestEmbeddedCatalog checks every exercise shipped in the binary loads and
// proves itself with solutions, a starter range and variants.
func TestEmbeddedCatalog(t *testing.T) {
	c, err := exercises.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Exercises()) == 0 {
		t.Fatal("the embedded catalog is empty")
	}
	for _, ex := range c.Exercises() {
		if len(ex.Solutions) < 2 || len(ex.Variants) < 6 {
			t.Errorf("%s: %d solutions and %d variants; want at least 2 and 6", ex.ID, len(ex.Solutions), len(ex.Variants))
		}
		hidden, err := grader.HiddenFiles(ex)
		if err != nil || len(hidden) == 0 {
			t.Errorf("%s: hidden tests: %v", ex.ID, err)
		}
		starter, _ := grader.StarterFiles(ex)
		for _, f := range starter {
			if strings.HasPrefix(f.Path, grader.HiddenDir) {
				t.Errorf("%s: starter holds %s", ex.ID, f.Path)
			}
		}
	}
}

func TestLoadServices(t *testing.T) {
	for manifest, want := range map[string]int{
		strings.Replace(goodManifest, "database: sqlite", "database: sqlite\nservices: [redis]", 1): 1,
		goodManifest: 0,
	} {
		c, err := exercises.Load(demoFS(manifest))
		if err != nil {
			t.Fatal(err)
		}
		ex, err := c.Exercise("demo")
		if err != nil {
			t.Fatal(err)
		}
		if len(ex.Services) != want || (want == 1 && ex.Services[0] != grader.ServiceRedis) {
			t.Fatalf("services %v, want %d", ex.Services, want)
		}
	}
}
