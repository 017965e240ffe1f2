package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// Markers that must never leave the server: what the export view drops.
const (
	hiddenMsg  = "HIDDEN-MESSAGE-MARKER"
	hiddenNode = "djgrade_hidden/test_secret.py::test_marker"
	judgeLog   = "JUDGE-LOG-MARKER"
	sandboxLog = "SANDBOX-LOG-MARKER"
	publicMsg  = "PUBLIC-MESSAGE-MARKER"
	findingMsg = "FINDING-MARKER"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func testExercise() *grader.Exercise {
	return &grader.Exercise{ID: "n-plus-one", Categories: []grader.Category{{Name: "correctness", Points: 4}, {Name: "performance", Points: 6}}}
}

// graded is a done submission whose result holds every kind of test and
// every field the export view must drop.
func graded(id, candidate string) *grader.Submission {
	return &grader.Submission{
		ID: id, Exercise: "n-plus-one", Candidate: candidate, Status: grader.StatusDone, Assignment: "asg_1", Late: true,
		CreatedAt: t0, FinishedAt: t0.Add(time.Minute),
		Result: &grader.Result{
			Score: 6, MaxScore: 10, Verdict: grader.VerdictFailed, Reason: "2 of 4 hidden checks passed",
			Categories: []grader.CategoryScore{{Name: "correctness", Score: 4, MaxScore: 4}, {Name: "performance", Score: 2, MaxScore: 6}},
			Tests: []grader.TestResult{
				{Name: "Book list is correct", NodeID: hiddenNode, Hidden: true, Category: "correctness", Outcome: "passed", Points: 4, MaxPoints: 4, Message: hiddenMsg, Duration: 1.5, Queries: 9},
				{Name: "Book list runs 3 queries", NodeID: hiddenNode + "2", Hidden: true, Category: "performance", Outcome: "failed", Points: 0, MaxPoints: 4, Message: hiddenMsg + ": 12 != 3"},
				{Name: hiddenNode + "3", NodeID: hiddenNode + "3", Hidden: true, Category: "performance", Outcome: "error", Points: 0, MaxPoints: 1, Message: hiddenMsg},
				{Name: "Pagination", NodeID: hiddenNode + "4", Hidden: true, Category: "performance", Outcome: "skipped", Points: 2, MaxPoints: 1},
				{Name: "tests/test_api.py::test_list", NodeID: "tests/test_api.py::test_list", Category: "correctness", Outcome: "failed", Message: publicMsg},
				{Name: "tests/test_api.py::test_gone", NodeID: "tests/test_api.py::test_gone", Category: "correctness", Outcome: grader.OutcomeMissing},
			},
			Findings: []grader.Finding{{Path: "x.py", Line: 1, What: findingMsg}},
			Log:      sandboxLog, JudgeLog: judgeLog, Seed: 77, Timings: map[string]int64{"total": 9},
		},
	}
}

func noLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, m := range []string{hiddenMsg, hiddenNode, judgeLog, sandboxLog, publicMsg, findingMsg, "djgrade_hidden"} {
		if strings.Contains(out, m) {
			t.Errorf("%s holds %q:\n%s", what, m, out)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Alice", "Alice"},
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1", "'+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		// Leading spaces do not hide a formula: some importers trim them.
		{"  =1+1", "'  =1+1"},
		{" @x", "' @x"},
		{"   ", "   "},
		// Only the first character (after spaces) counts.
		{"a=b", "a=b"},
		{"O'Brien", "O'Brien"},
		{"2026-12-03T10:00:00Z", "2026-12-03T10:00:00Z"},
		{"\n=x", "\n=x"}, // a newline starts a new line inside the quoted cell, not a cell
	} {
		if got := CSVCell(tc.in); got != tc.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	evil := graded("sub_1", "=cmd|' /C calc'!A0")
	queued := &grader.Submission{ID: "sub_2", Exercise: "n-plus-one", Candidate: "@bob", Status: grader.StatusQueued, CreatedAt: t0}
	tab := NewTable(testExercise(), Rows([]*grader.Submission{evil, queued}), t0)
	tab.Extra = []Column{{Name: "override", Value: func(r Row) string {
		if r.Submission == "sub_1" {
			return "-7"
		}
		return ""
	}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, tab); err != nil {
		t.Fatal(err)
	}
	noLeak(t, "csv", buf.String())
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse back: %v", err)
	}
	wantHead := append(append([]string{}, CSVColumns...),
		"category:correctness", "category:performance",
		"check:Book list is correct", "check:Book list runs 3 queries", "check:hidden check 3", "check:Pagination", "override")
	if fmt.Sprint(recs[0]) != fmt.Sprint(wantHead) {
		t.Errorf("header:\n got %q\nwant %q", recs[0], wantHead)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for _, r := range recs {
		if len(r) != len(wantHead) {
			t.Errorf("row of %d cells, header has %d: %q", len(r), len(wantHead), r)
		}
	}
	row := map[string]string{}
	for i, h := range recs[0] {
		row[h] = recs[1][i]
	}
	want := map[string]string{
		"submission": "sub_1", "candidate": "'=cmd|' /C calc'!A0", "assignment": "asg_1", "status": "done", "late": "true",
		"created_at": "2026-12-03T10:00:00Z", "finished_at": "2026-12-03T10:01:00Z", "verdict": "failed", "score": "6",
		"max_score": "10", "reason": "2 of 4 hidden checks passed", "category:performance": "2", "check:Book list is correct": "4",
		"check:Pagination": "2", "override": "'-7",
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q", k, row[k], v)
		}
	}
	// A row without a result: empty result cells, a defused name.
	if recs[2][2] != "'@bob" || recs[2][8] != "" || recs[2][9] != "" || recs[2][7] != "" {
		t.Errorf("queued row: %q", recs[2])
	}
	// Every cell of the output is defused.
	for _, r := range recs {
		for _, c := range r {
			if CSVCell(c) != c && !strings.HasPrefix(c, "'") {
				t.Errorf("cell %q is not defused", c)
			}
		}
	}
}

func TestWriteJSON(t *testing.T) {
	tab := NewTable(testExercise(), Rows([]*grader.Submission{graded("sub_1", "Alice"),
		{ID: "sub_2", Exercise: "n-plus-one", Candidate: "Bob", Status: grader.StatusError, CreatedAt: t0, Result: graded("x", "y").Result}}), t0)
	tab.Truncated = true
	var buf bytes.Buffer
	if err := WriteJSON(&buf, tab, "CURSOR"); err != nil {
		t.Fatal(err)
	}
	noLeak(t, "json", buf.String())
	var doc Document
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Exercise != "n-plus-one" || !doc.Truncated || doc.NextCursor == nil || *doc.NextCursor != "CURSOR" || len(doc.Results) != 2 {
		t.Fatalf("document: %+v", doc)
	}
	r := doc.Results[0].Result
	if r == nil || *r.Score != 6 || len(r.Tests) != 6 || r.Tests[2].Name != "hidden check 3" || r.Seed != 0 || r.Log != "" {
		t.Errorf("result: %+v", r)
	}
	// A submission not done has no result, even a stored one.
	if doc.Results[1].Result != nil || doc.Results[1].FinishedAt != nil {
		t.Errorf("error row: %+v", doc.Results[1])
	}
	var raw map[string]any
	json.Unmarshal(buf.Bytes(), &raw)
	for _, k := range []string{"exercise", "generated_at", "categories", "results", "truncated", "next_cursor"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %v", k, raw)
		}
	}
}

func TestJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, NewRow(graded("sub_1", "Alice <&> \"x\""))); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	noLeak(t, "junit", out)
	if !strings.HasPrefix(out, xml.Header) {
		t.Errorf("no XML declaration: %s", out)
	}
	if err := checkJUnitSchema(buf.Bytes()); err != nil {
		t.Errorf("not valid against junit-10.xsd's rules: %v\n%s", err, out)
	}
	// Parse it back into types of its own, not the writer's.
	type prop struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Suites   []struct {
			Name      string `xml:"name,attr"`
			Tests     int    `xml:"tests,attr"`
			Failures  int    `xml:"failures,attr"`
			Errors    int    `xml:"errors,attr"`
			Skipped   int    `xml:"skipped,attr"`
			Timestamp string `xml:"timestamp,attr"`
			Props     []prop `xml:"properties>property"`
			Cases     []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Error *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
				Skipped   *struct{} `xml:"skipped"`
				SystemOut string    `xml:"system-out"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("junit does not parse: %v\n%s", err, out)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d suites", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Tests != 6 || len(s.Cases) != 6 || s.Failures != 2 || s.Errors != 2 || s.Skipped != 1 {
		t.Errorf("suite counts: tests %d (cases %d) failures %d errors %d skipped %d", s.Tests, len(s.Cases), s.Failures, s.Errors, s.Skipped)
	}
	if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Errors != s.Errors {
		t.Errorf("testsuites counts differ from the suite's")
	}
	// Counts agree with the children.
	f, e, sk := 0, 0, 0
	for _, c := range s.Cases {
		if c.Failure != nil {
			f++
		}
		if c.Error != nil {
			e++
		}
		if c.Skipped != nil {
			sk++
		}
		if c.Classname == "" || c.Time == "" || c.SystemOut == "" {
			t.Errorf("case %q lacks classname, time or system-out", c.Name)
		}
	}
	if f != s.Failures || e != s.Errors || sk != s.Skipped {
		t.Errorf("children: %d failures %d errors %d skipped", f, e, sk)
	}
	props := map[string]string{}
	for _, p := range s.Props {
		props[p.Name] = p.Value
	}
	want := map[string]string{
		"score": "6", "max_score": "10", "candidate": "Alice <&> \"x\"", "category:performance": "2/6",
		"points:Book list is correct": "4/4", "points:Book list runs 3 queries": "0/4", "points:hidden check 3": "0/1",
		"points:Pagination": "2/1", "points:tests/test_api.py::test_list": "0/0",
	}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("suite property %s = %q, want %q", k, props[k], v)
		}
	}
	c := s.Cases[0]
	if c.Name != "Book list is correct" || c.Classname != "djgrade.n-plus-one.hidden.correctness" || c.Failure != nil ||
		c.SystemOut != "hidden: passed, 4 of 4 points (correctness)" {
		t.Errorf("first case: %+v", c)
	}
	if s.Cases[2].Name != "hidden check 3" || s.Cases[2].Error == nil || s.Cases[5].Error == nil || s.Cases[5].Error.Type != "missing" {
		t.Errorf("error cases: %+v %+v", s.Cases[2], s.Cases[5])
	}
	if s.Timestamp != "2026-12-03T10:00:00" {
		t.Errorf("timestamp %q", s.Timestamp)
	}
}

// junitElements are the rules of Jenkins' junit-10.xsd (the xunit
// plugin's, the schema CI systems share), restated: each element's allowed
// children, required and allowed attributes, and whether it holds text.
var junitElements = map[string]struct {
	children, required, optional []string
	text                         bool
}{
	"testsuites": {children: []string{"testsuite"}, optional: []string{"name", "time", "tests", "failures", "errors"}},
	"testsuite": {children: []string{"testsuite", "properties", "testcase", "system-out", "system-err"},
		required: []string{"name", "tests", "failures", "errors"},
		optional: []string{"group", "time", "skipped", "timestamp", "hostname", "id", "package", "file", "log", "url"}},
	"properties": {children: []string{"property"}},
	"property":   {required: []string{"name", "value"}},
	"testcase": {children: []string{"skipped", "error", "failure", "rerunFailure", "rerunError", "flakyFailure", "flakyError", "system-out", "system-err"},
		required: []string{"name"}, optional: []string{"time", "classname", "group"}},
	"failure":    {optional: []string{"type", "message"}, text: true},
	"error":      {optional: []string{"type", "message"}, text: true},
	"skipped":    {optional: []string{"type", "message"}, text: true},
	"system-out": {text: true},
	"system-err": {text: true},
}

// surefireTime is the schema's SUREFIRE_TIME pattern, for time attributes
// of suites.
var surefireTime = regexp.MustCompile(`^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?$`)

// checkJUnitSchema checks data against junitElements: the root, every
// element's place, attributes and text.
func checkJUnitSchema(data []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			name := tk.Name.Local
			rule, ok := junitElements[name]
			if !ok {
				return fmt.Errorf("unknown element <%s>", name)
			}
			if len(stack) == 0 && name != "testsuites" && name != "testsuite" {
				return fmt.Errorf("root <%s>", name)
			}
			if len(stack) > 0 && !slices.Contains(junitElements[stack[len(stack)-1]].children, name) {
				return fmt.Errorf("<%s> inside <%s>", name, stack[len(stack)-1])
			}
			seen := map[string]bool{}
			for _, a := range tk.Attr {
				seen[a.Name.Local] = true
				if !slices.Contains(rule.required, a.Name.Local) && !slices.Contains(rule.optional, a.Name.Local) {
					return fmt.Errorf("<%s> has attribute %s", name, a.Name.Local)
				}
				if a.Name.Local == "time" && (name == "testsuite" || name == "testsuites") && !surefireTime.MatchString(a.Value) {
					return fmt.Errorf("<%s time=%q>", name, a.Value)
				}
			}
			for _, r := range rule.required {
				if !seen[r] {
					return fmt.Errorf("<%s> lacks %s", name, r)
				}
			}
			stack = append(stack, name)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 && !junitElements[stack[len(stack)-1]].text && strings.TrimSpace(string(tk)) != "" {
				return fmt.Errorf("text in <%s>", stack[len(stack)-1])
			}
		}
	}
	return nil
}

// TestJUnitSchemaCheck: the check refuses what the schema refuses.
func TestJUnitSchemaCheck(t *testing.T) {
	for _, bad := range []string{
		`<testsuites skipped="1"></testsuites>`,
		`<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x"><properties/></testcase></testsuite></testsuites>`,
		`<testsuites><testsuite name="a" tests="1" failures="0"></testsuite></testsuites>`,
		`<testsuites><testsuite name="a" tests="1" failures="0" errors="0" time="1.5s"></testsuite></testsuites>`,
		`<testcase name="x"/>`,
	} {
		if checkJUnitSchema([]byte(bad)) == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestGradescope(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteGradescope(&buf, NewRow(graded("sub_1", "Alice"))); err != nil {
		t.Fatal(err)
	}
	noLeak(t, "gradescope", buf.String())
	var doc struct {
		Score    *float64 `json:"score"`
		MaxScore *float64 `json:"max_score"`
		Output   string   `json:"output"`
		Tests    []struct {
			Name       string   `json:"name"`
			Score      *float64 `json:"score"`
			MaxScore   *float64 `json:"max_score"`
			Status     string   `json:"status"`
			Visibility string   `json:"visibility"`
			Tags       []string `json:"tags"`
		} `json:"tests"`
		ExtraData map[string]string `json:"extra_data"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Score == nil || *doc.Score != 6 || *doc.MaxScore != 10 || len(doc.Tests) != 6 || doc.ExtraData["djgrade_submission"] != "sub_1" || doc.Output != "" {
		t.Fatalf("document: %s", buf.String())
	}
	want := []struct {
		name, status, vis string
		score, max        float64
	}{
		{"Book list is correct", "passed", "after_published", 4, 4},
		{"Book list runs 3 queries", "failed", "after_published", 0, 4},
		{"hidden check 3", "failed", "after_published", 0, 1},
		{"Pagination", "failed", "after_published", 2, 1},
		{"tests/test_api.py::test_list", "failed", "visible", 0, 0},
		{"tests/test_api.py::test_gone", "failed", "visible", 0, 0},
	}
	for i, w := range want {
		g := doc.Tests[i]
		if g.Name != w.name || g.Status != w.status || g.Visibility != w.vis || g.Score == nil || *g.Score != w.score || *g.MaxScore != w.max {
			t.Errorf("test %d: %+v, want %+v", i, g, w)
		}
	}
	if doc.Tests[0].Tags[0] != "correctness" {
		t.Errorf("tags: %v", doc.Tests[0].Tags)
	}
}

func TestFilename(t *testing.T) {
	for _, tc := range []struct {
		ext   string
		parts []string
		want  string
	}{
		{".csv", []string{"n-plus-one", "results"}, "n-plus-one-results.csv"},
		{".csv", []string{"../../etc/passwd", "results"}, "_.._etc_passwd-results.csv"},
		{".json", []string{"a\"b\r\nc", "é"}, "a_b__c-_.json"},
		{".csv", nil, "export.csv"},
		{".csv", []string{strings.Repeat("x", 100)}, strings.Repeat("x", 64) + ".csv"},
	} {
		if got := Filename(tc.ext, tc.parts...); got != tc.want {
			t.Errorf("Filename(%q, %q) = %q, want %q", tc.ext, tc.parts, got, tc.want)
		}
	}
}

// TestCollect: pages through the lister, keeps what keep accepts, stops at
// the limit and says whether more matched.
func TestCollect(t *testing.T) {
	var all []*grader.Submission
	for i := 250; i > 0; i-- { // newest first
		all = append(all, &grader.Submission{ID: fmt.Sprintf("s%03d", i), Candidate: map[bool]string{true: "even", false: "odd"}[i%2 == 0]})
	}
	calls := 0
	list := func(_ context.Context, f grader.SubmissionFilter) ([]*grader.Submission, error) {
		calls++
		if f.Limit != 100 {
			t.Errorf("page of %d", f.Limit)
		}
		start := 0
		if f.Before != "" {
			for i, s := range all {
				if s.ID == f.Before {
					start = i + 1
				}
			}
		}
		end := min(start+f.Limit, len(all))
		return all[start:end], nil
	}
	subs, next, err := Collect(context.Background(), list, grader.SubmissionFilter{}, nil, 0)
	if err != nil || next != "" || len(subs) != 250 || calls != 3 {
		t.Errorf("all: %d next=%q calls=%d err=%v", len(subs), next, calls, err)
	}
	subs, next, _ = Collect(context.Background(), list, grader.SubmissionFilter{}, nil, 120)
	if next != "s131" || len(subs) != 120 || subs[119].Submission != "s131" {
		t.Errorf("limit: %d next=%q last %s", len(subs), next, subs[len(subs)-1].Submission)
	}
	// The next page starts where the cursor says, and ends the listing.
	rest, next, _ := Collect(context.Background(), list, grader.SubmissionFilter{Before: "s131"}, nil, 200)
	if next != "" || len(rest) != 130 || rest[0].Submission != "s130" {
		t.Errorf("rest: %d next=%q first %s", len(rest), next, rest[0].Submission)
	}
	subs, next, _ = Collect(context.Background(), list, grader.SubmissionFilter{}, func(s *grader.Submission) bool { return s.Candidate == "even" }, 0)
	if next != "" || len(subs) != 125 {
		t.Errorf("keep: %d next=%q", len(subs), next)
	}
	// Exactly the limit, nothing after: no next page.
	subs, next, _ = Collect(context.Background(), list, grader.SubmissionFilter{}, nil, 250)
	if next != "" || len(subs) != 250 {
		t.Errorf("exact: %d next=%q", len(subs), next)
	}
}
