package web

// Timed assessments on the pages: the state and countdown of an
// assignment, the staff's page of one assignment (revoke, extend, the link
// and a ready-to-send message to copy), and which attempt counts.

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// assignmentClock is an assignment's time as the pages show it, computed
// once from grader's rules.
type assignmentClock struct {
	State     string
	TimeLimit string // "1h30m", or "" without a limit
	AfterTime string
	Counts    string
	OpenedAt  time.Time
	EndsAt    time.Time
	Deadline  time.Time
	RevokedAt time.Time
	Now       time.Time
	// Admission is what a submission made now would be (grader's
	// Assignment.Admit); Refusal says why when refused.
	Admission string
	Refusal   string
}

func clockOf(a *grader.Assignment, now time.Time) assignmentClock {
	c := assignmentClock{State: a.State(now), AfterTime: a.AfterTimePolicy(), Counts: a.CountsRule(),
		OpenedAt: a.OpenedAt, EndsAt: a.Ends(), Deadline: a.EffectiveDeadline(), RevokedAt: a.RevokedAt, Now: now}
	if l := a.EffectiveTimeLimit(); l > 0 {
		c.TimeLimit = grader.FormatTimeLimit(l)
	}
	adm, err := a.Admit(now)
	c.Admission = string(adm)
	if err != nil {
		c.Refusal = grader.ErrorMessage(err)
	}
	return c
}

// CanSubmit reports whether a submission made now would be accepted.
func (c assignmentClock) CanSubmit() bool { return c.Admission != string(grader.AdmitRefused) }

// Late reports whether a submission made now would be marked late.
func (c assignmentClock) Late() bool { return c.Admission == string(grader.AdmitLate) }

// CountsText says which attempt counts, for both sides.
func (c assignmentClock) CountsText() string {
	if c.Counts == grader.CountsBest {
		return "the best-scored graded submission counts"
	}
	return "the latest graded submission counts"
}

// readyMessage is the text staff send the candidate: the link, the
// exercise, the time limit and the deadline; the token only when it is
// known (right after creating the assignment).
func readyMessage(a *grader.Assignment, title, link, token string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\nHere is your djgrade assignment: %s.\n\nOpen %s", a.Candidate, title, link)
	if token != "" {
		fmt.Fprintf(&b, "\nand sign in with this token (keep it private):\n%s\n", token)
	} else {
		b.WriteString("\nand sign in with the token you were sent.\n")
	}
	if l := a.EffectiveTimeLimit(); l > 0 {
		fmt.Fprintf(&b, "\nYou have %s from the moment you first open the link", grader.FormatTimeLimit(l))
		if a.AfterTimePolicy() == grader.AfterRefuse {
			b.WriteString("; submissions after that are not accepted.")
		} else {
			b.WriteString("; submissions after that are marked late.")
		}
		b.WriteString(" Open it when you are ready to start.\n")
	}
	if d := a.EffectiveDeadline(); !d.IsZero() {
		fmt.Fprintf(&b, "\nDeadline: %s.\n", d.UTC().Format("Monday 2 January 2006, 15:04 UTC"))
	}
	if a.CountsRule() == grader.CountsBest {
		b.WriteString("\nYou may submit more than once; your best-scored submission counts.\n")
	} else {
		b.WriteString("\nYou may submit more than once; your latest graded submission counts.\n")
	}
	return b.String()
}

func (h *Handler) assignmentLink(r *http.Request, a *grader.Assignment) string {
	if a.Live != "" {
		return h.baseURL(r) + Prefix + "/l/" + url.PathEscape(a.Live)
	}
	return h.baseURL(r) + Prefix + "/a/" + url.PathEscape(a.ID)
}

type staffAssignmentData struct {
	A       *grader.Assignment
	Ex      *grader.Exercise
	Clock   assignmentClock
	Link    string
	Message string
	Subs    []*grader.Submission
	Counted string
	Error   string
	// Form keeps the extend form's input after an error.
	AddMinutes, NewDeadline string
}

// staffAssignment is the staff's page of one assignment.
func (h *Handler) staffAssignment(w http.ResponseWriter, r *http.Request) {
	h.renderStaffAssignment(w, r, http.StatusOK, staffAssignmentData{})
}

func (h *Handler) renderStaffAssignment(w http.ResponseWriter, r *http.Request, status int, d staffAssignmentData) {
	a, ex, err := h.ownAssignment(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.A, d.Ex, d.Clock, d.Link = a, ex, clockOf(a, h.cfg.Now()), h.assignmentLink(r, a)
	d.Message = readyMessage(a, ex.Title, d.Link, "")
	if d.Subs, err = h.assignmentSubmissions(r, a); err != nil {
		h.fail(w, r, err)
		return
	}
	// Staff's choice follows the overrides (the candidate's page keeps the
	// automatic one).
	if c := grader.CountedSubmissionBy(a, d.Subs, grader.EffectiveScorer(h.reviewSummaries(r.Context(), d.Subs))); c != nil {
		d.Counted = c.ID
	}
	h.render(w, r, status, "assignmentstaff", &page{Title: a.Candidate + " · " + ex.Title, Nav: "assignments", Data: d})
}

// assignmentSubmissions are the submissions made under the assignment,
// newest first.
func (h *Handler) assignmentSubmissions(r *http.Request, a *grader.Assignment) ([]*grader.Submission, error) {
	subs, err := h.cfg.Grader.ListSubmissions(r.Context(), grader.SubmissionFilter{Owner: a.Token, Exercise: a.Exercise, Limit: 100})
	if err != nil {
		return nil, err
	}
	var out []*grader.Submission
	for _, s := range subs {
		if s.Assignment == a.ID {
			out = append(out, s)
		}
	}
	return out, nil
}

func (h *Handler) revokeAssignment(w http.ResponseWriter, r *http.Request) {
	if _, err := h.cfg.Auth.RevokeAssignment(r.Context(), r.PathValue("id"), sessionOf(r).Token.ID, h.cfg.Now()); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("web: assignment revoked", "assignment", r.PathValue("id"), "by", sessionOf(r).Token.ID)
	http.Redirect(w, r, Prefix+"/assignments/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

// extendAssignment takes the extend form: minutes to add, or a new
// deadline (a datetime-local in UTC); exactly one.
func (h *Handler) extendAssignment(w http.ResponseWriter, r *http.Request) {
	minutes, deadline := strings.TrimSpace(r.PostFormValue("add_minutes")), strings.TrimSpace(r.PostFormValue("deadline"))
	bad := func(msg string) {
		h.renderStaffAssignment(w, r, http.StatusBadRequest, staffAssignmentData{Error: msg, AddMinutes: minutes, NewDeadline: deadline})
	}
	now := h.cfg.Now()
	e := grader.Extension{At: now, By: sessionOf(r).Token.ID}
	if minutes != "" {
		n, err := strconv.Atoi(minutes)
		if err != nil || n < 1 || n > int(grader.MaxTimeLimit/time.Minute) {
			bad(fmt.Sprintf("Minutes to add must be a whole number from 1 to %d.", int(grader.MaxTimeLimit/time.Minute)))
			return
		}
		e.Added = time.Duration(n) * time.Minute
	}
	if deadline != "" {
		t, err := time.Parse("2006-01-02T15:04", deadline)
		if err != nil {
			bad("The new deadline must be a date and time.")
			return
		}
		e.Deadline = t.UTC()
	}
	if _, err := h.cfg.Auth.ExtendAssignment(r.Context(), r.PathValue("id"), e); err != nil {
		if code := grader.ErrorCode(err); code == grader.EINVALID || code == grader.ECONFLICT {
			bad(grader.ErrorMessage(err))
			return
		}
		h.fail(w, r, err)
		return
	}
	h.log.Info("web: assignment extended", "assignment", r.PathValue("id"), "by", e.By)
	http.Redirect(w, r, Prefix+"/assignments/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

// timedForm reads the timed fields of the staff's new-assignment form into
// a: the time limit in minutes (empty: none), the after-time policy and
// the counting rule. The message is for the form.
func timedForm(r *http.Request, a *grader.Assignment) (string, bool) {
	var err error
	if v := strings.TrimSpace(r.PostFormValue("time_limit")); v != "" {
		if a.TimeLimit, err = grader.ParseTimeLimit(v); err != nil {
			return "The time limit must be between 1 and 10080 minutes (7 days), or a duration such as 1h30m.", false
		}
	}
	if a.AfterTime, err = grader.ParseAfterTime(r.PostFormValue("after_time")); err != nil {
		return "After the time: choose to mark late or to refuse.", false
	}
	if a.Counts, err = grader.ParseCounts(r.PostFormValue("counts")); err != nil {
		return "Choose which attempt counts: the latest or the best.", false
	}
	return "", true
}

// copyBox is the data of the "copybox" template (_timed.html).
type copyBox struct {
	ID, Label, What, Value string
	Rows                   int
}

func init() {
	// In a block of its own rather than in render.go's table, so that the
	// timed pages' helper merges without touching it.
	funcs["copybox"] = func(id, label, what, value string, rows int) copyBox {
		return copyBox{ID: id, Label: label, What: what, Value: value, Rows: rows}
	}
}
