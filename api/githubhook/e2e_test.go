package githubhook

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// TestPullRequestGradedEndToEnd runs the real thing but GitHub: a signed
// pull_request event, the reference solution served as the commit's tarball,
// graded in a real container, and the answers GitHub receives. -short skips it.
func TestPullRequestGradedEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("real containers: skipped in -short mode")
	}
	ctx := context.Background()
	sb, err := sandbox.New(sandbox.Options{Instance: "githubhook-e2e-" + fmt.Sprint(time.Now().UnixNano())})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	tag, err := sb.EnsureImage(ctx, sandbox.BuildOptions{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, testSecret, sb, tag)
	h.fake.serveCommit(testRepo, shaOpened, answerFiles(t, "solutions/reference", "n-plus-one"))
	h.fake.serveCommit(testRepo, shaSync, answerFiles(t, "", "n-plus-one"))

	start := time.Now()
	if code, out := h.deliverSigned("pull_request", "e2e-open", "pull_request_opened.json"); code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	first := h.waitFinal(shaOpened)
	t.Logf("pull_request to final status: %s", time.Since(start).Round(time.Millisecond))

	var states []string
	for _, s := range h.fake.snapshotStatuses() {
		if s.SHA == shaOpened {
			states = append(states, s.State)
		}
	}
	if len(states) < 2 || states[0] != StatePending || states[len(states)-1] != StateSuccess {
		t.Fatalf("statuses on the commit: %v; %s", states, describe(h.submissions()))
	}
	subs := h.submissions()
	if len(subs) != 1 || subs[0].Result == nil || subs[0].Result.Score != subs[0].Result.MaxScore || subs[0].Result.MaxScore == 0 {
		t.Fatalf("stored: %+v", subs[0])
	}
	full := fmt.Sprintf("%d/%d", subs[0].Result.MaxScore, subs[0].Result.MaxScore)
	if !strings.HasPrefix(first.Description, full+" passed") || first.Context != "djgrade/n-plus-one" || !strings.HasSuffix(first.TargetURL, subs[0].ID) {
		t.Fatalf("final status %+v", first)
	}

	// The check run was opened in progress and completed with the full score.
	h.fake.mu.Lock()
	checkLog := append([]string(nil), h.fake.checkLog...)
	var run map[string]any
	for _, r := range h.fake.checkRuns {
		run = r
	}
	h.fake.mu.Unlock()
	if len(checkLog) != 2 || !strings.HasSuffix(checkLog[0], "in_progress") || !strings.HasSuffix(checkLog[1], "completed success") {
		t.Fatalf("check runs: %v", checkLog)
	}
	output, _ := run["output"].(map[string]any)
	summary, _ := output["summary"].(string)
	if !strings.Contains(summary, "**Score: "+full+"**") || !strings.Contains(summary, "| correctness |") {
		t.Fatalf("check run summary:\n%s", summary)
	}

	comments := h.fake.commentsOn(testRepo, 7)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, CommentMarker) || !strings.Contains(comments[0].Body, full) {
		t.Fatalf("comments after the first push: %+v", comments)
	}

	// A second push (synchronize): the starter, which scores lower. The one
	// comment is edited, not duplicated.
	if code, out := h.deliverSigned("pull_request", "e2e-sync", "pull_request_synchronize.json"); code != 202 {
		t.Fatalf("%d %v", code, out)
	}
	second := h.waitFinal(shaSync)
	if second.State != StateFailure {
		t.Fatalf("starter's final status: %+v", second)
	}
	comments = h.fake.commentsOn(testRepo, 7)
	if len(comments) != 1 || comments[0].Edits != 1 || strings.Contains(comments[0].Body, "**Score: "+full+"**") || !strings.Contains(comments[0].Body, shaSync[:12]) {
		t.Fatalf("comments after the second push: %+v", comments)
	}
	for _, s := range h.fake.snapshotStatuses() {
		if s.SHA == shaOpened && s.State != StatePending && s.State != StateSuccess {
			t.Fatalf("the first commit's status changed: %+v", s)
		}
	}
}

// waitFinal waits for a final commit status on sha and returns it.
func (h *harness) waitFinal(sha string) fakeStatus {
	h.t.Helper()
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) {
		for _, s := range h.fake.snapshotStatuses() {
			if s.SHA == sha && s.State != StatePending {
				h.idle()
				return s
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	subs := h.submissions()
	h.t.Fatalf("no final status on %s; statuses %+v; submissions %v", sha, h.fake.snapshotStatuses(), describe(subs))
	return fakeStatus{}
}

func describe(subs []*grader.Submission) string {
	var b strings.Builder
	for _, s := range subs {
		fmt.Fprintf(&b, "%s %s %s; ", s.ID, s.Status, s.Error)
		if s.Result != nil {
			b.WriteString(s.Result.Describe())
		}
	}
	return b.String()
}
