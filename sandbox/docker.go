// Package sandbox runs grader jobs in throwaway Docker containers: one
// container per job, no network, a read-only root, tmpfs scratch, memory,
// CPU, process and file limits, and the container removed on every path. It
// also builds the sandbox image (see EnsureImage) and sweeps containers a
// crash left behind (see Sweep).
//
// The package is the Docker adapter of grader.Sandbox; it knows nothing of
// scoring, HTTP or storage.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-units"

	"github.com/djgrade/djgrade/grader"
)

// Container labels.
const (
	// LabelApp marks every container of the app (value AppName).
	LabelApp = "app"
	// LabelJob holds the job's id.
	LabelJob = "djgrade.job"
	// LabelInstance holds the id of the server instance that ran the job.
	LabelInstance = "djgrade.instance"
	// AppName is the value of LabelApp on every djgrade container.
	AppName = "djgrade"
)

// SandboxUser is the uid:gid every job runs as; the image creates it.
const SandboxUser = "10001:10001"

// initStderrCap bounds the init's diagnostics that Run keeps.
const initStderrCap = 64 << 10

// Options configure a Docker sandbox.
type Options struct {
	// Instance names this server in container labels, so that a sweep at
	// start-up removes only what this instance left behind. Empty means a
	// random id.
	Instance string
	// App is the value of the app label (default AppName). Only tests set
	// it, so that their sweeps cannot touch the containers of a real server
	// sharing the engine.
	App string
	// Image is used for jobs that name none.
	Image string
	// Grace is added to a job's timeout for the outer, wall-clock limit that
	// Run enforces itself (default 10s); the init's inner limit should fire
	// first, so that the command's output and report still come back.
	Grace time.Duration
	// PostgresGrace is added on top of Grace when a job starts PostgreSQL,
	// whose start-up is outside the inner limit (default 30s).
	PostgresGrace time.Duration
	// SetupTimeout bounds the engine calls before the job runs (version
	// negotiation, create, attach, start; default 60s): an engine that
	// accepts connections and never answers must not hold a worker forever.
	SetupTimeout time.Duration
}

// Docker is a grader.Sandbox that runs each job in its own container. It is
// safe for concurrent use.
type Docker struct {
	cli  *client.Client
	opts Options

	// The client negotiates its API version lazily on the first request,
	// and that write races with concurrent requests (the race detector
	// shows it with Run called from several goroutines). So the version
	// is negotiated once, under this lock, before any other request.
	negMu      sync.Mutex
	negotiated bool

	// tracked holds the containers Runs are looking after; the janitor
	// removes this instance's others (see janitor.go).
	tracked tracker
}

var _ grader.Sandbox = (*Docker)(nil)

// New returns a Docker sandbox talking to the engine named by the usual
// DOCKER_* environment, negotiating the API version (the engine here speaks
// 1.41, older than the client).
func New(opts Options) (*Docker, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, grader.Wrap(err, grader.EINTERNAL, "docker client")
	}
	if opts.Instance == "" {
		opts.Instance = randomID()
	}
	if opts.App == "" {
		opts.App = AppName
	}
	if opts.Grace <= 0 {
		opts.Grace = 10 * time.Second
	}
	if opts.PostgresGrace <= 0 {
		opts.PostgresGrace = 30 * time.Second
	}
	if opts.SetupTimeout <= 0 {
		opts.SetupTimeout = 60 * time.Second
	}
	d := &Docker{cli: cli, opts: opts}
	// Best effort: an engine that is down now is negotiated with later.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.negotiate(ctx)
	return d, nil
}

// negotiate settles the client's API version with the engine, once.
func (d *Docker) negotiate(ctx context.Context) error {
	d.negMu.Lock()
	defer d.negMu.Unlock()
	if d.negotiated {
		return nil
	}
	ping, err := d.cli.Ping(ctx)
	if err != nil {
		return unavailable(err, "docker engine")
	}
	d.cli.NegotiateAPIVersionPing(ping)
	d.negotiated = true
	return nil
}

func randomID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Instance returns the instance id this sandbox labels its containers with.
func (d *Docker) Instance() string { return d.opts.Instance }

// Client returns the Docker client, e.g. for EnsureImage, with its API
// version negotiated if the engine could be reached.
func (d *Docker) Client() *client.Client {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.negotiate(ctx)
	return d.cli
}

// Close releases the client's connections.
func (d *Docker) Close() error { return d.cli.Close() }

// Ping checks that the engine answers.
func (d *Docker) Ping(ctx context.Context) error {
	if err := d.negotiate(ctx); err != nil {
		return err
	}
	if _, err := d.cli.Ping(ctx); err != nil {
		return unavailable(err, "docker engine")
	}
	return nil
}

// EnsureImage builds the sandbox image if needed and returns its tag; see
// the package function EnsureImage.
func (d *Docker) EnsureImage(ctx context.Context, opts BuildOptions, progress io.Writer) (string, error) {
	if err := d.negotiate(ctx); err != nil {
		return "", err
	}
	return EnsureImage(ctx, d.cli, opts, progress)
}

func unavailable(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if client.IsErrConnectionFailed(err) {
		return grader.Wrap(err, grader.EUNAVAILABLE, "%s: the Docker engine is not reachable", msg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return grader.Wrap(err, grader.EUNAVAILABLE, "%s: %v", msg, err)
	}
	return grader.Wrap(err, grader.EUNAVAILABLE, "%s", msg)
}

func internal(err error, format string, args ...any) error {
	return grader.Wrap(err, grader.EINTERNAL, format, args...)
}

// tailBuffer keeps the last n bytes written (in at most 2n of memory): the
// envelope is the end of the init's stream, whatever came before it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	n   int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(p) >= t.n {
		t.buf = append(t.buf[:0], p[len(p)-t.n:]...)
		return len(p), nil
	}
	if len(t.buf)+len(p) > 2*t.n {
		keep := t.n - len(p)
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-keep:]...)
	}
	t.buf = append(t.buf, p...)
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.buf) > t.n {
		return append([]byte(nil), t.buf[len(t.buf)-t.n:]...)
	}
	return append([]byte(nil), t.buf...)
}

// cappedBuffer keeps the first n bytes written and counts the rest. It never
// fails a write: the stream must keep draining, or the container would block
// writing and only the outer timeout would end it.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     []byte
	n       int
	dropped int64
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.n - len(c.buf)
	if room >= len(p) {
		c.buf = append(c.buf, p...)
	} else {
		if room > 0 {
			c.buf = append(c.buf, p[:room]...)
		}
		c.dropped += int64(len(p) - max(room, 0))
	}
	return len(p), nil
}

func (c *cappedBuffer) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf...)
}

// config returns the container configuration of a job.
func (d *Docker) config(job grader.Job, lim grader.Limits, img string) (*container.Config, *container.HostConfig) {
	env := append([]string(nil), job.Env...)
	// The protocol's variables come last: a job cannot override them.
	env = append(env,
		EnvReportPath+"="+job.ReportPath,
		EnvOutputBytes+"="+strconv.FormatInt(lim.OutputBytes, 10),
		EnvTimeout+"="+strconv.FormatFloat(lim.Timeout.Seconds(), 'f', 3, 64),
	)
	if job.Postgres {
		env = append(env, EnvPostgres+"=1")
	}
	cfg := &container.Config{
		Image: img,
		Cmd:   job.Command,
		Env:   env,
		User:  SandboxUser,
		// Not /work: when the working directory is a tmpfs mount, the
		// engine (20.10) recreates it 0755 root-owned over our mode=1777,
		// and uid 10001 could not write its own workspace. The init
		// runs the command in /work itself.
		WorkingDir:      "/",
		OpenStdin:       true,
		StdinOnce:       true,
		AttachStdin:     true,
		AttachStdout:    true,
		AttachStderr:    true,
		NetworkDisabled: true,
		Labels: map[string]string{
			LabelApp:      d.opts.App,
			LabelJob:      job.ID,
			LabelInstance: d.opts.Instance,
		},
	}
	// Each tmpfs may hold ScratchBytes; its pages count against the memory
	// limit too, so a full scratch area cannot exceed the memory budget.
	tmpfs := fmt.Sprintf("rw,exec,nosuid,nodev,size=%d,mode=1777", lim.ScratchBytes)
	pids := lim.Pids
	yes := true
	host := &container.HostConfig{
		NetworkMode:    "none",
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		ReadonlyRootfs: true,
		Init:           &yes,
		Tmpfs:          map[string]string{"/work": tmpfs, "/tmp": tmpfs},
		Resources: container.Resources{
			Memory:     lim.MemoryBytes,
			MemorySwap: lim.MemoryBytes,
			NanoCPUs:   int64(lim.CPUs * 1e9),
			PidsLimit:  &pids,
			Ulimits:    []*units.Ulimit{{Name: "nofile", Soft: lim.OpenFiles, Hard: lim.OpenFiles}},
		},
	}
	return cfg, host
}

// Run runs job in a new container and returns how it ended. A candidate's
// crash, timeout or flood is an Outcome; an error means the infrastructure
// failed (engine down: EUNAVAILABLE; image missing, init failure: EINTERNAL),
// the workspace did not fit in the scratch space (ETOOLARGE), or ctx was
// cancelled (the error wraps ctx.Err()). The container is removed before Run
// returns, on every path, and Run has stopped reading job.Workspace by then.
func (d *Docker) Run(ctx context.Context, job grader.Job) (out grader.Outcome, err error) {
	lim := job.Limits.WithDefaults()
	img := job.Image
	if img == "" {
		img = d.opts.Image
	}
	if img == "" {
		return out, grader.Errorf(grader.EINVALID, "sandbox: job %s names no image", job.ID)
	}
	if len(job.Command) == 0 {
		return out, grader.Errorf(grader.EINVALID, "sandbox: job %s has no command", job.ID)
	}
	if len(job.Private) > grader.MaxPrivateBytes {
		return out, grader.Errorf(grader.ETOOLARGE, "sandbox: job %s has %d private bytes, more than %d", job.ID, len(job.Private), grader.MaxPrivateBytes)
	}
	timings := map[string]time.Duration{}
	out.Timings = timings
	phase := time.Now()
	lap := func(name string) {
		now := time.Now()
		timings[name] = now.Sub(phase)
		phase = now
	}

	setup, cancelSetup := context.WithTimeout(ctx, d.opts.SetupTimeout)
	defer cancelSetup()
	if err := d.negotiate(setup); err != nil {
		return out, err
	}
	nonce := randomID() + randomID()
	cfg, host := d.config(job, lim, img)
	track := d.tracked.creating()
	created, err := d.cli.ContainerCreate(setup, cfg, host, nil, nil, "")
	track(created.ID)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return out, internal(err, "sandbox image %s is missing (build it with `djgrade image build`)", img)
		}
		return out, unavailable(err, "create container")
	}
	id := created.ID
	defer func() {
		// A fresh context: ctx may be the reason we are leaving.
		t := time.Now()
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		rerr := d.cli.ContainerRemove(rctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		d.tracked.forget(id) // if the remove failed, the janitor's now
		if rerr != nil && !errdefs.IsNotFound(rerr) && err == nil {
			err = unavailable(rerr, "remove container %.12s", id)
		}
		timings["remove"] = time.Since(t)
	}()
	lap("create")

	hj, err := d.attach(setup, id)
	if err != nil {
		return out, unavailable(err, "attach container")
	}
	defer hj.Close()
	// The wait is registered before the start so that a fast exit is not
	// missed; its context is ours, not the caller's, so that a cancelled
	// ctx still lets us see the container go.
	wctx, wcancel := context.WithCancel(context.Background())
	defer wcancel()
	waitC, waitErrC := d.cli.ContainerWait(wctx, id, container.WaitConditionNextExit)
	lap("attach")

	if err := d.cli.ContainerStart(setup, id, container.StartOptions{}); err != nil {
		return out, unavailable(err, "start container")
	}
	lap("start")
	started := time.Now()

	stdout := &tailBuffer{n: int(envelopeCap(lim.OutputBytes))}
	stderr := &cappedBuffer{n: initStderrCap}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		stdcopy.StdCopy(stdout, stderr, hj.Reader)
	}()
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		// The nonce line, then the private block, length first: the
		// init reads both before the tar, so neither reaches /work.
		head := nonce + "\n" + strconv.Itoa(len(job.Private)) + "\n"
		if _, err := io.WriteString(hj.Conn, head); err != nil {
			hj.CloseWrite()
			return
		}
		if _, err := hj.Conn.Write(job.Private); err != nil {
			hj.CloseWrite()
			return
		}
		if job.Workspace != nil {
			// An error here means the container went away early; its
			// outcome tells why.
			io.Copy(hj.Conn, job.Workspace)
		}
		hj.CloseWrite()
	}()
	// Closing the connection ends a write blocked on a dead container; the
	// wait means Run never returns while still reading job.Workspace.
	defer func() {
		hj.Close()
		<-fed
	}()

	outer := lim.Timeout + d.opts.Grace
	if job.Postgres {
		outer += d.opts.PostgresGrace
	}
	timer := time.NewTimer(outer)
	defer timer.Stop()
	kill := func() {
		kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		d.cli.ContainerKill(kctx, id, "KILL")
	}
	outerTimeout := false
	select {
	case <-waitC:
	case werr := <-waitErrC:
		return out, unavailable(werr, "wait for container")
	case <-timer.C:
		outerTimeout = true
		kill()
		select {
		case <-waitC:
		case <-waitErrC:
		case <-time.After(10 * time.Second):
		}
	case <-ctx.Done():
		kill()
		return out, grader.Wrap(ctx.Err(), grader.EUNAVAILABLE, "sandbox run of %s cancelled", job.ID)
	}
	timings["run"] = time.Since(started)
	phase = time.Now()

	// The attach stream ends when the container does; bound the wait in
	// case the engine keeps it open.
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		hj.Close()
		<-copied
	}
	ictx, icancel := context.WithTimeout(context.Background(), 10*time.Second)
	insp, ierr := d.cli.ContainerInspect(ictx, id)
	icancel()
	if ierr != nil {
		return out, unavailable(ierr, "inspect container")
	}
	state := insp.State
	if state == nil {
		return out, internal(nil, "inspect container: no state")
	}

	env, perr := parseEnvelope(stdout.bytes(), nonce)
	initDiag := stderr.bytes()
	switch {
	case outerTimeout:
		out.Verdict = grader.RunTimeout
		out.ExitCode = state.ExitCode
		if env != nil {
			fillFromEnvelope(&out, env)
		}
	case perr != nil:
		// The init did not report: the candidate may have killed it (it runs
		// as the same uid), or the memory limit did. Still an outcome.
		out.ExitCode = state.ExitCode
		out.Verdict = grader.RunOK
		if state.OOMKilled {
			out.Verdict = grader.RunOOM
		}
		out.Stderr = fmt.Appendf(nil, "djgrade: the sandbox ended without a result (exit %d): %v\n%s", state.ExitCode, perr, initDiag)
		if len(out.Stderr) > int(lim.OutputBytes) {
			out.Stderr = out.Stderr[:lim.OutputBytes]
		}
	case env.Error != nil:
		code := grader.EINTERNAL
		if env.ErrorKind == "too_large" {
			code = grader.ETOOLARGE
		}
		return out, grader.Errorf(code, "sandbox init: %s", *env.Error)
	default:
		fillFromEnvelope(&out, env)
		failed := env.ExitCode != 0
		switch {
		case failed && (env.OOMKill || state.OOMKilled):
			out.Verdict = grader.RunOOM
		case env.Timeout:
			out.Verdict = grader.RunTimeout
		case env.OutputLimit:
			out.Verdict = grader.RunOutputLimit
		case env.ProcessLimit:
			out.Verdict = grader.RunProcessLimit
		default:
			out.Verdict = grader.RunOK
		}
	}
	lap("collect")
	return out, nil
}

func fillFromEnvelope(out *grader.Outcome, env *envelope) {
	out.ExitCode = env.ExitCode
	out.Stdout = env.stdout
	out.Stderr = env.stderr
	out.Truncated = env.Truncated
	out.Report = env.report
	out.ReportSignature = env.reportSig
	ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
	out.Timings["extract"] = ms(env.TimingsMS.Extract)
	out.Timings["postgres"] = ms(env.TimingsMS.Postgres)
	out.Timings["command"] = ms(env.TimingsMS.Run)
}

// attach attaches to the container's streams within ctx's deadline. The
// client honours ctx while dialling but not while it reads the upgrade
// answer, so a wedged engine is waited for here, not there; an attach that
// answers after we gave up is closed.
func (d *Docker) attach(ctx context.Context, id string) (types.HijackedResponse, error) {
	type result struct {
		hj  types.HijackedResponse
		err error
	}
	done := make(chan result, 1)
	go func() {
		hj, err := d.cli.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
		done <- result{hj, err}
	}()
	select {
	case r := <-done:
		return r.hj, r.err
	case <-ctx.Done():
		go func() {
			if r := <-done; r.err == nil {
				r.hj.Close()
			}
		}()
		return types.HijackedResponse{}, ctx.Err()
	}
}

// SweepScope chooses which labelled containers Sweep removes.
type SweepScope int

// Sweep scopes.
const (
	// SweepOwn removes the containers labelled with this sandbox's instance:
	// a server that names its instance after its store (as `djgrade serve`
	// does) removes what a crashed earlier run of the same store left,
	// without touching other servers on the same engine.
	SweepOwn SweepScope = iota
	// SweepOthers removes the containers of every other instance.
	SweepOthers
	// SweepAll removes every container of this sandbox's app.
	SweepAll
)

// Sweep removes containers labelled with this sandbox's app, in the scope,
// and returns how many it removed. Call it at start-up, before any Run: it
// also removes running jobs in its scope.
func (d *Docker) Sweep(ctx context.Context, scope SweepScope) (int, error) {
	if err := d.negotiate(ctx); err != nil {
		return 0, err
	}
	list, err := d.cli.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", LabelApp+"="+d.opts.App)),
	})
	if err != nil {
		return 0, unavailable(err, "list containers")
	}
	n := 0
	for _, c := range list {
		own := c.Labels[LabelInstance] == d.opts.Instance
		if (scope == SweepOwn && !own) || (scope == SweepOthers && own) {
			continue
		}
		err := d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !errdefs.IsNotFound(err) {
			return n, unavailable(err, "remove container %.12s", c.ID)
		}
		if err == nil {
			n++
		}
	}
	return n, nil
}
