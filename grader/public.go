package grader

import (
	"fmt"
)

// Candidates read results, and candidate code wrote much of what a run
// produces (exception texts, output). What a candidate is shown of a hidden
// check is therefore built here from fixed words and counts. Public-test
// messages need no cleaning: the candidate's container never holds a
// hidden check, so they can only hold the candidate's own code talking.

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
