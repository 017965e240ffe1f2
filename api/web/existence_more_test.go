package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestOthersAssignmentLooksMissing: on every candidate page under an
// assignment (the page, HEAD, the starter, the upload, a result and its
// stream), another candidate's assignment answers as a missing one does,
// and another's submission as a well-formed unknown id does, over real
// HTTP and a real bbolt file.
func TestOthersAssignmentLooksMissing(t *testing.T) {
	e := newEnv(t)
	aliceSecret, alice := e.assign("Alice Candidate", grader.ModeAssessment)
	bobSecret, bob := e.assign("Bob Candidate", grader.ModePractice)
	zipData := referenceZip(t, e.cat)

	bb := e.browser()
	bb.login(bobSecret)
	bb.get("/ui/a/" + bob.ID)
	res, body := bb.upload("/ui/a/"+bob.ID+"/submit", map[string]string{"csrf": bb.csrf, "nonce": "n1"}, zipData)
	wantStatus(t, "bob's upload", res, body, http.StatusSeeOther)
	bobSub := e.finish()
	last := bobSub.ID[len(bobSub.ID)-1]
	unknownSub := bobSub.ID[:len(bobSub.ID)-1] + map[bool]string{true: "1", false: "0"}[last == '0']
	unknownAsg := bob.ID[:len(bob.ID)-1] + map[bool]string{true: "b", false: "a"}[bob.ID[len(bob.ID)-1] == 'a']

	ab := e.browser()
	ab.login(aliceSecret)
	ab.get("/ui/a/" + alice.ID) // the session's CSRF token
	answer := func(method, path string) (int, http.Header, string) {
		var res *http.Response
		var body string
		if method == http.MethodPost {
			res, body = ab.upload(path, map[string]string{"csrf": ab.csrf, "nonce": "n2"}, zipData)
		} else {
			req, _ := http.NewRequest(method, e.srv.URL+path, nil)
			res, body = ab.do(req)
		}
		h := res.Header.Clone()
		h.Del("Date")
		if rid := h.Get("X-Request-Id"); rid != "" {
			body = strings.ReplaceAll(body, rid, "RID")
			h.Del("X-Request-Id")
		}
		return res.StatusCode, h, body
	}
	compare := func(method, other, missing string) {
		t.Helper()
		st1, h1, b1 := answer(method, other)
		st2, h2, b2 := answer(method, missing)
		if st1 != http.StatusNotFound || st1 != st2 || b1 != b2 {
			t.Errorf("%s %s: %d %.300s\n%s: %d %.300s", method, other, st1, b1, missing, st2, b2)
		}
		if len(h1) != len(h2) {
			t.Errorf("%s %s: headers %v vs %v", method, other, h1, h2)
		}
		for k := range h1 {
			if strings.Join(h1.Values(k), ",") != strings.Join(h2.Values(k), ",") {
				t.Errorf("%s %s: header %s: %q vs %q", method, other, k, h1.Values(k), h2.Values(k))
			}
		}
	}
	for _, miss := range []string{"asg_does_not_exist", unknownAsg} {
		for _, p := range []struct{ method, suffix string }{
			{"GET", ""}, {"HEAD", ""}, {"GET", "/starter.zip"}, {"POST", "/submit"},
			{"GET", "/s/" + bobSub.ID}, {"GET", "/s/" + bobSub.ID + "/events"},
		} {
			compare(p.method, "/ui/a/"+bob.ID+p.suffix, "/ui/a/"+miss+p.suffix)
		}
	}
	// Another's submission under the candidate's own assignment and
	// Bob's, against a well-formed id that does not exist.
	for _, a := range []string{alice.ID, bob.ID} {
		for _, suffix := range []string{"", "/events"} {
			for _, method := range []string{"GET", "HEAD"} {
				compare(method, "/ui/a/"+a+"/s/"+bobSub.ID+suffix, "/ui/a/"+a+"/s/"+unknownSub+suffix)
			}
		}
	}
	// Staff pages are no way around it: a candidate gets the same 404.
	for _, p := range []string{"/ui/submissions/", "/ui/events?id="} {
		compare("GET", p+bobSub.ID, p+unknownSub)
	}
	// Nothing Alice tried created a submission under Bob's assignment.
	subs, err := e.store.ListSubmissions(t.Context(), grader.SubmissionFilter{})
	if err != nil || len(subs) != 1 {
		t.Errorf("submissions after the attack: %d %v", len(subs), err)
	}
}

// TestInfraFailurePageShowsNoJudgeText: the candidate's result page and
// stream of a grading that failed on the server show the fixed words, never
// the infrastructure reason (which may quote the judge's log).
func TestInfraFailurePageShowsNoJudgeText(t *testing.T) {
	e := newEnv(t)
	for _, mode := range []string{grader.ModePractice, grader.ModeAssessment} {
		secret, a := e.assign("Cand "+mode, mode)
		b := e.browser()
		b.login(secret)
		b.get("/ui/a/" + a.ID)
		res, body := b.upload("/ui/a/"+a.ID+"/submit", map[string]string{"csrf": b.csrf, "nonce": "n-" + mode}, referenceZip(t, e.cat))
		wantStatus(t, "upload", res, body, http.StatusSeeOther)
		sub, err := e.store.ClaimNext(t.Context())
		if err != nil || sub == nil {
			t.Fatalf("claim: %v %v", sub, err)
		}
		reason := "the judge wrote no report (pytest exit 2): HIDDEN-JUDGE-LINE"
		if err := e.store.Finish(t.Context(), sub.ID, grader.StatusError, grader.InfraResult(reason), reason); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"", "/events"} {
			res, body := b.get("/ui/a/" + a.ID + "/s/" + sub.ID + p)
			wantStatus(t, mode+" result"+p, res, body, http.StatusOK)
			if strings.Contains(body, "HIDDEN-JUDGE-LINE") || strings.Contains(body, "judge wrote") {
				t.Errorf("%s %s leaks the infrastructure reason: %s", mode, p, body)
			}
			if p == "" && !strings.Contains(body, "Grading failed on the server") {
				t.Errorf("%s result page lacks the fixed message: %.500s", mode, body)
			}
		}
		if _, body := b.get("/ui/a/" + a.ID); strings.Contains(body, "HIDDEN-JUDGE-LINE") {
			t.Errorf("%s assignment page leaks the infrastructure reason", mode)
		}
	}
}
