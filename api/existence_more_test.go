package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// TestOthersLooksLikeWellFormedUnknown: the existence test's missing id is
// malformed, which the lookup refuses before the store is asked. Here the
// missing ids are well formed (a real id with its last character changed),
// so the store's own not-found answers, and another candidate's assignment
// is compared with a missing one: every answer must be the same.
func TestOthersLooksLikeWellFormedUnknown(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, own := w.submit(t, grader.ModePractice, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", res.StatusCode, own)
	}
	other := own["id"].(string)
	w.finish(t, other)
	last := other[len(other)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	missing := other[:len(other)-1] + string(repl)
	if res, body := w.do(t, "admin", "GET", "/api/v1/submissions/"+missing, "", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("well-formed unknown id as admin: %d %s", res.StatusCode, body)
	}
	ans := func(who, method, path string) (int, http.Header, string) {
		var body io.Reader
		ctype := ""
		if method == "POST" {
			ctype, body = "application/json", strings.NewReader(`{}`)
		}
		res, data := w.do(t, who, method, path, ctype, body, nil)
		h := res.Header.Clone()
		rid := h.Get(echo.HeaderXRequestID)
		h.Del(echo.HeaderXRequestID)
		h.Del("Date")
		text := string(data)
		if rid != "" {
			text = strings.ReplaceAll(text, rid, "RID")
		}
		return res.StatusCode, h, text
	}
	same := func(name string, st1 int, h1 http.Header, b1 string, st2 int, h2 http.Header, b2 string) {
		t.Helper()
		if st1 < 400 {
			t.Errorf("%s: another's answered %d: %s", name, st1, b1)
		}
		if st1 != st2 || b1 != b2 {
			t.Errorf("%s: another's: %d %s\nmissing: %d %s", name, st1, b1, st2, b2)
		}
		if len(h1) != len(h2) {
			t.Errorf("%s: headers differ:\n%v\n%v", name, h1, h2)
		}
		for k := range h1 {
			if strings.Join(h1.Values(k), ",") != strings.Join(h2.Values(k), ",") {
				t.Errorf("%s: header %s: %q vs %q", name, k, h1.Values(k), h2.Values(k))
			}
		}
	}
	for _, who := range []string{grader.ModeAssessment, "unassigned"} {
		for _, route := range []struct{ method, suffix string }{
			{"GET", ""}, {"HEAD", ""}, {"GET", "?wait=1s"}, {"GET", "/files"}, {"GET", "/events"},
			{"GET", "/logs"}, {"POST", "/cancel"}, {"POST", "/regrade"},
		} {
			name := who + " " + route.method + " " + route.suffix
			st1, h1, b1 := ans(who, route.method, "/api/v1/submissions/"+other+route.suffix)
			st2, h2, b2 := ans(who, route.method, "/api/v1/submissions/"+missing+route.suffix)
			same(name, st1, h1, b1, st2, h2, b2)
		}
		// Another candidate's assignment and a missing one.
		asg := w.asg[grader.ModePractice]
		for _, method := range []string{"GET", "HEAD"} {
			for _, miss := range []string{"asg_does_not_exist", asg[:len(asg)-1] + "x"} {
				st1, h1, b1 := ans(who, method, "/api/v1/assignments/"+asg)
				st2, h2, b2 := ans(who, method, "/api/v1/assignments/"+miss)
				same(who+" "+method+" assignment "+miss, st1, h1, b1, st2, h2, b2)
			}
		}
	}
}

// TestInfraFailureShowsNoJudgeText: a grading that failed on the server
// stores an infrastructure result whose reason is the error's own text,
// which can quote the judge's log (hidden checks' output). Its candidate
// sees the fixed message on every route, in both modes.
func TestInfraFailureShowsNoJudgeText(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	ctx := t.Context()
	for _, mode := range []string{grader.ModePractice, grader.ModeAssessment} {
		res, own := w.submit(t, mode, nil)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("submit: %d %v", res.StatusCode, own)
		}
		id := own["id"].(string)
		if sub, err := w.store.ClaimNext(ctx); err != nil || sub == nil || sub.ID != id {
			t.Fatalf("claim: %v %v", sub, err)
		}
		reason := "the judge wrote no report (pytest exit 2): " + hiddenMsg
		if err := w.store.Finish(ctx, id, grader.StatusError, grader.InfraResult(reason), reason); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/v1/submissions/" + id, "/api/v1/submissions/" + id + "?wait=1s", "/api/v1/submissions?limit=10", "/api/v1/submissions/" + id + "/events"} {
			res, body := w.do(t, mode, "GET", path, "", nil, nil)
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), errorStatusMessage) {
				t.Errorf("%s %s: %d, no fixed message: %s", mode, path, res.StatusCode, body)
			}
			if strings.Contains(string(body), hiddenMsg) || strings.Contains(string(body), "judge wrote") {
				t.Errorf("%s %s leaks the infrastructure reason: %s", mode, path, body)
			}
		}
		_, body := w.do(t, "interviewer", "GET", "/api/v1/submissions/"+id, "", nil, nil)
		if !strings.Contains(string(body), errorStatusMessage) {
			t.Errorf("interviewer: %s", body)
		}
	}
}
