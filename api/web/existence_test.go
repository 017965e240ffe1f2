package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// TestOthersResultLooksMissing: on the candidate's per-submission pages,
// another candidate's submission and a missing id answer alike (status,
// headers, body), over real HTTP and a real bbolt file.
func TestOthersResultLooksMissing(t *testing.T) {
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

	ab := e.browser()
	ab.login(aliceSecret)
	answer := func(path string) (int, http.Header, string) {
		res, body := ab.get(path)
		h := res.Header.Clone()
		h.Del("Date")
		if rid := h.Get("X-Request-Id"); rid != "" {
			body = strings.ReplaceAll(body, rid, "RID")
			h.Del("X-Request-Id")
		}
		return res.StatusCode, h, body
	}
	for _, suffix := range []string{"", "/events"} {
		for _, a := range []string{alice.ID, bob.ID} {
			other := "/ui/a/" + a + "/s/" + bobSub.ID + suffix
			missing := "/ui/a/" + a + "/s/sub_does_not_exist" + suffix
			st1, h1, b1 := answer(other)
			st2, h2, b2 := answer(missing)
			if st1 != http.StatusNotFound || st1 != st2 || b1 != b2 {
				t.Errorf("%s: %d %.300s\n%s: %d %.300s", other, st1, b1, missing, st2, b2)
			}
			if len(h1) != len(h2) {
				t.Errorf("%s: headers %v vs %v", other, h1, h2)
			}
			for k := range h1 {
				if strings.Join(h1.Values(k), ",") != strings.Join(h2.Values(k), ",") {
					t.Errorf("%s: header %s: %q vs %q", other, k, h1.Values(k), h2.Values(k))
				}
			}
		}
	}
	// The owner reaches it.
	res, body = bb.get("/ui/a/" + bob.ID + "/s/" + bobSub.ID)
	wantStatus(t, "bob's result", res, body, http.StatusOK)
}
