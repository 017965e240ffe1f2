// Package sandbox runs grader jobs in throwaway Docker containers: one
// container per job, no network, a read-only root, tmpfs scratch, memory,
// CPU, process and file limits, and the container removed on every path. It
// also builds the sandbox image (see EnsureImage) and sweeps containers a
// crash left behind (see Sweep).
//
// The package is the Docker adapter of grader.Sandbox; it knows nothing of
// scoring, HTTP or storage. It talks to the engine only through Engine
// (engine.go), the few methods of the Docker client it needs, so NewEngine
// can put it on a pool of engines or any other backend with that API; New
// uses the Docker client itself. The pair's protocol (protocol.go) is
// independent of the transport: a config line and a tar in on stdin, an
// envelope out as the judge's last stdout line, over any reader and writer.
// Callers (cmd/djgrade) build images, sweep and check readiness through
// Docker's methods and never hold the raw client.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// LabelRole says which side of a pair a container is.
	LabelRole = "djgrade.role"
)

// Roles of the two containers of a run.
const (
	RoleJudge     = "judge"
	RoleCandidate = "candidate"
)

// SandboxUser is the uid:gid every job runs as; the image creates it.
const SandboxUser = "10001:10001"

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
	cli  Engine
	opts Options

	// The Docker client negotiates its API version lazily on the first request,
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
	return NewEngine(cli, opts), nil
}

// NewEngine returns a Docker sandbox on eng: a *client.Client, or anything
// else that speaks the same API (a pool of engines, a test double). The
// sandbox owns eng from then on; Close closes it.
func NewEngine(eng Engine, opts Options) *Docker {
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
	d := &Docker{cli: eng, opts: opts}
	// Best effort: an engine that is down now is negotiated with later.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.negotiate(ctx)
	return d
}

// negotiate settles the client's API version with the engine, once (an
// engine that needs no negotiation is only pinged).
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
	if n, ok := d.cli.(versionNegotiator); ok {
		n.NegotiateAPIVersionPing(ping)
	}
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

// Judge limits: the judge runs PostgreSQL (whose backends serve the
// candidate's queries too) and the hidden checks. They are djgrade's own
// and do not vary by exercise.
var judgeLimits = grader.Limits{
	MemoryBytes:  1 << 30,
	CPUs:         1,
	Pids:         512,
	OpenFiles:    4096,
	ScratchBytes: 512 << 20,
}

// container returns the configuration of one side of a pair.
func (d *Docker) container(job grader.Job, role string, lim grader.Limits, img string) (*container.Config, *container.HostConfig) {
	cfg := &container.Config{
		Image: img,
		User:  SandboxUser,
		// Not /work: when the working directory is a tmpfs mount, the
		// engine (20.10) recreates it 0755 root-owned over our mode=1777,
		// and the job's uid could not write its own workspace. The inits
		// work in /work themselves.
		WorkingDir:   "/",
		OpenStdin:    true,
		StdinOnce:    true,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		Labels: map[string]string{
			LabelApp:      d.opts.App,
			LabelJob:      job.ID,
			LabelInstance: d.opts.Instance,
			LabelRole:     role,
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
		IpcMode:        "private",
		// No engine log: the streams reach Run and nothing else, so no
		// output of a submission lands on the host's disk.
		LogConfig: container.LogConfig{Type: "none"},
		Tmpfs:     map[string]string{"/work": tmpfs, "/tmp": tmpfs},
		Resources: container.Resources{
			Memory:     lim.MemoryBytes,
			MemorySwap: lim.MemoryBytes,
			NanoCPUs:   int64(lim.CPUs * 1e9),
			PidsLimit:  &pids,
			Ulimits:    []*units.Ulimit{{Name: "nofile", Soft: lim.OpenFiles, Hard: lim.OpenFiles}},
		},
	}
	if role == RoleJudge {
		cfg.User = judgeUser
		cfg.Entrypoint = []string{"python3", judgeEntry}
	}
	return cfg, host
}

// A run is five steps, each its own function below: create (the
// container, tracked from the moment it exists), attach (its streams),
// feed (the config line and the workspace, see protocol.go), wait (for the
// judge, the candidate's end, a cap, the outer timeout or ctx) and collect
// (inspect both, read the envelope, map to a verdict). Run strings them
// together for the two sides of a pair and removes both on every path.

// side is one started container of a pair.
type side struct {
	id    string
	hj    types.HijackedResponse
	waitC <-chan container.WaitResponse
	errC  <-chan error
	wdone func()
	fed   chan struct{}
}

// create creates one container and has it tracked from the moment it
// exists (see janitor.go).
func (d *Docker) create(setup context.Context, cfg *container.Config, host *container.HostConfig) (string, error) {
	track := d.tracked.creating()
	created, err := d.cli.ContainerCreate(setup, cfg, host, nil, nil, "")
	track(created.ID)
	if err != nil {
		if errdefs.IsNotFound(err) {
			return "", internal(err, "sandbox image %s is missing (build it with `djgrade image build`)", cfg.Image)
		}
		return "", unavailable(err, "create container")
	}
	return created.ID, nil
}

// start creates, attaches and starts one container and feeds its stdin the
// config line and the workspace; remember is told the container's id as
// soon as it exists, so that the caller removes it on every path.
func (d *Docker) start(setup context.Context, cfg *container.Config, host *container.HostConfig, config any, workspace io.Reader, remember func(id string)) (*side, error) {
	id, err := d.create(setup, cfg, host)
	if err != nil {
		return nil, err
	}
	remember(id)
	s := &side{id: id, fed: make(chan struct{}), wdone: func() {}}
	if s.hj, err = d.attach(setup, s.id); err != nil {
		close(s.fed)
		return nil, unavailable(err, "attach container")
	}
	// The wait is registered before the start so that a fast exit is not
	// missed; its context is ours, so a cancelled ctx still sees it go.
	wctx, wcancel := context.WithCancel(context.Background())
	s.wdone = wcancel
	s.waitC, s.errC = d.cli.ContainerWait(wctx, s.id, container.WaitConditionNextExit)
	if err := d.cli.ContainerStart(setup, s.id, container.StartOptions{}); err != nil {
		close(s.fed)
		return s, unavailable(err, "start container")
	}
	line, err := configLine(config)
	if err != nil {
		close(s.fed)
		return s, internal(err, "encode the config line")
	}
	go func() {
		defer close(s.fed)
		// An error means the container went away early; its outcome says why.
		feed(s.hj.Conn, line, workspace)
		s.hj.CloseWrite()
	}()
	return s, nil
}

func (d *Docker) kill(id, signal string) {
	kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.cli.ContainerKill(kctx, id, signal)
}

// pair is one Run's two containers and what it has read of them.
type pair struct {
	d           *Docker
	job         grader.Job
	lim         grader.Limits
	nonce       string
	judge, cand *side
	// ids are the containers created, sides those attached, in order.
	ids   []string
	sides []*side

	clog           *candidateLog
	overC          chan struct{}
	jout           *judgeOutput
	jcopied        chan struct{}
	ccopied        chan struct{}
	timings        map[string]time.Duration
	phase, started time.Time
}

// lap records the time since the last lap as phase name.
func (p *pair) lap(name string) {
	now := time.Now()
	p.timings[name] = now.Sub(p.phase)
	p.phase = now
}

// ending is how the wait for a pair ended.
type ending struct {
	// outerTimeout: Run's own wall-clock limit fired; overflow: the
	// candidate's output passed its cap; gone: the candidate's container
	// ended before the judge.
	outerTimeout, overflow, gone bool
}

// Run runs job as a pair of containers and returns how it ended. A
// candidate's crash, timeout or flood is an Outcome; an error means the
// infrastructure failed (engine down: EUNAVAILABLE; image missing, a judge
// that could not start: EINTERNAL), the workspace did not fit in the
// scratch space (ETOOLARGE), or ctx was cancelled (the error wraps
// ctx.Err()). Both containers are removed before Run returns, on every
// path, and Run has stopped reading the workspaces by then.
func (d *Docker) Run(ctx context.Context, job grader.Job) (out grader.Outcome, err error) {
	lim := job.Limits.WithDefaults()
	img := job.Image
	if img == "" {
		img = d.opts.Image
	}
	if img == "" {
		return out, grader.Errorf(grader.EINVALID, "sandbox: job %s names no image", job.ID)
	}
	if job.Settings == "" {
		return out, grader.Errorf(grader.EINVALID, "sandbox: job %s names no settings module", job.ID)
	}
	p := &pair{d: d, job: job, lim: lim, timings: map[string]time.Duration{}, phase: time.Now()}
	out.Timings = p.timings

	setup, cancelSetup := context.WithTimeout(ctx, d.opts.SetupTimeout)
	defer cancelSetup()
	if err := d.negotiate(setup); err != nil {
		return out, err
	}
	defer func() {
		if rerr := p.remove(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err := p.startBoth(setup, img); err != nil {
		return out, err
	}
	p.attachOutput()
	e, err := p.wait(ctx)
	if err != nil {
		return out, err
	}
	p.stop(e)
	if err := p.collect(e, &out); err != nil {
		return out, err
	}
	p.lap("collect")
	return out, nil
}

// startBoth starts the judge, then the candidate in the judge's network
// namespace, each with its config line and workspace.
func (p *pair) startBoth(setup context.Context, img string) error {
	d, job, lim := p.d, p.job, p.lim
	remember := func(id string) { p.ids = append(p.ids, id) }
	p.nonce = randomID() + randomID()
	password := randomID() + randomID() + randomID()
	jlim := judgeLimits.Override(grader.Limits{OutputBytes: lim.OutputBytes}).WithDefaults()
	jcfg, jhost := d.container(job, RoleJudge, jlim, img)
	judge, err := d.start(setup, jcfg, jhost, judgeConfig{
		Nonce: p.nonce, AppPassword: password, Seed: job.Seed, TimeoutS: lim.Timeout.Seconds(),
		OutputBytes: judgeLogCap, Settings: job.Settings, AppPort: appPort, AgentPort: agentPort,
		Services: job.Services,
	}, job.JudgeWorkspace, remember)
	if judge != nil {
		p.sides = append(p.sides, judge)
	}
	if err != nil {
		return err
	}
	p.judge = judge
	p.lap("judge_start")

	ccfg, chost := d.container(job, RoleCandidate, lim, img)
	chost.NetworkMode = container.NetworkMode("container:" + judge.id)
	cand, err := d.start(setup, ccfg, chost, candidateConfig{
		Nonce: p.nonce, Settings: job.Settings, Public: job.Public, PublicTimeoutS: publicTimeout(lim.Timeout).Seconds(),
		LifetimeS: (lim.Timeout + d.opts.Grace + d.opts.PostgresGrace + time.Minute).Seconds(),
		DB:        map[string]string{"host": "127.0.0.1", "port": "5432", "name": "djgrade", "user": "app", "password": password},
		RedisURL:  redisURL(job.Services, password),
	}, job.Workspace, remember)
	if cand != nil {
		p.sides = append(p.sides, cand)
	}
	if err != nil {
		return err
	}
	p.cand = cand
	p.lap("candidate_start")
	p.started = time.Now()
	return nil
}

// attachOutput starts reading both containers' streams (the engine's
// multiplexed attach stream, split by stdcopy) into the protocol's readers.
func (p *pair) attachOutput() {
	// The candidate's streams: every byte counts; past the cap the
	// container is killed and the run ends as output_limit.
	p.overC = make(chan struct{})
	p.clog = &candidateLog{nonce: p.nonce, cap: p.lim.OutputBytes, over: func() {
		close(p.overC)
		go p.d.kill(p.cand.id, "KILL")
	}}
	cout, cerr := p.clog.streams()
	p.ccopied = make(chan struct{})
	go func() {
		defer close(p.ccopied)
		stdcopy.StdCopy(cout, cerr, p.cand.hj.Reader)
		cout.flush()
		cerr.flush()
	}()
	p.jout = newJudgeOutput()
	p.jcopied = make(chan struct{})
	go func() {
		defer close(p.jcopied)
		stdcopy.StdCopy(p.jout.stdout, p.jout.stderr, p.judge.hj.Reader)
	}()
}

// wait waits for the judge to end, or the candidate's container, the
// candidate's output cap, the outer timeout or ctx, whichever comes first.
func (p *pair) wait(ctx context.Context) (e ending, err error) {
	d := p.d
	timer := time.NewTimer(p.lim.Timeout + d.opts.Grace + d.opts.PostgresGrace)
	defer timer.Stop()
	select {
	case <-p.judge.waitC:
	case werr := <-p.judge.errC:
		return e, unavailable(werr, "wait for the judge")
	case <-p.cand.waitC:
		// The candidate's code ended its own container (killed its agent,
		// exited at import): nothing is left for the judge to check.
		e.gone = true
		d.kill(p.judge.id, "KILL")
	case <-p.overC:
		e.overflow = true
	case <-timer.C:
		e.outerTimeout = true
	case <-ctx.Done():
		d.kill(p.cand.id, "KILL")
		d.kill(p.judge.id, "KILL")
		return e, grader.Wrap(ctx.Err(), grader.EUNAVAILABLE, "sandbox run of %s cancelled", p.job.ID)
	}
	p.timings["run"] = time.Since(p.started)
	p.phase = time.Now()
	return e, nil
}

// stop ends what is still running of the pair and waits (a bounded time)
// for both streams to be read to their end.
func (p *pair) stop(e ending) {
	d, judge, cand := p.d, p.judge, p.cand
	if e.overflow || e.outerTimeout {
		d.kill(judge.id, "KILL")
	}
	// The agent writes its status line on SIGTERM; give it a moment.
	if !e.gone {
		d.kill(cand.id, "TERM")
		select {
		case <-cand.waitC:
		case <-time.After(3 * time.Second):
			d.kill(cand.id, "KILL")
		}
	}
	for _, c := range []chan struct{}{p.jcopied, p.ccopied} {
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			judge.hj.Close()
			cand.hj.Close()
			<-c
		}
	}
}

// collect inspects both containers, reads the judge's envelope and the
// candidate's protocol lines into out, and sets its verdict.
func (p *pair) collect(e ending, out *grader.Outcome) error {
	ictx, icancel := context.WithTimeout(context.Background(), 10*time.Second)
	jinsp, jierr := p.d.cli.ContainerInspect(ictx, p.judge.id)
	cinsp, cierr := p.d.cli.ContainerInspect(ictx, p.cand.id)
	icancel()
	if jierr != nil || cierr != nil {
		return unavailable(errors.Join(jierr, cierr), "inspect containers")
	}
	clog := p.clog
	out.CandidateLog = clog.log.Bytes()
	out.Public = clog.public
	out.Truncated = clog.n > clog.cap
	candOOM := cinsp.State != nil && cinsp.State.OOMKilled
	candPids := false
	if st := clog.status; st != nil {
		candOOM = candOOM || st.OOMKills > 0
		candPids = st.PidLimitHits > 0
	}
	judgeOOM := jinsp.State != nil && jinsp.State.OOMKilled

	env, perr := p.jout.envelope(p.nonce)
	if env != nil {
		out.JudgeExit = env.ExitCode
		out.JudgeLog = env.log
		out.Report = env.report
		out.Truncated = out.Truncated || env.Truncated
		ms := func(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
		p.timings["extract"] = ms(env.TimingsMS.Extract)
		p.timings["postgres"] = ms(env.TimingsMS.Postgres)
		p.timings["checks"] = ms(env.TimingsMS.Checks)
	}
	switch {
	case e.overflow:
		out.Verdict = grader.RunOutputLimit
	case e.outerTimeout || (env != nil && env.Timeout):
		out.Verdict = grader.RunTimeout
	case candOOM || judgeOOM:
		out.Verdict = grader.RunOOM
	case candPids:
		out.Verdict = grader.RunProcessLimit
	case e.gone:
		out.Verdict = grader.RunCandidateExited
	case perr != nil:
		return internal(perr, "the judge ended without a result (exit %d): %s", stateExit(jinsp.State), firstLine(string(p.jout.stderr.bytes())))
	case env.Error != nil:
		code := grader.EINTERNAL
		if env.ErrorKind == "too_large" {
			code = grader.ETOOLARGE
		}
		return grader.Errorf(code, "sandbox judge: %s", *env.Error)
	default:
		out.Verdict = grader.RunOK
	}
	return nil
}

// remove closes the pair's streams, waits for the feeds to stop, and
// removes its containers, newest first, with a fresh context: the run's
// may be the reason it is leaving. It returns the first failed remove.
func (p *pair) remove() (err error) {
	for _, s := range p.sides {
		s.hj.Close()
		<-s.fed
		s.wdone()
	}
	t := time.Now()
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := len(p.ids) - 1; i >= 0; i-- {
		rerr := p.d.cli.ContainerRemove(rctx, p.ids[i], container.RemoveOptions{Force: true, RemoveVolumes: true})
		p.d.tracked.forget(p.ids[i]) // if the remove failed, the janitor's now
		if rerr != nil && !errdefs.IsNotFound(rerr) && err == nil {
			err = unavailable(rerr, "remove container %.12s", p.ids[i])
		}
	}
	p.timings["remove"] = time.Since(t)
	return err
}

// publicTimeout is how long the candidate's public tests may take: they
// run before the judge's checks, which need the rest of the run's time.
func publicTimeout(total time.Duration) time.Duration {
	return min(60*time.Second, total/3)
}

func stateExit(s *container.State) int {
	if s == nil {
		return -1
	}
	return s.ExitCode
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

// redisPort is where the judge's Redis listens on the pair's loopback.
const redisPort = 6379

// redisURL is the app's broker URL when the job asks for Redis: the app's
// Redis user shares the run's database password.
func redisURL(services []string, password string) string {
	if !slices.Contains(services, grader.ServiceRedis) {
		return ""
	}
	return fmt.Sprintf("redis://app:%s@127.0.0.1:%d/0", password, redisPort)
}
