package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

func TestParseEngineSpec(t *testing.T) {
	good := map[string]engineSpec{
		"unix:///var/run/docker.sock":                               {Host: "unix:///var/run/docker.sock", Capacity: 1, TLSVerify: true},
		"unix:///run/d2.sock,capacity=3,cpuset=1-3":                 {Host: "unix:///run/d2.sock", Capacity: 3, TLSVerify: true, CPUSet: "1-3"},
		"tcp://10.0.0.2:2376,tls=/etc/dj/e2":                        {Host: "tcp://10.0.0.2:2376", Capacity: 1, TLSDir: "/etc/dj/e2", TLSVerify: true},
		"tcp://e3:2376,tls=/c,tls-verify=false,capacity=8,cpuset=0": {Host: "tcp://e3:2376", Capacity: 8, TLSDir: "/c", CPUSet: "0"},
		"tcp://e4:2375": {Host: "tcp://e4:2375", Capacity: 1, TLSVerify: true},
	}
	for spec, want := range good {
		got, err := parseEngineSpec(spec)
		if err != nil || got != want {
			t.Errorf("parseEngineSpec(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	bad := map[string]string{
		"":                                    "want unix:///PATH or tcp://HOST:PORT",
		"/var/run/docker.sock":                "want unix:///PATH or tcp://HOST:PORT",
		"http://e:2375":                       "want unix:///PATH or tcp://HOST:PORT",
		"tcp://e":                             "want tcp://HOST:PORT",
		"tcp://:2375":                         "want tcp://HOST:PORT",
		"unix:///s,capacity=0":                "capacity must be",
		"unix:///s,capacity=lots":             "capacity must be",
		"unix:///s,capacity=2,capacity=3":     "given twice",
		"unix:///s,cpus=2":                    "unknown option",
		"unix:///s,capacity":                  "not KEY=VALUE",
		"unix:///s,cpuset=3-1":                "cpuset",
		"unix:///s,cpuset=a":                  "cpuset",
		"tcp://e:2376,tls-verify=false":       "needs tls=DIR",
		"tcp://e:2376,tls=/c,tls-verify=mayb": "true or false",
		"unix:///s,tls=/c":                    "tls is for tcp://",
	}
	for spec, want := range bad {
		_, err := parseEngineSpec(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseEngineSpec(%q): %v, want an error with %q", spec, err, want)
		}
	}
}

// --engine repeats; one value (and DJGRADE_ENGINE) may hold several.
func TestEngineFlag(t *testing.T) {
	var l engineList
	for _, v := range []string{"unix:///a.sock,capacity=2", "tcp://b:2376,tls=/c; tcp://c:2376 unix:///d.sock"} {
		if err := l.Set(v); err != nil {
			t.Fatal(err)
		}
	}
	var hosts []string
	for _, e := range l {
		hosts = append(hosts, e.Host)
	}
	if got := strings.Join(hosts, " "); got != "unix:///a.sock tcp://b:2376 tcp://c:2376 unix:///d.sock" {
		t.Errorf("engines %s", got)
	}
	if err := l.Set("unix:///a.sock"); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a repeated engine: %v", err)
	}
	if err := l.Set(" ; "); err == nil {
		t.Error("an empty engine was accepted")
	}
}

// A bad --engine or DJGRADE_ENGINE is a usage error (exit 2) that names
// the problem, before anything starts.
func TestServeEngineUsageErrors(t *testing.T) {
	var stderr strings.Builder
	if code := run(context.Background(), []string{"serve", "--engine", "tcp://e:2376,capacity=0"}, &strings.Builder{}, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "capacity must be") {
		t.Errorf("stderr %q does not say what is wrong", stderr.String())
	}
	t.Setenv("DJGRADE_ENGINE", "unix:///a.sock;bogus://x")
	stderr.Reset()
	if code := run(context.Background(), []string{"serve"}, &strings.Builder{}, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "DJGRADE_ENGINE") || !strings.Contains(stderr.String(), "bogus://x") {
		t.Errorf("stderr %q does not name DJGRADE_ENGINE and the bad engine", stderr.String())
	}
}

// startSecondDockerd starts a second Docker daemon on its own socket, data
// root and exec root, in a network namespace of its own (dockerd 20.10
// with --bridge=none deletes the docker0 of the namespace it runs in), and
// stops it when the test ends, failing loudly if the host lost docker0.
// It returns the daemon's host URL.
func startSecondDockerd(t *testing.T) string {
	t.Helper()
	skipShort(t)
	if os.Geteuid() != 0 {
		t.Skip("a second Docker daemon needs root")
	}
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		t.Skip("dockerd is not installed: no second engine to test with")
	}
	main, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	info, err := main.Info(context.Background())
	main.Close()
	if err != nil {
		t.Fatal(err)
	}
	dir := fmt.Sprintf("/tmp/djgrade-dockerd-serve-%d", os.Getpid()) // a socket path fits in 108 bytes
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(conf, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	host := "unix://" + filepath.Join(dir, "docker.sock")
	bridge0 := exec.Command("ip", "link", "show", "docker0").Run() == nil
	cmd := exec.Command(bin, "--config-file", conf,
		"--bridge=none", "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--ip-forward=false",
		"--host", host, "--data-root", filepath.Join(dir, "data"), "--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "pid"), "--containerd-namespace", "djgrade-test3", "--containerd-plugins-namespace", "djgrade-test3p",
		"--cgroup-parent", "djgrade-test3", "--storage-driver", info.Driver)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWNET}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(45 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		logf.Close()
		if bridge0 && exec.Command("ip", "link", "show", "docker0").Run() != nil {
			t.Errorf("THE HOST'S docker0 IS GONE after the second dockerd")
		}
		if mounts, _ := os.ReadFile("/proc/self/mounts"); !strings.Contains(string(mounts), " "+dir+"/") {
			os.RemoveAll(dir)
		}
	})
	own, _ := os.Readlink("/proc/self/ns/net")
	if its, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)); err != nil || its == own {
		t.Fatalf("the second dockerd is not in a network namespace of its own: %v", err)
	}
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := cli.Ping(ctx)
		cancel()
		if err == nil {
			return host
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("the second dockerd does not answer: %v\n%s", err, b)
		}
	}
}

// serve on two engines: the image is copied to the second at start,
// /readyz and /metrics report both, and uploads are graded on both.
func TestServeTwoEngines(t *testing.T) {
	second := startSecondDockerd(t)
	first := os.Getenv("DOCKER_HOST")
	if first == "" {
		first = "unix:///var/run/docker.sock"
	}
	var engines engineList
	if err := engines.Set(first + ",capacity=1 " + second + ",capacity=1"); err != nil {
		t.Fatal(err)
	}
	progress := &syncWriter{}
	srv, err := startServer(context.Background(), serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), Pool: -1, PoolIdle: 10 * time.Minute,
		AdminToken: e2eAdminToken, Engines: engines}, progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	defer srv.Close()
	if !strings.Contains(progress.String(), "engine "+second+": copying") {
		t.Errorf("no copy of the image to the second engine in the progress:\n%s", progress.String())
	}
	if srv.service.Concurrency != 2 {
		t.Errorf("%d workers, want the sum of the capacities, 2", srv.service.Concurrency)
	}
	base := "http://" + srv.addr
	code, ready := getJSON(t, base+"/readyz")
	list, _ := ready["engines"].([]any)
	if code != 200 || len(list) != 2 {
		t.Fatalf("readyz %d %v, want ready with two engines", code, ready)
	}
	for i, want := range []string{first, second} {
		e, _ := list[i].(map[string]any)
		if e["name"] != want || e["healthy"] != true || e["capacity"] != float64(1) {
			t.Errorf("readyz engine %d: %v, want %s healthy with capacity 1", i, e, want)
		}
	}
	archive := zipProject(t, "my-project", projectFiles(t, "n-plus-one", "solutions/reference"))
	var ids []string
	for i := range 2 {
		resp, sub := upload(t, base, map[string]string{"exercise": "n-plus-one", "candidate": fmt.Sprint("cand ", i)}, "project.zip", archive)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("upload: %d %v", resp.StatusCode, sub)
		}
		ids = append(ids, sub["id"].(string))
	}
	for _, id := range ids {
		var got map[string]any
		for deadline := time.Now().Add(4 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
			_, got = getJSON(t, base+"/api/v1/submissions/"+id)
			if got["status"] == "done" || got["status"] == "error" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not graded in time: %v", got)
			}
		}
		if got["status"] != "done" || got["score"] != got["max_score"] {
			t.Errorf("submission %s: %v, want done with full marks", id, got["status"])
		}
	}
	for _, e := range srv.sandbox.Engines() {
		if e.Runs != 1 {
			t.Errorf("engine %s ran %d gradings, want 1 each", e.Name, e.Runs)
		}
	}
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{
		fmt.Sprintf("djgrade_engine_up{engine=%q} 1", first),
		fmt.Sprintf("djgrade_engine_up{engine=%q} 1", second),
		fmt.Sprintf("djgrade_engine_capacity{engine=%q} 1", second),
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// syncWriter collects what the server writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
