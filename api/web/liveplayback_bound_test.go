package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
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

// countingRuns counts the pages' listings of every run.
type countingRuns struct {
	grader.LiveService
	mu  sync.Mutex
	all int
	one int
}

func (c *countingRuns) LiveRuns(ctx context.Context, id string) ([]*grader.LiveRun, error) {
	c.mu.Lock()
	c.all++
	c.mu.Unlock()
	return c.LiveService.LiveRuns(ctx, id)
}

func (c *countingRuns) LiveRun(ctx context.Context, id string, seq int) (*grader.LiveRun, error) {
	c.mu.Lock()
	c.one++
	c.mu.Unlock()
	return c.LiveService.LiveRun(ctx, id, seq)
}

// The candidate's editor shows the latest run: a reload reads that one,
// not every run of the session (up to LiveMaxRuns of some 300 KiB, at
// the candidate's rate of reloads).
func TestLiveEditorReadsOneRun(t *testing.T) {
	e, _ := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, _ := e.token(grader.RoleInterviewer, "Iris Interviewer")
	staff := e.browser()
	staff.login(staffSecret)
	id, secret := startLive(t, staff, "Ada Lovelace", grader.ModePractice)
	for range 3 {
		run := &grader.LiveRun{Snapshot: 1, Result: &grader.PublicRun{Verdict: grader.VerdictPassed, Reason: "all 1 public tests passed",
			Tests: []grader.TestJSON{{Name: "tests/t.py::test_latest", Outcome: grader.OutcomePassed}}}}
		if err := e.store.PutLiveRun(ctx, id, run); err != nil {
			t.Fatal(err)
		}
	}
	counter := &countingRuns{LiveService: e.svc}
	e.h.cfg.Live = counter
	cand := e.browser()
	cand.login(secret)
	res, body := cand.get("/ui/l/" + id)
	wantStatus(t, "the editor", res, body, http.StatusOK)
	if counter.all != 0 || counter.one != 1 {
		t.Errorf("the editor listed every run %d times and read %d runs one by one; want 0 and 1", counter.all, counter.one)
	}
	if !strings.Contains(body, `data-run="3"`) || strings.Contains(body, `data-run="2"`) {
		t.Error("the editor does not show the latest run alone")
	}
}

// The watch page and the playback read the runs' summaries and, for the
// watch page's latest runs in full, those runs alone: not every run's
// tests per view.
func TestLiveStaffPagesReadRunSummaries(t *testing.T) {
	e, _ := newLiveEnv(t)
	ctx := context.Background()
	staffSecret, staffID := e.token(grader.RoleInterviewer, "Iris Interviewer")
	l, _, err := e.svc.StartLive(ctx, grader.LiveStart{Exercise: "n-plus-one", Candidate: "Ada", CreatedBy: staffID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveLive(ctx, l.ID, []grader.File{{Path: "library/serializers.py", Data: []byte("# x\n")}}); err != nil {
		t.Fatal(err)
	}
	const n = liveWatchRuns + 10
	for range n {
		run := &grader.LiveRun{Snapshot: 1, Result: &grader.PublicRun{Verdict: grader.VerdictFailed, Tests: []grader.TestJSON{
			{Name: "tests/t.py::test_a", Outcome: grader.OutcomePassed}, {Name: "tests/t.py::test_b", Outcome: grader.OutcomeFailed}}}}
		if err := e.store.PutLiveRun(ctx, l.ID, run); err != nil {
			t.Fatal(err)
		}
	}
	counter := &countingRuns{LiveService: e.svc}
	e.h.cfg.Live = counter
	staff := e.browser()
	staff.login(staffSecret)
	res, body := staff.get("/ui/live/" + l.ID)
	wantStatus(t, "watch", res, body, http.StatusOK)
	if counter.all != 0 || counter.one != liveWatchRuns {
		t.Errorf("the watch page listed every run whole %d times and read %d runs; want 0 and %d", counter.all, counter.one, liveWatchRuns)
	}
	if got := strings.Count(body, "failed, 1 of 2 tests passed"); got != n {
		t.Errorf("%d activity lines count the tests right, want %d", got, n)
	}
	counter.all, counter.one = 0, 0
	res, body = staff.get("/ui/live/" + l.ID + "/playback")
	wantStatus(t, "playback", res, body, http.StatusOK)
	if counter.all != 0 || counter.one != 0 {
		t.Errorf("the playback listed every run whole %d times and read %d runs; want none", counter.all, counter.one)
	}
	if got := strings.Count(body, `data-verdict="failed"`); got != n {
		t.Errorf("%d runs on the playback's timeline, want %d", got, n)
	}
}
