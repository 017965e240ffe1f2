package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestHeadAnswersLikeGet: HEAD on every GET route of the API answers with
// GET's status and headers and no body, for callers allowed and refused.
func TestHeadAnswersLikeGet(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, sub := w.submit(t, grader.ModePractice, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", res.StatusCode, sub)
	}
	id := sub["id"].(string)
	w.finish(t, id)
	for _, path := range []string{
		"/healthz", "/readyz", "/api/v1/openapi.yaml",
		"/api/v1/submissions", "/api/v1/submissions?status=nope", "/api/v1/submissions/" + id, "/api/v1/submissions/" + id + "?wait=1s",
		"/api/v1/submissions/" + id + "/logs", "/api/v1/submissions/" + id + "/files", "/api/v1/submissions/" + id + "/events",
		"/api/v1/submissions/SUB-nope",
		"/api/v1/exercises", "/api/v1/exercises/n-plus-one", "/api/v1/exercises/n-plus-one/starter.zip",
		"/api/v1/exercises/n-plus-one/starter.tar.gz", "/api/v1/exercises/nope",
		"/api/v1/assignments", "/api/v1/assignments/" + w.asg[grader.ModePractice], "/api/v1/tokens",
	} {
		for _, who := range []string{"admin", grader.ModePractice, ""} {
			get, getBody := w.do(t, who, http.MethodGet, path, "", nil, nil)
			head, headBody := w.do(t, who, http.MethodHead, path, "", nil, nil)
			if head.StatusCode != get.StatusCode {
				t.Errorf("HEAD %s as %q: %d, GET %d", path, who, head.StatusCode, get.StatusCode)
			}
			if len(headBody) != 0 {
				t.Errorf("HEAD %s as %q has a body of %d bytes", path, who, len(headBody))
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "WWW-Authenticate"} {
				if head.Header.Get(h) != get.Header.Get(h) {
					t.Errorf("HEAD %s as %q: %s %q, GET %q", path, who, h, head.Header.Get(h), get.Header.Get(h))
				}
			}
			if cl := head.Header.Get("Content-Length"); cl != "" && !strings.HasSuffix(path, "/events") && cl != strconv.Itoa(len(getBody)) {
				t.Errorf("HEAD %s as %q: Content-Length %s, GET sent %d bytes", path, who, cl, len(getBody))
			}
		}
	}
}

// TestCreateAssignmentLocation: the 201 of a new assignment says where it
// is, and that URL answers with it.
func TestCreateAssignmentLocation(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, body := w.do(t, "interviewer", http.MethodPost, "/api/v1/assignments", "application/json",
		strings.NewReader(`{"exercise":"n-plus-one","candidate":"Ada Lovelace"}`), nil)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	var a struct{ ID string }
	json.Unmarshal(body, &a)
	loc := res.Header.Get("Location")
	if a.ID == "" || loc != "/api/v1/assignments/"+a.ID {
		t.Fatalf("Location %q for assignment %q", loc, a.ID)
	}
	res, got := w.do(t, "interviewer", http.MethodGet, loc, "", nil, nil)
	var b struct{ ID string }
	if json.Unmarshal(got, &b); res.StatusCode != http.StatusOK || b.ID != a.ID {
		t.Errorf("GET %s: %d %s", loc, res.StatusCode, got)
	}
}
