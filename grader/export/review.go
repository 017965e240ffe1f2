package export

import (
	"context"
	"strconv"

	"github.com/djgrade/djgrade/grader"
)

// ReviewColumns returns the extra columns of a reviewer's override
// (Config.ExportColumns of the API and the pages): effective_score and
// effective_verdict (the override's where one is in force, else the
// automatic result's) and overridden. Nothing else of a review leaves the
// server in an export: no note, no reason, no reviewer, as
// Review.View(AudienceExport) holds. summaries is
// grader.Service.ReviewSummaries; when it fails (no review store), the
// table gets no extra columns.
func ReviewColumns(summaries func(ctx context.Context, ids []string) (map[string]grader.ReviewSummary, error)) func(context.Context, *Table) []Column {
	return func(ctx context.Context, t *Table) []Column {
		ids := make([]string, 0, len(t.Rows))
		for _, r := range t.Rows {
			ids = append(ids, r.Submission)
		}
		sums, err := summaries(ctx, ids)
		if err != nil {
			return nil
		}
		// The one rule of the effective score (grader.EffectiveScore, as
		// the review routes and the candidate page apply it), on the row's
		// export view; nil for a row not done.
		effective := func(r Row) (*grader.Points, bool) {
			if r.Result == nil {
				return nil, false
			}
			return grader.EffectiveScore(&grader.Submission{ID: r.Submission, Status: grader.StatusDone, Result: &r.Result.Result}, sums[r.Submission])
		}
		text := func(f func(p *grader.Points, over bool) string) func(Row) string {
			return func(r Row) string {
				if p, over := effective(r); p != nil {
					return f(p, over)
				}
				return ""
			}
		}
		typed := func(f func(p *grader.Points, over bool) any) func(Row) any {
			return func(r Row) any {
				if p, over := effective(r); p != nil {
					return f(p, over)
				}
				return nil
			}
		}
		return []Column{
			{Name: "effective_score",
				Value: text(func(p *grader.Points, _ bool) string { return strconv.Itoa(p.Score) }),
				JSON:  typed(func(p *grader.Points, _ bool) any { return p.Score })},
			{Name: "effective_verdict",
				Value: text(func(p *grader.Points, _ bool) string { return string(p.Verdict) }),
				JSON:  typed(func(p *grader.Points, _ bool) any { return string(p.Verdict) })},
			{Name: "overridden",
				Value: text(func(_ *grader.Points, over bool) string { return strconv.FormatBool(over) }),
				JSON:  typed(func(_ *grader.Points, over bool) any { return over })},
		}
	}
}
