package web

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/djgrade/djgrade/api/upload"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/archive"
)

// myAssignments lists the signed-in candidate's assignments (staff see
// every assignment on their own page).
func (h *Handler) myAssignments(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if s.Staff() {
		http.Redirect(w, r, Prefix+"/assignments", http.StatusSeeOther)
		return
	}
	list, err := h.cfg.Auth.Assignments(r.Context(), s.Token.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type row struct {
		A     *grader.Assignment
		Ex    *grader.Exercise
		Clock assignmentClock
	}
	var rows []row
	for _, a := range list {
		ex, _ := h.cfg.Catalog.Exercise(a.Exercise)
		rows = append(rows, row{A: a, Ex: ex, Clock: clockOf(a, h.cfg.Now())})
	}
	h.render(w, r, http.StatusOK, "myassignments", &page{Title: "Your assignments", Nav: "mine", Data: rows})
}

// ownAssignment returns the path's assignment if the session may see it:
// its candidate, or staff (who see a read-only preview). Anyone else gets
// the same 404 as for an id that does not exist.
func (h *Handler) ownAssignment(r *http.Request) (*grader.Assignment, *grader.Exercise, error) {
	id := r.PathValue("id")
	notFound := grader.Errorf(grader.ENOTFOUND, "there is no such assignment")
	if id == "" || len(id) > 128 {
		return nil, nil, notFound
	}
	a, err := h.cfg.Auth.Assignment(r.Context(), id)
	if err != nil {
		if grader.ErrorCode(err) == grader.ENOTFOUND {
			return nil, nil, notFound
		}
		return nil, nil, err
	}
	s := sessionOf(r)
	if !s.Staff() && a.Token != s.Token.ID {
		return nil, nil, notFound
	}
	ex, err := h.cfg.Catalog.Exercise(a.Exercise)
	if err != nil {
		return nil, nil, err
	}
	return a, ex, nil
}

type assignmentData struct {
	A       *grader.Assignment
	Ex      *grader.Exercise
	Subs    []*grader.Submission
	Preview bool
	// Clock is the assignment's time and state (timed.go); Counted the id
	// of the submission that counts.
	Clock   assignmentClock
	Counted string
	Nonce   string
	Error   string
	Accept  string
	MaxSize string
}

func (h *Handler) assignment(w http.ResponseWriter, r *http.Request) {
	h.renderAssignment(w, r, http.StatusOK, "")
}

func (h *Handler) renderAssignment(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a, ex, err := h.ownAssignment(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s := sessionOf(r)
	// A live session's assignment is worked on in its editor, not uploaded.
	if a.Live != "" && !s.Staff() && r.Method == http.MethodGet {
		http.Redirect(w, r, Prefix+"/l/"+url.PathEscape(a.Live), http.StatusSeeOther)
		return
	}
	// The candidate's page opens the assignment: its time limit starts
	// now, unless it had started. Staff's preview never starts it.
	if a, err = grader.OpenAssignment(r.Context(), h.cfg.Auth, a, s.Token, h.cfg.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	d := assignmentData{A: a, Ex: ex, Preview: s.Staff(), Clock: clockOf(a, h.cfg.Now()), Nonce: randomID(), Error: msg,
		Accept: ".zip,.tar.gz,.tgz", MaxSize: archive.FormatBytes(h.cfg.MaxUploadBytes)}
	if d.Subs, err = h.assignmentSubmissions(r, a); err != nil {
		h.fail(w, r, err)
		return
	}
	if c := grader.CountedSubmission(a, d.Subs); c != nil {
		d.Counted = c.ID
	}
	h.render(w, r, status, "assignment", &page{Title: ex.Title, Nav: "mine", Data: d})
}

// starter downloads the starter project (public tests included; hidden
// tests, solutions and variants live elsewhere in the exercise).
func (h *Handler) starter(w http.ResponseWriter, r *http.Request) {
	a, ex, err := h.ownAssignment(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// The task is in the starter too: downloading it opens the assignment.
	if _, err := grader.OpenAssignment(r.Context(), h.cfg.Auth, a, sessionOf(r).Token, h.cfg.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	files, err := grader.StarterDownload(ex)
	if err != nil {
		h.fail(w, r, grader.Wrap(err, grader.EINTERNAL, "read the starter"))
		return
	}
	var buf bytes.Buffer
	if err := archive.WriteZip(&buf, files); err != nil {
		h.fail(w, r, grader.Wrap(err, grader.EINTERNAL, "pack the starter"))
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ex.ID + "-starter.zip"}))
	_, _ = w.Write(buf.Bytes())
}

// submit takes the candidate's upload under the assignment. It takes the
// token's rate and an upload slot (the API's, shared) before the body is
// read, so the pages are no way around the API's caps.
func (h *Handler) submit(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if err := h.cfg.Limits.Allow(s.Token.ID); err != nil {
		h.fail(w, r, err)
		return
	}
	a, _, err := h.ownAssignment(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if s.Staff() {
		h.fail(w, r, grader.Errorf(grader.EFORBIDDEN, "staff preview assignments; only the candidate submits"))
		return
	}
	release, err := h.cfg.Limits.Upload(s.Token.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer release()
	form, err := readUpload(r)
	if err != nil {
		if !validCSRF(s, form.csrf) {
			h.fail(w, r, errCSRF)
			return
		}
		h.renderAssignment(w, r, statusOf(grader.ErrorCode(err)), grader.ErrorMessage(err))
		return
	}
	if !validCSRF(s, form.csrf) {
		h.fail(w, r, errCSRF)
		return
	}
	files, err := archive.Read(bytes.NewReader(form.archive), h.cfg.ArchiveLimits)
	if err != nil {
		msg := "The file cannot be read; upload a .zip, .tar.gz or .tgz archive."
		var gerr grader.CodedError
		if errors.As(err, &gerr) && gerr.ErrorCode() != grader.EINTERNAL {
			msg = gerr.ErrorMessage()
		}
		h.renderAssignment(w, r, http.StatusBadRequest, msg)
		return
	}
	sub, err := h.cfg.Grader.Create(r.Context(), grader.SubmitRequest{
		Exercise: a.Exercise, Candidate: a.Candidate, Files: files,
		Source: &grader.Source{Kind: grader.SourceUpload}, Owner: s.Token.ID, Assignment: a.ID,
		Late: a.LateAt(h.cfg.Now()), IdempotencyKey: "web:" + form.nonce,
	})
	if err != nil {
		code := grader.ErrorCode(err)
		if code == grader.EINTERNAL {
			h.fail(w, r, err)
			return
		}
		h.renderAssignment(w, r, statusOf(code), grader.ErrorMessage(err))
		return
	}
	http.Redirect(w, r, Prefix+"/a/"+url.PathEscape(a.ID)+"/s/"+url.PathEscape(sub.ID), http.StatusSeeOther)
}

// uploadSpec is the candidate page's form for the one upload reader
// (api/upload): the CSRF field, the page's nonce, the archive. Other fields
// (a browser's submit button) are ignored.
var uploadSpec = upload.Spec{
	Text:          []string{fieldCSRF, "nonce"},
	File:          "archive",
	TextMax:       256,
	IgnoreUnknown: true,
}

type uploadForm struct {
	csrf, nonce string
	archive     []byte
}

// readUpload reads the form with the one upload reader and words its
// coded error for a candidate: the limit as "10 MiB", a cut-short body as
// something to retry. The form read so far comes back even with an error,
// for the CSRF check.
func readUpload(r *http.Request) (uploadForm, error) {
	f, err := upload.Read(r, uploadSpec)
	u := uploadForm{csrf: f.Text[fieldCSRF], nonce: f.Text["nonce"], archive: f.File}
	if err != nil {
		var uerr *upload.Error
		if !errors.As(err, &uerr) {
			return u, err
		}
		switch uerr.Kind {
		case upload.NotMultipart:
			return u, grader.Errorf(grader.EINVALID, "the form must be sent as multipart/form-data")
		case upload.TooLarge:
			return u, grader.Errorf(grader.ETOOLARGE, "the upload is over the limit of %s", archive.FormatBytes(uerr.Limit))
		case upload.NotAFile, upload.Missing, upload.Empty:
			return u, grader.Errorf(grader.EINVALID, "choose an archive (.zip, .tar.gz or .tgz) to upload")
		case upload.Malformed:
			return u, grader.Errorf(grader.EINVALID, "the upload was cut short; try again")
		}
		return u, err
	}
	if u.nonce == "" || len(u.nonce) > 64 || strings.ContainsFunc(u.nonce, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		u.nonce = randomID()
	}
	return u, nil
}

// candidateResult is a submission as its candidate may see it under the
// assignment's mode. It is built here, field by field, so that nothing
// hidden (a check's message, the log, node ids) can reach the template.
type candidateResult struct {
	ID, Status             string
	CreatedAt              time.Time
	Late                   bool
	Final, Done, Failed    bool
	Score, MaxScore        int
	Verdict, Reason, Error string
	Mode                   string
	Categories             []grader.CategoryScore
	Public                 []publicTest
	Checks                 []checkOutcome
	FailedChecks           []string
	Refused                []grader.RefusedFile
}

type publicTest struct {
	Name, Outcome, Message string
	Queries                int
}

type checkOutcome struct {
	Name, Outcome, Category string
	Points, MaxPoints       int
}

func candidateView(sub *grader.Submission, mode string) candidateResult {
	out := candidateResult{ID: sub.ID, Status: string(sub.Status), CreatedAt: sub.CreatedAt, Late: sub.Late, Final: sub.Status.Final(), Mode: mode, Refused: sub.Refused}
	switch sub.Status {
	case grader.StatusError:
		out.Failed = true
		out.Error = "Grading failed on the server. This is not your fault; the interviewer can regrade it."
	case grader.StatusCancelled:
		out.Error = "This submission was cancelled before it was graded."
	}
	r := sub.Result
	if r == nil || sub.Status != grader.StatusDone {
		return out
	}
	out.Done = true
	aud := grader.CandidateAudience(mode)
	v := r.View(aud)
	out.Score, out.MaxScore, out.Verdict, out.Reason = v.Score, v.MaxScore, string(v.Verdict), v.Reason
	out.Categories = v.Categories
	if len(v.Refused) > 0 {
		out.Refused = v.Refused
	}
	if aud == grader.AudienceAssessment {
		out.FailedChecks = v.FailedChecks
	}
	for _, t := range v.Tests {
		if t.Hidden {
			out.Checks = append(out.Checks, checkOutcome{Name: t.Name, Outcome: t.Outcome, Category: t.Category, Points: t.Points, MaxPoints: t.MaxPoints})
		} else {
			out.Public = append(out.Public, publicTest{Name: t.Name, Outcome: t.Outcome, Message: t.Message, Queries: t.Queries})
		}
	}
	return out
}

// ownSubmission returns the path's submission if it belongs to the
// session's candidate under the path's assignment.
func (h *Handler) ownSubmission(r *http.Request) (*grader.Assignment, *grader.Submission, error) {
	a, _, err := h.ownAssignment(r)
	if err != nil {
		return nil, nil, err
	}
	s := sessionOf(r)
	sub, err := grader.LookupSubmission(r.Context(), h.cfg.Grader.Submission, r.PathValue("sid"), func(sub *grader.Submission) bool {
		return sub.Assignment == a.ID && (s.Staff() || sub.Owner == s.Token.ID)
	})
	if err != nil {
		return nil, nil, err
	}
	return a, sub, nil
}

type resultData struct {
	A   *grader.Assignment
	Ex  *grader.Exercise
	R   candidateResult
	URL string
}

func (h *Handler) result(w http.ResponseWriter, r *http.Request) {
	a, sub, err := h.ownSubmission(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if sessionOf(r).Staff() {
		http.Redirect(w, r, Prefix+"/submissions/"+url.PathEscape(sub.ID), http.StatusSeeOther)
		return
	}
	ex, _ := h.cfg.Catalog.Exercise(a.Exercise)
	d := resultData{A: a, Ex: ex, R: candidateView(sub, a.Mode), URL: Prefix + "/a/" + url.PathEscape(a.ID) + "/s/" + url.PathEscape(sub.ID)}
	h.render(w, r, http.StatusOK, "result", &page{Title: "Your submission", Nav: "mine", Script: !sub.Status.Final(), Data: d})
}

// resultEvents streams the status (never the result) of the candidate's
// submission; the page reloads to show the result once it is final.
func (h *Handler) resultEvents(w http.ResponseWriter, r *http.Request) {
	_, sub, err := h.ownSubmission(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.stream(w, r, sub.ID, sub, h.reread(r), false)
}
