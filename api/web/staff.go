package web

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/export"
)

// maxScan bounds how many submissions one page reads to filter and sort;
// beyond it the table says that older ones are not shown.
const maxScan = 5000

// pageSize is the number of rows of the submissions table.
const pageSize = 25

// listAll reads the submissions f selects, newest first, up to limit.
func (h *Handler) listAll(ctx context.Context, f grader.SubmissionFilter, limit int) ([]*grader.Submission, bool, error) {
	var out []*grader.Submission
	f.Limit = 100
	for {
		page, err := h.cfg.Grader.ListSubmissions(ctx, f)
		if err != nil {
			return nil, false, err
		}
		out = append(out, page...)
		if len(out) >= limit {
			return out[:limit], true, nil
		}
		if len(page) < f.Limit {
			return out, false, nil
		}
		f.Before = page[len(page)-1].ID
	}
}

var statuses = []grader.Status{grader.StatusQueued, grader.StatusRunning, grader.StatusDone, grader.StatusError, grader.StatusCancelled}

var verdicts = []grader.Verdict{
	grader.VerdictPassed, grader.VerdictFailed, grader.VerdictError, grader.VerdictTimeout, grader.VerdictOOM,
	grader.VerdictOutputLimit, grader.VerdictProcessLimit, grader.VerdictTampered, grader.VerdictInfraError,
}

// sortKeys are the sortable columns of the submissions table.
var sortKeys = []string{"created", "candidate", "exercise", "status", "score"}

type submissionsData struct {
	Rows                             []submissionRow
	Exercises                        []*grader.Exercise
	Statuses                         []grader.Status
	Verdicts                         []grader.Verdict
	Exercise, Candidate, Status      string
	Verdict, Since, Until, Sort, Dir string
	Page, Pages, Total               int
	Prev, Next                       string
	Truncated                        bool
	Columns                          []column
	// Reviews are the rows' review summaries (review.go).
	Reviews map[string]grader.ReviewSummary
}

// column is a header of the submissions table; a sortable one has a link
// (Href), which flips the direction when it is the current sort.
type column struct {
	Key, Label, Href, AriaSort string
}

func (h *Handler) submissions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := submissionsData{
		Exercises: h.cfg.Catalog.Exercises(), Statuses: statuses, Verdicts: verdicts,
		Exercise: q.Get("exercise"), Candidate: strings.TrimSpace(q.Get("candidate")), Status: q.Get("status"),
		Verdict: q.Get("verdict"), Since: q.Get("since"), Until: q.Get("until"), Sort: q.Get("sort"), Dir: q.Get("dir"),
	}
	// The candidate filter is the API's: part of a name, any case
	// (grader.CandidateMatches), applied by the store before maxScan.
	f := grader.SubmissionFilter{Exercise: d.Exercise, CandidateContains: d.Candidate}
	if d.Status != "" {
		if !slices.Contains(statuses, grader.Status(d.Status)) {
			h.fail(w, r, grader.Errorf(grader.EINVALID, "unknown status %q", clip(d.Status)))
			return
		}
		f.Status = grader.Status(d.Status)
	}
	if d.Verdict != "" {
		if !slices.Contains(verdicts, grader.Verdict(d.Verdict)) {
			h.fail(w, r, grader.Errorf(grader.EINVALID, "unknown verdict %q", clip(d.Verdict)))
			return
		}
		f.Verdict = grader.Verdict(d.Verdict)
	}
	for _, p := range []struct {
		v   string
		dst *time.Time
		add int
	}{{d.Since, &f.Since, 0}, {d.Until, &f.Until, 1}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", p.v)
		if err != nil {
			h.fail(w, r, grader.Errorf(grader.EINVALID, "dates are YYYY-MM-DD"))
			return
		}
		// "until" is inclusive of its day.
		*p.dst = t.AddDate(0, 0, p.add)
	}
	if !slices.Contains(sortKeys, d.Sort) {
		d.Sort = "created"
	}
	if d.Dir != "asc" {
		d.Dir = "desc"
	}
	all, truncated, err := h.listAll(r.Context(), f, maxScan)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Truncated = truncated
	sortSubmissions(all, d.Sort, d.Dir == "asc", h.exerciseTitle)
	d.Total = len(all)
	d.Pages = max(1, (len(all)+pageSize-1)/pageSize)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	onPage := all[(d.Page-1)*pageSize : min(len(all), d.Page*pageSize)]
	d.Rows, err = h.submissionRows(r.Context(), onPage)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d.Reviews = h.reviewSummaries(r.Context(), onPage)
	link := func(change map[string]string) string {
		v := url.Values{}
		for k, val := range map[string]string{"exercise": d.Exercise, "candidate": d.Candidate, "status": d.Status, "verdict": d.Verdict,
			"since": d.Since, "until": d.Until, "sort": d.Sort, "dir": d.Dir, "page": strconv.Itoa(d.Page)} {
			if nv, ok := change[k]; ok {
				val = nv
			}
			if val != "" && !(k == "page" && val == "1") {
				v.Set(k, val)
			}
		}
		return Prefix + "/submissions?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(map[string]string{"page": strconv.Itoa(d.Page - 1)})
	}
	if d.Page < d.Pages {
		d.Next = link(map[string]string{"page": strconv.Itoa(d.Page + 1)})
	}
	for _, c := range []struct{ key, label string }{{"created", "Submitted"}, {"candidate", "Candidate"}, {"exercise", "Exercise"},
		{"mode", "Mode"}, {"late", "Late"}, {"assignment", "Assignment"}, {"status", "Status"}, {"score", "Score"}, {"verdict", "Verdict"}} {
		if !slices.Contains(sortKeys, c.key) {
			d.Columns = append(d.Columns, column{Key: c.key, Label: c.label})
			continue
		}
		col := column{Key: c.key, Label: c.label, AriaSort: "none"}
		dir := "asc"
		if c.key == "created" || c.key == "score" {
			dir = "desc"
		}
		if d.Sort == c.key {
			col.AriaSort = map[string]string{"asc": "ascending", "desc": "descending"}[d.Dir]
			dir = map[string]string{"asc": "desc", "desc": "asc"}[d.Dir]
		}
		col.Href = link(map[string]string{"sort": c.key, "dir": dir, "page": "1"})
		d.Columns = append(d.Columns, col)
	}
	h.render(w, r, http.StatusOK, "submissions", &page{Title: "Submissions", Nav: "submissions", Script: true, Data: d})
}

// submissionRow is one row of the submissions table: the submission and
// what its assignment says of it.
type submissionRow struct {
	*grader.Submission
	// Title is the exercise's title (its id if the catalog no longer has it).
	Title string
	// Mode is the assignment's (practice or assessment), "" without one.
	Mode string
	// LiveSession: the assignment is a live session's.
	LiveSession bool
	// Deadline is the assignment's, zero without one.
	Deadline time.Time
	// NoAssignment: the assignment is gone (deleted since).
	NoAssignment bool
}

// ShortAssignment is the assignment's id cut to what tells assignments
// apart at a glance (its random part is hex, as a short commit hash); the
// page shows the whole id on hover.
func (r submissionRow) ShortAssignment() string {
	if len(r.Assignment) > 12 {
		return r.Assignment[:12] + "…"
	}
	return r.Assignment
}

// submissionRows reads the assignment of each shown submission (a page of
// them, so one read each).
func (h *Handler) submissionRows(ctx context.Context, subs []*grader.Submission) ([]submissionRow, error) {
	rows := make([]submissionRow, len(subs))
	assignments := map[string]*grader.Assignment{}
	for i, s := range subs {
		row := submissionRow{Submission: s, Title: h.exerciseTitle(s.Exercise)}
		if s.Assignment != "" {
			a, ok := assignments[s.Assignment]
			if !ok {
				var err error
				a, err = h.cfg.Auth.Assignment(ctx, s.Assignment)
				if grader.ErrorCode(err) == grader.ENOTFOUND {
					a = nil
				} else if err != nil {
					return nil, err
				}
				assignments[s.Assignment] = a
			}
			if a == nil {
				row.NoAssignment = true
			} else {
				row.Mode, row.LiveSession, row.Deadline = a.Mode, a.Live != "", a.EffectiveDeadline()
			}
		}
		rows[i] = row
	}
	return rows, nil
}

// exerciseTitle is the title of the exercise with the id, or the id when the
// catalog no longer has it.
func (h *Handler) exerciseTitle(id string) string {
	if ex, err := h.cfg.Catalog.Exercise(id); err == nil && ex.Title != "" {
		return ex.Title
	}
	return id
}

func scoreOf(s *grader.Submission) int {
	if s.Status == grader.StatusDone && s.Result != nil {
		return s.Result.Score
	}
	return -1
}

// sortSubmissions sorts list by the column key; exercises sort by their
// title, as the table shows them.
func sortSubmissions(list []*grader.Submission, key string, asc bool, title func(string) string) {
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		var c int
		switch key {
		case "candidate":
			c = cmp.Compare(strings.ToLower(a.Candidate), strings.ToLower(b.Candidate))
		case "exercise":
			c = cmp.Compare(strings.ToLower(title(a.Exercise)), strings.ToLower(title(b.Exercise)))
		case "status":
			c = cmp.Compare(a.Status, b.Status)
		case "score":
			c = cmp.Compare(scoreOf(a), scoreOf(b))
		}
		if c == 0 {
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if asc {
			return c < 0
		}
		return c > 0
	})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

type attempt struct {
	Sub     *grader.Submission
	Current bool
	// Regrades are the earlier results of this submission, oldest first.
	Regrades []*grader.Result
}

type submissionData struct {
	Sub      *grader.Submission
	Exercise *grader.Exercise
	Diffs    []fileDiff
	Timeline []attempt
	Hidden   []grader.TestResult
	Public   []grader.TestResult
	// Review is the review panel (review.go); nil without reviews.
	Review *reviewPanel
	// Similar is the "Similar submissions" section (similar.go).
	Similar *similarSection
}

// submission shows everything about one submission to staff.
func (h *Handler) submission(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sub, err := h.cfg.Grader.Submission(ctx, r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := submissionData{Sub: sub}
	if d.Review, err = h.reviewPanelOf(ctx, sub, sessionOf(r).CSRF); err != nil {
		h.fail(w, r, err)
		return
	}
	if ex, err := h.cfg.Catalog.Exercise(sub.Exercise); err == nil {
		d.Exercise = ex
		files, err := h.cfg.Grader.SubmissionFiles(ctx, sub.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		starter, err := grader.StarterFiles(ex)
		if err != nil {
			h.fail(w, r, grader.Wrap(err, grader.EINTERNAL, "read the starter"))
			return
		}
		refused := sub.Refused
		if sub.Result != nil && len(sub.Result.Refused) > 0 {
			refused = sub.Result.Refused
		}
		d.Diffs = diffFiles(starter, grader.StripWrapper(files, starter), refused)
	}
	if v := sub.Result.View(grader.AudienceStaff); v != nil {
		for _, t := range v.Tests {
			if t.Hidden {
				d.Hidden = append(d.Hidden, t)
			} else {
				d.Public = append(d.Public, t)
			}
		}
	}
	same, _, err := h.listAll(ctx, grader.SubmissionFilter{Exercise: sub.Exercise, Candidate: sub.Candidate}, 200)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sort.Slice(same, func(i, j int) bool { return same[i].CreatedAt.Before(same[j].CreatedAt) })
	for _, s := range same {
		d.Timeline = append(d.Timeline, attempt{Sub: s, Current: s.ID == sub.ID, Regrades: s.History})
	}
	d.Similar = h.similarOf(ctx, sub)
	h.render(w, r, http.StatusOK, "submission", &page{Title: "Submission " + sub.ID, Nav: "submissions", Script: !sub.Status.Final(), Data: d})
}

// regrade and cancel act and come back to the submission's page.
func (h *Handler) regrade(w http.ResponseWriter, r *http.Request) {
	if _, err := h.cfg.Grader.Regrade(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/submissions/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

func (h *Handler) cancel(w http.ResponseWriter, r *http.Request) {
	if _, err := h.cfg.Grader.Cancel(r.Context(), r.PathValue("id")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, Prefix+"/submissions/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

type exerciseRow struct {
	Ex     *grader.Exercise
	Graded int
	Mean   string
}

func (h *Handler) exercises(w http.ResponseWriter, r *http.Request) {
	var rows []exerciseRow
	for _, ex := range h.cfg.Catalog.Exercises() {
		scores, err := h.scores(r.Context(), ex.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		rows = append(rows, exerciseRow{Ex: ex, Graded: len(scores), Mean: mean(scores)})
	}
	h.render(w, r, http.StatusOK, "exercises", &page{Title: "Exercises", Nav: "exercises", Data: rows})
}

// scores returns the scores of the exercise's graded submissions.
func (h *Handler) scores(ctx context.Context, exercise string) ([]int, error) {
	subs, _, err := h.listAll(ctx, grader.SubmissionFilter{Exercise: exercise, Status: grader.StatusDone}, maxScan)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, s := range subs {
		if s.Result != nil {
			out = append(out, s.Result.Score)
		}
	}
	return out, nil
}

func mean(xs []int) string {
	if len(xs) == 0 {
		return "—"
	}
	t := 0
	for _, x := range xs {
		t += x
	}
	return strconv.FormatFloat(float64(t)/float64(len(xs)), 'f', 1, 64)
}

type exerciseData struct {
	Ex *grader.Exercise
	// Chart is nil when nothing is graded: an empty chart says nothing.
	Chart  any
	Graded int
	Mean   string
	Median string
	// Similar is the exercise's flagged pairs (similar.go).
	Similar *similarSection
}

func (h *Handler) exercise(w http.ResponseWriter, r *http.Request) {
	ex, err := h.cfg.Catalog.Exercise(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	scores, err := h.scores(r.Context(), ex.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := exerciseData{Ex: ex, Graded: len(scores), Mean: mean(scores), Median: "—"}
	if len(scores) > 0 {
		s := slices.Clone(scores)
		slices.Sort(s)
		d.Median = strconv.Itoa(s[len(s)/2])
	}
	if len(scores) > 0 {
		d.Chart = histogram(fmt.Sprintf("Scores of %d graded submissions of %s, out of %d", len(scores), ex.Title, ex.MaxScore()), scores, ex.MaxScore())
	}
	d.Similar = h.exerciseSimilarOf(r.Context(), ex.ID)
	h.render(w, r, http.StatusOK, "exercise", &page{Title: ex.Title, Nav: "exercises", Data: d})
}

type assignmentRow struct {
	A           *grader.Assignment
	Clock       assignmentClock
	Submissions int
	Latest      *grader.Submission
}

type assignmentsData struct {
	Rows      []assignmentRow
	Exercises []*grader.Exercise
	Created   *createdAssignment
	Error     string
	Form      assignmentForm
}

type assignmentForm struct {
	Candidate, Exercise, Mode, Deadline string
	// The timed fields (timed.go).
	TimeLimit, AfterTime, Counts string
}

type createdAssignment struct {
	A     *grader.Assignment
	Link  string
	Token string
	// Message is the ready-to-send text (timed.go's readyMessage).
	Message string
}

func (h *Handler) assignments(w http.ResponseWriter, r *http.Request) {
	h.renderAssignments(w, r, http.StatusOK, assignmentsData{Form: assignmentForm{Mode: grader.ModeAssessment, AfterTime: grader.AfterLate, Counts: grader.CountsLatest}})
}

func (h *Handler) renderAssignments(w http.ResponseWriter, r *http.Request, status int, d assignmentsData) {
	ctx := r.Context()
	list, err := h.cfg.Auth.Assignments(ctx, "")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, a := range list {
		subs, err := h.cfg.Grader.ListSubmissions(ctx, grader.SubmissionFilter{Owner: a.Token, Exercise: a.Exercise, Limit: 100})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		row := assignmentRow{A: a, Clock: clockOf(a, h.cfg.Now()), Submissions: len(subs)}
		if len(subs) > 0 {
			row.Latest = subs[0]
		}
		d.Rows = append(d.Rows, row)
	}
	d.Exercises = h.cfg.Catalog.Exercises()
	h.render(w, r, status, "assignments", &page{Title: "Assignments", Nav: "assignments", Data: d})
}

// createAssignment issues a candidate token and the assignment, and shows
// the link and the token once: only the token's hash is stored.
func (h *Handler) createAssignment(w http.ResponseWriter, r *http.Request) {
	form := assignmentForm{
		Candidate: r.PostFormValue("candidate"), Exercise: r.PostFormValue("exercise"),
		Mode: r.PostFormValue("mode"), Deadline: r.PostFormValue("deadline"),
		TimeLimit: r.PostFormValue("time_limit"), AfterTime: r.PostFormValue("after_time"), Counts: r.PostFormValue("counts"),
	}
	bad := func(msg string) {
		h.renderAssignments(w, r, http.StatusBadRequest, assignmentsData{Form: form, Error: msg})
	}
	ex, err := h.cfg.Catalog.Exercise(form.Exercise)
	if err != nil {
		bad("Choose one of the exercises.")
		return
	}
	if form.Mode != grader.ModePractice && form.Mode != grader.ModeAssessment {
		bad("Mode must be practice or assessment.")
		return
	}
	name, err := grader.CleanCandidate(form.Candidate)
	if err != nil {
		bad(grader.ErrorMessage(err))
		return
	}
	a := &grader.Assignment{Exercise: ex.ID, Candidate: name, Mode: form.Mode, CreatedBy: sessionOf(r).Token.ID}
	if form.Deadline != "" {
		t, err := time.Parse("2006-01-02T15:04", form.Deadline)
		if err != nil {
			bad("The deadline must be a date and time.")
			return
		}
		if err := grader.CheckDeadline(t, h.cfg.Now()); err != nil {
			bad("The deadline is in the past; choose a later date and time.")
			return
		}
		a.Deadline = t.UTC()
	}
	if msg, ok := timedForm(r, a); !ok {
		bad(msg)
		return
	}
	secret := grader.NewSecret()
	tok := &grader.Token{Name: name, Role: grader.RoleCandidate, Hash: grader.HashSecret(secret)}
	ctx := r.Context()
	if err := h.cfg.Auth.CreateToken(ctx, tok); err != nil {
		h.fail(w, r, err)
		return
	}
	a.Token = tok.ID
	if err := h.cfg.Auth.CreateAssignment(ctx, a); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("web: assignment created", "assignment", a.ID, "exercise", a.Exercise, "by", a.CreatedBy)
	created := &createdAssignment{A: a, Link: h.assignmentLink(r, a), Token: secret}
	created.Message = readyMessage(a, ex.Title, created.Link, secret)
	h.renderAssignments(w, r, http.StatusCreated, assignmentsData{Created: created, Form: assignmentForm{Mode: form.Mode, AfterTime: a.AfterTime, Counts: a.Counts}})
}

func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.BaseURL != "" {
		return strings.TrimSuffix(h.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

type compareData struct {
	Exercises []*grader.Exercise
	Ex        *grader.Exercise
	// Rows are one per candidate, best first; Categories and Checks are
	// the columns after score and verdict.
	Rows       []compareRow
	Categories []string
	Checks     []string
	CSV        string
	// Reviews are the candidates' review summaries (review.go).
	Reviews map[string]grader.ReviewSummary
}

// compareRow is one candidate's latest graded submission of the exercise:
// Categories[i] is the score in compareData.Categories[i] ("" when the
// result has no such category), Checks[i] the outcome of
// compareData.Checks[i] (zero when it did not run).
type compareRow struct {
	Rank       int
	Sub        *grader.Submission
	Categories []string
	Checks     []grader.TestResult
}

// latestPerCandidate returns each candidate's newest graded submission of
// the exercise, best score first.
func (h *Handler) latestPerCandidate(ctx context.Context, exercise string) ([]*grader.Submission, error) {
	subs, _, err := h.listAll(ctx, grader.SubmissionFilter{Exercise: exercise, Status: grader.StatusDone}, maxScan)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*grader.Submission
	for _, s := range subs { // newest first: the first seen is the latest
		if s.Result == nil || seen[s.Candidate] {
			continue
		}
		seen[s.Candidate] = true
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Result.Score > out[j].Result.Score })
	return out, nil
}

// compare lays out each candidate's latest graded submission of an
// exercise, one row per candidate (a page scales to many candidates down,
// not across), each name linking to its submission.
func (h *Handler) compare(w http.ResponseWriter, r *http.Request) {
	d := compareData{Exercises: h.cfg.Catalog.Exercises()}
	if id := r.URL.Query().Get("exercise"); id != "" {
		ex, err := h.cfg.Catalog.Exercise(id)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Ex = ex
		subs, err := h.latestPerCandidate(r.Context(), ex.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// Best first by the score that counts: a reviewer's override
		// where one is in force.
		d.Reviews = h.reviewSummaries(r.Context(), subs)
		sortByEffective(subs, d.Reviews)
		for _, c := range ex.Categories {
			d.Categories = append(d.Categories, c.Name)
		}
		views := make([]*grader.ResultView, len(subs))
		checkIndex := map[string]int{}
		for i, s := range subs {
			views[i] = s.Result.View(grader.AudienceStaff)
			for _, t := range views[i].Tests {
				if _, ok := checkIndex[t.Name]; t.Hidden && !ok {
					checkIndex[t.Name] = len(d.Checks)
					d.Checks = append(d.Checks, t.Name)
				}
			}
		}
		for i, s := range subs {
			row := compareRow{Rank: i + 1, Sub: s, Categories: make([]string, len(d.Categories)), Checks: make([]grader.TestResult, len(d.Checks))}
			for _, c := range views[i].Categories {
				if j := slices.Index(d.Categories, c.Name); j >= 0 {
					row.Categories[j] = fmt.Sprintf("%d / %d", c.Score, c.MaxScore)
				}
			}
			for _, t := range views[i].Tests {
				if j, ok := checkIndex[t.Name]; ok && t.Hidden {
					row.Checks[j] = t
				}
			}
			d.Rows = append(d.Rows, row)
		}
		d.CSV = Prefix + "/compare.csv?" + url.Values{"exercise": {ex.ID}}.Encode()
	}
	h.render(w, r, http.StatusOK, "compare", &page{Title: "Compare", Nav: "compare", Data: d})
}

// compareCSV exports the comparison, one row per candidate.
func (h *Handler) compareCSV(w http.ResponseWriter, r *http.Request) {
	ex, err := h.cfg.Catalog.Exercise(r.URL.Query().Get("exercise"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	subs, err := h.latestPerCandidate(r.Context(), ex.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	head := []string{"candidate", "submission", "submitted_at", "late", "verdict", "score", "max_score"}
	for _, c := range ex.Categories {
		head = append(head, c.Name)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": ex.ID + "-compare.csv"}))
	cw := csv.NewWriter(w)
	_ = cw.Write(head)
	for _, s := range subs {
		v := s.Result.View(grader.AudienceExport)
		row := []string{export.CSVCell(s.Candidate), s.ID, s.CreatedAt.UTC().Format(time.RFC3339), strconv.FormatBool(s.Late),
			string(v.Verdict), strconv.Itoa(v.Score), strconv.Itoa(v.MaxScore)}
		byName := map[string]int{}
		for _, c := range v.Categories {
			byName[c.Name] = c.Score
		}
		for _, c := range ex.Categories {
			row = append(row, strconv.Itoa(byName[c.Name]))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
}
