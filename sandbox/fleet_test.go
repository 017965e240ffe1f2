package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/sandbox"
)

// dockerd2 is a second Docker daemon that a test starts on its own
// socket, data root and exec root, with no bridge and no iptables, so
// that it cannot touch the host's networking.
type dockerd2 struct {
	dir  string
	host string
	cmd  *exec.Cmd
	log  *os.File
	// bridge0 says whether the host had docker0 before the daemon started.
	bridge0 bool
}

// hasDocker0 reports whether the host's network namespace has docker0.
func hasDocker0() bool {
	return exec.Command("ip", "link", "show", "docker0").Run() == nil
}

// startDockerd starts a second daemon and registers its stop (and the
// check that the host's docker0 is still there). The daemon runs in a
// network namespace of its own: dockerd 20.10 with --bridge=none deletes
// the link named docker0 where it runs (removeDefaultBridgeInterface),
// which in the host's namespace is the host daemon's bridge.
func startDockerd(t testing.TB) *dockerd2 {
	t.Helper()
	if testing.Short() {
		t.Skip("a second Docker daemon: skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("a second Docker daemon needs root")
	}
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("dockerd is not installed: no second engine to test with")
	}
	// A unix socket path must fit in 108 bytes: not under t.TempDir().
	dir := fmt.Sprintf("/tmp/djgrade-dockerd-%d", os.Getpid())
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Our own (empty) configuration: the host's daemon.json names the
	// host daemon's data root.
	conf := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(conf, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "docker.sock")
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerd2{dir: dir, host: "unix://" + sock, log: logf, bridge0: hasDocker0()}
	if !d.bridge0 {
		t.Log("the host has no docker0 before the second dockerd starts (not checked afterwards)")
	}
	d.cmd = exec.Command(bin,
		"--config-file", conf,
		"--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
		"--host", d.host,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "pid"),
		"--containerd-namespace", "djgrade-test2",
		"--containerd-plugins-namespace", "djgrade-test2p",
		"--cgroup-parent", "djgrade-test2",
		"--storage-driver", storageDriver(t),
	)
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWNET}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.stop(t) })
	own, err1 := os.Readlink("/proc/self/ns/net")
	its, err2 := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", d.cmd.Process.Pid))
	if err1 != nil || err2 != nil || own == its {
		t.Fatalf("the second dockerd is not in a network namespace of its own (%s, %s: %v %v)", own, its, err1, err2)
	}
	cli, err := sandbox.DialEngine(d.host, "", false)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cli.Ping(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second dockerd does not answer: %v\n%s", err, d.logTail())
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("second dockerd up at %s (pid %d)", d.host, d.cmd.Process.Pid)
	return d
}

// storageDriver is the host daemon's: the one known to work here.
func storageDriver(t testing.TB) string {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	info, err := cli.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.Driver
}

func (d *dockerd2) logTail() string {
	b, _ := os.ReadFile(d.log.Name())
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func (d *dockerd2) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to the second dockerd: %v", sig, err)
	}
}

// stop ends the daemon (and the containerd it started), removes its
// folder when nothing is mounted below it, and fails the test loudly if
// the host's docker0 is gone.
func (d *dockerd2) stop(t testing.TB) {
	d.cmd.Process.Signal(syscall.SIGCONT)
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(45 * time.Second):
		t.Logf("the second dockerd ignored SIGTERM; killing it\n%s", d.logTail())
		d.cmd.Process.Kill()
		<-done
	}
	d.log.Close()
	if d.bridge0 && !hasDocker0() {
		t.Errorf("THE HOST'S docker0 IS GONE after the second dockerd")
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(mounts), " "+d.dir+"/") {
		t.Logf("not removing %s: something is still mounted below it", d.dir)
		return
	}
	os.RemoveAll(d.dir)
}

// fleetOf makes a fleet over the engines (host "" is the main one, from
// the environment), closed when the test ends.
func fleetOf(t *testing.T, app string, pool int, hosts ...string) *sandbox.Fleet {
	t.Helper()
	var engines []sandbox.FleetEngine
	for _, h := range hosts {
		var cli *client.Client
		var err error
		name := h
		if h == "" {
			name = "main"
			cli, err = client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		} else {
			cli, err = sandbox.DialEngine(h, "", false)
		}
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, sandbox.FleetEngine{Name: name, Client: cli, Capacity: 1, Pool: pool})
	}
	f, err := sandbox.NewFleet(sandbox.Options{Instance: fmt.Sprintf("test-fleet-%d", time.Now().UnixNano()), App: app, Image: testImage},
		engines, sandbox.FleetOptions{PingEvery: time.Second, PingTimeout: time.Second, DrainWait: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// containersOn lists the containers of the app on one engine of f.
func containersOn(t testing.TB, f *sandbox.Fleet, engine, app, job string) []container.Summary {
	t.Helper()
	args := filters.NewArgs(filters.Arg("label", sandbox.LabelApp+"="+app), filters.Arg("label", sandbox.LabelInstance+"="+f.Instance()))
	if job != "" {
		args.Add("label", sandbox.LabelJob+"="+job)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := f.Member(engine).Client().ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func engineStatus(f *sandbox.Fleet, name string) sandbox.EngineStatus {
	for _, e := range f.Engines() {
		if e.Name == name {
			return e
		}
	}
	return sandbox.EngineStatus{}
}

const fleetChecks = "import pytest\n\n@pytest.mark.check(\"probe\")\ndef test_probe(app):\n    assert app.get('/probe/').body == b'ok'\n"

// TestFleet runs on the host's engine and a second daemon started here:
// the image is copied to the second by save/load, runs spread over both,
// a second engine that stops answering mid-run is drained (the run
// returns EUNAVAILABLE, new runs go to the first) and rejoins when it
// answers again, its leftovers swept; and through the grading service on
// a real store, nothing is lost when an engine stops mid-run.
func TestFleet(t *testing.T) {
	d2 := startDockerd(t)
	const app = "djgrade-test-fleet"
	host := MustOpen(t) // for the jobs' leftover checks on the host engine

	t.Run("image", func(t *testing.T) {
		f := fleetOf(t, app, 0, "", d2.host)
		var progress strings.Builder
		tag, err := f.EnsureImage(t.Context(), sandbox.BuildOptions{}, &progress)
		t.Logf("progress:\n%s", progress.String())
		if err != nil {
			t.Fatal(err)
		}
		if tag != testImage {
			t.Errorf("tag %s, want %s", tag, testImage)
		}
		ok, err := f.Member(d2.host).ImageExists(t.Context(), testImage)
		if err != nil || !ok {
			t.Fatalf("the second engine has no %s after EnsureImage: %v", testImage, err)
		}
	})
	if t.Failed() {
		return
	}

	t.Run("spread", func(t *testing.T) {
		f := fleetOf(t, app, 0, "", d2.host)
		jobs := []grader.Job{miniJob(t, host, "", fleetChecks), miniJob(t, host, "", fleetChecks)}
		type res struct {
			out grader.Outcome
			err error
		}
		results := make(chan res, len(jobs))
		for _, j := range jobs {
			go func() {
				out, err := f.Run(t.Context(), j)
				results <- res{out, err}
			}()
		}
		for range jobs {
			r := <-results
			if r.err != nil {
				t.Fatalf("Run: %v", r.err)
			}
			mustPass(t, r.out, "probe")
		}
		for _, e := range f.Engines() {
			t.Logf("engine %+v", e)
			if e.Runs != 1 {
				t.Errorf("engine %s ran %d jobs, want 1 each", e.Name, e.Runs)
			}
		}
		for _, j := range jobs {
			if n := len(containersOn(t, f, d2.host, app, j.ID)); n != 0 {
				t.Errorf("%d container(s) of %s remain on the second engine", n, j.ID)
			}
		}
	})

	t.Run("drain", func(t *testing.T) {
		// The second engine first: the first run goes there.
		f := fleetOf(t, app, 0, d2.host, "")
		slow := "import time\nfrom django.http import HttpResponse\n\ndef probe(request):\n    time.sleep(600)\n    return HttpResponse('late')\n"
		job := miniJob(t, host, slow, fleetChecks)
		job.Limits.Timeout = 5 * time.Minute
		errc := make(chan error, 1)
		go func() {
			_, err := f.Run(t.Context(), job)
			errc <- err
		}()
		waitFor(t, "the run's two containers running on the second engine", func() bool {
			n := 0
			for _, c := range containersOn(t, f, d2.host, app, job.ID) {
				if c.State == "running" {
					n++
				}
			}
			return n == 2
		})
		time.Sleep(2 * time.Second) // into the run proper
		d2.signal(t, syscall.SIGSTOP)
		stopped := time.Now()
		var err error
		select {
		case err = <-errc:
		case <-time.After(60 * time.Second):
			d2.signal(t, syscall.SIGCONT)
			t.Fatalf("the run on the stopped engine has not returned after 60s")
		}
		t.Logf("the run returned %v after %s", err, time.Since(stopped).Round(time.Millisecond))
		if grader.ErrorCode(err) != grader.EUNAVAILABLE {
			d2.signal(t, syscall.SIGCONT)
			t.Fatalf("Run on a stopped engine: %v, want EUNAVAILABLE", err)
		}
		st := engineStatus(f, d2.host)
		if st.Healthy || st.Drains != 1 || st.Interrupted != 1 {
			t.Errorf("second engine after the stop: %+v, want drained once, one run cut", st)
		}
		// New runs go to the first engine, and pass.
		next := miniJob(t, host, "", fleetChecks)
		out, err := f.Run(t.Context(), next)
		if err != nil {
			d2.signal(t, syscall.SIGCONT)
			t.Fatalf("Run while the second engine is drained: %v", err)
		}
		mustPass(t, out, "probe")
		if st := engineStatus(f, "main"); st.Runs != 1 {
			t.Errorf("main engine ran %d jobs, want 1", st.Runs)
		}
		d2.signal(t, syscall.SIGCONT)
		waitFor(t, "the second engine to rejoin", func() bool { return engineStatus(f, d2.host).Healthy })
		if left := containersOn(t, f, d2.host, app, ""); len(left) != 0 {
			t.Errorf("%d container(s) of the instance left on the second engine after its rejoin", len(left))
		}
		t.Logf("engines %+v", f.Engines())
	})

	t.Run("service", func(t *testing.T) {
		fleetThroughService(t, d2, app)
	})
}

type fleetCatalog struct{ ex *grader.Exercise }

func (c fleetCatalog) Exercise(id string) (*grader.Exercise, error) {
	if id == c.ex.ID {
		return c.ex, nil
	}
	return nil, grader.Errorf(grader.ENOTFOUND, "no exercise %q", id)
}
func (c fleetCatalog) Exercises() []*grader.Exercise { return []*grader.Exercise{c.ex} }

// fleetThroughService grades submissions of the n-plus-one reference
// through grader.Service and a real bbolt store on a fleet whose second
// engine stops mid-run: every submission ends done with full marks, the
// interrupted one requeued and graded on the first engine.
func fleetThroughService(t *testing.T, d2 *dockerd2, app string) {
	ex := loadNPlusOne(t)
	var files []grader.File
	root := "solutions/reference"
	err := fs.WalkDir(ex.FS, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fs.ReadFile(ex.FS, p)
		files = append(files, grader.File{Path: p[len(root)+1:], Data: data})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	f := fleetOf(t, app, 0, d2.host, "")
	store, err := bolt.Open(filepath.Join(t.TempDir(), "djgrade.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := grader.NewService(grader.Config{Store: store, Sandbox: f, Catalog: fleetCatalog{ex}, Image: testImage,
		Concurrency: f.Capacity(), Poll: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	var ids []string
	for i := range 2 {
		sub, err := svc.Submit(t.Context(), ex.ID, fmt.Sprintf("cand-%d", i), files)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	waitFor(t, "a grading running on the second engine", func() bool {
		return len(containersOn(t, f, d2.host, app, "")) == 2 && engineStatus(f, d2.host).Running == 1
	})
	time.Sleep(3 * time.Second)
	d2.signal(t, syscall.SIGSTOP)
	conted := false
	defer func() {
		if !conted {
			d2.signal(t, syscall.SIGCONT)
		}
	}()
	retried := 0
	for _, id := range ids {
		var sub *grader.Submission
		waitFor(t, "submission "+id+" to end", func() bool {
			s, err := svc.Submission(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			sub = s
			return s.Status == grader.StatusDone || s.Status == grader.StatusError
		})
		if sub.Status != grader.StatusDone || sub.Result == nil || sub.Result.Score != sub.Result.MaxScore {
			t.Errorf("submission %s: status %s, result %+v, want done with full marks", id, sub.Status, sub.Result)
		}
		if sub.Attempts > 1 {
			retried++
		}
	}
	if retried != 1 {
		t.Errorf("%d submissions graded more than once, want the interrupted one", retried)
	}
	if st := engineStatus(f, d2.host); st.Healthy || st.Interrupted != 1 {
		t.Errorf("second engine %+v, want drained with one run cut", st)
	}
	d2.signal(t, syscall.SIGCONT)
	conted = true
	waitFor(t, "the second engine to rejoin", func() bool { return engineStatus(f, d2.host).Healthy })
	t.Logf("engines %+v", f.Engines())
}

// With no engine answering, Run says so at once (the grader requeues the
// submission) and so does Ping (readiness).
func TestFleetNoHealthyEngine(t *testing.T) {
	cli, err := sandbox.DialEngine("unix:///nonexistent/djgrade-test.sock", "", false)
	if err != nil {
		t.Fatal(err)
	}
	f, err := sandbox.NewFleet(sandbox.Options{Image: testImage}, []sandbox.FleetEngine{{Name: "nowhere", Client: cli, Capacity: 2}}, sandbox.FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st := f.Engines(); len(st) != 1 || st[0].Healthy || st[0].Capacity != 2 {
		t.Errorf("engines %+v, want the one unhealthy", st)
	}
	_, err = f.Run(t.Context(), grader.Job{ID: "x", Settings: "mini.settings"})
	if grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Errorf("Run with no healthy engine: %v, want EUNAVAILABLE", err)
	}
	if err := f.Ping(t.Context()); grader.ErrorCode(err) != grader.EUNAVAILABLE {
		t.Errorf("Ping with no healthy engine: %v, want EUNAVAILABLE", err)
	}
}

// An engine's cpuset pins both containers of its runs.
func TestFleetCPUSet(t *testing.T) {
	host := MustOpen(t)
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	const app = "djgrade-test-fleet-cpuset"
	f, err := sandbox.NewFleet(sandbox.Options{Instance: fmt.Sprintf("test-cpuset-%d", time.Now().UnixNano()), App: app, Image: testImage},
		[]sandbox.FleetEngine{{Name: "main", Client: cli, Capacity: 1, CPUSet: "0"}}, sandbox.FleetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	checks := "import pytest, time\n\n@pytest.mark.check(\"probe\")\ndef test_probe(app):\n    time.sleep(4)\n    assert app.get('/probe/').body == b'ok'\n"
	job := miniJob(t, host, "", checks)
	type res struct {
		out grader.Outcome
		err error
	}
	done := make(chan res, 1)
	go func() {
		out, err := f.Run(t.Context(), job)
		done <- res{out, err}
	}()
	// Every container the run makes is inspected while it exists; a run
	// that ends before both were seen fails with its own error, not with
	// the engine's "no such container".
	seen := map[string]string{}
	var r res
	finished := false
	waitFor(t, "the run's two containers", func() bool {
		select {
		case r = <-done:
			finished = true
			return true
		default:
		}
		for _, c := range containersOn(t, f, "main", app, job.ID) {
			if _, ok := seen[c.ID]; ok {
				continue
			}
			insp, err := cli.ContainerInspect(t.Context(), c.ID)
			if errdefs.IsNotFound(err) {
				continue // removed between the list and now
			}
			if err != nil {
				t.Fatal(err)
			}
			seen[c.ID] = insp.HostConfig.CpusetCpus
			if got := insp.HostConfig.CpusetCpus; got != "0" {
				t.Errorf("container %.12s (%s): cpuset %q, want \"0\"", c.ID, insp.Config.Labels[sandbox.LabelRole], got)
			}
		}
		return len(seen) >= 2
	})
	if !finished {
		r = <-done
	}
	if r.err != nil {
		t.Fatalf("run: %v (containers seen: %d)", r.err, len(seen))
	}
	if len(seen) < 2 {
		t.Errorf("saw %d of the run's containers, want 2 (judge and candidate)", len(seen))
	}
	mustPass(t, r.out, "probe")
}

// BenchmarkFleetScaling prints what a second engine adds: the same mini
// gradings (FLEET_BENCH_JOBS, default 6) at concurrency 2, first on the
// host's engine alone with its containers pinned to CPU 0 (capacity 2),
// then on it and a second dockerd with CPU 1 (capacity 1 each). It prints
// figures and asserts nothing about them. Run it with -benchtime 1x.
func BenchmarkFleetScaling(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two CPUs")
	}
	d2 := startDockerd(b)
	host := MustOpen(b)
	n := 6
	if v, err := strconv.Atoi(os.Getenv("FLEET_BENCH_JOBS")); err == nil && v > 0 {
		n = v
	}
	const app = "djgrade-test-fleet-bench"
	mk := func(specs ...sandbox.FleetEngine) *sandbox.Fleet {
		f, err := sandbox.NewFleet(sandbox.Options{Instance: fmt.Sprintf("bench-fleet-%d", time.Now().UnixNano()), App: app, Image: testImage}, specs, sandbox.FleetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	mainCli := func() *client.Client {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			b.Fatal(err)
		}
		return cli
	}
	secondCli := func() *client.Client {
		cli, err := sandbox.DialEngine(d2.host, "", false)
		if err != nil {
			b.Fatal(err)
		}
		return cli
	}
	// Load the image into the second engine first, outside the figures.
	{
		f := mk(sandbox.FleetEngine{Name: "main", Client: mainCli()}, sandbox.FleetEngine{Name: d2.host, Client: secondCli()})
		if _, err := f.EnsureImage(b.Context(), sandbox.BuildOptions{}, io.Discard); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	grade := func(f *sandbox.Fleet) (time.Duration, int) {
		jobs := make(chan grader.Job, n)
		for range n {
			jobs <- miniJob(b, host, "", fleetChecks)
		}
		close(jobs)
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed := 0
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					out, err := f.Run(b.Context(), j)
					if err != nil || out.Verdict != grader.RunOK {
						mu.Lock()
						failed++
						mu.Unlock()
						b.Logf("job %s: %v %v", j.ID, out.Verdict, err)
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start), failed
	}
	b.ResetTimer()
	one := mk(sandbox.FleetEngine{Name: "main", Client: mainCli(), Capacity: 2, CPUSet: "0"})
	t1, f1 := grade(one)
	one.Close()
	two := mk(sandbox.FleetEngine{Name: "main", Client: mainCli(), Capacity: 1, CPUSet: "0"}, sandbox.FleetEngine{Name: d2.host, Client: secondCli(), Capacity: 1, CPUSet: "1"})
	t2, f2 := grade(two)
	two.Close()
	b.StopTimer()
	perMin := func(d time.Duration) float64 { return float64(n) / d.Minutes() }
	fmt.Printf("fleet scaling: %d mini gradings at concurrency 2\n", n)
	fmt.Printf("  one engine  (cpuset 0, capacity 2): %6.1fs  %5.2f gradings/min  (%d failed)\n", t1.Seconds(), perMin(t1), f1)
	fmt.Printf("  two engines (cpusets 0 and 1, 1 each): %6.1fs  %5.2f gradings/min  (%d failed)\n", t2.Seconds(), perMin(t2), f2)
	fmt.Printf("  ratio two/one: %.2fx\n", perMin(t2)/perMin(t1))
	b.ReportMetric(perMin(t1), "one-engine-gradings/min")
	b.ReportMetric(perMin(t2), "two-engine-gradings/min")
	b.ReportMetric(perMin(t2)/perMin(t1), "ratio")
}
