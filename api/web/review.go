package web

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// The reviewers' pages: the review panel of a submission's page (notes, an
// override with its reason, the audit trail with the automatic score
// beside each override), the candidate page (everything of one candidate
// across exercises) and the effective scores of the submissions table and
// compare. Staff only, like every dashboard page; a candidate gets the
// 404 of a page that does not exist, and its own pages (candidate.go) show
// the automatic grade only, as grader's Review.View decides.

func init() {
	funcs["effective"] = effectiveOf
	funcs["candidateURL"] = candidateURL
	funcs["used"] = usedText
}

// candidateURL is the candidate page of a name.
func candidateURL(name string) string {
	return Prefix + "/candidates/" + url.PathEscape(strings.TrimSpace(name))
}

// usedText shows a time used: "—" for none, seconds under a minute, else
// minutes (or hours and minutes), rounded to the minute.
func usedText(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return "< 1 s"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Round(time.Minute).Minutes())) + " min"
	}
	d = d.Round(time.Minute)
	return strconv.Itoa(int(d.Hours())) + " h " + strconv.Itoa(int(d.Minutes())%60) + " min"
}

// scoreCell is what a table shows of a submission's score: the effective
// one, marked when an override is in force, with the automatic one beside.
type scoreCell struct {
	Done       bool
	Effective  *grader.Points
	Automatic  *grader.Points
	Overridden bool
}

// effectiveOf is the template function of a score cell: the submission's
// score given the page's review summaries (nil when the server keeps no
// reviews: the automatic score).
func effectiveOf(sums map[string]grader.ReviewSummary, s *grader.Submission) scoreCell {
	eff, over := grader.EffectiveScore(s, sums[s.ID])
	return scoreCell{Done: eff != nil, Effective: eff, Automatic: grader.AutomaticScore(s), Overridden: over}
}

// reviewSummaries returns the summaries of the submissions' reviews, or
// nil when the server keeps none or they cannot be read (the tables then
// show the automatic scores: a page that lists submissions does not fail
// for the want of a marker; the cause goes to the log).
func (h *Handler) reviewSummaries(ctx context.Context, subs []*grader.Submission) map[string]grader.ReviewSummary {
	if h.cfg.Reviews == nil || len(subs) == 0 {
		return nil
	}
	ids := make([]string, len(subs))
	for i, s := range subs {
		ids[i] = s.ID
	}
	sums, err := h.cfg.Reviews.ReviewSummaries(ctx, ids)
	if err != nil {
		h.log.Warn("web: review summaries", "err", err)
		return nil
	}
	return sums
}

// sortByEffective orders compare's candidates by effective score, best
// first.
func sortByEffective(subs []*grader.Submission, sums map[string]grader.ReviewSummary) {
	score := func(s *grader.Submission) int {
		if eff, _ := grader.EffectiveScore(s, sums[s.ID]); eff != nil {
			return eff.Score
		}
		return -1
	}
	sort.SliceStable(subs, func(i, j int) bool { return score(subs[i]) > score(subs[j]) })
}

// reviewPanel is the review section of a submission's page.
type reviewPanel struct {
	Sub    *grader.Submission
	Review *grader.Review
	// Verdicts are those an override may set.
	Verdicts []grader.Verdict
	MaxNote  int
	MaxWhy   int
	// CSRF is the session's token, for the panel's forms.
	CSRF string
}

// reviewPanelOf returns the panel of sub, or nil when the server keeps no
// reviews.
func (h *Handler) reviewPanelOf(ctx context.Context, sub *grader.Submission, csrf string) (*reviewPanel, error) {
	if h.cfg.Reviews == nil {
		return nil, nil
	}
	rv, err := h.cfg.Reviews.Review(ctx, sub.ID)
	if err != nil {
		return nil, err
	}
	return &reviewPanel{Sub: sub, Review: rv.View(grader.AudienceStaff), Verdicts: grader.OverrideVerdicts,
		MaxNote: grader.MaxReviewNoteBytes, MaxWhy: grader.MaxReviewReasonBytes, CSRF: csrf}, nil
}

func (h *Handler) reviews() (grader.ReviewService, error) {
	if h.cfg.Reviews == nil {
		return nil, grader.Errorf(grader.EUNAVAILABLE, "this server keeps no reviews")
	}
	return h.cfg.Reviews, nil
}

// backToReview is the submission page's review panel.
func backToReview(id string) string {
	return Prefix + "/submissions/" + url.PathEscape(id) + "#review"
}

// reviewNote adds a note from the panel's form.
func (h *Handler) reviewNote(w http.ResponseWriter, r *http.Request) {
	rs, err := h.reviews()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	if _, err := rs.AddReviewNote(r.Context(), id, sessionOf(r).Token, r.PostFormValue("text")); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, backToReview(id), http.StatusSeeOther)
}

// reviewOverride overrides the score (or clears the override) from the
// panel's form: score, verdict ("" keeps the automatic one), reason, and
// clear=1 for a clear.
func (h *Handler) reviewOverride(w http.ResponseWriter, r *http.Request) {
	rs, err := h.reviews()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	req := grader.OverrideRequest{Reason: r.PostFormValue("reason"), Verdict: grader.Verdict(r.PostFormValue("verdict")), Clear: r.PostFormValue("clear") != ""}
	if v := strings.TrimSpace(r.PostFormValue("score")); v != "" && !req.Clear {
		n, err := strconv.Atoi(v)
		if err != nil {
			h.fail(w, r, grader.Errorf(grader.EINVALID, "the score must be a whole number of points"))
			return
		}
		req.Score = &n
	}
	if _, err := rs.OverrideScore(r.Context(), id, sessionOf(r).Token, req); err != nil {
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, backToReview(id), http.StatusSeeOther)
}

// candidatePage shows everything of one candidate.
func (h *Handler) candidatePage(w http.ResponseWriter, r *http.Request) {
	rs, err := h.reviews()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	name := r.PathValue("name")
	if r.URL.RawPath != "" {
		// Echo routes on the raw path when the name holds an escaped
		// slash, and then leaves the parameter escaped.
		if u, err := url.PathUnescape(name); err == nil {
			name = u
		}
	}
	ov, err := rs.Candidate(r.Context(), name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, "candidate", &page{Title: ov.Name, Nav: "submissions", Data: ov})
}
