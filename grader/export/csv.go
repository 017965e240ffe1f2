package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

// CSVColumns are the first columns of WriteCSV, in order. Then come one
// column per rubric category ("category:<name>", the category's score),
// one per hidden check ("check:<name>", the points it earned; empty for a
// row without that check), and the table's Extra columns by their names.
// Cells of a row without a result (not done) are empty from "verdict" on;
// times are RFC 3339 in UTC, empty when unset; late is true or false.
var CSVColumns = []string{
	"submission", "exercise", "candidate", "assignment", "status", "late",
	"created_at", "finished_at", "verdict", "score", "max_score", "reason",
}

// CSVCell defuses spreadsheet formulas (CSV injection, as OWASP describes
// it): a cell whose first character is = + - @, a tab or a carriage return
// is prefixed with an apostrophe, which spreadsheets show as text. So is a
// cell whose first character after leading spaces is one of those: some
// importers trim the spaces and would then read a formula. Every other cell
// is returned as it is. WriteCSV applies it to every cell, headers too,
// since candidate names, reasons and category and check names all come
// from outside; the dashboard's compare.csv uses it as well.
func CSVCell(s string) string {
	t := strings.TrimLeft(s, " ")
	if t != "" && strings.ContainsRune("=+-@\t\r", rune(t[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the table as CSV (RFC 4180, comma-separated, CRLF-free:
// lines end in "\n"): a header row of CSVColumns and the table's own
// columns, then one row per Row. Every cell goes through CSVCell.
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	head := append([]string{}, CSVColumns...)
	for _, c := range t.Categories {
		head = append(head, "category:"+c)
	}
	for _, c := range t.Checks {
		head = append(head, "check:"+c)
	}
	for _, c := range t.Extra {
		head = append(head, c.Name)
	}
	if err := cw.Write(defuse(head)); err != nil {
		return err
	}
	for _, r := range t.Rows {
		row := []string{
			r.Submission, r.Exercise, r.Candidate, r.Assignment, string(r.Status), strconv.FormatBool(r.Late),
			csvTime(r.CreatedAt), csvTime(r.FinishedAt), "", "", "", "",
		}
		if v := r.Result; v != nil {
			row[8], row[9], row[10], row[11] = string(v.Verdict), strconv.Itoa(v.Score), strconv.Itoa(v.MaxScore), v.Reason
		}
		for _, c := range t.Categories {
			cell := ""
			if n, ok := categoryScore(r, c); ok {
				cell = strconv.Itoa(n)
			}
			row = append(row, cell)
		}
		for _, c := range t.Checks {
			cell := ""
			if n, ok := checkPoints(r, c); ok {
				cell = strconv.Itoa(n)
			}
			row = append(row, cell)
		}
		for _, c := range t.Extra {
			row = append(row, c.Value(r))
		}
		if err := cw.Write(defuse(row)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func defuse(cells []string) []string {
	for i, c := range cells {
		cells[i] = CSVCell(c)
	}
	return cells
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
