package githubhook

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/djgrade/djgrade/grader"
)

// The answers GitHub is to get are stored before they are sent (the Store's
// pending answers, a bbolt bucket), and forgotten only once GitHub accepted
// them: a GitHub that is down, or a djgrade that is stopped or crashes with
// answers unsent, loses none. One loop sends them in the order they were
// stored; the answers about one commit wait for each other, so that a final
// status is never overwritten by a late "pending". A step GitHub refuses for
// good (a 4xx that is not a rate limit: the check run of a personal token,
// a repository gone) is logged and skipped; one that may pass (5xx, no
// connection, a rate limit, the App's credentials refused) is tried again
// with backoff, until PendingMaxAge.

// Defaults of the answer loop.
const (
	DefaultRetryBackoff    = 30 * time.Second
	DefaultRetryMaxBackoff = 30 * time.Minute
	DefaultPendingMaxAge   = 24 * time.Hour
)

// Kinds of pending answers, one per submission event (and the statuses of
// commits that are not graded).
const (
	kindStatus = "status" // a commit status only
	kindOpen   = "open"   // pending status and an in-progress check run
	kindFinish = "finish" // final status, completed check run, comment
)

// Steps of an answer, recorded as they are accepted.
const (
	stepStatus  = "status"
	stepCheck   = "check"
	stepComment = "comment"
)

type statusAnswer struct {
	State       string `json:"state"`
	Context     string `json:"context"`
	Description string `json:"description"`
	Target      string `json:"target,omitempty"`
}

// pending is one answer waiting for GitHub, as stored.
type pending struct {
	Seq        uint64 `json:"-"`
	Kind       string `json:"kind"`
	Submission string `json:"submission,omitempty"`
	Repo       string `json:"repo"`
	SHA        string `json:"sha"`
	PR         int    `json:"pr,omitempty"`
	// Installation is the App installation the webhook named, 0 if none
	// was known (then it is looked up).
	Installation int64         `json:"installation,omitempty"`
	Status       *statusAnswer `json:"status,omitempty"`
	Check        *CheckRun     `json:"check,omitempty"`
	Comment      string        `json:"comment,omitempty"`
	// Done lists the steps GitHub accepted (or refused for good).
	Done      []string  `json:"done,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	NextAt    time.Time `json:"next_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

func (p *pending) done(step string) bool { return slices.Contains(p.Done, step) }

// enqueue stores p and wakes the answer loop; it reports whether p was
// stored. Storing must not depend on the hook's context: an answer made
// while the server stops is kept for the next start.
func (h *Hook) enqueue(p *pending) bool {
	p.CreatedAt = time.Now().UTC()
	data, err := json.Marshal(p)
	if err == nil {
		p.Seq, err = h.cfg.Store.AddGitHubPending(context.WithoutCancel(h.ctx), data)
	}
	if err != nil {
		h.log.Error("store an answer for GitHub: it is lost", "repo", p.Repo, "sha", p.SHA, "kind", p.Kind, "err", err)
		return false
	}
	h.wake()
	return true
}

// submissionLister is what reconcile needs of the grader (implemented by
// *grader.Service); a Grader without it skips the reconciliation.
type submissionLister interface {
	ListSubmissions(ctx context.Context, filter grader.SubmissionFilter) ([]*grader.Submission, error)
}

// reconcile stores the final answers of GitHub submissions that finished
// within PendingMaxAge without one: djgrade stopped between storing the
// grade and storing its answer. It runs once, when the answer loop starts.
func (h *Hook) reconcile() {
	lister, ok := h.cfg.Grader.(submissionLister)
	if !ok {
		return
	}
	ctx := h.ctx
	waiting := map[string]bool{}
	list, err := h.loadPending(ctx)
	if err != nil {
		h.log.Error("reconcile GitHub answers", "err", err)
		return
	}
	for _, p := range list {
		if p.Kind == kindFinish {
			waiting[p.Submission] = true
		}
	}
	filter := grader.SubmissionFilter{Since: time.Now().Add(-h.cfg.PendingMaxAge), Limit: 100}
	for page := 0; page < 1000 && ctx.Err() == nil; page++ {
		subs, err := lister.ListSubmissions(ctx, filter)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("reconcile GitHub answers", "err", err)
			}
			return
		}
		for _, sub := range subs {
			src := sub.Source
			if src == nil || src.Kind != grader.SourceGitHub || src.Repo == "" || src.SHA == "" || !sub.Status.Final() || waiting[sub.ID] {
				continue
			}
			at, err := h.cfg.Store.GitHubAnswered(ctx, sub.ID)
			if err != nil {
				h.log.Error("reconcile GitHub answers", "submission", sub.ID, "err", err)
				continue
			}
			if !at.Equal(sub.FinishedAt) {
				h.log.Info("a graded submission's answer to GitHub was never stored: storing it now", "submission", sub.ID, "repo", src.Repo)
				h.answerFinished(sub)
			}
		}
		if len(subs) < filter.Limit {
			return
		}
		filter.Before = subs[len(subs)-1].ID
	}
}

func (h *Hook) wake() {
	select {
	case h.signal <- struct{}{}:
	default:
	}
}

// loadPending reads the stored answers, oldest first.
func (h *Hook) loadPending(ctx context.Context) ([]*pending, error) {
	var list []*pending
	err := h.cfg.Store.GitHubPending(ctx, func(seq uint64, data []byte) error {
		p := &pending{}
		if err := json.Unmarshal(data, p); err != nil {
			h.log.Error("unreadable pending GitHub answer: dropped", "seq", seq, "err", err)
			list = append(list, &pending{Seq: seq, Kind: ""})
			return nil
		}
		p.Seq = seq
		list = append(list, p)
		return nil
	})
	return list, err
}

// answerLoop sends the stored answers until the hook's context ends.
func (h *Hook) answerLoop() {
	h.reconcile()
	close(h.ready)
	for {
		wait := h.sendDue()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-h.ctx.Done():
		case <-h.signal:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if h.ctx.Err() != nil {
			return
		}
	}
}

// sendDue sends every answer that is due and returns how long until the
// next one that waits is (0: none waits).
func (h *Hook) sendDue() time.Duration {
	keep := context.WithoutCancel(h.ctx)
	list, err := h.loadPending(h.ctx)
	if err != nil {
		if h.ctx.Err() == nil {
			h.log.Error("read pending GitHub answers", "err", err)
		}
		return h.cfg.RetryBackoff
	}
	blocked := map[string]bool{}
	var next time.Duration
	later := func(d time.Duration) {
		if next == 0 || d < next {
			next = max(d, time.Millisecond)
		}
	}
	for _, p := range list {
		if h.ctx.Err() != nil {
			return 0
		}
		if p.Kind == "" {
			h.forget(keep, p)
			continue
		}
		key := p.Repo + "@" + p.SHA
		if blocked[key] {
			continue
		}
		now := time.Now()
		if now.Sub(p.CreatedAt) > h.cfg.PendingMaxAge {
			h.log.Error("GitHub did not accept an answer in time: given up", "repo", p.Repo, "sha", p.SHA, "kind", p.Kind,
				"submission", p.Submission, "attempts", p.Attempts, "last_error", p.LastError)
			h.forget(keep, p)
			continue
		}
		if p.NextAt.After(now) {
			blocked[key] = true
			later(p.NextAt.Sub(now))
			continue
		}
		err := h.send(p)
		if err == nil {
			h.forget(keep, p)
			continue
		}
		blocked[key] = true
		if h.ctx.Err() == nil {
			p.Attempts++
			wait := h.cfg.RetryBackoff << min(p.Attempts-1, 20)
			if wait <= 0 || wait > h.cfg.RetryMaxBackoff {
				wait = h.cfg.RetryMaxBackoff
			}
			p.NextAt = now.Add(wait).UTC()
			p.LastError = grader.ErrorMessage(err)
			h.log.Warn("GitHub did not accept an answer; will try again", "repo", p.Repo, "sha", p.SHA, "kind", p.Kind,
				"submission", p.Submission, "attempt", p.Attempts, "next", wait, "err", err)
			later(wait)
		}
		// Keep the steps already accepted, whatever happens next.
		h.save(keep, p)
	}
	return next
}

func (h *Hook) save(ctx context.Context, p *pending) {
	data, err := json.Marshal(p)
	if err == nil {
		err = h.cfg.Store.SetGitHubPending(ctx, p.Seq, data)
	}
	if err != nil {
		h.log.Error("update a pending GitHub answer", "seq", p.Seq, "err", err)
	}
}

func (h *Hook) forget(ctx context.Context, p *pending) {
	if err := h.cfg.Store.DeleteGitHubPending(ctx, p.Seq); err != nil {
		h.log.Error("forget a sent GitHub answer", "seq", p.Seq, "err", err)
	}
}

// mayPass reports whether a failed GitHub call may succeed later.
func mayPass(err error) bool {
	var rle *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rle) || errors.As(err, &abuse) {
		return true
	}
	switch grader.ErrorCode(err) {
	case grader.EUNAVAILABLE, grader.EUNAUTHORIZED:
		return true
	}
	return false
}

// step runs one step of p unless it is done: nil when GitHub accepted it or
// refused it for good (logged), the error when it may pass later.
func (h *Hook) step(p *pending, name string, fn func() error) error {
	if p.done(name) {
		return nil
	}
	if err := fn(); err != nil {
		if mayPass(err) {
			return err
		}
		h.log.Error("GitHub refused an answer", "step", name, "repo", p.Repo, "sha", p.SHA, "submission", p.Submission, "err", err)
	}
	p.Done = append(p.Done, name)
	return nil
}

// send runs p's steps in order, stopping at the first that may pass later.
func (h *Hook) send(p *pending) error {
	ctx := h.ctx
	c, st := h.cfg.Client, h.cfg.Store
	if p.Installation != 0 && c.InstallationOf(p.Repo) == 0 {
		// Stored before a restart; a webhook since then knows better.
		c.RememberInstallation(p.Repo, p.Installation)
	}
	if s := p.Status; s != nil {
		if err := h.step(p, stepStatus, func() error {
			return c.SetStatus(ctx, p.Repo, p.SHA, s.State, s.Context, s.Description, s.Target)
		}); err != nil {
			return err
		}
	}
	if run := p.Check; run != nil {
		if err := h.step(p, stepCheck, func() error {
			var known int64
			if p.Kind == kindFinish {
				var err error
				if known, err = st.CheckRun(ctx, p.Submission); err != nil {
					return err
				}
			}
			if known != 0 {
				return c.UpdateCheckRun(ctx, p.Repo, known, *run)
			}
			id, err := c.CreateCheckRun(ctx, p.Repo, *run)
			if err != nil {
				return err
			}
			if p.Kind == kindOpen {
				// Recorded at once: a retry of a later step must not
				// open a second run.
				return st.SetCheckRun(context.WithoutCancel(ctx), p.Submission, id)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if p.Comment != "" && p.PR != 0 {
		if err := h.step(p, stepComment, func() error {
			known, err := st.PRComment(ctx, p.Repo, p.PR)
			if err != nil {
				return err
			}
			got, err := c.UpsertComment(ctx, p.Repo, p.PR, known, CommentMarker, p.Comment)
			if err != nil {
				return err
			}
			if got != known {
				return st.SetPRComment(context.WithoutCancel(ctx), p.Repo, p.PR, got)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// pendingCount is how many answers wait for GitHub.
func (h *Hook) pendingCount(ctx context.Context) (int, error) {
	n := 0
	err := h.cfg.Store.GitHubPending(ctx, func(uint64, []byte) error { n++; return nil })
	return n, err
}
