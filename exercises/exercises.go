// Package exercises is djgrade's catalog of exercises as data: one folder
// per exercise (see README.md in this folder for the format), embedded in the
// binary, with a loader that validates every manifest and names the file and
// field of any mistake.
package exercises

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
	"github.com/docker/go-units"
	"gopkg.in/yaml.v3"
)

// embedded holds every exercise folder of this package.
//
//go:embed all:*
var embedded embed.FS

// ManifestName is the manifest file of an exercise folder.
const ManifestName = "exercise.yaml"

// Embedded loads the catalog built into the binary.
func Embedded() (*Catalog, error) { return Load(embedded) }

// Catalog is a validated set of exercises. It implements grader.Catalog.
type Catalog struct {
	byID map[string]*grader.Exercise
	list []*grader.Exercise
}

// Exercise returns the exercise with the id, or an ENOTFOUND error.
func (c *Catalog) Exercise(id string) (*grader.Exercise, error) {
	if ex, ok := c.byID[id]; ok {
		return ex, nil
	}
	return nil, grader.Errorf(grader.ENOTFOUND, "no exercise %q", id)
}

// Exercises returns every exercise, ordered by id.
func (c *Catalog) Exercises() []*grader.Exercise { return c.list }

// Load reads every folder of fsys that holds an exercise.yaml. Any invalid
// exercise fails the whole load with an error naming its file and field.
func Load(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	c := &Catalog{byID: map[string]*grader.Exercise{}}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, path.Join(e.Name(), ManifestName)); err != nil {
			continue
		}
		sub, err := fs.Sub(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		ex, err := LoadExercise(sub, e.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.byID[ex.ID] = ex
		c.list = append(c.list, ex)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].ID < c.list[j].ID })
	return c, nil
}

// manifest is exercise.yaml as written.
type manifest struct {
	ID           string            `yaml:"id"`
	Title        string            `yaml:"title"`
	Summary      string            `yaml:"summary"`
	Version      int               `yaml:"version"`
	Topics       []string          `yaml:"topics"`
	Difficulty   string            `yaml:"difficulty"`
	TimeBudget   string            `yaml:"time_budget"`
	Database     string            `yaml:"database"`
	Editable     []string          `yaml:"editable"`
	Limits       map[string]string `yaml:"limits"`
	Categories   []grader.Category `yaml:"categories"`
	Settings     string            `yaml:"settings"`
	Services     []string          `yaml:"services"`
	Checks       []check           `yaml:"checks"`
	StarterScore *scoreRange       `yaml:"starter_score"`
	Solutions    []string          `yaml:"solutions"`
	Variants     []variant         `yaml:"variants"`
	// Kept lists variant folders kept for reference but not validated
	// (their score depends on timing), each with the reason.
	Kept []kept `yaml:"kept"`
}

type kept struct {
	Name string `yaml:"name"`
	Why  string `yaml:"why"`
}

type check struct {
	ID       string `yaml:"id"`
	Name     string `yaml:"name"`
	Category string `yaml:"category"`
	Points   int    `yaml:"points"`
}

type scoreRange struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

type variant struct {
	Name    string      `yaml:"name"`
	Summary string      `yaml:"summary"`
	Score   *scoreRange `yaml:"score"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// IDRule says in words what idPattern accepts.
const IDRule = "lowercase letters, digits and dashes"

// ValidID reports whether id is a valid exercise id (and check, category,
// solution or variant name): lowercase letters and digits in words joined by
// single dashes. The loader and `djgrade exercises new` use this one rule.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// fieldError names the file and field of a mistake in an exercise.
type fieldError struct {
	file, field, msg string
}

func (e *fieldError) Error() string {
	if e.field == "" {
		return fmt.Sprintf("%s: %s", e.file, e.msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.file, e.field, e.msg)
}

// LoadExercise reads and validates the exercise in fsys, the folder named
// dir (used in messages and checked against the manifest's id).
func LoadExercise(fsys fs.FS, dir string) (*grader.Exercise, error) {
	file := path.Join(dir, ManifestName)
	bad := func(field, format string, args ...any) error {
		return &fieldError{file: file, field: field, msg: fmt.Sprintf(format, args...)}
	}
	raw, err := fs.ReadFile(fsys, ManifestName)
	if err != nil {
		return nil, bad("", "%v", err)
	}
	var m manifest
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, bad("", "%v", err)
	}

	ex := &grader.Exercise{
		ID: m.ID, Title: strings.TrimSpace(m.Title), Summary: strings.TrimSpace(m.Summary),
		Version: m.Version, Topics: m.Topics, Difficulty: m.Difficulty, Database: m.Database,
		Editable: m.Editable, Categories: m.Categories, Solutions: m.Solutions, FS: fsys,
	}
	switch {
	case !ValidID(m.ID):
		return nil, bad("id", "%q must be "+IDRule, m.ID)
	case m.ID != dir:
		return nil, bad("id", "%q must equal the folder name %q", m.ID, dir)
	case ex.Title == "":
		return nil, bad("title", "is required")
	case ex.Summary == "":
		return nil, bad("summary", "is required")
	case m.Version < 1:
		return nil, bad("version", "must be 1 or more")
	}
	switch m.Difficulty {
	case "easy", "medium", "hard":
	default:
		return nil, bad("difficulty", "%q must be easy, medium or hard", m.Difficulty)
	}
	if ex.TimeBudget, err = time.ParseDuration(m.TimeBudget); err != nil || ex.TimeBudget <= 0 {
		return nil, bad("time_budget", "%q must be a duration such as 45m", m.TimeBudget)
	}
	switch m.Database {
	case "":
		ex.Database = grader.DatabaseSQLite
	case grader.DatabaseSQLite, grader.DatabasePostgres:
	default:
		return nil, bad("database", "%q must be sqlite or postgres", m.Database)
	}
	if len(m.Editable) == 0 {
		return nil, bad("editable", "must list at least one path")
	}
	for i, p := range m.Editable {
		clean := strings.TrimSuffix(p, "/**")
		if _, err := archive.CleanPath(clean); err != nil || clean != path.Clean(clean) || strings.Contains(clean, "**") {
			return nil, bad(fmt.Sprintf("editable[%d]", i), "%q is not a clean relative path pattern", p)
		}
		if _, err := path.Match(clean, ""); err != nil {
			return nil, bad(fmt.Sprintf("editable[%d]", i), "%q: %v", p, err)
		}
		if strings.HasPrefix(clean, grader.HiddenDir) || strings.HasPrefix(clean, ".djgrade") {
			return nil, bad(fmt.Sprintf("editable[%d]", i), "%q is reserved for the grader", p)
		}
	}
	if ex.Limits, err = parseLimits(m.Limits); err != nil {
		return nil, bad("limits", "%v", err)
	}
	if len(m.Categories) == 0 {
		return nil, bad("categories", "must list at least one category")
	}
	seen := map[string]bool{}
	for i, c := range m.Categories {
		switch {
		case !idPattern.MatchString(c.Name):
			return nil, bad(fmt.Sprintf("categories[%d].name", i), "%q must be lowercase letters, digits and dashes", c.Name)
		case seen[c.Name]:
			return nil, bad(fmt.Sprintf("categories[%d].name", i), "%q appears twice", c.Name)
		case c.Points <= 0:
			return nil, bad(fmt.Sprintf("categories[%d].points", i), "must be a positive integer")
		}
		seen[c.Name] = true
	}
	if err := loadChecks(ex, m, bad); err != nil {
		return nil, err
	}
	if ex.Settings, err = settingsModule(fsys, m.Settings); err != nil {
		return nil, bad("settings", "%v", err)
	}
	for i, s := range m.Services {
		switch {
		case !slices.Contains(grader.KnownServices, s):
			return nil, bad(fmt.Sprintf("services[%d]", i), "%q is not a service djgrade runs (known: %s)", s, strings.Join(grader.KnownServices, ", "))
		case slices.Contains(m.Services[:i], s):
			return nil, bad(fmt.Sprintf("services[%d]", i), "%q appears twice", s)
		}
	}
	ex.Services = m.Services
	max := ex.MaxScore()
	checkRange := func(field string, r *scoreRange) (grader.ScoreRange, error) {
		if r == nil {
			return grader.ScoreRange{}, bad(field, "is required")
		}
		if r.Min < 0 || r.Max < r.Min || r.Max > max {
			return grader.ScoreRange{}, bad(field, "{min: %d, max: %d} must satisfy 0 <= min <= max <= %d", r.Min, r.Max, max)
		}
		return grader.ScoreRange{Min: r.Min, Max: r.Max}, nil
	}
	if ex.StarterScore, err = checkRange("starter_score", m.StarterScore); err != nil {
		return nil, err
	}
	if ex.StarterScore.Max >= max {
		return nil, bad("starter_score", "max must be below full marks (%d): the starter is the unsolved task", max)
	}

	for _, name := range []string{"prompt.md", "rubric.md"} {
		b, err := fs.ReadFile(fsys, name)
		if err != nil || len(bytes.TrimSpace(b)) == 0 {
			return nil, &fieldError{file: path.Join(dir, name), msg: "is required and must not be empty"}
		}
		if name == "prompt.md" {
			ex.Prompt = string(b)
		} else {
			ex.Rubric = string(b)
		}
	}
	for _, name := range []string{"starter", "hidden"} {
		if err := nonEmptyDir(fsys, name); err != nil {
			return nil, &fieldError{file: path.Join(dir, name), msg: err.Error()}
		}
	}
	if len(m.Solutions) == 0 {
		return nil, bad("solutions", "must list at least one solution folder (the reference)")
	}
	overlay := func(field, folder string) error {
		if !idPattern.MatchString(path.Base(folder)) {
			return bad(field, "%q must be lowercase letters, digits and dashes", path.Base(folder))
		}
		if err := nonEmptyDir(fsys, folder); err != nil {
			return &fieldError{file: path.Join(dir, folder), msg: err.Error()}
		}
		files, err := grader.OverlayFiles(ex, folder)
		if err != nil {
			return &fieldError{file: path.Join(dir, folder), msg: err.Error()}
		}
		for _, f := range files {
			if !ex.IsEditable(f.Path) {
				return &fieldError{file: path.Join(dir, folder, f.Path), msg: "is not at an editable path, so a candidate could not submit it"}
			}
		}
		return nil
	}
	for i, s := range m.Solutions {
		if err := overlay(fmt.Sprintf("solutions[%d]", i), "solutions/"+s); err != nil {
			return nil, err
		}
	}
	names := map[string]bool{}
	for i, v := range m.Variants {
		field := fmt.Sprintf("variants[%d]", i)
		if names[v.Name] {
			return nil, bad(field+".name", "%q appears twice", v.Name)
		}
		names[v.Name] = true
		if strings.TrimSpace(v.Summary) == "" {
			return nil, bad(field+".summary", "is required: say which mistake this variant makes")
		}
		r, err := checkRange(field+".score", v.Score)
		if err != nil {
			return nil, err
		}
		if r.Max >= max {
			return nil, bad(field+".score", "max must be below full marks (%d): a wrong answer must not score full marks", max)
		}
		if err := overlay(field+".name", "variants/"+v.Name); err != nil {
			return nil, err
		}
		ex.Variants = append(ex.Variants, grader.Variant{Name: v.Name, Summary: strings.TrimSpace(v.Summary), Score: r})
	}
	// A folder the manifest does not list is never validated: a solution
	// or a known-wrong answer that nobody checks is worse than none.
	for i, k := range m.Kept {
		field := fmt.Sprintf("kept[%d]", i)
		switch {
		case names[k.Name]:
			return nil, bad(field+".name", "%q is a validated variant (or appears twice)", k.Name)
		case strings.TrimSpace(k.Why) == "":
			return nil, bad(field+".why", "is required: say why this variant is not validated")
		}
		names[k.Name] = true
		if err := nonEmptyDir(fsys, "variants/"+k.Name); err != nil || !idPattern.MatchString(k.Name) {
			return nil, bad(field+".name", "%q must name a non-empty folder under variants/", k.Name)
		}
	}
	for field, listed := range map[string][]string{"solutions": m.Solutions, "variants": slices.Collect(maps.Keys(names))} {
		entries, err := fs.ReadDir(fsys, field)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, &fieldError{file: path.Join(dir, field), msg: err.Error()}
		}
		for _, e := range entries {
			if !slices.Contains(listed, e.Name()) {
				return nil, &fieldError{file: path.Join(dir, field, e.Name()), msg: fmt.Sprintf("is not listed in %s's %s (or kept, with the reason it is not validated), so nobody would know it is never validated: list it or remove it", ManifestName, field)}
			}
		}
	}
	return ex, nil
}

// maxCheckPoints bounds one check's points, so that no sum can overflow.
const maxCheckPoints = 1000

// loadChecks validates the manifest's inventory of hidden checks: unique
// ids, published names, known categories, and points that add up to each
// category's total exactly.
func loadChecks(ex *grader.Exercise, m manifest, bad func(field, format string, args ...any) error) error {
	if len(m.Checks) == 0 {
		return bad("checks", "must list the hidden checks (id, name, category, points)")
	}
	sum := map[string]int{}
	ids, names := map[string]bool{}, map[string]bool{}
	for i, c := range m.Checks {
		field := fmt.Sprintf("checks[%d]", i)
		switch {
		case !idPattern.MatchString(c.ID):
			return bad(field+".id", "%q must be lowercase letters, digits and dashes", c.ID)
		case ids[c.ID]:
			return bad(field+".id", "%q appears twice", c.ID)
		case strings.TrimSpace(c.Name) == "":
			return bad(field+".name", "is required: it is what a candidate sees of the check")
		case names[strings.TrimSpace(c.Name)]:
			return bad(field+".name", "%q appears twice", c.Name)
		case c.Points <= 0 || c.Points > maxCheckPoints:
			return bad(field+".points", "must be an integer from 1 to %d", maxCheckPoints)
		}
		known := false
		for _, cat := range ex.Categories {
			known = known || cat.Name == c.Category
		}
		if !known {
			return bad(field+".category", "%q is not one of the categories", c.Category)
		}
		ids[c.ID], names[strings.TrimSpace(c.Name)] = true, true
		sum[c.Category] += c.Points
		ex.Checks = append(ex.Checks, grader.HiddenCheck{ID: c.ID, Name: strings.TrimSpace(c.Name), Category: c.Category, Points: c.Points})
	}
	for _, cat := range ex.Categories {
		if sum[cat.Name] != cat.Points {
			return bad("checks", "the %s checks add up to %d points, the category has %d", cat.Name, sum[cat.Name], cat.Points)
		}
	}
	return nil
}

// settingsModule returns the manifest's settings module, or the one the
// starter's pytest.ini names.
func settingsModule(fsys fs.FS, declared string) (string, error) {
	mod := strings.TrimSpace(declared)
	if mod == "" {
		ini, err := fs.ReadFile(fsys, "starter/pytest.ini")
		if err != nil {
			return "", fmt.Errorf("is required when starter/pytest.ini does not name DJANGO_SETTINGS_MODULE")
		}
		for _, line := range strings.Split(string(ini), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.TrimSpace(k) == "DJANGO_SETTINGS_MODULE" {
				mod = strings.TrimSpace(v)
			}
		}
	}
	if !settingsPattern.MatchString(mod) {
		return "", fmt.Errorf("%q is not a dotted module name", mod)
	}
	if _, err := fs.Stat(fsys, "starter/"+strings.ReplaceAll(mod, ".", "/")+".py"); err != nil {
		return "", fmt.Errorf("%q is not a module of the starter", mod)
	}
	return mod, nil
}

var settingsPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

func nonEmptyDir(fsys fs.FS, dir string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("is required: %v", err)
	}
	if len(entries) == 0 {
		return errors.New("is required and must not be empty")
	}
	return nil
}

// parseLimits reads the manifest's limits, each no higher than grader.MaxLimits.
func parseLimits(raw map[string]string) (grader.Limits, error) {
	var l grader.Limits
	mx := grader.MaxLimits
	for k, v := range raw {
		var err error
		switch k {
		case "timeout":
			l.Timeout, err = time.ParseDuration(v)
			if err == nil && (l.Timeout <= 0 || l.Timeout > mx.Timeout) {
				err = fmt.Errorf("must be between 0 and %s", mx.Timeout)
			}
		case "memory":
			l.MemoryBytes, err = parseBytes(v, mx.MemoryBytes)
		case "scratch":
			l.ScratchBytes, err = parseBytes(v, mx.ScratchBytes)
		case "output":
			l.OutputBytes, err = parseBytes(v, mx.OutputBytes)
		case "cpus":
			l.CPUs, err = strconv.ParseFloat(v, 64)
			if err == nil && (l.CPUs <= 0 || l.CPUs > mx.CPUs) {
				err = fmt.Errorf("must be between 0 and %g", mx.CPUs)
			}
		case "pids":
			l.Pids, err = parseCount(v, mx.Pids)
		case "open_files":
			l.OpenFiles, err = parseCount(v, mx.OpenFiles)
		default:
			err = errors.New("unknown limit (timeout, memory, scratch, output, cpus, pids, open_files)")
		}
		if err != nil {
			return l, fmt.Errorf("%s: %q: %v", k, v, err)
		}
	}
	return l, nil
}

func parseCount(v string, max int64) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err == nil && (n <= 0 || n > max) {
		err = fmt.Errorf("must be between 1 and %d", max)
	}
	return n, err
}

// ParseBytes reads a size such as 512MiB, 1GiB, 64KiB, 1.5GiB or 1000
// (bytes). Decimal units (MB, k) are refused rather than read as binary,
// as go-units' RAMInBytes would: in a manifest "512MB" is ambiguous.
func ParseBytes(v string) (int64, error) { return parseBytes(v, 1<<62) }

func parseBytes(v string, max int64) (int64, error) {
	s := strings.Join(strings.Fields(v), " ")
	unit := s[strings.LastIndexAny(s, "0123456789. ")+1:]
	if unit != "" && unit != "B" && !strings.HasSuffix(unit, "iB") {
		return 0, errors.New("must be a size such as 512MiB")
	}
	n, err := units.RAMInBytes(s)
	if err != nil {
		return 0, errors.New("must be a size such as 512MiB")
	}
	if n <= 0 || n > max {
		return 0, fmt.Errorf("must be between 1 B and %s", archive.FormatBytes(max))
	}
	return n, nil
}
