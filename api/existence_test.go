package api

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/djgrade/djgrade/grader"
)

// TestOthersSubmissionLooksMissing: on every per-submission route a
// candidate asking for another candidate's submission gets exactly the
// answer (status, headers, body) it gets for an id that does not exist,
// over real HTTP and a real bbolt file.
func TestOthersSubmissionLooksMissing(t *testing.T) {
	w := newWorld(t, &gateSandbox{}, false, nil)
	res, own := w.submit(t, grader.ModePractice, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", res.StatusCode, own)
	}
	done := own["id"].(string)
	w.finish(t, done)
	res, own = w.submit(t, grader.ModePractice, nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("submit: %d %v", res.StatusCode, own)
	}
	queued := own["id"].(string) // cancellable by its owner
	missing := "sub_does_not_exist"

	for _, route := range []struct{ method, suffix string }{
		{"GET", ""},
		{"GET", "?wait=1s"},
		{"GET", "?wait=bogus"},
		{"GET", "/files"},
		{"GET", "/events"},
		{"GET", "/logs"},
		{"POST", "/cancel"},
		{"POST", "/regrade"},
		{"GET", "/review"},
		{"POST", "/notes"},
		{"POST", "/override"},
	} {
		for _, other := range []string{done, queued} {
			for _, who := range []string{grader.ModeAssessment, "unassigned"} {
				name := route.method + " " + route.suffix + " as " + who
				ans := func(id string) (int, http.Header, string) {
					var body io.Reader
					ctype := ""
					if route.method == "POST" {
						ctype, body = "application/json", strings.NewReader(`{}`)
					}
					res, data := w.do(t, who, route.method, "/api/v1/submissions/"+id+route.suffix, ctype, body, nil)
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
				st1, h1, b1 := ans(other)
				st2, h2, b2 := ans(missing)
				if st1 < 400 {
					t.Errorf("%s: another's submission answered %d: %s", name, st1, b1)
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
		}
	}
	// The owner still reaches its own submission on the same routes.
	for _, suffix := range []string{"", "/files", "/events"} {
		if res, data := w.do(t, grader.ModePractice, "GET", "/api/v1/submissions/"+done+suffix, "", nil, nil); res.StatusCode != http.StatusOK {
			t.Errorf("owner GET %s: %d %s", suffix, res.StatusCode, data)
		}
	}
}
