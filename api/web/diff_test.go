package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// sides rebuilds both files from an edit script and checks its line
// numbers: old lines count up through the unchanged and deleted lines,
// new ones through the unchanged and added lines.
func sides(t *testing.T, lines []diffLine) (old, new []string) {
	t.Helper()
	for _, l := range lines {
		switch l.Kind {
		case lineSame:
			old, new = append(old, l.Text), append(new, l.Text)
		case lineDel:
			old = append(old, l.Text)
		case lineAdd:
			new = append(new, l.Text)
		}
		if l.Kind != lineAdd && l.Old != len(old) || l.Kind == lineAdd && l.Old != 0 ||
			l.Kind != lineDel && l.New != len(new) || l.Kind == lineDel && l.New != 0 {
			t.Fatalf("line %+v numbered wrong (old %d, new %d so far)", l, len(old), len(new))
		}
	}
	return old, new
}

func TestLineDiffOfTwoFiles(t *testing.T) {
	before := "import os\n\ndef f(x):\n    return x\n\n\ndef g(y):\n    return y + 1\n"
	after := "import os\nimport sys\n\ndef f(x):\n    return x * 2\n\n\ndef g(y):\n    return y + 1\n\ndef h():\n    pass"
	d := diffFiles([]grader.File{{Path: "app/f.py", Data: []byte(before)}}, []grader.File{{Path: "app/f.py", Data: []byte(after)}}, nil)
	if len(d) != 1 || d[0].Status != "changed" || d[0].Added != 5 || d[0].Deleted != 1 {
		t.Fatalf("diffFiles %+v", d)
	}
	var got []string
	for _, h := range d[0].Hunks {
		got = append(got, h.Header)
		for _, l := range h.Lines {
			got = append(got, fmt.Sprintf("%c%d,%d %s", l.Kind, l.Old, l.New, l.Text))
		}
	}
	want := []string{
		// One hunk: the changes are within 2*diffContext lines of each other.
		"@@ -1,8 +1,12 @@",
		" 1,1 import os",
		"+0,2 import sys",
		" 2,3 ",
		" 3,4 def f(x):",
		"-4,0     return x",
		"+0,5     return x * 2",
		" 5,6 ",
		" 6,7 ",
		" 7,8 def g(y):",
		" 8,9     return y + 1",
		"+0,10 ",
		"+0,11 def h():",
		"+0,12     pass",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	old, new := sides(t, lineDiff(splitLines([]byte(before)), splitLines([]byte(after))))
	if strings.Join(old, "\n")+"\n" != before || strings.Join(new, "\n") != after {
		t.Errorf("the script does not rebuild the files:\n%q\n%q", old, new)
	}
}

func TestLineDiffOfLargeFiles(t *testing.T) {
	const n = 5000
	var a, b []string
	changed, deleted, inserted := 0, 0, 0
	for i := range n {
		a = append(a, fmt.Sprintf("line %d = compute(%d)", i, i))
		switch {
		case i%97 == 0:
			b = append(b, fmt.Sprintf("line %d = compute(%d) + 1", i, i))
			changed++
		case i%89 == 0:
			deleted++
		default:
			b = append(b, a[i])
		}
		if i%101 == 0 {
			b = append(b, fmt.Sprintf("inserted after %d", i))
			inserted++
		}
	}
	// Every line is distinct, so the shortest edit script keeps exactly
	// the lines that were left alone.
	lines := lineDiff(a, b)
	old, new := sides(t, lines)
	if strings.Join(old, "\n") != strings.Join(a, "\n") || strings.Join(new, "\n") != strings.Join(b, "\n") {
		t.Fatal("the script does not rebuild the files")
	}
	d := diffFiles([]grader.File{{Path: "big.py", Data: []byte(strings.Join(a, "\n") + "\n")}}, []grader.File{{Path: "big.py", Data: []byte(strings.Join(b, "\n") + "\n")}}, nil)
	if len(d) != 1 || d[0].Status != "changed" || d[0].Deleted != changed+deleted || d[0].Added != changed+inserted {
		t.Fatalf("%s: %d added, %d deleted; want %d and %d", d[0].Status, d[0].Added, d[0].Deleted, changed+inserted, changed+deleted)
	}
	// Each change is further than 2*diffContext lines from the next, so
	// each is its own hunk (a changed line that also has an insertion
	// after it is one).
	if len(d[0].Hunks) < n/101 {
		t.Errorf("%d hunks", len(d[0].Hunks))
	}
}

func TestLineDiffOfRewrittenFile(t *testing.T) {
	// A file rewritten from top to bottom: no line in common.
	var a, b []string
	for i := range 20000 {
		a = append(a, fmt.Sprintf("old %d", i))
		b = append(b, fmt.Sprintf("new %d", i))
	}
	lines := lineDiff(a, b)
	old, new := sides(t, lines)
	if len(lines) != 40000 || strings.Join(old, "\n") != strings.Join(a, "\n") || strings.Join(new, "\n") != strings.Join(b, "\n") {
		t.Fatalf("%d lines; the script does not rebuild the files", len(lines))
	}
}
