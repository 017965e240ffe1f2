// Package sandbox runs grader jobs in throwaway Docker containers: a judge
// and a candidate container per job (run.go), no network but the pair's
// loopback, a read-only root, tmpfs scratch, memory, CPU, process and file
// limits, and every container removed on every path. Pairs can be started
// ahead of demand, each serving one job (pool.go). It also builds the
// sandbox image (see EnsureImage) and sweeps containers a crash left
// behind (see Sweep).
//
// The package is the Docker adapter of grader.Sandbox; it knows nothing of
// scoring, HTTP or storage. It talks to the engine only through Engine
// (engine.go), the few methods of the Docker client it needs, so NewEngine
// can put it on a pool of engines or any other backend with that API; New
// uses the Docker client itself. The pair's protocol (protocol.go) is
// independent of the transport: a warm line, a job line and a tar in on stdin, an
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
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
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
	// LabelPool marks a container started ahead of its job by the pool
	// (its LabelJob is empty: the job is not known when it is created).
	LabelPool = "djgrade.pool"
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
	// Pool configures the sandboxes started ahead of demand (pool.go);
	// its zero value starts every sandbox when its job comes.
	Pool PoolOptions
	// CPUSet, when set, pins every container to these CPUs of the
	// engine's host (HostConfig.CpusetCpus, e.g. "0" or "1-3"): a Fleet
	// of engines on one machine gives each its own CPUs.
	CPUSet string
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

	// tracked holds the containers Runs and the pool are looking after;
	// the janitor removes this instance's others (see janitor.go).
	tracked tracker

	pool *pool
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
	if opts.Pool.MaxIdle <= 0 {
		opts.Pool.MaxIdle = 10 * time.Minute
	}
	d := &Docker{cli: eng, opts: opts}
	d.pool = newPool(d, opts.Pool)
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

// Close removes the sandboxes waiting in the pool and whatever else of
// this instance no run is tracking, and releases the client's connections.
func (d *Docker) Close() error {
	d.pool.close()
	// A create cut short by the shutdown (a pool refill, a run's cold
	// start) can still leave a container on the engine that no one knows
	// the id of; the next start of another instance would never sweep it.
	// Runs still in flight keep theirs: Tidy leaves tracked ones alone.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	if n, err := d.Tidy(ctx); err != nil {
		slog.Default().Warn("remove leftover containers at close", "component", "sandbox", "instance", d.opts.Instance, "err", err)
	} else if n > 0 {
		slog.Default().Info("removed leftover containers at close", "component", "sandbox", "instance", d.opts.Instance, "count", n)
	}
	cancel()
	return d.cli.Close()
}

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

// labels are the labels of a sandbox's containers; job is the job's id,
// or "" for a sandbox started ahead of its job (the pool's).
func (d *Docker) labels(job string) map[string]string {
	l := map[string]string{LabelApp: d.opts.App, LabelInstance: d.opts.Instance, LabelJob: job}
	if job == "" {
		l[LabelPool] = "1"
	}
	return l
}

// container returns the configuration of one side of a sandbox.
func (d *Docker) container(labels map[string]string, role string, lim grader.Limits, img string) (*container.Config, *container.HostConfig) {
	l := map[string]string{LabelRole: role}
	for k, v := range labels {
		l[k] = v
	}
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
		Labels:       l,
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
			CpusetCpus: d.opts.CPUSet,
		},
	}
	if labels[LabelPool] != "" {
		// Started ahead of demand: it takes only CPU that runs leave idle
		// until a run takes it (see promote).
		host.Resources.CPUShares = poolCPUShares
	}
	if role == RoleJudge {
		cfg.User = judgeUser
		cfg.Entrypoint = []string{"python3", judgeEntry}
	}
	return cfg, host
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
