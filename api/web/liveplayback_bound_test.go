package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sync"
	"testing"

	"github.com/djgrade/djgrade/grader"
)

// countingLive counts the snapshot reads the pages make.
type countingLive struct {
	grader.LiveService
	mu        sync.Mutex
	snapshots int // LiveSnapshot calls: one snapshot's files each
	withFiles int // LiveSnapshots calls with every snapshot's files
}

func (c *countingLive) LiveSnapshot(ctx context.Context, id string, seq int) (*grader.LiveSnapshot, error) {
	c.mu.Lock()
	c.snapshots++
	c.mu.Unlock()
	return c.LiveService.LiveSnapshot(ctx, id, seq)
}

func (c *countingLive) LiveSnapshots(ctx context.Context, id string, withFiles bool) ([]*grader.LiveSnapshot, error) {
	if withFiles {
		c.mu.Lock()
		c.withFiles++
		c.mu.Unlock()
	}
	return c.LiveService.LiveSnapshots(ctx, id, withFiles)
}

var byFileRE = regexp.MustCompile(`<tr><td><code>([^<]+)</code></td><td class="num">[^<]*</td><td class="num">\d+%</td><td class="num">(\d+)</td></tr>`)

// The playback's work per view does not grow with the session's
// snapshots (up to LiveMaxSnapshots of up to LiveMaxSnapshotBytes): it
// reads the snapshot shown and the two compared, whatever their number,
// and still counts each file's saves and time from what each snapshot
// changed.
func TestLivePlaybackReadsBoundedSnapshots(t *testing.T) {
	e, _ := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, staffID := e.token(grader.RoleInterviewer, "Iris Interviewer")
	l, _, err := e.svc.StartLive(ctx, grader.LiveStart{Exercise: "n-plus-one", Candidate: "Ada", CreatedBy: staffID})
	if err != nil {
		t.Fatal(err)
	}
	// 40 saves: serializers.py in every one, views.py in every fourth.
	const n = 40
	for i := range n {
		files := []grader.File{{Path: "library/serializers.py", Data: []byte(fmt.Sprintf("# edit %d\n", i))}}
		if i%4 == 0 {
			files = append(files, grader.File{Path: "library/views.py", Data: []byte(fmt.Sprintf("# view %d\n", i))})
		}
		if _, err := e.svc.SaveLive(ctx, l.ID, files); err != nil {
			t.Fatal(err)
		}
	}
	counter := &countingLive{LiveService: e.svc}
	e.h.cfg.Live = counter
	staff := e.browser()
	staff.login(staffSecret)
	res, body := staff.get("/ui/live/" + l.ID + "/playback")
	wantStatus(t, "playback", res, body, http.StatusOK)
	if counter.snapshots > 3 || counter.withFiles > 0 {
		t.Errorf("one view of the playback read %d snapshots one by one and listed every snapshot's files %d times, for %d snapshots; want at most 3 and none",
			counter.snapshots, counter.withFiles, n)
	}
	saves := map[string]string{}
	for _, m := range byFileRE.FindAllStringSubmatch(body, -1) {
		saves[m[1]] = m[2]
	}
	if saves["library/serializers.py"] != "40" || saves["library/views.py"] != "10" || len(saves) != 2 {
		t.Errorf("saves by file %v, want serializers.py 40 and views.py 10", saves)
	}
}
