package sandbox_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/sandbox"
)

// MustOpen returns a sandbox for one test, closed when the test ends.
func MustOpen(tb testing.TB) *sandbox.Docker {
	tb.Helper()
	d, err := sandbox.New(sandbox.Options{Instance: "test-" + tb.Name(), Image: testImage})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { d.Close() })
	return d
}

// jobID returns an id unique to the test and registers a check that no
// container labelled with it is left when the test ends.
func jobID(tb testing.TB, d *sandbox.Docker) string {
	tb.Helper()
	id := fmt.Sprintf("%s-%d", tb.Name(), time.Now().UnixNano())
	tb.Cleanup(func() {
		if n := countJobContainers(tb, d, id); n != 0 {
			tb.Errorf("%d container(s) labelled %s=%s remain", n, sandbox.LabelJob, id)
		}
	})
	return id
}

func countJobContainers(tb testing.TB, d *sandbox.Docker, id string) int {
	tb.Helper()
	list, err := d.Client().ContainerList(context.Background(), container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelJob+"="+id)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return len(list)
}

// tarOf returns a tar stream of the files, in the order given.
func tarOf(tb testing.TB, files ...grader.File) *bytes.Buffer {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		mode := int64(0o644)
		if f.Exec {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Name: f.Path, Mode: mode, Size: int64(len(f.Data)), Typeflag: tar.TypeReg}); err != nil {
			tb.Fatal(err)
		}
		tw.Write(f.Data)
	}
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return &buf
}

func sh(script string) []string { return []string{"sh", "-c", script} }

func run(tb testing.TB, d *sandbox.Docker, job grader.Job) grader.Outcome {
	tb.Helper()
	if job.ID == "" {
		job.ID = jobID(tb, d)
	}
	out, err := d.Run(context.Background(), job)
	if err != nil {
		tb.Fatalf("Run: %v", err)
	}
	tb.Logf("verdict=%s exit=%d timings=%v", out.Verdict, out.ExitCode, out.Timings)
	return out
}

func TestRunReport(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{
		Command:    sh(`mkdir -p .djgrade && printf '{"version":1}' > .djgrade/report.json && echo out && echo err >&2`),
		ReportPath: grader.ReportPath,
		Limits:     grader.Limits{Timeout: 30 * time.Second},
	})
	if out.Verdict != grader.RunOK || out.ExitCode != 0 {
		t.Fatalf("verdict %s exit %d, want ok 0; stderr %q", out.Verdict, out.ExitCode, out.Stderr)
	}
	if got := string(out.Report); got != `{"version":1}` {
		t.Errorf("report %q", got)
	}
	if string(out.Stdout) != "out\n" || string(out.Stderr) != "err\n" {
		t.Errorf("stdout %q stderr %q", out.Stdout, out.Stderr)
	}
	for _, k := range []string{"create", "start", "run", "collect", "remove", "extract", "command"} {
		if _, ok := out.Timings[k]; !ok {
			t.Errorf("no timing %q in %v", k, out.Timings)
		}
	}
}

func TestRunNoReport(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{Command: sh("true"), ReportPath: grader.ReportPath})
	if out.Report != nil {
		t.Errorf("report %q, want nil", out.Report)
	}
}

func TestRunExitCode(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{Command: sh("echo bye; exit 7")})
	if out.Verdict != grader.RunOK || out.ExitCode != 7 || string(out.Stdout) != "bye\n" {
		t.Fatalf("verdict %s exit %d stdout %q, want ok 7 bye", out.Verdict, out.ExitCode, out.Stdout)
	}
}

func TestRunWorkspace(t *testing.T) {
	d := MustOpen(t)
	ws := tarOf(t,
		grader.File{Path: "manage.py", Data: []byte("print('manage')\n")},
		grader.File{Path: "app/models/__init__.py", Data: []byte("X = 1\n")},
		grader.File{Path: "app/run.sh", Data: []byte("#!/bin/sh\necho ran\n"), Exec: true},
	)
	out := run(t, d, grader.Job{
		Workspace: ws,
		Command:   sh(`pwd; cat app/models/__init__.py; ./app/run.sh; python3 manage.py; find . -type f | sort`),
	})
	want := "/work\nX = 1\nran\nmanage\n./app/models/__init__.py\n./app/run.sh\n./manage.py\n"
	if out.ExitCode != 0 || string(out.Stdout) != want {
		t.Fatalf("exit %d stdout %q stderr %q, want %q", out.ExitCode, out.Stdout, out.Stderr, want)
	}
}

// A hostile workspace: links, absolute paths and ".." are refused, the rest
// lands.
func TestRunWorkspaceRefusesEscapes(t *testing.T) {
	d := MustOpen(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdrs := []*tar.Header{
		{Name: "../escape", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644},
		{Name: "/tmp/abs", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644},
		{Name: "a/../../up", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644},
		{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/tmp", Mode: 0o777},
		{Name: "hard", Typeflag: tar.TypeLink, Linkname: "/etc/passwd", Mode: 0o644},
		{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o644},
		{Name: "ok.txt", Typeflag: tar.TypeReg, Size: 1, Mode: 0o644},
	}
	for _, h := range hdrs {
		tw.WriteHeader(h)
		if h.Size > 0 {
			tw.Write([]byte("x"))
		}
	}
	tw.Close()
	out := run(t, d, grader.Job{
		Workspace: &buf,
		Command:   sh(`ls -A /work; ls -A /tmp; ls / | grep -c escape; true`),
	})
	if got := string(out.Stdout); got != "ok.txt\n0\n" {
		t.Fatalf("stdout %q, want only ok.txt in /work and nothing in /tmp", got)
	}
}

func TestRunTimeout(t *testing.T) {
	d := MustOpen(t)
	start := time.Now()
	out := run(t, d, grader.Job{Command: sh("echo started; sleep 60"), Limits: grader.Limits{Timeout: 3 * time.Second}})
	if out.Verdict != grader.RunTimeout {
		t.Fatalf("verdict %s, want timeout", out.Verdict)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Errorf("took %s for a 3s limit", el)
	}
	if string(out.Stdout) != "started\n" {
		t.Errorf("stdout %q: output before the timeout should come back", out.Stdout)
	}
}

// The outer limit fires when the init itself is stopped and cannot report.
func TestRunOuterTimeout(t *testing.T) {
	d, err := sandbox.New(sandbox.Options{Instance: "test-outer", Image: testImage, Grace: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	// SIGSTOP every process of the uid but this shell: the init freezes.
	out := run(t, d, grader.Job{
		Command: sh(`for p in /proc/[0-9]*; do n=${p#/proc/}; [ "$n" != $$ ] && kill -STOP $n 2>/dev/null; done; sleep 60`),
		Limits:  grader.Limits{Timeout: 2 * time.Second},
	})
	if out.Verdict != grader.RunTimeout {
		t.Fatalf("verdict %s, want timeout", out.Verdict)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("took %s", el)
	}
}

func TestRunOutputFlood(t *testing.T) {
	d := MustOpen(t)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out := run(t, d, grader.Job{
		Command: sh("yes | head -c 50M; yes >&2"),
		Limits:  grader.Limits{OutputBytes: 64 << 10, Timeout: 60 * time.Second},
	})
	runtime.ReadMemStats(&after)
	if out.Verdict != grader.RunOutputLimit || !out.Truncated {
		t.Fatalf("verdict %s truncated %v, want output_limit", out.Verdict, out.Truncated)
	}
	if len(out.Stdout) != 64<<10 || len(out.Stderr) > 64<<10 {
		t.Errorf("kept %d stdout and %d stderr bytes, want %d at most", len(out.Stdout), len(out.Stderr), 64<<10)
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
		t.Errorf("allocated %d MiB for a 64 KiB cap", grown>>20)
	}
}

func TestRunOOM(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{
		Command: []string{"python3", "-c", "x = bytearray(1 << 30); print(len(x))"},
		Limits:  grader.Limits{MemoryBytes: 128 << 20, Timeout: 60 * time.Second},
	})
	if out.Verdict != grader.RunOOM {
		t.Fatalf("verdict %s exit %d stderr %q, want out_of_memory", out.Verdict, out.ExitCode, out.Stderr)
	}
}

func TestRunProcessLimit(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{
		Command: sh("for i in $(seq 100); do sleep 30 & done; wait"),
		Limits:  grader.Limits{Pids: 32, Timeout: 30 * time.Second},
	})
	if out.Verdict != grader.RunProcessLimit {
		t.Fatalf("verdict %s exit %d stderr %q, want process_limit", out.Verdict, out.ExitCode, out.Stderr)
	}
}

func TestRunNoNetwork(t *testing.T) {
	d := MustOpen(t)
	script := `
import socket
for host, port in [("1.1.1.1", 53), ("172.17.0.1", 2375), ("172.17.0.1", 22), ("deb.debian.org", 80)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("connected", host, port)
    except OSError as e:
        print("refused", host, port)
print(sorted(n for _, n in socket.if_nameindex()))
`
	out := run(t, d, grader.Job{Command: []string{"python3", "-c", script}})
	got := string(out.Stdout)
	if strings.Contains(got, "connected") || strings.Count(got, "refused") != 4 {
		t.Fatalf("stdout %q stderr %q", got, out.Stderr)
	}
	if !strings.Contains(got, "['lo']") {
		t.Errorf("interfaces: %q, want only lo", got)
	}
}

func TestRunReadOnlyRootAndUser(t *testing.T) {
	d := MustOpen(t)
	out := run(t, d, grader.Job{Command: sh(`id -u; id -g; touch /etc/x 2>/dev/null && echo wrote-etc; touch /opt/djgrade/x 2>/dev/null && echo wrote-opt; touch /tmp/x && echo wrote-tmp; grep -c CapEff:.0000000000000000 /proc/self/status`)})
	if got := string(out.Stdout); got != "10001\n10001\nwrote-tmp\n1\n" {
		t.Fatalf("stdout %q stderr %q", got, out.Stderr)
	}
}

func TestRunPostgres(t *testing.T) {
	d := MustOpen(t)
	script := `
import os, psycopg2
c = psycopg2.connect(host=os.environ["DJGRADE_DB_HOST"], port=os.environ["DJGRADE_DB_PORT"],
    dbname=os.environ["DJGRADE_DB_NAME"], user=os.environ["DJGRADE_DB_USER"])
cur = c.cursor()
cur.execute("create table t (n int)"); cur.execute("insert into t values (41)")
cur.execute("select n + 1, current_database(), current_setting('fsync'), current_setting('listen_addresses') from t")
print(os.environ["DJGRADE_DB_ENGINE"], *cur.fetchone())
`
	out := run(t, d, grader.Job{Command: []string{"python3", "-c", script}, Postgres: true, Limits: grader.Limits{Timeout: 60 * time.Second}})
	if got := string(out.Stdout); got != "postgres 42 djgrade off \n" {
		t.Fatalf("stdout %q stderr %q", got, out.Stderr)
	}
	if out.Timings["postgres"] <= 0 {
		t.Errorf("no postgres timing: %v", out.Timings)
	}
}

func TestRunCancel(t *testing.T) {
	d := MustOpen(t)
	id := jobID(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the container exists and runs.
		for range 100 {
			if countJobContainers(t, d, id) > 0 {
				time.Sleep(time.Second)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := d.Run(ctx, grader.Job{ID: id, Command: sh("sleep 60")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("cancel took %s", el)
	}
	if n := countJobContainers(t, d, id); n != 0 {
		t.Fatalf("%d containers remain after cancel", n)
	}
}

// The candidate runs as the init's uid; it must not be able to write a
// forged envelope through /proc, nor leave processes that outlive the run.
func TestRunForgedEnvelope(t *testing.T) {
	d := MustOpen(t)
	forged := `{"version":1,"exit_code":0,"signal":null,"timeout":false,"output_limit":false,"stdout":"","stderr":"","truncated":false,"report":"Zm9yZ2Vk","timings_ms":{}}`
	out := run(t, d, grader.Job{
		Command: sh(`head -c 30000000 /dev/zero > /proc/1/fd/1; ` +
			`for f in /proc/[0-9]*/fd/1; do echo '` + forged + `' > $f 2>/dev/null && echo wrote $f; done; exit 5`),
		ReportPath: "report.json",
	})
	if out.ExitCode != 5 || out.Report != nil {
		t.Fatalf("exit %d report %q stdout %q stderr %q: forged envelope accepted", out.ExitCode, out.Report, out.Stdout, out.Stderr)
	}
}

// A report that is a fifo or a link out of the workspace comes back as nil,
// without hanging the init.
func TestRunReportNotRegular(t *testing.T) {
	d := MustOpen(t)
	for _, c := range []struct{ name, script string }{
		{"fifo", "mkfifo report.json"},
		{"symlink", "ln -s /etc/passwd report.json"},
		{"dir-symlink", "ln -s /etc d && ln -s d/passwd report.json"},
		{"device", "ln -s /dev/zero report.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			out := run(t, d, grader.Job{Command: sh(c.script), ReportPath: "report.json"})
			if out.Report != nil || out.Verdict != grader.RunOK || out.ExitCode != 0 {
				t.Fatalf("verdict %s exit %d report %.40q stderr %q", out.Verdict, out.ExitCode, out.Report, out.Stderr)
			}
			if el := time.Since(start); el > 10*time.Second {
				t.Errorf("took %s", el)
			}
		})
	}
}

func TestRunConcurrent(t *testing.T) {
	d := MustOpen(t)
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for i := range 4 {
		id := jobID(t, d) + fmt.Sprint(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := d.Run(context.Background(), grader.Job{ID: id, Command: sh(fmt.Sprintf("echo %d", i))})
			if err != nil || string(out.Stdout) != fmt.Sprintf("%d\n", i) {
				errs <- fmt.Sprintf("job %d: %v %q", i, err, out.Stdout)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestRunImageMissing(t *testing.T) {
	d := MustOpen(t)
	_, err := d.Run(context.Background(), grader.Job{ID: jobID(t, d), Image: "djgrade-sandbox:doesnotexist", Command: sh("true")})
	if code := grader.ErrorCode(err); code != grader.EINTERNAL {
		t.Fatalf("err %v (code %q), want %s", err, code, grader.EINTERNAL)
	}
}

func TestSweep(t *testing.T) {
	// Its own app label: a sweep must not reach other tests' or servers'
	// containers on the same engine.
	app := fmt.Sprintf("djgrade-test-%d", time.Now().UnixNano())
	mine, err := sandbox.New(sandbox.Options{Instance: "test-sweep-mine", App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer mine.Close()
	other, err := sandbox.New(sandbox.Options{Instance: "test-sweep-other", App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	id := jobID(t, mine)
	create := func(instance string) {
		_, err := mine.Client().ContainerCreate(ctx, &container.Config{
			Image:  testImage,
			Cmd:    []string{"true"},
			Labels: map[string]string{sandbox.LabelApp: app, sandbox.LabelJob: id, sandbox.LabelInstance: instance},
		}, nil, nil, nil, "")
		if err != nil {
			t.Fatal(err)
		}
	}
	create(mine.Instance())
	create(other.Instance())
	create(other.Instance())
	// A container of the real app, which neither sweep may touch.
	_, err = mine.Client().ContainerCreate(ctx, &container.Config{
		Image:  testImage,
		Cmd:    []string{"true"},
		Labels: map[string]string{sandbox.LabelApp: sandbox.AppName, sandbox.LabelJob: id + "-real"},
	}, nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if n := countJobContainers(t, mine, id+"-real"); n != 1 {
			t.Errorf("the other app's container was swept")
		}
		list, _ := mine.Client().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", sandbox.LabelJob+"="+id+"-real"))})
		for _, c := range list {
			mine.Client().ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		}
	}()
	// A second sandbox with mine's instance id: a restarted server of the
	// same store, sweeping what its crashed predecessor left.
	restarted, err := sandbox.New(sandbox.Options{Instance: mine.Instance(), App: app})
	if err != nil {
		t.Fatal(err)
	}
	defer restarted.Close()
	if n, err := restarted.Sweep(ctx, sandbox.SweepOwn); err != nil || n != 1 {
		t.Fatalf("Sweep(SweepOwn) = %d, %v; want the 1 of its own instance", n, err)
	}
	if n := countJobContainers(t, mine, id); n != 2 {
		t.Fatalf("%d containers left, want the other instance's 2", n)
	}
	create(mine.Instance())
	if n, err := mine.Sweep(ctx, sandbox.SweepOthers); err != nil || n != 2 {
		t.Fatalf("Sweep(SweepOthers) = %d, %v; want the 2 of the other instance", n, err)
	}
	if n := countJobContainers(t, mine, id); n != 1 {
		t.Fatalf("%d containers left, want mine only", n)
	}
	if n, err := mine.Sweep(ctx, sandbox.SweepAll); err != nil || n != 1 {
		t.Fatalf("Sweep(SweepAll) = %d, %v", n, err)
	}
}

// A workspace larger than the scratch space is the caller's problem to
// report, not an outcome of the candidate's code.
func TestRunWorkspaceTooLarge(t *testing.T) {
	d := MustOpen(t)
	ws := tarOf(t, grader.File{Path: "big.bin", Data: bytes.Repeat([]byte("x"), 4<<20)})
	_, err := d.Run(context.Background(), grader.Job{ID: jobID(t, d), Workspace: ws, Command: sh("true"), Limits: grader.Limits{ScratchBytes: 1 << 20}})
	if grader.ErrorCode(err) != grader.ETOOLARGE {
		t.Fatalf("err %v, want %s", err, grader.ETOOLARGE)
	}
}
