package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/export"
)

// The exports (README: "Exports"): an exercise's or an assignment's results
// as CSV or JSON, and one submission's checks as JUnit XML or Gradescope's
// results.json. They are for staff only, through the bearer token like
// every /api/v1 route: a candidate gets 403 on all of them, whatever the
// id, so the answer says nothing of another's things (a candidate reads
// its own results, in its own audience's view, at /api/v1/submissions/{id}).
// What a row holds is grader's export view (grader/export); the pages serve
// the same tables through Exports.

// Export formats of a table.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// ExportQuery is the filters of a table export, read by ParseExportQuery
// from the query: candidate (part of the name, any case), since and until
// (RFC 3339, on created_at), status, verdict, limit (1 to export.MaxRows,
// default export.MaxRows) and cursor (the next_cursor of the page before).
type ExportQuery struct {
	Candidate    string
	Since, Until time.Time
	Status       grader.Status
	Verdict      grader.Verdict
	Limit        int
	Before       string
}

// statuses are the values the status filter accepts.
var statuses = []grader.Status{grader.StatusQueued, grader.StatusRunning, grader.StatusDone, grader.StatusError, grader.StatusCancelled}

// maxCandidateQuery bounds the candidate filter.
const maxCandidateQuery = 200

// ParseExportQuery reads an export's filters; a wrong one is EINVALID.
func ParseExportQuery(q url.Values) (ExportQuery, error) {
	x := ExportQuery{Candidate: q.Get("candidate"), Status: grader.Status(q.Get("status")), Verdict: grader.Verdict(q.Get("verdict")), Limit: export.MaxRows}
	if len(x.Candidate) > maxCandidateQuery {
		return x, grader.Errorf(grader.EINVALID, "candidate must be at most %d bytes", maxCandidateQuery)
	}
	if x.Status != "" && !slices.Contains(statuses, x.Status) {
		return x, grader.Errorf(grader.EINVALID, "unknown status %q: one of queued, running, done, error, cancelled", truncate(string(x.Status), 32))
	}
	if x.Verdict != "" && !slices.Contains(verdicts, x.Verdict) {
		return x, grader.Errorf(grader.EINVALID, "unknown verdict %q", truncate(string(x.Verdict), 32))
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &x.Since}, {"until", &x.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return x, grader.Errorf(grader.EINVALID, "%s must be an RFC 3339 time such as 2025-03-01T10:00:00Z", p.name)
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > export.MaxRows {
			return x, grader.Errorf(grader.EINVALID, "limit must be 1 to %d", export.MaxRows)
		}
		x.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		id, err := decodeCursor(v)
		if err != nil {
			return x, err
		}
		x.Before = id
	}
	return x, nil
}

// filter is the store's filter of q, for the exercise.
func (q ExportQuery) filter(exercise string) grader.SubmissionFilter {
	return grader.SubmissionFilter{Exercise: exercise, CandidateContains: q.Candidate, Status: q.Status, Verdict: q.Verdict,
		Since: q.Since, Until: q.Until, Before: q.Before}
}

// Exports builds the result tables of the API's export routes and of the
// pages' (api/web), so that both apply the same filters, caps and views.
type Exports struct {
	Grader  Grader
	Catalog grader.Catalog
	Auth    grader.AuthStore
	// Columns, if set, adds columns to every table (export.Table.Extra):
	// the hook for a reviewer's override of the score, say.
	Columns func(ctx context.Context, t *export.Table) []export.Column
}

// ExerciseTable is the results of the exercise with the id that q selects,
// newest first.
func (x *Exports) ExerciseTable(ctx context.Context, id string, q ExportQuery) (*export.Table, error) {
	ex, err := x.Catalog.Exercise(id)
	if err != nil {
		return nil, err
	}
	return x.table(ctx, ex, q.filter(ex.ID), nil, q.Limit)
}

// AssignmentTable is the results of the assignment with the id that q
// selects, newest first: the submissions made under it.
func (x *Exports) AssignmentTable(ctx context.Context, id string, q ExportQuery) (*export.Table, error) {
	if id == "" || len(id) > maxIDLen {
		return nil, grader.Errorf(grader.ENOTFOUND, "assignment not found")
	}
	a, err := x.Auth.Assignment(ctx, id)
	if err != nil {
		return nil, err
	}
	ex, err := x.Catalog.Exercise(a.Exercise)
	if err != nil {
		ex = &grader.Exercise{ID: a.Exercise} // retired from the catalog: no rubric order
	}
	// The assignment's submissions are its token's on its exercise, made
	// under it.
	f := q.filter(a.Exercise)
	f.Owner = a.Token
	t, err := x.table(ctx, ex, f, func(s *grader.Submission) bool { return s.Assignment == a.ID }, q.Limit)
	if err != nil {
		return nil, err
	}
	t.Assignment = a.ID
	return t, nil
}

func (x *Exports) table(ctx context.Context, ex *grader.Exercise, f grader.SubmissionFilter, keep func(*grader.Submission) bool, limit int) (*export.Table, error) {
	rows, next, err := export.Collect(ctx, x.Grader.ListSubmissions, f, keep, limit)
	if err != nil {
		return nil, err
	}
	t := export.NewTable(ex, rows, time.Now())
	t.Truncated, t.Next = next != "", next
	if x.Columns != nil {
		t.Extra = x.Columns(ctx, t)
	}
	return t, nil
}

// Cursor is the cursor of the page after t ("" when t is the last page).
func Cursor(t *export.Table) string {
	if !t.Truncated || t.Next == "" {
		return ""
	}
	return encodeCursor(t.Next)
}

// WriteTable answers with t in the format (FormatCSV or FormatJSON) as an
// attachment named after its exercise or assignment. u is the request's
// URL: a truncated table's answer links the next page (Link: rel="next",
// the same query with the cursor) and says X-Export-Truncated: true. It
// renders into memory first, so an error is still a clean error answer.
func WriteTable(w http.ResponseWriter, u *url.URL, t *export.Table, format string) error {
	var buf bytes.Buffer
	cursor := Cursor(t)
	name := []string{t.Exercise, "results"}
	if t.Assignment != "" {
		name = []string{t.Assignment, t.Exercise, "results"}
	}
	var ctype, ext string
	switch format {
	case FormatCSV:
		ctype, ext = export.ContentTypeCSV, ".csv"
		if err := export.WriteCSV(&buf, t); err != nil {
			return grader.Wrap(err, grader.EINTERNAL, "cannot write the CSV export")
		}
	case FormatJSON:
		ctype, ext = export.ContentTypeJSON, ".json"
		if err := export.WriteJSON(&buf, t, cursor); err != nil {
			return grader.Wrap(err, grader.EINTERNAL, "cannot write the JSON export")
		}
	default:
		return grader.Errorf(grader.EINVALID, "unknown export format %q", truncate(format, 16))
	}
	h := w.Header()
	if cursor != "" {
		h.Set("X-Export-Truncated", "true")
		next := *u
		q := next.Query()
		q.Set("cursor", cursor)
		next.RawQuery = q.Encode()
		h.Set("Link", fmt.Sprintf("<%s>; rel=\"next\"", next.RequestURI()))
	}
	return writeAttachment(w, ctype, export.Filename(ext, name...), buf.Bytes())
}

// writeAttachment answers 200 with data to be saved as name.
func writeAttachment(w http.ResponseWriter, ctype, name string, data []byte) error {
	h := w.Header()
	h.Set(echo.HeaderContentType, ctype)
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(data)
	return err
}

// exportRoutes registers the export routes, all staff only.
func (s *Server) exportRoutes(authn echo.MiddlewareFunc) {
	e := s.echo
	GET(e, pathExercises+"/:id/results.csv", s.exportTable(FormatCSV, false), authn, staff)
	GET(e, pathExercises+"/:id/results.json", s.exportTable(FormatJSON, false), authn, staff)
	GET(e, pathAssignments+"/:id/results.csv", s.exportTable(FormatCSV, true), authn, staff)
	GET(e, pathAssignments+"/:id/results.json", s.exportTable(FormatJSON, true), authn, staff)
	GET(e, pathSubmissions+"/:id/junit.xml", s.exportSubmission(export.ContentTypeJUnit, "junit.xml", export.WriteJUnit), authn, staff)
	GET(e, pathSubmissions+"/:id/gradescope.json", s.exportSubmission(export.ContentTypeGradescope, "results.json", export.WriteGradescope), authn, staff)
}

func (s *Server) exports() *Exports {
	return &Exports{Grader: s.cfg.Grader, Catalog: s.cfg.Catalog, Auth: s.cfg.Auth, Columns: s.cfg.ExportColumns}
}

func (s *Server) exportTable(format string, assignment bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		q, err := ParseExportQuery(c.QueryParams())
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		var t *export.Table
		if assignment {
			t, err = s.exports().AssignmentTable(ctx, c.Param("id"), q)
		} else {
			t, err = s.exports().ExerciseTable(ctx, c.Param("id"), q)
		}
		if err != nil {
			return err
		}
		return WriteTable(c.Response(), c.Request().URL, t, format)
	}
}

// exportSubmission answers with one graded submission written by write;
// a submission that is not done has no results to export (409).
func (s *Server) exportSubmission(ctype, suffix string, write func(io.Writer, export.Row) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		sub, err := s.visible(c)
		if err != nil {
			return err
		}
		if sub.Status != grader.StatusDone || sub.Result == nil {
			return grader.Errorf(grader.ECONFLICT, "submission %s is %s: only a graded (done) submission has results to export", sub.ID, sub.Status)
		}
		var buf bytes.Buffer
		if err := write(&buf, export.NewRow(sub)); err != nil {
			return grader.Wrap(err, grader.EINTERNAL, "cannot write the export")
		}
		return writeAttachment(c.Response(), ctype, export.Filename("-"+suffix, sub.ID), buf.Bytes())
	}
}
