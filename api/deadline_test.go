package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
)

// TestAssignmentDeadline: a deadline that is not RFC 3339 is refused in
// words, with the format and an example (not Go's layout string); one in
// the past is refused; a future one is kept.
func TestAssignmentDeadline(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	create := func(deadline string) (*http.Response, []byte) {
		return w.do(t, "interviewer", http.MethodPost, "/api/v1/assignments", "application/json",
			strings.NewReader(`{"exercise":"n-plus-one","candidate":"Ada","deadline":`+deadline+`}`), nil)
	}
	for _, tc := range []struct{ deadline, says string }{
		{`"tomorrow"`, `deadline "tomorrow" is not a date and time in RFC 3339 format, such as 2026-12-31T17:00:00Z`},
		{`"2026-12-31"`, "RFC 3339 format"},
		{`"2020-01-01T00:00:00Z"`, "deadline 2020-01-01T00:00:00Z is in the past"},
	} {
		res, body := create(tc.deadline)
		ae := wantError(t, res, body, http.StatusBadRequest, grader.EINVALID)
		if !strings.Contains(ae.Error.Message, tc.says) || strings.Contains(ae.Error.Message, "2006") {
			t.Errorf("deadline %s: message %q, want it to say %q", tc.deadline, ae.Error.Message, tc.says)
		}
	}
	future := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	res, body := create(`"` + future + `"`)
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"deadline":"`+future+`"`) {
		t.Errorf("future deadline: %d %s", res.StatusCode, body)
	}
	if res, body := create(`null`); res.StatusCode != http.StatusCreated || !strings.Contains(string(body), `"deadline":null`) {
		t.Errorf("no deadline: %d %s", res.StatusCode, body)
	}
}
