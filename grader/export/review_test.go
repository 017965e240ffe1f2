package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// The override columns: the override's score (capped at the maximum) and
// verdict where one is in force, the automatic result's otherwise, nothing
// for a submission not done, and never the reason or the reviewer.
func TestReviewColumns(t *testing.T) {
	over, capped, cleared := graded("sub_over", "ada"), graded("sub_capped", "bob"), graded("sub_plain", "cy")
	queued := &grader.Submission{ID: "sub_queued", Exercise: "n-plus-one", Status: grader.StatusQueued, CreatedAt: t0}
	nine, hundred := 9, 100
	sums := map[string]grader.ReviewSummary{
		"sub_over":   {Overrides: 1, Current: &grader.ReviewEntry{Score: &nine, Verdict: grader.VerdictPassed, Text: "REASON-SECRET"}},
		"sub_capped": {Overrides: 1, Current: &grader.ReviewEntry{Score: &hundred, Text: "REASON-SECRET"}},
		"sub_plain":  {Notes: 2, Overrides: 2}, // overridden, then cleared
	}
	var asked []string
	cols := ReviewColumns(func(_ context.Context, ids []string) (map[string]grader.ReviewSummary, error) {
		asked = ids
		return sums, nil
	})
	tab := NewTable(testExercise(), Rows([]*grader.Submission{over, capped, cleared, queued}), t0)
	tab.Extra = cols(context.Background(), tab)
	if len(asked) != 4 {
		t.Errorf("summaries asked for %v, want the table's 4 rows in one call", asked)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tab); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "REASON-SECRET") {
		t.Errorf("an override's reason left in the export:\n%s", buf.String())
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := recs[0]
	col := func(rec []string, name string) string {
		for i, h := range head {
			if h == name {
				return rec[i]
			}
		}
		t.Fatalf("no column %q in %q", name, head)
		return ""
	}
	want := map[string][3]string{
		"sub_over":   {"9", "passed", "true"},
		"sub_capped": {"10", "failed", "true"},
		"sub_plain":  {"6", "failed", "false"},
		"sub_queued": {"", "", ""},
	}
	for _, rec := range recs[1:] {
		id := col(rec, "submission")
		got := [3]string{col(rec, "effective_score"), col(rec, "effective_verdict"), col(rec, "overridden")}
		if got != want[id] {
			t.Errorf("%s: effective_score, effective_verdict, overridden = %q, want %q", id, got, want[id])
		}
		if col(rec, "score") != map[string]string{"sub_queued": ""}[id] && col(rec, "score") != "6" {
			t.Errorf("%s: the automatic score column is %q, want it kept at 6", id, col(rec, "score"))
		}
	}

	// JSON's extra holds them in their own types: a score is a number, as
	// the review route's effective.score, and overridden a boolean.
	var jbuf bytes.Buffer
	if err := WriteJSON(&jbuf, tab, ""); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Submission string         `json:"submission"`
			Extra      map[string]any `json:"extra"`
		} `json:"results"`
	}
	if err := json.Unmarshal(jbuf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	wantJSON := map[string][3]any{
		"sub_over":   {float64(9), "passed", true},
		"sub_capped": {float64(10), "failed", true},
		"sub_plain":  {float64(6), "failed", false},
		"sub_queued": {nil, nil, nil},
	}
	for _, r := range doc.Results {
		got := [3]any{r.Extra["effective_score"], r.Extra["effective_verdict"], r.Extra["overridden"]}
		if got != wantJSON[r.Submission] {
			t.Errorf("%s: JSON extra %#v, want %#v", r.Submission, got, wantJSON[r.Submission])
		}
	}

	// No review store: no extra columns, the export still made.
	none := ReviewColumns(func(context.Context, []string) (map[string]grader.ReviewSummary, error) {
		return nil, errors.New("unavailable")
	})
	if c := none(context.Background(), tab); c != nil {
		t.Errorf("columns without a review store: %v", c)
	}
}
