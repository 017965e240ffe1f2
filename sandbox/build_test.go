package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// An image with the tag is returned at once, without a build.
func TestEnsureImageCached(t *testing.T) {
	d := MustOpen(t)
	var progress strings.Builder
	start := time.Now()
	tag, err := d.EnsureImage(context.Background(), sandbox.BuildOptions{}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if tag != testImage || tag != sandbox.ImageTag() {
		t.Errorf("tag %s, want %s", tag, testImage)
	}
	t.Logf("ensured a present image in %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(progress.String(), "is present") || strings.Contains(progress.String(), "Step") {
		t.Errorf("progress %q: rebuilt a present image", progress.String())
	}
}

// A forced rebuild chooses a base by itself and says which, and why.
func TestEnsureImageRebuildChoosesBase(t *testing.T) {
	if testing.Short() {
		t.Skip("rebuilds the image")
	}
	d := MustOpen(t)
	var progress strings.Builder
	tag, err := d.EnsureImage(context.Background(), sandbox.BuildOptions{Rebuild: true, PullTimeout: 3 * time.Second}, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	p := progress.String()
	t.Log(p[:min(len(p), 2000)])
	if tag != testImage {
		t.Errorf("tag %s, want %s", tag, testImage)
	}
	if !strings.Contains(p, "base: debian:trixie-slim (") && !strings.Contains(p, "base: djgrade-base:trixie (") {
		t.Errorf("progress does not say which base: %q", p)
	}
	if !strings.Contains(p, "Step 1/") || !strings.Contains(p, "build: ") {
		t.Errorf("progress has no build steps or timing")
	}
}

func TestBootstrapNeedsDebootstrap(t *testing.T) {
	d := MustOpen(t)
	t.Setenv("PATH", t.TempDir())
	err := sandbox.Bootstrap(context.Background(), d.Client(), sandbox.DefaultMirror, "djgrade-test-never:x", nil)
	if err == nil || !strings.Contains(grader.ErrorMessage(err), "apt-get install debootstrap") {
		t.Fatalf("err %v, want one naming apt-get install debootstrap", err)
	}
}

func TestEngineDown(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	d, err := sandbox.New(sandbox.Options{Image: testImage})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Ping(context.Background()); grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Errorf("Ping: %v, want %s", err, grader.EUNAVAILABLE)
	}
	_, err = d.Run(context.Background(), grader.Job{ID: "down", Settings: "x.settings"})
	if grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Errorf("Run: %v, want %s", err, grader.EUNAVAILABLE)
	}
}

func TestPing(t *testing.T) {
	if err := MustOpen(t).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestBootstrap makes a base with debootstrap from the network; it is slow
// (about 20 s here) and needs root, so it runs only when asked for with
// DJGRADE_TEST_BOOTSTRAP=1.
func TestBootstrap(t *testing.T) {
	if os.Getenv("DJGRADE_TEST_BOOTSTRAP") != "1" {
		t.Skip("set DJGRADE_TEST_BOOTSTRAP=1 to run debootstrap")
	}
	d := MustOpen(t)
	ctx := context.Background()
	ref := fmt.Sprintf("djgrade-test-base:%d", time.Now().UnixNano())
	var progress strings.Builder
	start := time.Now()
	if err := sandbox.Bootstrap(ctx, d.Client(), sandbox.DefaultMirror, ref, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	t.Logf("bootstrap in %s", time.Since(start).Round(time.Second))
	defer d.Client().ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	for _, line := range strings.Split(progress.String(), "\n") {
		if !strings.HasPrefix(line, "debootstrap: I:") {
			t.Log(line)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(os.TempDir(), "djgrade-rootfs-*"))
	if len(leftovers) != 0 {
		t.Errorf("rootfs folders left behind: %v", leftovers)
	}
	// The imported base runs and is trixie.
	c, err := d.Client().ContainerCreate(ctx, &container.Config{Image: ref, Cmd: []string{"cat", "/etc/debian_version"}}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Client().ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	if err := d.Client().ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitC, errC := d.Client().ContainerWait(ctx, c.ID, container.WaitConditionNotRunning)
	select {
	case w := <-waitC:
		if w.StatusCode != 0 {
			t.Fatalf("exit %d", w.StatusCode)
		}
	case err := <-errC:
		t.Fatal(err)
	}
	logs, err := d.Client().ContainerLogs(ctx, c.ID, container.LogsOptions{ShowStdout: true})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	var out strings.Builder
	stdcopy.StdCopy(&out, io.Discard, logs)
	if v := strings.TrimSpace(out.String()); !strings.HasPrefix(v, "13") && !strings.HasPrefix(v, "trixie") {
		t.Errorf("debian_version %q, want trixie (13)", v)
	}
}

// grader.Runtimes, which a starter's README gives candidates, are the
// versions the sandbox image holds.
func TestRuntimeVersions(t *testing.T) {
	MustOpen(t)
	script := "import sys, importlib\nprint('Python', '.'.join(map(str, sys.version_info[:2])))\n" +
		"for m in sys.argv[1:]:\n    mod = importlib.import_module(m)\n    v = getattr(mod, '__version__', None) or getattr(mod, 'VERSION', None)\n" +
		"    v = v if isinstance(v, str) else '.'.join(map(str, v[:3]))\n    print(m, '.'.join(v.split('.')[:2]))\n"
	args := []string{"run", "--rm", "--network", "none", "--entrypoint", "python3", testImage, "-c", script}
	want := map[string]string{}
	for _, r := range grader.Runtimes {
		key := r.Module
		if key == "" {
			key = r.Name
		} else {
			args = append(args, r.Module)
		}
		want[key] = r.Version
	}
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker run: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: the image has %q, grader.Runtimes says %q", k, got[k], v)
		}
	}
}
