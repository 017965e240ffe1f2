package githubhook

import (
	"context"
	"fmt"
	"strings"

	"github.com/djgrade/djgrade/grader"
)

// CommentMarker is hidden in djgrade's pull request comment, so that the
// comment is found and edited even when its stored id is lost.
const CommentMarker = "<!-- djgrade:pull-request-comment -->"

// onEvent is the grader's listener: it only stores the answer GitHub is to
// get (see pending.go), which the answer loop sends.
func (h *Hook) onEvent(e grader.Event) {
	sub := e.Submission
	if sub == nil || sub.Source == nil || sub.Source.Kind != grader.SourceGitHub || sub.Source.Repo == "" || sub.Source.SHA == "" {
		return
	}
	src := sub.Source
	p := &pending{Submission: sub.ID, Repo: src.Repo, SHA: src.SHA, PR: src.PullRequest, Installation: h.cfg.Client.InstallationOf(src.Repo)}
	target := h.cfg.ResultURL(sub.ID)
	ctxName := StatusContext(sub.Exercise)
	switch e.Type {
	case grader.EventQueued:
		p.Kind = kindStatus
		p.Status = &statusAnswer{State: StatePending, Context: ctxName, Description: "queued for grading", Target: target}
	case grader.EventRunning:
		p.Kind = kindOpen
		p.Status = &statusAnswer{State: StatePending, Context: ctxName, Description: "grading…", Target: target}
		p.Check = &CheckRun{Name: ctxName, SHA: src.SHA, Status: "in_progress", DetailsURL: target, ExternalID: sub.ID}
	case grader.EventFinished:
		h.answerFinished(sub)
		return
	default:
		return
	}
	h.enqueue(p)
}

// answerFinished stores the final answer of a finished submission (the
// status, the completed check run, the comment) and records that it did.
func (h *Hook) answerFinished(sub *grader.Submission) {
	src := sub.Source
	target := h.cfg.ResultURL(sub.ID)
	ctxName := StatusContext(sub.Exercise)
	state, conclusion, desc := outcome(sub)
	ex, _ := h.cfg.Catalog.Exercise(sub.Exercise)
	summary := Summary(sub, ex, target)
	p := &pending{
		Kind: kindFinish, Submission: sub.ID, Repo: src.Repo, SHA: src.SHA, PR: src.PullRequest, Installation: h.cfg.Client.InstallationOf(src.Repo),
		Status: &statusAnswer{State: state, Context: ctxName, Description: desc, Target: target},
		Check: &CheckRun{
			Name: ctxName, SHA: src.SHA, Status: "completed", Conclusion: conclusion,
			DetailsURL: target, ExternalID: sub.ID, Title: desc, Summary: summary,
		},
	}
	if src.PullRequest != 0 {
		p.Comment = CommentMarker + "\n" + summary
	}
	if h.enqueue(p) {
		if err := h.cfg.Store.SetGitHubAnswered(context.WithoutCancel(h.ctx), sub.ID, sub.FinishedAt); err != nil {
			h.log.Error("record the answered submission", "submission", sub.ID, "err", err)
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
