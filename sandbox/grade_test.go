package sandbox_test

import (
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// TestGradeReferenceFullMarks grades the n-plus-one reference solution
// through Service.Grade on the real sandbox: the whole chain (judge and
// candidate containers, PostgreSQL, the hidden checks, the statement count,
// the public tests, the score from the manifest's inventory) gives full
// marks, and the run leaves no container.
func TestGradeReferenceFullMarks(t *testing.T) {
	if testing.Short() {
		t.Skip("real containers: skipped in -short mode")
	}
	ex := loadNPlusOne(t)
	var files []grader.File
	root := "solutions/reference"
	err := fs.WalkDir(ex.FS, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(ex.FS, p)
		files = append(files, grader.File{Path: p[len(root)+1:], Data: data})
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("reference files %v: %v", files, err)
	}
	d, err := sandbox.New(sandbox.Options{Instance: "test-grade", App: "djgrade-test-grade", Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	id := fmt.Sprintf("grade-reference-%d", time.Now().UnixNano())
	t.Cleanup(func() {
		if n := hostileContainers(t, d, id); n != 0 {
			t.Errorf("%d container(s) labelled %s=%s remain", n, sandbox.LabelJob, id)
		}
	})
	svc := grader.NewService(grader.Config{Sandbox: d, Image: testImage})
	res, err := svc.Grade(t.Context(), ex, files, id, nil)
	if err != nil {
		t.Fatalf("Grade: %v", err)
	}
	t.Logf("%s (timings %v)", res.Describe(), res.Timings)
	if res.Verdict != grader.VerdictPassed || res.Score != res.MaxScore || res.MaxScore != 13 {
		for _, tr := range res.Tests {
			t.Logf("%s %s (%d/%d, %d queries): %s", tr.Outcome, tr.NodeID, tr.Points, tr.MaxPoints, tr.Queries, firstLines(tr.Message, 8))
		}
		t.Fatalf("%s, want passed with full marks\ncandidate log:\n%s\njudge log:\n%s", res.Describe(), capLog(res.Log), capLog(res.JudgeLog))
	}
	if len(res.Findings) != 0 {
		t.Errorf("the reference solution has scan findings: %+v", res.Findings)
	}
}
