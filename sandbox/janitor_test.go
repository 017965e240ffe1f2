package sandbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// leftover creates (without starting) a container labelled as one of
// instance's jobs, as a Run whose remove failed would leave it, and makes
// sure it is gone when the test ends.
func leftover(t *testing.T, d *sandbox.Docker, instance, job string) string {
	t.Helper()
	c, err := d.Client().ContainerCreate(context.Background(), &container.Config{
		Image:  testImage,
		Cmd:    []string{"true"},
		Labels: map[string]string{sandbox.LabelApp: sandbox.AppName, sandbox.LabelInstance: instance, sandbox.LabelJob: job},
	}, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Client().ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})
	return c.ID
}

func exists(t *testing.T, d *sandbox.Docker, id string) bool {
	t.Helper()
	_, err := d.Client().ContainerInspect(context.Background(), id)
	if errdefs.IsNotFound(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestTidySparesRunsAndOtherInstances(t *testing.T) {
	instance := fmt.Sprintf("test-janitor-%d", time.Now().UnixNano())
	d, err := sandbox.New(sandbox.Options{Instance: instance, Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	orphan := leftover(t, d, instance, "orphan")
	other := leftover(t, d, instance+"-other", "other")

	// A Run in flight: its container is labelled like the orphan, but
	// tracked, and must survive every pass.
	job := miniJob(t, d, "", "import pytest, time\n\n@pytest.mark.check(\"x\")\ndef test_x(app):\n    time.sleep(4)\n    assert app.get('/probe/').body == b'ok'\n")
	type result struct {
		out grader.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := d.Run(context.Background(), job)
		done <- result{out, err}
	}()
	removed := 0
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		n, err := d.Tidy(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		removed += n
		time.Sleep(100 * time.Millisecond)
	}
	r := <-done
	if r.err != nil {
		t.Fatalf("Run: %v", r.err)
	}
	if r.out.Verdict != grader.RunOK || r.out.JudgeExit != 0 {
		t.Errorf("the run was disturbed: verdict %s judge exit %d\n%s", r.out.Verdict, r.out.JudgeExit, r.out.JudgeLog)
	}
	if removed != 1 {
		t.Errorf("Tidy removed %d containers, want 1 (the orphan)", removed)
	}
	if exists(t, d, orphan) {
		t.Error("the orphan is still there")
	}
	if !exists(t, d, other) {
		t.Error("Tidy removed another instance's container")
	}
}

func TestJanitorRemovesOrphans(t *testing.T) {
	instance := fmt.Sprintf("test-janitor-%d", time.Now().UnixNano())
	d, err := sandbox.New(sandbox.Options{Instance: instance, Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		d.Janitor(ctx, 200*time.Millisecond)
	}()
	orphan := leftover(t, d, instance, "orphan")
	start := time.Now()
	for exists(t, d, orphan) {
		if time.Since(start) > 2*time.Minute {
			t.Fatal("the janitor (every 200ms) did not remove the orphan within 2 minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("orphan removed after %s", time.Since(start).Round(time.Millisecond))
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Janitor did not return after its context ended")
	}
}
