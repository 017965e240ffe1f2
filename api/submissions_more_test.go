package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestIdempotencyKeyReusedForAnotherRequest: a key sent again with the same
// request returns the first submission; with another archive, candidate or
// exercise it is refused with 422 idempotency_key_reused and nothing is
// stored.
func TestIdempotencyKeyReusedForAnotherRequest(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	send := func(exercise, candidate, content string) (*http.Response, []byte) {
		t.Helper()
		body, ctype := multipartBody(t,
			part{name: "exercise", data: []byte(exercise)},
			part{name: "candidate", data: []byte(candidate)},
			part{name: "archive", filename: "a.tar.gz", data: tarGzArchive(t, map[string]string{"library/serializers.py": content})})
		return w.do(t, "interviewer", http.MethodPost, "/api/v1/submissions", ctype, body, map[string]string{"Idempotency-Key": "k-1"})
	}
	count := func() int {
		subs, err := w.store.ListSubmissions(context.Background(), grader.SubmissionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(subs)
	}
	res, first := send("n-plus-one", "Ada", "# one\n")
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("first: %d %s", res.StatusCode, first)
	}
	// The same request packed again (a zip would do too) is a retry.
	res, again := send("n-plus-one", "Ada", "# one\n")
	if res.StatusCode != http.StatusAccepted || jsonID(again) != jsonID(first) {
		t.Fatalf("retry: %d %s, first %s", res.StatusCode, again, first)
	}
	for _, tc := range []struct{ name, exercise, candidate, content string }{
		{"another archive", "n-plus-one", "Ada", "# two\n"},
		{"another candidate", "n-plus-one", "Grace", "# one\n"},
	} {
		res, body := send(tc.exercise, tc.candidate, tc.content)
		ae := wantError(t, res, body, http.StatusUnprocessableEntity, grader.EKEYREUSED)
		if !strings.Contains(ae.Error.Message, "Idempotency-Key was already used for a different request") {
			t.Errorf("%s: message %q", tc.name, ae.Error.Message)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("%d submissions stored, want 1", n)
	}
	// The refusals did not replace the key's request.
	if res, again := send("n-plus-one", "Ada", "# one\n"); res.StatusCode != http.StatusAccepted || jsonID(again) != jsonID(first) {
		t.Errorf("retry after refusals: %d %s", res.StatusCode, again)
	}
}

// jsonID is the "id" of a JSON object, or "".
func jsonID(body []byte) string {
	var v struct{ ID string }
	json.Unmarshal(body, &v)
	return v.ID
}

// TestListCandidateFilter: ?candidate= is part of the name in any case, the
// dashboard's filter (grader.CandidateMatches), not an exact match.
func TestListCandidateFilter(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	for _, name := range []string{"Ada Lovelace", "Grace Hopper", "adam smith"} {
		body, ctype := multipartBody(t,
			part{name: "exercise", data: []byte("n-plus-one")},
			part{name: "candidate", data: []byte(name)},
			part{name: "archive", filename: "a.tar.gz", data: tarGzArchive(t, map[string]string{"library/serializers.py": "# " + name + "\n"})})
		if res, data := w.do(t, "interviewer", http.MethodPost, "/api/v1/submissions", ctype, body, nil); res.StatusCode != http.StatusAccepted {
			t.Fatalf("submit %s: %d %s", name, res.StatusCode, data)
		}
	}
	for q, want := range map[string]int{"ADA": 2, " lovelace ": 1, "Grace Hopper": 1, "nobody": 0} {
		res, data := w.do(t, "interviewer", http.MethodGet, "/api/v1/submissions?candidate="+url.QueryEscape(q), "", nil, nil)
		var list listJSON
		if json.Unmarshal(data, &list); res.StatusCode != http.StatusOK || len(list.Submissions) != want {
			t.Errorf("candidate=%q: %d, %d submissions, want %d", q, res.StatusCode, len(list.Submissions), want)
		}
	}
}
