package api

import (
	"net/http"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// One token holds at most grader.LiveMaxStreams event streams of a
// session at once: each save goes to every stream with the snapshot's
// files (up to LiveMaxSnapshotBytes), so a candidate opening streams
// without end would make every save cost that much again. Past the cap
// the answer is 429, and the candidate's streams never take the
// interviewer's.
func TestLiveStreamsCapped(t *testing.T) {
	w := newWorld(t, &publicSandbox{}, false, nil)
	l := w.startLive(t, "ada", nil)
	path := "/api/v1/live/" + l.ID
	var streams []<-chan sseEvent
	for range grader.LiveMaxStreams {
		streams = append(streams, w.openEvents(t, "ada", path))
	}
	// Only the head is read: a stream that opens is not read to its end.
	req, _ := http.NewRequest(http.MethodGet, w.srv.URL+path+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+w.secrets["ada"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("stream %d of one token: status %d, Retry-After %q; want 429 with a Retry-After",
			grader.LiveMaxStreams+1, res.StatusCode, res.Header.Get("Retry-After"))
	}
	staff := w.openEvents(t, "interviewer", path)
	if res, body := w.jsonDo(t, "ada", http.MethodPut, path+"/files", oneFile("library/serializers.py", "# y\n"), nil); res.StatusCode != http.StatusOK {
		t.Fatalf("save: %d %s", res.StatusCode, body)
	}
	nextEvents(t, streams[0], grader.LiveEventSave)
	nextEvents(t, staff, grader.LiveEventSave)
}
