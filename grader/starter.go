package grader

import (
	"fmt"
	"path"
	"strings"
)

// Runtime is one piece of software a graded run has, at the version the
// sandbox image holds (Debian trixie's packages). sandbox's
// TestRuntimeVersions checks the list against the image, so it cannot
// drift from what graded runs use.
type Runtime struct {
	// Module is what Python imports ("" for Python itself), Package what
	// pip installs.
	Name, Version, Module, Package string
}

// Runtimes are the versions of the sandbox image, major.minor: what a
// starter's README asks a candidate to install.
var Runtimes = []Runtime{
	{"Python", "3.13", "", ""},
	{"Django", "4.2", "django", "Django"},
	{"Django REST framework", "3.16", "rest_framework", "djangorestframework"},
	{"pytest", "8.3", "pytest", "pytest"},
	{"pytest-django", "4.5", "pytest_django", "pytest-django"},
}

// StarterReadmeName is the file a starter download carries its README in:
// README.md, or DJGRADE.md when the starter has a README of its own.
func StarterReadmeName(files []File) string {
	for _, f := range files {
		if strings.EqualFold(f.Path, "README.md") {
			return "DJGRADE.md"
		}
	}
	return "README.md"
}

// StarterDownload is what a candidate downloads to work locally: the
// starter's files and a README with the prompt, the versions graded runs
// use, the files that may be changed and how to run the public tests with
// plain pytest.
func StarterDownload(ex *Exercise) ([]File, error) {
	files, err := StarterFiles(ex)
	if err != nil {
		return nil, err
	}
	readme := File{Path: StarterReadmeName(files), Data: []byte(StarterReadme(ex, files))}
	return append(files, readme), nil
}

// StarterReadme renders the README of a starter download.
func StarterReadme(ex *Exercise, files []File) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", ex.Title)
	if ex.Summary != "" {
		fmt.Fprintf(&b, "%s\n\n", ex.Summary)
	}
	if ex.TimeBudget > 0 {
		fmt.Fprintf(&b, "Time budget: %s. Exercise `%s`, version %d.\n\n", ex.TimeBudget, ex.ID, ex.Version)
	}
	b.WriteString("## The task\n\n")
	b.WriteString(strings.TrimSpace(shiftHeadings(ex.Prompt)))
	b.WriteString("\n\n## What you may change\n\n")
	b.WriteString("Only these files count; changes anywhere else are ignored when your work is graded:\n\n")
	for _, e := range ex.Editable {
		fmt.Fprintf(&b, "- `%s`\n", e)
	}
	b.WriteString("\n## Versions\n\nGraded runs use these versions (Debian trixie's packages); use the same to work locally:\n\n")
	for _, r := range Runtimes {
		fmt.Fprintf(&b, "- %s %s\n", r.Name, r.Version)
	}
	b.WriteString("\nFor example, in a virtual environment:\n\n```\npython3 -m venv .venv && . .venv/bin/activate\npip install ")
	var pins []string
	for _, r := range Runtimes {
		if r.Package != "" {
			pins = append(pins, fmt.Sprintf("'%s==%s.*'", r.Package, r.Version))
		}
	}
	b.WriteString(strings.Join(pins, " "))
	b.WriteString("\n```\n\n")
	b.WriteString("## Running the public tests\n\nFrom this folder:\n\n```\n")
	if hasFile(files, "pytest.ini") || hasFile(files, "pyproject.toml") || hasFile(files, "setup.cfg") {
		b.WriteString("pytest\n")
	} else {
		fmt.Fprintf(&b, "DJANGO_SETTINGS_MODULE=%s pytest\n", ex.Settings)
	}
	b.WriteString("```\n\n")
	db := ex.Database
	if db == "" {
		db = "sqlite"
	}
	fmt.Fprintf(&b, "The public tests use the project's own database settings (%s). Graded runs add hidden checks, "+
		"run against PostgreSQL with the database server counting your app's queries; passing the public tests does "+
		"not mean full marks.\n", db)
	return b.String()
}

// shiftHeadings moves the prompt's markdown headings one level down, so
// that they sit under the README's "The task".
func shiftHeadings(md string) string {
	lines := strings.Split(md, "\n")
	fence := false
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			fence = !fence
		}
		if !fence && strings.HasPrefix(l, "#") {
			lines[i] = "##" + l
		}
	}
	return strings.Join(lines, "\n")
}

func hasFile(files []File, p string) bool {
	for _, f := range files {
		if path.Clean(f.Path) == p {
			return true
		}
	}
	return false
}
