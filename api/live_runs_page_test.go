package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// GET /live/{id}/runs answers in pages (?after=, next_after), each run
// read on its own: a session holds up to LiveMaxRuns runs of some
// 300 KiB each, and one answer of them all held that much in memory as
// often as the candidate asked.
func TestLiveRunsPaged(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	ctx := context.Background()
	const n = 20
	for range n {
		res := &grader.PublicRun{Verdict: grader.VerdictFailed}
		for i := range 500 {
			res.Tests = append(res.Tests, grader.TestJSON{Name: "tests/t.py::test_" + strconv.Itoa(i), Outcome: grader.OutcomeFailed, Message: strings.Repeat("m", 500)})
		}
		if err := w.store.PutLiveRun(ctx, l.ID, &grader.LiveRun{Snapshot: 1, Result: res}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int
	after, pages := 0, 0
	for {
		var page struct {
			Runs []struct {
				Seq    int               `json:"seq"`
				Result *grader.PublicRun `json:"result"`
			} `json:"runs"`
			NextAfter int `json:"next_after"`
		}
		res, body := w.jsonDo(t, "ada", http.MethodGet, "/api/v1/live/"+l.ID+"/runs?after="+strconv.Itoa(after), nil, &page)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page after %d: %d %.300s", after, res.StatusCode, body)
		}
		if len(body) > liveFilesPage+1<<20 {
			t.Errorf("a page of %d bytes", len(body))
		}
		pages++
		for _, r := range page.Runs {
			if r.Result == nil || len(r.Result.Tests) != 500 {
				t.Fatalf("run %d without its result", r.Seq)
			}
			seen = append(seen, r.Seq)
		}
		if page.NextAfter == 0 {
			break
		}
		if pages > n {
			t.Fatal("the pages do not end")
		}
		after = page.NextAfter
	}
	if len(seen) != n || pages < 2 {
		t.Fatalf("%d pages gave runs %v; want all %d over 2 pages at least", pages, seen, n)
	}
	for i, s := range seen {
		if s != i+1 {
			t.Fatalf("runs out of order or repeated: %v", seen)
		}
	}
}
