package export

import (
	"encoding/json"
	"io"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// Document is the JSON export of a table (README: "Exports"):
//
//	{"exercise": "n-plus-one", "assignment": "asg_…" (an assignment's only),
//	 "generated_at": "…", "categories": ["correctness", …],
//	 "results": [RowJSON, …], "truncated": false, "next_cursor": null}
//
// Lists are never null. NextCursor is the cursor of the next page when the
// table was cut at its limit (the caller encodes it), else null.
type Document struct {
	Exercise    string    `json:"exercise,omitempty"`
	Assignment  string    `json:"assignment,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
	Categories  []string  `json:"categories"`
	Results     []RowJSON `json:"results"`
	Truncated   bool      `json:"truncated"`
	NextCursor  *string   `json:"next_cursor"`
}

// RowJSON is one submission in a Document. Result is the one schema of a
// result (grader.ResultJSON, as the API's submission documents and `djgrade
// grade --json` hold it) for the export view, or null unless the
// submission is done. Extra holds the table's Extra columns, by name.
type RowJSON struct {
	Submission string             `json:"submission"`
	Exercise   string             `json:"exercise"`
	Candidate  string             `json:"candidate"`
	Assignment string             `json:"assignment,omitempty"`
	Status     string             `json:"status"`
	Late       bool               `json:"late"`
	CreatedAt  time.Time          `json:"created_at"`
	FinishedAt *time.Time         `json:"finished_at"`
	Result     *grader.ResultJSON `json:"result"`
	Extra      map[string]any     `json:"extra,omitempty"`
}

// JSON renders the table as a Document; cursor, if not "", is its
// next_cursor.
func (t *Table) JSON(cursor string) Document {
	d := Document{
		Exercise: t.Exercise, Assignment: t.Assignment, GeneratedAt: t.GeneratedAt,
		Categories: append([]string{}, t.Categories...), Results: make([]RowJSON, 0, len(t.Rows)),
		Truncated: t.Truncated,
	}
	if cursor != "" {
		d.NextCursor = &cursor
	}
	for _, r := range t.Rows {
		j := RowJSON{
			Submission: r.Submission, Exercise: r.Exercise, Candidate: r.Candidate, Assignment: r.Assignment,
			Status: string(r.Status), Late: r.Late, CreatedAt: r.CreatedAt,
		}
		if !r.FinishedAt.IsZero() {
			f := r.FinishedAt
			j.FinishedAt = &f
		}
		if r.Result != nil {
			res := r.Result.JSON()
			j.Result = &res
		}
		for _, c := range t.Extra {
			if j.Extra == nil {
				j.Extra = map[string]any{}
			}
			if c.JSON != nil {
				j.Extra[c.Name] = c.JSON(r)
			} else {
				j.Extra[c.Name] = c.Value(r)
			}
		}
		d.Results = append(d.Results, j)
	}
	return d
}

// WriteJSON writes the table's Document, indented.
func WriteJSON(w io.Writer, t *Table, cursor string) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t.JSON(cursor))
}
