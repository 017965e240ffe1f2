package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// A listing of snapshots with their files is paged (liveFilesPage of
// files at most, next_after to go on): a session holds up to
// LiveMaxSessionBytes, and one request for it all held that much in
// memory, as often as a candidate asked.
func TestLiveSnapshotsWithFilesPaged(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	ctx := context.Background()
	const n = 12 // of 480 KiB: more than liveFilesPage together
	for i := range n {
		body := strings.Repeat(strconv.Itoa(i%10), 480<<10)
		if _, err := w.svc.SaveLive(ctx, l.ID, []grader.File{{Path: "library/serializers.py", Data: []byte(body)}}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []int
	after, pages := 0, 0
	for {
		var page struct {
			Snapshots []struct {
				Seq   int `json:"seq"`
				Bytes int `json:"bytes"`
				Files []struct {
					Content string `json:"content"`
				} `json:"files"`
			} `json:"snapshots"`
			NextAfter int `json:"next_after"`
		}
		res, body := w.jsonDo(t, "ada", http.MethodGet, "/api/v1/live/"+l.ID+"/snapshots?files=true&after="+strconv.Itoa(after), nil, &page)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("page after %d: %d %.300s", after, res.StatusCode, body)
		}
		if len(body) > liveFilesPage+64<<10 {
			t.Errorf("a page of %d bytes, over the page's %d", len(body), liveFilesPage)
		}
		pages++
		for _, sn := range page.Snapshots {
			if len(sn.Files) == 0 || len(sn.Files[0].Content) != 480<<10 {
				t.Fatalf("snapshot %d without its files", sn.Seq)
			}
			seen = append(seen, sn.Seq)
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
		t.Fatalf("%d pages gave snapshots %v; want all %d over 2 pages at least", pages, seen, n)
	}
	for i, s := range seen {
		if s != i+1 {
			t.Fatalf("snapshots out of order or repeated: %v", seen)
		}
	}
	if res, body := w.jsonDo(t, "ada", http.MethodGet, "/api/v1/live/"+l.ID+"/snapshots?files=true&after=-1", nil, nil); res.StatusCode != http.StatusBadRequest {
		t.Errorf("after=-1: %d %s", res.StatusCode, body)
	}
}
