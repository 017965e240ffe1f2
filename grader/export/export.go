// Package export turns graded submissions into files that leave the server:
// CSV and JSON tables of an exercise's or an assignment's results, JUnit XML
// of one submission's checks (what CI systems read) and Gradescope's
// results.json.
//
// What of a result leaves the server is decided once, by grader's
// Result.View(grader.AudienceExport): NewRow is the only place that asks for
// it, every writer renders a Row and nothing else, and no writer filters on
// its own. That view holds scores, categories, the run's reason and every
// check's name (a hidden check by its published name), outcome and points;
// never a message, a node id of a hidden check, a log or a finding.
//
// Like grader/archive and grader/pyscan it knows nothing of HTTP or the
// store: callers list the submissions (Collect takes the store's listing as
// a function) and set their own headers (ContentType*, Filename).
package export

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/djgrade/djgrade/grader"
)

// MaxRows is the most rows one export holds. A table with more matching
// submissions is cut at MaxRows, newest first, and says so (Table.Truncated
// and a cursor after the last row), so that the rest can be fetched page by
// page.
const MaxRows = 5000

// Content types of the writers' output.
const (
	ContentTypeCSV        = "text/csv; charset=utf-8"
	ContentTypeJSON       = "application/json; charset=utf-8"
	ContentTypeJUnit      = "application/xml; charset=utf-8"
	ContentTypeGradescope = "application/json; charset=utf-8"
)

// Row is one submission's result as it may leave the server.
type Row struct {
	Submission string
	Exercise   string
	Candidate  string
	Assignment string
	Status     grader.Status
	Late       bool
	CreatedAt  time.Time
	FinishedAt time.Time
	// Result is the export audience's view of the result: nil unless the
	// submission is done.
	Result *grader.ResultView
}

// NewRow is sub as it may leave the server. It is the one call of
// Result.View(grader.AudienceExport) of this package.
func NewRow(sub *grader.Submission) Row {
	r := Row{
		Submission: sub.ID, Exercise: sub.Exercise, Candidate: sub.Candidate, Assignment: sub.Assignment,
		Status: sub.Status, Late: sub.Late, CreatedAt: sub.CreatedAt.UTC(), FinishedAt: sub.FinishedAt.UTC(),
	}
	if sub.Status == grader.StatusDone {
		r.Result = sub.Result.View(grader.AudienceExport)
	}
	return r
}

// Column is a column added to a table after its own (see Table.Extra).
type Column struct {
	// Name is the column's header in CSV and its key in JSON's "extra".
	Name string
	// Value is the row's cell; "" for none.
	Value func(Row) string
	// JSON, if set, is the row's value in JSON's "extra" in its own type
	// (a number, a boolean; nil for none, null), so that a score is a
	// number there as on every other route; else JSON has Value's text.
	JSON func(Row) any
}

// Table is the rows of an export and its columns.
type Table struct {
	// Exercise is the exercise of every row ("" when rows mix exercises).
	Exercise string
	// Assignment is set for the export of one assignment.
	Assignment string
	// Categories are the rubric categories' names, in the rubric's order:
	// one CSV column each.
	Categories []string
	// Checks are the hidden checks' names as the export view gives them,
	// in the order they first appear in Rows: one CSV column each.
	Checks []string
	Rows   []Row
	// Extra are columns of other features, after the table's own: the
	// hook for data that is not part of a result (a reviewer's override
	// of the score, say). Each Value must decide for itself what it may
	// export; the writers render it as given (CSV defused).
	Extra []Column
	// Truncated reports that more submissions may match than the table
	// holds; Next is then the id the next page starts after.
	Truncated bool
	Next      string
	// GeneratedAt is when the table was made.
	GeneratedAt time.Time
}

// NewTable makes a table of the rows, in their order. ex, if not nil,
// gives the rubric's categories and their order; categories seen only in
// results (a rubric changed since) follow, in the order they appear.
func NewTable(ex *grader.Exercise, rows []Row, now time.Time) *Table {
	t := &Table{GeneratedAt: now.UTC().Truncate(time.Second), Rows: rows}
	if t.Rows == nil {
		t.Rows = []Row{}
	}
	seenCat, seenCheck := map[string]bool{}, map[string]bool{}
	if ex != nil {
		t.Exercise = ex.ID
		for _, c := range ex.Categories {
			if !seenCat[c.Name] {
				seenCat[c.Name] = true
				t.Categories = append(t.Categories, c.Name)
			}
		}
	}
	for _, r := range rows {
		if r.Result == nil {
			continue
		}
		for _, c := range r.Result.Categories {
			if !seenCat[c.Name] {
				seenCat[c.Name] = true
				t.Categories = append(t.Categories, c.Name)
			}
		}
		for _, c := range r.Result.Tests {
			if c.Hidden && !seenCheck[c.Name] {
				seenCheck[c.Name] = true
				t.Checks = append(t.Checks, c.Name)
			}
		}
	}
	return t
}

// Rows are the submissions as rows (NewRow), in their order.
func Rows(subs []*grader.Submission) []Row {
	rows := make([]Row, 0, len(subs))
	for _, s := range subs {
		rows = append(rows, NewRow(s))
	}
	return rows
}

// Lister lists a page of submissions newest first, as grader.Store's
// ListSubmissions does (at most 100 a call).
type Lister func(context.Context, grader.SubmissionFilter) ([]*grader.Submission, error)

// listPage is how many submissions Collect asks for at a time: the store's
// own maximum.
const listPage = 100

// maxScanned bounds how many submissions Collect reads, kept or not, so that
// a keep that refuses nearly everything cannot read the whole store.
const maxScanned = 4 * MaxRows

// Collect lists the submissions f matches, newest first, that keep accepts
// (nil: all), up to limit (at most MaxRows; 0 means MaxRows), as rows: each
// page is turned into rows as it comes, so that the submissions' logs are
// not all held at once. f.Limit is ignored; f.Before starts after that
// submission, as a cursor. next is the cursor of the rest when there may
// be more (the id of the last submission looked at), else "": a scan
// stopped by maxScanned has a rest too, even with no row.
func Collect(ctx context.Context, list Lister, f grader.SubmissionFilter, keep func(*grader.Submission) bool, limit int) (rows []Row, next string, err error) {
	if limit <= 0 || limit > MaxRows {
		limit = MaxRows
	}
	f.Limit = listPage
	scanned := 0
	for {
		page, err := list(ctx, f)
		if err != nil {
			return nil, "", err
		}
		for _, s := range page {
			if keep != nil && !keep(s) {
				scanned++
				continue
			}
			if len(rows) == limit {
				return rows, rows[len(rows)-1].Submission, nil
			}
			scanned++
			rows = append(rows, NewRow(s))
		}
		if len(page) < listPage {
			return rows, "", nil
		}
		f.Before = page[len(page)-1].ID
		if scanned >= maxScanned {
			return rows, f.Before, nil
		}
	}
}

// Filename is a safe attachment name made of the parts joined by "-", then
// the extension (".csv"): every byte that is not an ASCII letter, digit,
// '.', '_' or '-' becomes '_', so that no quote, slash, control or non-ASCII
// character reaches Content-Disposition or a user's file system; each part
// is capped at 64 bytes.
func Filename(ext string, parts ...string) string {
	clean := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" {
			continue
		}
		p = strings.Map(func(r rune) rune {
			if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-') {
				return r
			}
			return '_'
		}, p)
		if len(p) > 64 {
			p = p[:64]
		}
		clean = append(clean, strings.Trim(p, "."))
	}
	if len(clean) == 0 {
		clean = []string{"export"}
	}
	return strings.Join(clean, "-") + ext
}

// categoryScore is the row's score in the category, and whether it has one.
func categoryScore(r Row, name string) (int, bool) {
	if r.Result == nil {
		return 0, false
	}
	i := slices.IndexFunc(r.Result.Categories, func(c grader.CategoryScore) bool { return c.Name == name })
	if i < 0 {
		return 0, false
	}
	return r.Result.Categories[i].Score, true
}

// checkPoints is the points the row's hidden check earned, and whether the
// row has that check.
func checkPoints(r Row, name string) (int, bool) {
	if r.Result == nil {
		return 0, false
	}
	i := slices.IndexFunc(r.Result.Tests, func(t grader.TestResult) bool { return t.Hidden && t.Name == name })
	if i < 0 {
		return 0, false
	}
	return r.Result.Tests[i].Points, true
}

func itoa(n int) string { return strconv.Itoa(n) }
