package grader

import (
	"io/fs"
	"path"
	"strings"
	"time"
)

// Databases a starter may use for a candidate's local run. Graded runs
// always use the judge's PostgreSQL.
const (
	DatabaseSQLite   = "sqlite"
	DatabasePostgres = "postgres"
)

// Exercise is one gradable task. The exercises package loads it from a
// folder; see exercises/README.md for the format.
type Exercise struct {
	ID         string        `json:"id"`
	Title      string        `json:"title"`
	Summary    string        `json:"summary"`
	Version    int           `json:"version"`
	Topics     []string      `json:"topics"`
	Difficulty string        `json:"difficulty"`
	TimeBudget time.Duration `json:"-"`
	Database   string        `json:"database"`
	// Editable lists the paths a candidate may change: exact paths, '*'
	// within one path segment, and a trailing "/**" for a whole folder.
	Editable   []string   `json:"editable"`
	Limits     Limits     `json:"-"`
	Categories []Category `json:"categories"`
	// Checks is the inventory of hidden checks, read on the host from the
	// manifest: the judge's report must name exactly these, and points come
	// from here, never from the report.
	Checks []HiddenCheck `json:"-"`
	// Settings is the starter's Django settings module (dotted), which
	// graded runs extend with the judge's database.
	Settings string `json:"-"`
	// Services are what the judge's container runs for the project besides
	// PostgreSQL (ServiceRedis: a broker the judge observes).
	Services []string `json:"services,omitempty"`
	// StarterScore is the range the untouched starter must score in.
	StarterScore ScoreRange `json:"-"`
	// Solutions and Variants name sub-folders of FS: solutions/<name> and
	// variants/<name>, each holding files that overlay the starter.
	Solutions []string  `json:"-"`
	Variants  []Variant `json:"-"`
	// Prompt is the candidate's task as markdown; Rubric the interviewer's.
	Prompt string `json:"-"`
	Rubric string `json:"-"`
	// FS is the exercise's folder: starter/, hidden/, solutions/, variants/.
	FS fs.FS `json:"-"`
}

// ServiceRedis is a Redis server in the judge's container, on the shared
// loopback: the candidate's project reaches it as an unprivileged user.
const ServiceRedis = "redis"

// KnownServices are the services an exercise may ask for.
var KnownServices = []string{ServiceRedis}

// HiddenCheck is one hidden check of an exercise.
type HiddenCheck struct {
	// ID ties the check to the hidden tests marked @pytest.mark.check(ID).
	ID string `json:"id"`
	// Name is the published name: all a candidate ever sees of the check.
	Name     string `json:"name"`
	Category string `json:"category"`
	Points   int    `json:"points"`
}

// Category is one rubric category and the points it is worth.
type Category struct {
	Name   string `json:"name"`
	Points int    `json:"points"`
}

// ScoreRange is an inclusive range of scores.
type ScoreRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// Contains reports whether score lies in r.
func (r ScoreRange) Contains(score int) bool { return score >= r.Min && score <= r.Max }

// Variant is a known-wrong answer and the score range it must land in.
type Variant struct {
	Name    string     `json:"name"`
	Summary string     `json:"summary"`
	Score   ScoreRange `json:"score"`
}

// MaxScore is the total of the exercise's category points.
func (e *Exercise) MaxScore() int {
	n := 0
	for _, c := range e.Categories {
		n += c.Points
	}
	return n
}

// CheckIDs returns the ids of the exercise's hidden checks, in order: the
// inventory a judge's report must match.
func (e *Exercise) CheckIDs() []string {
	ids := make([]string, len(e.Checks))
	for i, c := range e.Checks {
		ids[i] = c.ID
	}
	return ids
}

// IsEditable reports whether a candidate may write the clean relative path p.
func (e *Exercise) IsEditable(p string) bool {
	for _, pat := range e.Editable {
		if MatchPath(pat, p) {
			return true
		}
	}
	return false
}

// MatchPath matches a clean slash path against an editable pattern: an exact
// path, path.Match globs within segments, or "dir/**" for anything below dir.
func MatchPath(pattern, p string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/**"); ok {
		return strings.HasPrefix(p, dir+"/")
	}
	ok, err := path.Match(pattern, p)
	return err == nil && ok
}

// Catalog is the set of exercises the grader knows.
type Catalog interface {
	// Exercise returns the exercise with the id, or an ENOTFOUND error.
	Exercise(id string) (*Exercise, error)
	// Exercises returns every exercise, ordered by id.
	Exercises() []*Exercise
}
