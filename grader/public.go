package grader

import (
	"fmt"
	"strings"
)

// Candidates read results, and candidate code wrote much of what a run
// produces (exception texts, collect errors, output). What a candidate is
// shown is therefore built here from fixed words and counts, and public-test
// messages are cleaned of any hidden-test line a submission may have copied
// into them.

// PublicReason is the result's reason in words a candidate may read: fixed
// per verdict, with counts and limits, never text that came out of the run.
func (r *Result) PublicReason() string {
	hidden, passed := 0, 0
	for _, t := range r.Tests {
		if t.Hidden {
			hidden++
			if t.Outcome == OutcomePassed {
				passed++
			}
		}
	}
	switch r.Verdict {
	case VerdictPassed:
		return fmt.Sprintf("all %d hidden checks passed", hidden)
	case VerdictFailed:
		return fmt.Sprintf("%d of %d hidden checks passed", passed, hidden)
	case VerdictError:
		return "the project did not import or set up, so the hidden checks could not run; run the public tests to see why"
	case VerdictTimeout, VerdictOOM, VerdictOutputLimit, VerdictProcessLimit:
		// Score words these from the limits alone.
		return r.Reason
	case VerdictTampered:
		return "the run tried to change how it is graded, so it scores nothing"
	case VerdictInfraError:
		return "djgrade could not grade this submission; it does not count against you"
	}
	return ""
}

// PublicName is a check's name as a candidate may see it: a hidden check's
// published name, never its node id (which names the hidden file).
func PublicName(t TestResult, index int) string {
	if t.Hidden && (t.Name == "" || t.Name == t.NodeID) {
		return fmt.Sprintf("hidden check %d", index+1)
	}
	return t.Name
}

// minHiddenLine is the shortest hidden-source line that redaction looks for;
// shorter ones ("return x", "import pytest") are common to any test code.
const minHiddenLine = 16

// redactedLine replaces a line of a message that held hidden-test source.
const redactedLine = "[a line of a hidden test was removed]"

// RedactHidden removes from text every line that holds a line of the hidden
// sources, so that a submission cannot publish the hidden tests through a
// public test's failure message.
func RedactHidden(text string, hidden []File) string {
	if text == "" {
		return text
	}
	var needles []string
	for _, f := range hidden {
		for line := range strings.SplitSeq(string(f.Data), "\n") {
			if l := strings.TrimSpace(line); len(l) >= minHiddenLine {
				needles = append(needles, l)
			}
		}
	}
	lines := strings.Split(text, "\n")
	changed := false
	for i, line := range lines {
		for _, n := range needles {
			if strings.Contains(line, n) {
				lines[i], changed = redactedLine, true
				break
			}
		}
	}
	if !changed {
		return text
	}
	return strings.Join(lines, "\n")
}

// redactPublic cleans the messages of public tests in place.
func (r *Result) redactPublic(hidden []File) {
	for i := range r.Tests {
		if !r.Tests[i].Hidden {
			r.Tests[i].Message = RedactHidden(r.Tests[i].Message, hidden)
		}
	}
}
