package grader

// Timed assessments: an assignment's time limit, started by the candidate's
// first open; what happens to a submission after its time; which attempt
// counts; revoking and extending an assignment. The one rule of whether a
// submission is accepted, late or refused is Assignment.Admit.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/djgrade/djgrade/grader/internal/text"
)

// After-time policies (Assignment.AfterTime): what happens to a submission
// made after the assignment's end (its time limit or its deadline).
const (
	// AfterLate grades it and marks it late (the default, and what a
	// deadline always did).
	AfterLate = "late"
	// AfterRefuse refuses it: nothing is stored.
	AfterRefuse = "refuse"
)

// Counting rules (Assignment.Counts): which of the graded submissions of an
// assignment is the one that counts.
const (
	// CountsLatest is the newest graded submission (the default).
	CountsLatest = "latest"
	// CountsBest is the graded submission with the highest score (the newest
	// of those with that score).
	CountsBest = "best"
)

// Bounds of an assignment's time limit and of one extension.
const (
	MinTimeLimit = time.Minute
	MaxTimeLimit = 7 * 24 * time.Hour
	// MaxExtensions caps the extensions recorded on one assignment.
	MaxExtensions = 50
)

// Extension is one extension of an assignment, recorded with who gave it
// and when: either a new deadline or time added to whatever bounds the
// assignment (its time limit and its deadline).
type Extension struct {
	At time.Time `json:"at"`
	// By is the id of the staff token that extended it.
	By string `json:"by"`
	// Deadline, if set, replaces the assignment's deadline.
	Deadline time.Time `json:"deadline,omitzero"`
	// Added, if set, lengthens the time limit and pushes the deadline.
	Added time.Duration `json:"added,omitempty"`
}

// Admission is what Assignment.Admit decides for a submission.
type Admission string

// Admissions.
const (
	AdmitOnTime  Admission = "on_time"
	AdmitLate    Admission = "late"
	AdmitRefused Admission = "refused"
)

// Assignment states as both sides see them (Assignment.State).
const (
	StateNotOpened = "not_opened"
	StateOpen      = "open"
	StateExpired   = "expired"
	StateRevoked   = "revoked"
)

// IsRevoked reports whether the assignment was revoked.
func (a *Assignment) IsRevoked() bool { return !a.RevokedAt.IsZero() }

// AfterTimePolicy returns AfterTime, AfterLate when unset.
func (a *Assignment) AfterTimePolicy() string {
	if a.AfterTime == AfterRefuse {
		return AfterRefuse
	}
	return AfterLate
}

// CountsRule returns Counts, CountsLatest when unset.
func (a *Assignment) CountsRule() string {
	if a.Counts == CountsBest {
		return CountsBest
	}
	return CountsLatest
}

// EffectiveDeadline is the deadline after every extension (zero: none).
func (a *Assignment) EffectiveDeadline() time.Time {
	d := a.Deadline
	for _, e := range a.Extensions {
		if !e.Deadline.IsZero() {
			d = e.Deadline
		}
		if e.Added > 0 && !d.IsZero() {
			d = d.Add(e.Added)
		}
	}
	return d
}

// EffectiveTimeLimit is the time limit with every extension's added time
// (zero: no time limit).
func (a *Assignment) EffectiveTimeLimit() time.Duration {
	if a.TimeLimit <= 0 {
		return 0
	}
	l := a.TimeLimit
	for _, e := range a.Extensions {
		l += e.Added
	}
	return l
}

// EndsAt is when the assignment's time is up for a candidate who opened it
// at opened (zero: not yet opened): the earlier of the effective deadline and
// opened plus the effective time limit. It is zero when nothing bounds it,
// or when only a time limit does and the clock has not started.
func (a *Assignment) EndsAt(opened time.Time) time.Time {
	end := a.EffectiveDeadline()
	if l := a.EffectiveTimeLimit(); l > 0 && !opened.IsZero() {
		if byLimit := opened.Add(l); end.IsZero() || byLimit.Before(end) {
			end = byLimit
		}
	}
	return end
}

// Ends is EndsAt of the assignment's own OpenedAt.
func (a *Assignment) Ends() time.Time { return a.EndsAt(a.OpenedAt) }

// Remaining is the time left at now (zero when over or unbounded; see Ends).
func (a *Assignment) Remaining(now time.Time) time.Duration {
	end := a.Ends()
	if end.IsZero() || !now.Before(end) {
		return 0
	}
	return end.Sub(now)
}

// State is the assignment's state at now: revoked, expired (its end has
// passed), open (opened by its candidate) or not opened.
func (a *Assignment) State(now time.Time) string {
	switch end := a.Ends(); {
	case a.IsRevoked():
		return StateRevoked
	case !end.IsZero() && now.After(end):
		return StateExpired
	case a.OpenedAt.IsZero():
		return StateNotOpened
	}
	return StateOpen
}

// Admit decides whether a submission made at t under the assignment is
// accepted on time, accepted late or refused; a refused one comes with an
// EFORBIDDEN error that says why. A submission to an assignment not yet
// opened opens it at t, so its time limit cannot have run out. It is the one
// rule: the service applies it to every submission, the pages show it.
func (a *Assignment) Admit(t time.Time) (Admission, error) {
	if a.IsRevoked() {
		return AdmitRefused, Errorf(EFORBIDDEN, "this assignment was revoked on %s; submissions are no longer accepted", a.RevokedAt.UTC().Format(time.RFC3339))
	}
	opened := a.OpenedAt
	if opened.IsZero() {
		opened = t
	}
	end := a.EndsAt(opened)
	if end.IsZero() || !t.After(end) {
		return AdmitOnTime, nil
	}
	if a.AfterTimePolicy() == AfterRefuse {
		return AdmitRefused, Errorf(EFORBIDDEN, "the time for this assignment ended at %s (%s); submissions after it are not accepted",
			end.UTC().Format(time.RFC3339), a.endReason(opened, end))
	}
	return AdmitLate, nil
}

func (a *Assignment) endReason(opened, end time.Time) string {
	if l := a.EffectiveTimeLimit(); l > 0 && opened.Add(l).Equal(end) {
		return "time limit " + FormatTimeLimit(l) + " from the first open at " + opened.UTC().Format(time.RFC3339)
	}
	return "the deadline"
}

// LateAt reports whether a submission made at t is accepted late (see Admit).
func (a *Assignment) LateAt(t time.Time) bool {
	adm, _ := a.Admit(t)
	return adm == AdmitLate
}

// Revoke marks the assignment revoked by the token by at now; revoking twice
// keeps the first.
func (a *Assignment) Revoke(by string, now time.Time) {
	if !a.IsRevoked() {
		a.RevokedAt, a.RevokedBy = now.UTC(), by
	}
}

// Extend records e (At is when, By who) after checking it: exactly one of a
// new deadline (after e.At) or added time (MinTimeLimit to MaxTimeLimit) on
// an assignment not revoked; added time needs a time limit or a deadline to
// lengthen.
func (a *Assignment) Extend(e Extension) error {
	switch {
	case a.IsRevoked():
		return Errorf(ECONFLICT, "assignment %s was revoked; it cannot be extended", a.ID)
	case len(a.Extensions) >= MaxExtensions:
		return Errorf(ECONFLICT, "assignment %s has been extended %d times, the most allowed", a.ID, MaxExtensions)
	case e.Deadline.IsZero() == (e.Added == 0):
		return Errorf(EINVALID, "give either a new deadline or minutes to add, exactly one of them (the API's deadline or add_minutes)")
	case e.Added != 0 && (e.Added < MinTimeLimit || e.Added > MaxTimeLimit):
		return Errorf(EINVALID, "the time added must be between 1 minute and 7 days (10080 minutes)")
	case e.Added != 0 && a.TimeLimit <= 0 && a.EffectiveDeadline().IsZero():
		return Errorf(EINVALID, "assignment %s has no time limit or deadline to lengthen; give a new deadline instead", a.ID)
	}
	if !e.Deadline.IsZero() {
		if err := CheckDeadline(e.Deadline, e.At); err != nil {
			return err
		}
		e.Deadline = e.Deadline.UTC()
		// Opened with a time limit, the assignment ends at the earlier of
		// the two: a deadline past the limit's end would be recorded as an
		// extension and change nothing.
		if l := a.EffectiveTimeLimit(); l > 0 && !a.OpenedAt.IsZero() && !e.Deadline.Before(a.OpenedAt.Add(l)) {
			return Errorf(EINVALID, "assignment %s ends by its time limit at %s (%s from the first open); a later deadline changes nothing: give minutes to add (add_minutes) to lengthen the time limit",
				a.ID, a.OpenedAt.Add(l).UTC().Format(time.RFC3339), FormatTimeLimit(l))
		}
	}
	e.At = e.At.UTC()
	a.Extensions = append(a.Extensions, e)
	return nil
}

// ParseTimeLimit reads a time limit such as "90m", "1h30m" or "2h" (Go's
// duration syntax; a bare number is minutes), bounded MinTimeLimit to
// MaxTimeLimit and whole minutes.
func ParseTimeLimit(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 || n > int(MaxTimeLimit/time.Minute) {
			// Checked before the multiplication, which would wrap around.
			return 0, Errorf(EINVALID, "time limit %q is out of bounds: give between 1 and %d minutes (7 days)", text.Printable(clipDeadline(s)), int(MaxTimeLimit/time.Minute))
		}
		d = time.Duration(n) * time.Minute
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, Errorf(EINVALID, "time limit %q is not a duration; write it like 90m, 1h30m or 2h", text.Printable(clipDeadline(s)))
	}
	if d < MinTimeLimit || d > MaxTimeLimit {
		return 0, Errorf(EINVALID, "time limit %s is out of bounds: give between 1m and 7 days (168h)", FormatTimeLimit(d))
	}
	if d%time.Minute != 0 {
		return 0, Errorf(EINVALID, "time limit %s is not a whole number of minutes", d)
	}
	return d, nil
}

// FormatTimeLimit writes d as ParseTimeLimit reads it: "1h30m", "45m", "2h".
func FormatTimeLimit(d time.Duration) string {
	if d <= 0 || d%time.Minute != 0 {
		return d.String()
	}
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case h == 0:
		return fmt.Sprintf("%dm", m)
	case m == 0:
		return fmt.Sprintf("%dh", h)
	}
	return fmt.Sprintf("%dh%dm", h, m)
}

// ParseAfterTime checks an after-time policy; empty is AfterLate.
func ParseAfterTime(s string) (string, error) {
	switch strings.TrimSpace(s) {
	case "", AfterLate:
		return AfterLate, nil
	case AfterRefuse:
		return AfterRefuse, nil
	}
	return "", Errorf(EINVALID, "after_time must be %q (grade and mark late) or %q (refuse), not %q", AfterLate, AfterRefuse, text.Printable(clipDeadline(s)))
}

// ParseCounts checks a counting rule; empty is CountsLatest.
func ParseCounts(s string) (string, error) {
	switch strings.TrimSpace(s) {
	case "", CountsLatest:
		return CountsLatest, nil
	case CountsBest:
		return CountsBest, nil
	}
	return "", Errorf(EINVALID, "counts must be %q or %q, not %q", CountsLatest, CountsBest, text.Printable(clipDeadline(s)))
}

// CountedSubmission is the attempt that counts among subs for the
// assignment (CountsRule): of its done submissions with a result, the newest,
// or the best scored (the newest of equals). Submissions of other
// assignments are ignored; nil when none is graded.
func CountedSubmission(a *Assignment, subs []*Submission) *Submission {
	return CountedSubmissionBy(a, subs, func(s *Submission) int { return s.Result.Score })
}

// CountedSubmissionBy is CountedSubmission with the scores that score
// gives: staff's views pass the effective scores (EffectiveScorer), so that
// an override moves "best"; a candidate's keep the automatic ones.
func CountedSubmissionBy(a *Assignment, subs []*Submission, score func(*Submission) int) *Submission {
	var out *Submission
	for _, s := range subs {
		if s.Assignment != a.ID || s.Status != StatusDone || s.Result == nil {
			continue
		}
		switch {
		case out == nil:
			out = s
		case a.CountsRule() == CountsBest && score(s) != score(out):
			if score(s) > score(out) {
				out = s
			}
		case s.CreatedAt.After(out.CreatedAt):
			out = s
		}
	}
	return out
}

// EffectiveScorer scores a graded submission by its effective score given
// the review summaries (EffectiveScore), for CountedSubmissionBy.
func EffectiveScorer(sums map[string]ReviewSummary) func(*Submission) int {
	return func(s *Submission) int {
		if eff, _ := EffectiveScore(s, sums[s.ID]); eff != nil {
			return eff.Score
		}
		return s.Result.Score
	}
}

// OpenAssignment records that tok opened a, when tok is a's candidate and a
// was not opened yet (the first open wins, in the store); staff never start
// the clock. It returns the assignment as stored.
func OpenAssignment(ctx context.Context, auth AuthStore, a *Assignment, tok *Token, now time.Time) (*Assignment, error) {
	if tok == nil || tok.Role != RoleCandidate || tok.ID != a.Token || !a.OpenedAt.IsZero() || a.IsRevoked() {
		return a, nil
	}
	return auth.OpenAssignment(ctx, a.ID, now)
}

// now is the service's clock (Config.Now, time.Now by default).
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// requestAssignment is the assignment a submission request names: nil
// without one, without an Auth store, or when it is not found (the API
// checked the token's assignment; a submission under none is the staff's).
// The live-session check and the timed admission share it.
func (s *Service) requestAssignment(ctx context.Context, id string) (*Assignment, error) {
	if id == "" || s.Auth == nil {
		return nil, nil
	}
	a, err := s.Auth.Assignment(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return a, err
}

// admit applies the assignment's Admit to a submission request: a refused
// one is the error (and nothing is stored), an accepted one sets req.Late
// and, for an assignment not yet opened, opens it (its first submission).
func (s *Service) admit(ctx context.Context, req *SubmitRequest, now time.Time) error {
	a, err := s.requestAssignment(ctx, req.Assignment)
	if a == nil || err != nil {
		return err
	}
	if _, err := a.Admit(now); err != nil {
		return err
	}
	if a.OpenedAt.IsZero() && a.Live == "" {
		if a, err = s.Auth.OpenAssignment(ctx, a.ID, now); err != nil {
			return err
		}
	}
	adm, err := a.Admit(now)
	if err != nil {
		return err
	}
	req.Late = adm == AdmitLate
	return nil
}
