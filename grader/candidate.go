package grader

import (
	"context"
	"sort"
	"strings"
	"time"
)

// The candidate view: everything djgrade holds of one candidate, across
// exercises, for staff (the API's GET /api/v1/candidates/{name} and the
// dashboard's candidate page). A candidate is a name: the same name in any
// case and spacing (SameCandidateName) on submissions, assignments and
// live sessions, as the similarity check counts one candidate's own
// resubmissions.

// MaxCandidateSubmissions bounds the submissions one candidate view reads;
// past it, Truncated is set and the oldest are left out.
const MaxCandidateSubmissions = 500

// CandidateOverview is one candidate's assignments, live sessions and
// submissions, newest first.
type CandidateOverview struct {
	Name        string                `json:"name"`
	Assignments []CandidateAssignment `json:"assignments"`
	Live        []CandidateLive       `json:"live_sessions"`
	Submissions []CandidateSubmission `json:"submissions"`
	// Truncated says older submissions than MaxCandidateSubmissions were
	// left out.
	Truncated bool `json:"truncated"`
	// SimilarityKnown is false when the server keeps no similarity index
	// (every Similar count is then 0).
	SimilarityKnown bool `json:"similarity_known"`
}

// CandidateAssignment is an assignment of the candidate, with what was
// made under it.
type CandidateAssignment struct {
	*Assignment
	Submissions int `json:"submissions"`
	// Latest is the id of the newest submission under it ("" for none).
	Latest string `json:"latest_submission,omitempty"`
	// Counted is the attempt that counts under the assignment's counts
	// (CountedSubmission, as the assignment's API and pages mark it).
	Counted string `json:"counted_submission,omitempty"`
	// TimeUsed is from the assignment's start (StartOf) to its latest
	// submission; zero without one.
	TimeUsed time.Duration `json:"-"`
}

// CandidateLive is a live session of the candidate.
type CandidateLive struct {
	*LiveSession
	State string `json:"state"`
	// TimeUsed is from the candidate's first opening to the end (or to
	// now, while it runs); zero before it was opened.
	TimeUsed time.Duration `json:"-"`
}

// CandidateSubmission is a submission of the candidate with its scores,
// the time it took and what reviewers and the similarity check said.
type CandidateSubmission struct {
	*Submission
	Automatic  *Points `json:"automatic"`
	Effective  *Points `json:"effective"`
	Overridden bool    `json:"overridden"`
	Notes      int     `json:"notes"`
	// Similar counts its flagged pairs (Service.Similar).
	Similar int `json:"similar"`
	// TimeUsed is from its assignment's (or live session's) start to the
	// submission; zero for a submission under neither.
	TimeUsed time.Duration `json:"-"`
}

// SameCandidateName reports whether two names are one candidate's: equal
// ignoring case and surrounding spaces.
func SameCandidateName(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// StartOf is when the candidate's time on an assignment starts counting:
// when the candidate first opened it (Assignment.OpenedAt), else when it
// was issued.
func StartOf(a *Assignment) time.Time {
	if !a.OpenedAt.IsZero() {
		return a.OpenedAt
	}
	return a.CreatedAt
}

// candidateDisplayName is the candidate's name as djgrade holds it, not
// as the caller spelled it (a link's lowercase): an assignment's, as staff
// wrote it, else the newest submission's, else a live session's.
func candidateDisplayName(ov *CandidateOverview) string {
	for _, a := range ov.Assignments {
		if n := strings.TrimSpace(a.Candidate); n != "" {
			return n
		}
	}
	for _, s := range ov.Submissions {
		if n := strings.TrimSpace(s.Candidate); n != "" {
			return n
		}
	}
	for _, l := range ov.Live {
		if n := strings.TrimSpace(l.Candidate); n != "" {
			return n
		}
	}
	return ov.Name
}

// liveTimeUsed is the session's time from its start to its end, or to now.
func liveTimeUsed(l *LiveSession, now time.Time) time.Duration {
	if l.StartedAt.IsZero() {
		return 0
	}
	end := now
	if !l.EndedAt.IsZero() {
		end = l.EndedAt
	}
	if !l.EndsAt.IsZero() && end.After(l.EndsAt) {
		end = l.EndsAt
	}
	return max(0, end.Sub(l.StartedAt))
}

// Candidate returns the overview of the candidate with the name, or
// ENOTFOUND when djgrade holds nothing of that name.
func (s *Service) Candidate(ctx context.Context, name string) (*CandidateOverview, error) {
	name, err := CleanCandidate(name)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := &CandidateOverview{Name: name, Assignments: []CandidateAssignment{}, Live: []CandidateLive{}, Submissions: []CandidateSubmission{},
		SimilarityKnown: s.Similarity != nil}

	// Submissions: the store's substring filter narrows, the name rule decides.
	f := SubmissionFilter{CandidateContains: name, Limit: 100}
	for {
		page, err := s.Store.ListSubmissions(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, sub := range page {
			if !SameCandidateName(sub.Candidate, name) {
				continue
			}
			if len(out.Submissions) == MaxCandidateSubmissions {
				out.Truncated = true
				break
			}
			out.Submissions = append(out.Submissions, CandidateSubmission{Submission: sub})
		}
		if out.Truncated || len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}

	starts := map[string]time.Time{} // assignment id -> start
	if s.Auth != nil {
		list, err := s.Auth.Assignments(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			if SameCandidateName(a.Candidate, name) {
				out.Assignments = append(out.Assignments, CandidateAssignment{Assignment: a})
				starts[a.ID] = StartOf(a)
			}
		}
	}
	liveStart := map[string]time.Time{} // live session id -> start
	if s.LiveStore != nil {
		list, err := s.LiveStore.ListLive(ctx, "")
		if err != nil {
			return nil, err
		}
		for _, l := range list {
			if SameCandidateName(l.Candidate, name) {
				out.Live = append(out.Live, CandidateLive{LiveSession: l, State: l.State(now), TimeUsed: liveTimeUsed(l, now)})
				liveStart[l.ID] = l.StartedAt
			}
		}
	}
	if len(out.Submissions) == 0 && len(out.Assignments) == 0 && len(out.Live) == 0 {
		return nil, Errorf(ENOTFOUND, "no candidate named %q", name)
	}
	out.Name = candidateDisplayName(out)

	ids := make([]string, len(out.Submissions))
	for i, cs := range out.Submissions {
		ids[i] = cs.ID
	}
	sums := map[string]ReviewSummary{}
	if s.Reviews != nil {
		if sums, err = s.Reviews.ReviewSummaries(ctx, ids); err != nil {
			return nil, err
		}
	}
	byAssignment := map[string][]*Submission{}
	for i := range out.Submissions {
		cs := &out.Submissions[i]
		sum := sums[cs.ID]
		cs.Automatic = AutomaticScore(cs.Submission)
		cs.Effective, cs.Overridden = EffectiveScore(cs.Submission, sum)
		cs.Notes = sum.Notes
		start := starts[cs.Assignment]
		if cs.Source != nil && cs.Source.Live != "" {
			start = liveStart[cs.Source.Live]
		}
		if !start.IsZero() && cs.CreatedAt.After(start) {
			cs.TimeUsed = cs.CreatedAt.Sub(start)
		}
		if cs.Assignment != "" {
			byAssignment[cs.Assignment] = append(byAssignment[cs.Assignment], cs.Submission)
		}
		if s.Similarity != nil && cs.Status == StatusDone {
			matches, err := s.Similar(ctx, cs.ID)
			if err != nil {
				// A count the page can live without: say so in the log.
				s.Logger.Warn("candidate view: similarity", "submission", cs.ID, "err", err)
				continue
			}
			cs.Similar = len(matches)
		}
	}
	for i := range out.Assignments {
		ca := &out.Assignments[i]
		subs := byAssignment[ca.ID] // newest first
		ca.Submissions = len(subs)
		if len(subs) > 0 {
			ca.Latest = subs[0].ID
			if c := CountedSubmission(ca.Assignment, subs); c != nil {
				ca.Counted = c.ID
			}
			if d := subs[0].CreatedAt.Sub(StartOf(ca.Assignment)); d > 0 {
				ca.TimeUsed = d
			}
		}
	}
	sort.SliceStable(out.Assignments, func(i, j int) bool { return out.Assignments[i].CreatedAt.After(out.Assignments[j].CreatedAt) })
	return out, nil
}
