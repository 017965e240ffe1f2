package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// Form fields of an upload.
const (
	fieldExercise  = "exercise"
	fieldCandidate = "candidate"
	fieldArchive   = "archive"
)

// maxTextField bounds the raw bytes of a text form field; it is larger than
// any valid value so that the validation, not the reader, explains the error.
const maxTextField = 4 << 10

// createSubmission accepts a multipart upload of an archive for an exercise.
//
// An unknown exercise is a 400 invalid (not a 404): the resource addressed,
// /api/v1/submissions, exists; it is a field of the request that is wrong.
func (s *Server) createSubmission(c echo.Context) error {
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	default:
		return grader.Errorf(grader.EUNAVAILABLE, "too many uploads in progress; try again shortly")
	}
	req := c.Request()
	mediatype, params, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil || mediatype != "multipart/form-data" || params["boundary"] == "" {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "the body must be multipart/form-data")
	}
	form, err := s.readUpload(multipart.NewReader(req.Body, params["boundary"]))
	if err != nil {
		return err
	}
	candidate, err := cleanCandidate(form.candidate)
	if err != nil {
		return err
	}
	exercise := strings.TrimSpace(form.exercise)
	if _, err := s.cfg.Catalog.Exercise(exercise); err != nil {
		if grader.ErrorCode(err) == grader.ENOTFOUND {
			return grader.Errorf(grader.EINVALID, "unknown exercise %q", truncate(exercise, 64))
		}
		return err
	}
	files, err := readArchive(bytes.NewReader(form.archive), s.cfg.ArchiveLimits)
	if err != nil {
		return archiveError(err)
	}
	if len(files) == 0 {
		return grader.Errorf(grader.EINVALID, "the archive holds no files")
	}
	ctx, cancel := context.WithTimeout(req.Context(), s.cfg.SubmitTimeout)
	defer cancel()
	sub, err := s.cfg.Grader.Submit(ctx, exercise, candidate, files)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, pathSubmissions+"/"+url.PathEscape(sub.ID))
	return c.JSON(http.StatusAccepted, s.submissionResponse(sub))
}

// upload is the parsed multipart form of createSubmission.
type upload struct {
	exercise, candidate string
	archive             []byte
	hasExercise         bool
	hasCandidate        bool
	hasArchive          bool
}

// readUpload streams the multipart body part by part, so that nothing is
// spooled to disk and no part is larger than the body cap allows.
func (s *Server) readUpload(mr *multipart.Reader) (*upload, error) {
	var u upload
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyError(err)
		}
		name := part.FormName()
		switch name {
		case fieldExercise, fieldCandidate:
			if name == fieldExercise && u.hasExercise || name == fieldCandidate && u.hasCandidate {
				return nil, grader.Errorf(grader.EINVALID, "form field %q appears twice", name)
			}
			b, err := io.ReadAll(io.LimitReader(part, maxTextField+1))
			if err != nil {
				return nil, bodyError(err)
			}
			if len(b) > maxTextField {
				return nil, grader.Errorf(grader.EINVALID, "form field %q is too long", name)
			}
			if name == fieldExercise {
				u.exercise, u.hasExercise = string(b), true
			} else {
				u.candidate, u.hasCandidate = string(b), true
			}
		case fieldArchive:
			if u.hasArchive {
				return nil, grader.Errorf(grader.EINVALID, "form field %q appears twice", name)
			}
			if part.FileName() == "" {
				return nil, grader.Errorf(grader.EINVALID, "form field %q must be a file", name)
			}
			// The body cap (MaxBytesReader) bounds this read.
			b, err := io.ReadAll(part)
			if err != nil {
				return nil, bodyError(err)
			}
			u.archive, u.hasArchive = b, true
		default:
			_ = part.Close()
			return nil, grader.Errorf(grader.EINVALID, "unexpected form field %q; expected exercise, candidate and archive", truncate(name, 64))
		}
		_ = part.Close()
	}
	for _, f := range []struct {
		name string
		ok   bool
	}{{fieldExercise, u.hasExercise}, {fieldCandidate, u.hasCandidate}, {fieldArchive, u.hasArchive}} {
		if !f.ok {
			return nil, grader.Errorf(grader.EINVALID, "missing form field %q", f.name)
		}
	}
	if len(u.archive) == 0 {
		return nil, grader.Errorf(grader.EINVALID, "the archive is empty")
	}
	return &u, nil
}

// bodyError explains a failure to read the request body: over the cap is
// 413; anything else is a malformed request whose details stay in the log.
func bodyError(err error) error {
	var merr *http.MaxBytesError
	if errors.As(err, &merr) {
		return tooLarge(merr.Limit)
	}
	return grader.Wrap(err, grader.EINVALID, "malformed multipart body")
}

// archiveError keeps ReadArchive's own *grader.Error (EINVALID, ETOOLARGE)
// and turns anything else into a plain "not an archive" message, because a
// decoder's error text may quote bytes of the upload.
func archiveError(err error) error {
	var gerr *grader.Error
	if errors.As(err, &gerr) && gerr.Code != grader.EINTERNAL {
		return err
	}
	return grader.Wrap(err, grader.EINVALID, "the archive cannot be read; upload a .zip, .tar.gz or .tgz file")
}

// cleanCandidate checks the candidate's name with the grader's rule
// (grader.CleanCandidate: trimmed, 1 to 200 bytes, printable), after
// refusing invalid UTF-8, which that rule would let through as U+FFFD.
func cleanCandidate(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", grader.Errorf(grader.EINVALID, "candidate must be valid UTF-8")
	}
	return grader.CleanCandidate(s)
}

// truncate cuts s to at most n bytes on a rune boundary, for quoting
// caller input in messages without echoing a large value back.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// maxIDLen bounds ids taken from the path before they reach the grader.
const maxIDLen = 128

func (s *Server) getSubmission(c echo.Context) error {
	id := c.Param("id")
	if id == "" || len(id) > maxIDLen || strings.ContainsFunc(id, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return grader.Errorf(grader.ENOTFOUND, "no such submission")
	}
	sub, err := s.cfg.Grader.Submission(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.submissionResponse(sub))
}

// submissionJSON is the API's view of a submission. Score fields are null
// until the submission is done.
type submissionJSON struct {
	ID         string         `json:"id"`
	Exercise   string         `json:"exercise"`
	Candidate  string         `json:"candidate"`
	Status     string         `json:"status"`
	Score      *int           `json:"score"`
	MaxScore   *int           `json:"max_score"`
	Verdict    *string        `json:"verdict"`
	Reason     string         `json:"reason,omitempty"`
	Error      string         `json:"error,omitempty"`
	CreatedAt  time.Time      `json:"created_at"`
	StartedAt  *time.Time     `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	Categories []categoryJSON `json:"categories"`
	Tests      []testJSON     `json:"tests"`
	Refused    []refusedJSON  `json:"refused"`
}

type categoryJSON struct {
	Name     string `json:"name"`
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
}

type testJSON struct {
	Name      string  `json:"name"`
	Category  string  `json:"category"`
	Outcome   string  `json:"outcome"`
	Points    int     `json:"points"`
	MaxPoints int     `json:"max_points"`
	Message   string  `json:"message"`
	Queries   int     `json:"queries"`
	Hidden    bool    `json:"hidden"`
	Duration  float64 `json:"duration"`
}

type refusedJSON struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// errorStatusMessage is shown for a submission in status error: the stored
// reason is an infrastructure failure whose text is for operators only.
const errorStatusMessage = "grading failed on the server; this is not the candidate's fault"

func (s *Server) submissionResponse(sub *grader.Submission) submissionJSON {
	out := submissionJSON{
		ID:         sub.ID,
		Exercise:   sub.Exercise,
		Candidate:  sub.Candidate,
		Status:     string(sub.Status),
		CreatedAt:  sub.CreatedAt.UTC(),
		StartedAt:  timePtr(sub.StartedAt),
		FinishedAt: timePtr(sub.FinishedAt),
		Categories: []categoryJSON{},
		Tests:      []testJSON{},
		Refused:    []refusedJSON{},
	}
	if sub.Status == grader.StatusError {
		out.Error = errorStatusMessage
	}
	refused := sub.Refused
	if r := sub.Result; r != nil && sub.Status == grader.StatusDone {
		score, maxScore, verdict := r.Score, r.MaxScore, string(r.Verdict)
		out.Score, out.MaxScore, out.Verdict = &score, &maxScore, &verdict
		out.Reason = r.Reason
		for _, cs := range r.Categories {
			out.Categories = append(out.Categories, categoryJSON{Name: cs.Name, Score: cs.Score, MaxScore: cs.MaxScore})
		}
		for _, t := range r.Tests {
			tj := testJSON{
				Name:      t.Name,
				Category:  t.Category,
				Outcome:   t.Outcome,
				Points:    t.Points,
				MaxPoints: t.MaxPoints,
				Message:   t.Message,
				Queries:   t.Queries,
				Hidden:    t.Hidden,
				Duration:  t.Duration,
			}
			if t.Hidden && !s.cfg.RevealHidden {
				tj.Message = ""
			}
			out.Tests = append(out.Tests, tj)
		}
		if len(r.Refused) > 0 {
			refused = r.Refused
		}
	}
	for _, rf := range refused {
		out.Refused = append(out.Refused, refusedJSON{Path: rf.Path, Reason: rf.Reason})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
