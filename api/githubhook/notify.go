package githubhook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// CommentMarker is hidden in djgrade's pull request comment, so that the
// comment is found and edited even when its stored id is lost.
const CommentMarker = "<!-- djgrade:pull-request-comment -->"

// queue runs notifications one at a time, in the order they were pushed: a
// final status must never be overwritten by a late "pending". It is
// unbounded so that a listener never blocks a grading worker; it holds a few
// small closures per submission.
type queue struct {
	mu     sync.Mutex
	items  []func()
	active int // webhooks being processed plus the notification running
	signal chan struct{}
}

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

func (q *queue) push(fn func()) {
	q.mu.Lock()
	q.items = append(q.items, fn)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop takes the oldest item, marking it active; nil when empty.
func (q *queue) pop() func() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return nil
	}
	fn := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	q.active++
	return fn
}

func (q *queue) busy(n int) {
	q.mu.Lock()
	q.active += n
	q.mu.Unlock()
}

func (q *queue) idle(ctx context.Context) error {
	for {
		q.mu.Lock()
		quiet := q.active == 0 && len(q.items) == 0
		q.mu.Unlock()
		if quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// notifyLoop sends notifications until the hook's context ends.
func (h *Hook) notifyLoop() {
	for {
		if fn := h.outq.pop(); fn != nil {
			fn()
			h.outq.busy(-1)
			continue
		}
		select {
		case <-h.ctx.Done():
			return
		case <-h.outq.signal:
		}
	}
}

// onEvent is the grader's listener: it only queues work, as Listen asks.
func (h *Hook) onEvent(e grader.Event) {
	sub := e.Submission
	if sub == nil || sub.Source == nil || sub.Source.Kind != grader.SourceGitHub || sub.Source.Repo == "" || sub.Source.SHA == "" {
		return
	}
	// The event's snapshot is shared with other listeners: copy.
	snap := *sub
	src := *sub.Source
	snap.Source = &src
	switch e.Type {
	case grader.EventQueued:
		h.outq.push(func() { h.status(&snap, StatePending, "queued for grading") })
	case grader.EventRunning:
		h.outq.push(func() {
			h.status(&snap, StatePending, "grading…")
			h.openCheckRun(&snap)
		})
	case grader.EventFinished:
		h.outq.push(func() { h.finished(&snap) })
	}
}

func (h *Hook) status(sub *grader.Submission, state, description string) {
	src := sub.Source
	if err := h.cfg.Client.SetStatus(h.ctx, src.Repo, src.SHA, state, StatusContext(sub.Exercise), description, h.cfg.ResultURL(sub.ID)); err != nil {
		h.log.Error("set commit status", "submission", sub.ID, "repo", src.Repo, "state", state, "err", err)
	}
}

func (h *Hook) openCheckRun(sub *grader.Submission) {
	src := sub.Source
	id, err := h.cfg.Client.CreateCheckRun(h.ctx, src.Repo, CheckRun{
		Name: StatusContext(sub.Exercise), SHA: src.SHA, Status: "in_progress",
		DetailsURL: h.cfg.ResultURL(sub.ID), ExternalID: sub.ID,
	})
	if err != nil {
		h.log.Error("open check run", "submission", sub.ID, "repo", src.Repo, "err", err)
		return
	}
	if err := h.cfg.Store.SetCheckRun(h.ctx, sub.ID, id); err != nil {
		h.log.Error("record check run", "submission", sub.ID, "err", err)
	}
}

// finished writes the final status, completes the check run and writes the
// pull request comment. Each is independent: one failing does not stop the
// others, and the grade itself is already stored.
func (h *Hook) finished(sub *grader.Submission) {
	src := sub.Source
	state, conclusion, desc := outcome(sub)
	h.status(sub, state, desc)

	ex, _ := h.cfg.Catalog.Exercise(sub.Exercise)
	summary := Summary(sub, ex, h.cfg.ResultURL(sub.ID))
	run := CheckRun{
		Name: StatusContext(sub.Exercise), SHA: src.SHA, Status: "completed", Conclusion: conclusion,
		DetailsURL: h.cfg.ResultURL(sub.ID), ExternalID: sub.ID, Title: desc, Summary: summary,
	}
	id, err := h.cfg.Store.CheckRun(h.ctx, sub.ID)
	if err != nil {
		h.log.Error("read check run", "submission", sub.ID, "err", err)
	}
	if id != 0 {
		err = h.cfg.Client.UpdateCheckRun(h.ctx, src.Repo, id, run)
	} else {
		_, err = h.cfg.Client.CreateCheckRun(h.ctx, src.Repo, run)
	}
	if err != nil {
		h.log.Error("complete check run", "submission", sub.ID, "repo", src.Repo, "err", err)
	}

	if src.PullRequest == 0 {
		return
	}
	known, err := h.cfg.Store.PRComment(h.ctx, src.Repo, src.PullRequest)
	if err != nil {
		h.log.Error("read pull request comment id", "submission", sub.ID, "err", err)
	}
	body := CommentMarker + "\n" + summary
	got, err := h.cfg.Client.UpsertComment(h.ctx, src.Repo, src.PullRequest, known, CommentMarker, body)
	if err != nil {
		h.log.Error("write pull request comment", "submission", sub.ID, "repo", src.Repo, "pr", src.PullRequest, "err", err)
		return
	}
	if got != known {
		if err := h.cfg.Store.SetPRComment(h.ctx, src.Repo, src.PullRequest, got); err != nil {
			h.log.Error("record pull request comment id", "submission", sub.ID, "err", err)
		}
	}
}

// outcome is the final commit status, check conclusion and one-line
// description of a finished submission.
func outcome(sub *grader.Submission) (state, conclusion, description string) {
	res := sub.Result
	if sub.Status != grader.StatusDone || res == nil || res.Verdict == grader.VerdictInfraError {
		return StateError, "neutral", "djgrade could not grade this commit (not the candidate's fault)"
	}
	// Candidates read the status: GitHub's view has fixed words, never the
	// run's own reason.
	v := res.View(grader.AudienceGitHub)
	desc := fmt.Sprintf("%d/%d %s: %s", v.Score, v.MaxScore, v.Verdict, v.Reason)
	if sub.Late {
		desc = "late: " + desc
	}
	if v.Verdict == grader.VerdictPassed && v.Score == v.MaxScore {
		return StateSuccess, "success", desc
	}
	return StateFailure, "failure", desc
}

// Summary renders a finished submission as markdown for a check run and a
// pull request comment: the score, the categories, the public tests'
// outcomes and the failed hidden checks by published name. It never shows a
// hidden check's message, node id or source: candidates read it.
func Summary(sub *grader.Submission, ex *grader.Exercise, resultURL string) string {
	var b strings.Builder
	title := sub.Exercise
	if ex != nil && ex.Title != "" {
		title = ex.Title
	}
	fmt.Fprintf(&b, "### djgrade: %s\n\n", inline(title))
	res := sub.Result
	sha := ""
	if sub.Source != nil {
		sha = sub.Source.SHA
		if len(sha) > 12 {
			sha = sha[:12]
		}
	}
	if sub.Status != grader.StatusDone || res == nil || res.Verdict == grader.VerdictInfraError {
		fmt.Fprintf(&b, "djgrade could not grade commit %s: this is not the candidate's fault. Push again or ask the interviewer.\n", code(sha))
		return b.String()
	}
	v := res.View(grader.AudienceGitHub)
	fmt.Fprintf(&b, "**Score: %d/%d** — %s (commit %s)", v.Score, v.MaxScore, inline(string(v.Verdict)), code(sha))
	if sub.Late {
		b.WriteString(" — **submitted after the deadline**")
	}
	b.WriteString("\n\n")
	if reason := v.Reason; reason != "" {
		fmt.Fprintf(&b, "%s\n\n", inline(reason))
	}
	if len(v.Categories) > 0 {
		b.WriteString("| Category | Score |\n|---|---|\n")
		for _, c := range v.Categories {
			fmt.Fprintf(&b, "| %s | %d/%d |\n", inline(c.Name), c.Score, c.MaxScore)
		}
		b.WriteString("\n")
	}
	var public, failedHidden []grader.TestResult
	for _, t := range v.Tests {
		switch {
		case !t.Hidden:
			public = append(public, t)
		case t.Outcome != grader.OutcomePassed:
			failedHidden = append(failedHidden, t)
		}
	}
	if len(public) > 0 {
		b.WriteString("**Public tests**\n\n| Test | Outcome |\n|---|---|\n")
		for _, t := range public {
			fmt.Fprintf(&b, "| %s | %s |\n", code(t.NodeID), inline(t.Outcome))
		}
		b.WriteString("\n")
	}
	if len(failedHidden) > 0 {
		b.WriteString("**Hidden checks not passed**\n\n")
		for _, t := range failedHidden {
			// Named as grader.AudienceGitHub allows: a check without a
			// published name by number only.
			fmt.Fprintf(&b, "- %s (%s, %d points)\n", inline(t.Name), inline(t.Category), t.MaxPoints)
		}
		b.WriteString("\n")
	}
	if len(v.Refused) > 0 {
		fmt.Fprintf(&b, "%d changed file(s) were not applied (outside the exercise's editable paths).\n\n", len(v.Refused))
	}
	if resultURL != "" {
		fmt.Fprintf(&b, "[Full result](%s)\n", resultURL)
	}
	return b.String()
}

// inline makes text from a run safe inside a markdown table cell or line:
// no line breaks, no table pipes, no HTML, no @-mentions that would notify
// someone, no links.
func inline(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = truncate(s, 300)
	r := strings.NewReplacer(
		"\r", " ", "\n", " ", "|", "\\|", "<", "&lt;", ">", "&gt;",
		"@", "@\u200b", "[", "\\[", "]", "\\]", "`", "'", "*", "\\*", "_", "\\_",
	)
	return r.Replace(s)
}

// code shows an identifier from the candidate's repository as a code span,
// which markdown renders literally (no mentions, links or HTML).
func code(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = truncate(s, 300)
	s = strings.NewReplacer("`", "'", "\r", " ", "\n", " ", "|", "\\|").Replace(s)
	return "`" + s + "`"
}
