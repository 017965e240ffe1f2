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
		current := func(r Row) *grader.ReviewEntry {
			if r.Result == nil {
				return nil
			}
			if o := sums[r.Submission].Current; o != nil && o.Score != nil {
				return o
			}
			return nil
		}
		return []Column{
			{Name: "effective_score", Value: func(r Row) string {
				if r.Result == nil {
					return ""
				}
				if o := current(r); o != nil {
					return strconv.Itoa(min(*o.Score, r.Result.MaxScore))
				}
				return strconv.Itoa(r.Result.Score)
			}},
			{Name: "effective_verdict", Value: func(r Row) string {
				if r.Result == nil {
					return ""
				}
				if o := current(r); o != nil && o.Verdict != "" {
					return string(o.Verdict)
				}
				return string(r.Result.Verdict)
			}},
			{Name: "overridden", Value: func(r Row) string {
				if r.Result == nil {
					return ""
				}
				return strconv.FormatBool(current(r) != nil)
			}},
		}
	}
}
