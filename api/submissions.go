package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/api/upload"
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
	// A slot of the token's and of the server's, before the body is read.
	release, err := s.limits.Upload(caller(c).ID)
	if err != nil {
		return err
	}
	defer release()
	req := c.Request()
	form, err := upload.Read(req, uploadSpec)
	if err != nil {
		return uploadError(err)
	}
	idemKey, err := idempotencyKey(req.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	tok := caller(c)
	exercise := strings.TrimSpace(form.Text[fieldExercise])
	if _, err := s.requestExercise(exercise); err != nil {
		return err
	}
	sreq := grader.SubmitRequest{Exercise: exercise, Source: &grader.Source{Kind: grader.SourceUpload}, Owner: tok.ID, IdempotencyKey: idemKey}
	if tok.Role == grader.RoleCandidate {
		// A candidate submits under its assignment, whose name is recorded:
		// the form's candidate field, if any, is not theirs to choose.
		asg, err := s.assignmentFor(c, tok, exercise)
		if err != nil {
			return err
		}
		sreq.Candidate, sreq.Assignment, sreq.Late = asg.Candidate, asg.ID, asg.LateAt(time.Now())
	} else {
		if !form.Has(fieldCandidate) {
			return grader.Errorf(grader.EINVALID, "missing form field %q", fieldCandidate)
		}
		if sreq.Candidate, err = cleanCandidate(form.Text[fieldCandidate]); err != nil {
			return err
		}
	}
	files, err := readArchive(bytes.NewReader(form.File), s.cfg.ArchiveLimits)
	if err != nil {
		return archiveError(err)
	}
	if len(files) == 0 {
		return grader.Errorf(grader.EINVALID, "the archive holds no files")
	}
	sreq.Files = files
	ctx, cancel := context.WithTimeout(req.Context(), s.cfg.SubmitTimeout)
	defer cancel()
	sub, err := s.cfg.Grader.Create(ctx, sreq)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, pathSubmissions+"/"+url.PathEscape(sub.ID))
	return c.JSON(http.StatusAccepted, s.view(c, sub))
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// idempotencyKey checks an Idempotency-Key header: empty, or 1 to 200
// printable ASCII characters (it is stored and compared byte for byte).
func idempotencyKey(k string) (string, error) {
	if len(k) > maxIdempotencyKey {
		return "", grader.Errorf(grader.EINVALID, "Idempotency-Key is longer than %d characters", maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return "", grader.Errorf(grader.EINVALID, "Idempotency-Key must be printable ASCII without spaces")
		}
	}
	return k, nil
}

// assignmentFor returns the candidate token's newest assignment to the
// exercise that is not revoked (else the newest, which refuses the
// submission as revoked), or EFORBIDDEN when it has none.
func (s *Server) assignmentFor(c echo.Context, tok *grader.Token, exercise string) (*grader.Assignment, error) {
	list, err := s.cfg.Auth.Assignments(c.Request().Context(), tok.ID)
	if err != nil {
		return nil, err
	}
	var revoked *grader.Assignment
	for _, a := range list {
		if a.Exercise != exercise {
			continue
		}
		if !a.IsRevoked() {
			return a, nil
		}
		if revoked == nil {
			revoked = a
		}
	}
	if revoked != nil {
		return revoked, nil
	}
	return nil, grader.Errorf(grader.EFORBIDDEN, "this token was not assigned exercise %q", truncate(exercise, 64))
}

// uploadSpec is the form of createSubmission. The candidate field is
// checked by the handler: a candidate token's submissions are named by its
// assignment.
var uploadSpec = upload.Spec{
	Text:     []string{fieldExercise, fieldCandidate},
	File:     fieldArchive,
	Required: []string{fieldExercise},
	TextMax:  maxTextField,
}

// uploadError is the API's answer to the upload reader's coded error: its
// own message, but 415 for a body that is not multipart and the list of
// fields for an unexpected one.
func uploadError(err error) error {
	var uerr *upload.Error
	if !errors.As(err, &uerr) {
		return err
	}
	switch uerr.Kind {
	case upload.NotMultipart:
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, uerr.ErrorMessage())
	case upload.Unexpected:
		return grader.Errorf(grader.EINVALID, "unexpected form field %q; expected exercise, candidate and archive", uerr.Field)
	}
	return err
}

// archiveError keeps archive.Read's own coded error (EINVALID, ETOOLARGE)
// and turns anything else into a plain "not an archive" message, because a
// decoder's error text may quote bytes of the upload.
func archiveError(err error) error {
	var gerr grader.CodedError
	if errors.As(err, &gerr) && gerr.ErrorCode() != grader.EINTERNAL {
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

// truncate is upload.Truncate: caller input quoted in messages.
var truncate = upload.Truncate

// maxIDLen bounds ids taken from the path before they reach the grader.
const maxIDLen = 128

// visible returns the submission with the path's id if the caller may see
// it. A candidate asking for another's submission gets the same 404 as for
// one that does not exist, so ids reveal nothing.
func (s *Server) visible(c echo.Context) (*grader.Submission, error) {
	tok := caller(c)
	return grader.LookupSubmission(c.Request().Context(), s.cfg.Grader.Submission, c.Param("id"),
		func(sub *grader.Submission) bool { return maysee(tok, sub) })
}

// maysee reports whether tok may see sub: staff see all, a candidate its own.
func maysee(tok *grader.Token, sub *grader.Submission) bool {
	return tok != nil && (tok.Role.Staff() || sub.Owner != "" && sub.Owner == tok.ID)
}

// maxWait caps ?wait on a submission's GET.
const maxWait = 60 * time.Second

func (s *Server) getSubmission(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	if w := c.QueryParam("wait"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < 0 {
			return grader.Errorf(grader.EINVALID, "wait must be a duration such as 30s")
		}
		if sub.Status.Final() {
			return c.JSON(http.StatusOK, s.view(c, sub))
		}
		if sub, err = s.waitFinal(c, sub, min(d, maxWait)); err != nil {
			return err
		}
	}
	return c.JSON(http.StatusOK, s.view(c, sub))
}

// waitFinal blocks until sub is final, d passes or the client leaves, woken
// by the grader's events rather than polling, and returns the latest state.
func (s *Server) waitFinal(c echo.Context, sub *grader.Submission, d time.Duration) (*grader.Submission, error) {
	ctx := c.Request().Context()
	events, stop := s.cfg.Grader.Subscribe(sub.ID)
	defer stop()
	// Re-read after subscribing: an end between the first read and the
	// subscription would otherwise be missed.
	cur, err := s.cfg.Grader.Submission(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for !cur.Status.Final() {
		select {
		case e := <-events:
			cur = e.Submission
		case <-timer.C:
			return cur, nil
		case <-ctx.Done():
			return cur, nil
		}
	}
	// The event's snapshot may predate the stored result: read it back.
	if fresh, err := s.cfg.Grader.Submission(ctx, sub.ID); err == nil {
		cur = fresh
	}
	return cur, nil
}

// listJSON is a page of submissions. NextCursor is null on the last page.
type listJSON struct {
	Submissions []submissionJSON `json:"submissions"`
	NextCursor  *string          `json:"next_cursor"`
}

// cursorPrefix versions the opaque cursor so that its format may change.
const cursorPrefix = "v1:"

func encodeCursor(id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + id))
}

func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	id, ok := strings.CutPrefix(string(b), cursorPrefix)
	if err != nil || !ok || id == "" || len(id) > maxIDLen {
		return "", grader.Errorf(grader.EINVALID, "malformed cursor")
	}
	return id, nil
}

// verdicts are the values the verdict filter accepts.
var verdicts = []grader.Verdict{
	grader.VerdictPassed, grader.VerdictFailed, grader.VerdictError, grader.VerdictTimeout, grader.VerdictOOM,
	grader.VerdictOutputLimit, grader.VerdictProcessLimit, grader.VerdictTampered, grader.VerdictInfraError,
}

// listSubmissions lists submissions newest first, a page at a time. A
// candidate's listing is always narrowed to its own submissions.
func (s *Server) listSubmissions(c echo.Context) error {
	q := c.QueryParams()
	f := grader.SubmissionFilter{
		Exercise: q.Get("exercise"),
		// Part of the name, any case: the dashboard's filter too.
		CandidateContains: q.Get("candidate"),
		Status:            grader.Status(q.Get("status")),
		Verdict:           grader.Verdict(q.Get("verdict")),
		Limit:             50,
	}
	if f.Verdict != "" && !slices.Contains(verdicts, f.Verdict) {
		return grader.Errorf(grader.EINVALID, "unknown verdict %q", truncate(string(f.Verdict), 32))
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return grader.Errorf(grader.EINVALID, "%s must be an RFC 3339 time such as 2025-03-01T10:00:00Z", p.name)
			}
			*p.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return grader.Errorf(grader.EINVALID, "limit must be 1 to 100")
		}
		f.Limit = n
	}
	if v := q.Get("cursor"); v != "" {
		id, err := decodeCursor(v)
		if err != nil {
			return err
		}
		f.Before = id
	}
	if tok := caller(c); !tok.Role.Staff() {
		f.Owner = tok.ID
	}
	subs, err := s.cfg.Grader.ListSubmissions(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := listJSON{Submissions: make([]submissionJSON, 0, len(subs))}
	for _, sub := range subs {
		out.Submissions = append(out.Submissions, s.view(c, sub))
	}
	if len(subs) == f.Limit {
		next := encodeCursor(subs[len(subs)-1].ID)
		out.NextCursor = &next
	}
	return c.JSON(http.StatusOK, out)
}

// submissionLogs returns the run's captured output as text: what the
// candidate's container wrote, then the judge's pytest output. It is for
// staff only: the judge's part holds hidden checks' assertion output.
func (s *Server) submissionLogs(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	log := ""
	if v := sub.Result.View(grader.AudienceStaff); v != nil {
		log = v.Log
		if v.JudgeLog != "" {
			log += "\n--- judge (hidden checks) ---\n" + v.JudgeLog
		}
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(log))
}

// submissionFiles returns the candidate's files as stored, as a tar.gz.
func (s *Server) submissionFiles(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	files, err := s.cfg.Grader.SubmissionFiles(c.Request().Context(), sub.ID)
	if err != nil {
		return err
	}
	return sendTarGz(c, sub.ID+".tar.gz", files)
}

func (s *Server) cancelSubmission(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	if sub, err = s.cfg.Grader.Cancel(c.Request().Context(), sub.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.view(c, sub))
}

func (s *Server) regradeSubmission(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	if sub, err = s.cfg.Grader.Regrade(c.Request().Context(), sub.ID); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, pathSubmissions+"/"+url.PathEscape(sub.ID))
	return c.JSON(http.StatusAccepted, s.view(c, sub))
}

// submissionEvents streams a submission's progress as server-sent events:
// first its current state (event "status"), then "queued", "running" and
// "finished" as they happen; the stream ends after a final state.
func (s *Server) submissionEvents(c echo.Context) error {
	sub, err := s.visible(c)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodHead {
		// The stream's headers, at once: a HEAD has no body to wait for.
		c.Response().Header().Set(echo.HeaderContentType, "text/event-stream")
		return c.NoContent(http.StatusOK)
	}
	ctx := c.Request().Context()
	events, stop := s.cfg.Grader.Subscribe(sub.ID)
	defer stop()
	if sub, err = s.cfg.Grader.Submission(ctx, sub.ID); err != nil {
		return err
	}
	ServeEvents(ctx, c.Response(), Stream{
		Events: events,
		First:  sub,
		Reread: func(id string) *grader.Submission {
			fresh, err := s.cfg.Grader.Submission(ctx, id)
			if err != nil {
				return nil
			}
			return fresh
		},
		Data: func(sub *grader.Submission) any { return s.view(c, sub) },
		Name: func(e grader.Event) string { return e.Type },
	})
	return nil
}

// submissionJSON is the API's view of a submission: its own fields around
// the one schema of a result (grader.ResultJSON, as `djgrade grade --json`
// prints it). Score fields are null until the submission is done. What a
// caller sees of the result depends on its role and, for a candidate, the
// assignment's mode (see view), and is decided by grader's Result.View.
type submissionJSON struct {
	ID         string     `json:"id"`
	Exercise   string     `json:"exercise"`
	Candidate  string     `json:"candidate"`
	Status     string     `json:"status"`
	Error      string     `json:"error,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	Assignment string     `json:"assignment,omitempty"`
	Mode       string     `json:"mode,omitempty"`
	Late       bool       `json:"late,omitempty"`
	// History summarises the earlier results of a regraded submission.
	History []historyJSON `json:"history,omitempty"`
	grader.ResultJSON
}

type historyJSON struct {
	Score    int    `json:"score"`
	MaxScore int    `json:"max_score"`
	Verdict  string `json:"verdict"`
	Reason   string `json:"reason"`
}

// errorStatusMessage is shown for a submission in status error: the stored
// reason is an infrastructure failure whose text is for operators only.
const errorStatusMessage = "grading failed on the server; this is not the candidate's fault"

// view renders sub for the request's caller: staff get the staff audience,
// a candidate the one of its assignment's mode (grader.CandidateAudience).
func (s *Server) view(c echo.Context, sub *grader.Submission) submissionJSON {
	tok := caller(c)
	aud, mode := grader.AudienceAssessment, ""
	if tok != nil && tok.Role.Staff() {
		aud = grader.AudienceStaff
	} else if sub.Assignment != "" {
		if a, err := s.cfg.Auth.Assignment(c.Request().Context(), sub.Assignment); err == nil {
			mode = a.Mode
			aud = grader.CandidateAudience(a.Mode)
		}
	}
	out := render(sub, aud)
	out.Mode = mode
	return out
}

// render turns sub into JSON for aud. What of the result aud may see is
// decided by grader's Result.View alone, and rendered by its JSON: render
// filters nothing by audience. The run's output (log, judge_log, timings_ms,
// exit_code) is never part of a submission document, whoever asks: staff
// read it at /logs.
func render(sub *grader.Submission, aud grader.Audience) submissionJSON {
	out := submissionJSON{
		ID:         sub.ID,
		Exercise:   sub.Exercise,
		Candidate:  sub.Candidate,
		Status:     string(sub.Status),
		CreatedAt:  sub.CreatedAt.UTC(),
		StartedAt:  timePtr(sub.StartedAt),
		FinishedAt: timePtr(sub.FinishedAt),
		Assignment: sub.Assignment,
		Late:       sub.Late,
		// Not final: null scores, empty lists.
		ResultJSON: (*grader.ResultView)(nil).JSON(),
	}
	if sub.Status == grader.StatusError {
		out.Error = errorStatusMessage
	}
	v := sub.Result.View(aud)
	if v != nil {
		out.Seed, out.Findings = v.Seed, v.Findings
	}
	if v != nil && sub.Status == grader.StatusDone {
		out.ResultJSON = v.JSON()
	}
	out.Log, out.JudgeLog, out.TimingsMS, out.ExitCode = "", "", nil, nil
	if len(out.Refused) == 0 {
		// The files refused at upload, before any result.
		for _, rf := range sub.Refused {
			out.Refused = append(out.Refused, grader.RefusedJSON{Path: rf.Path, Reason: rf.Reason})
		}
	}
	if aud == grader.AudienceStaff {
		for _, h := range sub.History {
			if h != nil {
				out.History = append(out.History, historyJSON{Score: h.Score, MaxScore: h.MaxScore, Verdict: string(h.Verdict), Reason: h.Reason})
			}
		}
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
