package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/docker/docker/client"

	"github.com/djgrade/djgrade/grader"
)

// FleetEngine is one Docker engine of a Fleet.
type FleetEngine struct {
	// Name identifies the engine in logs, /readyz and /metrics (its host
	// URL, say).
	Name string
	// Client talks to the engine; the Fleet owns it from then on.
	Client Engine
	// Capacity is how many runs the engine takes at once (default 1).
	Capacity int
	// CPUSet pins the engine's containers to these CPUs (Options.CPUSet).
	CPUSet string
	// Pool is the most sandboxes kept started ahead of demand on the
	// engine (PoolOptions.Size): negative means Capacity, zero none.
	Pool int
}

// FleetOptions configure a Fleet's health checks.
type FleetOptions struct {
	// PingEvery is how often each engine is pinged (default 2s), each
	// ping bounded by PingTimeout (default 2s).
	PingEvery, PingTimeout time.Duration
	// Failures is how many failed pings in a row drain an engine (default
	// 2); Recoveries how many answered pings in a row bring it back
	// (default 2).
	Failures, Recoveries int
	// DrainWait bounds how long a run cut short by a drain may take to
	// return (default 5s): the engine does not answer, so what Run would
	// still ask of it (kill, remove) is left to the rejoin's sweep.
	DrainWait time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// EngineStatus is what a Fleet reports of one engine.
type EngineStatus struct {
	Name     string `json:"name"`
	Healthy  bool   `json:"healthy"`
	Capacity int    `json:"capacity"`
	// Running is the runs on the engine now (a run a drain cut short and
	// that has not returned yet included).
	Running int `json:"running"`
	// PoolWaiting is the sandboxes started ahead of demand waiting there.
	PoolWaiting int `json:"pool_waiting"`
	// Runs counts the runs the engine was given; Drains the times it was
	// drained; Interrupted the runs a drain cut short.
	Runs        int64 `json:"runs"`
	Drains      int64 `json:"drains"`
	Interrupted int64 `json:"interrupted"`
	// LastError is the last failed ping or rejoin, "" once it answers.
	LastError string `json:"last_error,omitempty"`
}

// member is one engine of a Fleet; its fields other than d, gate, name and
// capacity are guarded by the Fleet's mu.
type member struct {
	name     string
	capacity int
	d        *Docker
	gate     *gate

	healthy   bool
	rejoining bool
	fails     int
	oks       int
	running   int
	runs      int64
	drains    int64
	cut       int64
	lastErr   string
}

// Fleet is a grader.Sandbox over several Docker engines, each a *Docker
// with its own client and pool and the same instance (so each engine's
// sweep removes this store's containers only). Run places each job on the
// healthy engine with the most free capacity. A health loop pings every
// engine: one that stops answering is drained (no new runs; its running
// gradings are cut short and return EUNAVAILABLE, which the grader
// requeues), and one that answers again rejoins once its leftovers are
// swept and its images are present. It is safe for concurrent use.
type Fleet struct {
	opts    FleetOptions
	log     *slog.Logger
	members []*member

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a slot frees or health changes
	rr      int
	tags    []string // images EnsureImage made sure of

	stop context.CancelFunc
	wg   sync.WaitGroup
}

var _ grader.Sandbox = (*Fleet)(nil)

// NewFleet returns a Fleet over engines, each a Docker sandbox made with
// opts (its CPUSet and pool size from the engine's entry), and starts its
// health loop; Close stops it. An engine that does not answer now starts
// drained and rejoins when it does.
func NewFleet(opts Options, engines []FleetEngine, fo FleetOptions) (*Fleet, error) {
	if len(engines) == 0 {
		return nil, grader.Errorf(grader.EINVALID, "sandbox: a fleet needs at least one engine")
	}
	if fo.PingEvery <= 0 {
		fo.PingEvery = 2 * time.Second
	}
	if fo.PingTimeout <= 0 {
		fo.PingTimeout = 2 * time.Second
	}
	if fo.Failures <= 0 {
		fo.Failures = 2
	}
	if fo.Recoveries <= 0 {
		fo.Recoveries = 2
	}
	if fo.DrainWait <= 0 {
		fo.DrainWait = 5 * time.Second
	}
	if fo.Logger == nil {
		fo.Logger = slog.Default()
	}
	if opts.Instance == "" {
		opts.Instance = randomID()
	}
	f := &Fleet{opts: fo, log: fo.Logger.With("component", "sandbox fleet"), changed: make(chan struct{})}
	seen := map[string]bool{}
	for _, e := range engines {
		if e.Name == "" || seen[e.Name] {
			return nil, grader.Errorf(grader.EINVALID, "sandbox: fleet engine names must be unique and not empty (%q)", e.Name)
		}
		seen[e.Name] = true
	}
	for _, e := range engines {
		if e.Capacity <= 0 {
			e.Capacity = 1
		}
		o := opts
		o.CPUSet = e.CPUSet
		o.Pool.Size = e.Pool
		if o.Pool.Size < 0 {
			o.Pool.Size = e.Capacity
		}
		g := newGate(e.Client)
		m := &member{name: e.Name, capacity: e.Capacity, gate: g}
		ctx, cancel := context.WithTimeout(context.Background(), fo.PingTimeout)
		_, err := e.Client.Ping(ctx)
		cancel()
		if err != nil {
			// Drained until it answers: its pool waits, its runs go elsewhere.
			g.close()
			m.lastErr = err.Error()
			f.log.Warn("engine not answering; it joins when it does", "engine", e.Name, "err", err)
		} else {
			m.healthy = true
		}
		m.d = NewEngine(g, o)
		f.members = append(f.members, m)
	}
	ctx, stop := context.WithCancel(context.Background())
	f.stop = stop
	for _, m := range f.members {
		f.wg.Add(1)
		go f.watch(ctx, m)
	}
	return f, nil
}

// Instance returns the instance id the fleet's containers are labelled with.
func (f *Fleet) Instance() string { return f.members[0].d.Instance() }

// Engines reports each engine, in the order given.
func (f *Fleet) Engines() []EngineStatus {
	out := make([]EngineStatus, len(f.members))
	for i, m := range f.members {
		ps := m.d.PoolStats()
		f.mu.Lock()
		out[i] = EngineStatus{
			Name: m.name, Healthy: m.healthy, Capacity: m.capacity, Running: m.running, PoolWaiting: ps.Waiting,
			Runs: m.runs, Drains: m.drains, Interrupted: m.cut, LastError: m.lastErr,
		}
		f.mu.Unlock()
	}
	return out
}

// Capacity is the sum of the engines' capacities: as many workers as the
// fleet can keep busy.
func (f *Fleet) Capacity() int {
	n := 0
	for _, m := range f.members {
		n += m.capacity
	}
	return n
}

// notify wakes the runs waiting for a slot; the caller holds mu.
func (f *Fleet) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// acquire takes a slot on the healthy engine with the most free capacity
// (ties in turn), waiting for one while every healthy engine is full.
func (f *Fleet) acquire(ctx context.Context) (*member, error) {
	for {
		f.mu.Lock()
		var best *member
		healthy := 0
		n := len(f.members)
		for i := range n {
			m := f.members[(f.rr+i)%n]
			if !m.healthy {
				continue
			}
			healthy++
			if free := m.capacity - m.running; free > 0 && (best == nil || free > best.capacity-best.running) {
				best = m
			}
		}
		if best != nil {
			f.rr = (f.rr + 1) % n
			best.running++
			best.runs++
			f.mu.Unlock()
			return best, nil
		}
		wait := f.changed
		f.mu.Unlock()
		if healthy == 0 {
			return nil, grader.Errorf(grader.EUNAVAILABLE, "sandbox: no Docker engine is answering")
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, grader.Wrap(ctx.Err(), grader.EUNAVAILABLE, "sandbox: waiting for a free engine")
		}
	}
}

func (f *Fleet) release(m *member) {
	f.mu.Lock()
	m.running--
	f.notify()
	f.mu.Unlock()
}

type runResult struct {
	out grader.Outcome
	err error
}

// Run runs job on one of the healthy engines (see Docker.Run). When no
// engine is healthy it returns EUNAVAILABLE at once; when the engine is
// drained during the run, the run is cut short and returns EUNAVAILABLE
// within DrainWait, so that the grader requeues the submission.
func (f *Fleet) Run(ctx context.Context, job grader.Job) (grader.Outcome, error) {
	m, err := f.acquire(ctx)
	if err != nil {
		return grader.Outcome{}, err
	}
	epoch := m.gate.current()
	if epoch.Err() != nil {
		// Drained between the choice and now.
		f.release(m)
		return grader.Outcome{}, grader.Errorf(grader.EUNAVAILABLE, "sandbox: engine %s stopped answering", m.name)
	}
	rctx, cancel := context.WithCancel(ctx)
	stopCut := context.AfterFunc(epoch, cancel)
	// A run abandoned after DrainWait must not read the workspaces after
	// Run returned.
	ws, jws := newGuard(job.Workspace), newGuard(job.JudgeWorkspace)
	if job.Workspace != nil {
		job.Workspace = ws
	}
	if job.JudgeWorkspace != nil {
		job.JudgeWorkspace = jws
	}
	done := make(chan runResult, 1)
	go func() {
		defer f.release(m)
		defer cancel()
		defer stopCut()
		out, err := m.d.Run(rctx, job)
		done <- runResult{out, err}
	}()
	drained := func() error {
		f.mu.Lock()
		m.cut++
		f.mu.Unlock()
		return grader.Errorf(grader.EUNAVAILABLE, "sandbox: engine %s stopped answering during the run of %s", m.name, job.ID)
	}
	select {
	case r := <-done:
		if r.err != nil && epoch.Err() != nil {
			return r.out, drained()
		}
		return r.out, r.err
	case <-epoch.Done():
	}
	timer := time.NewTimer(f.opts.DrainWait)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err == nil {
			// It ended just as the engine was drained: the result holds.
			return r.out, nil
		}
	case <-timer.C:
		f.log.Warn("a run on a drained engine did not return in time; left to the sweep", "engine", m.name, "job", job.ID)
		ws.shut()
		jws.shut()
	}
	return grader.Outcome{}, drained()
}

// guard is a reader that stops reading when shut.
type guard struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

func newGuard(r io.Reader) *guard { return &guard{r: r} }

func (g *guard) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.r == nil {
		return 0, errDrained
	}
	return g.r.Read(p)
}

// shut waits for a Read in progress and makes every later one fail.
func (g *guard) shut() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// watch pings m until ctx is done, draining it and bringing it back.
func (f *Fleet) watch(ctx context.Context, m *member) {
	defer f.wg.Done()
	tick := time.NewTicker(f.opts.PingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pctx, cancel := context.WithTimeout(ctx, f.opts.PingTimeout)
		_, err := m.gate.eng.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		f.mu.Lock()
		if err != nil {
			m.oks = 0
			m.fails++
			m.lastErr = err.Error()
			if m.healthy && m.fails >= f.opts.Failures {
				m.healthy = false
				m.drains++
				m.gate.close()
				f.notify()
				f.log.Warn("engine stopped answering; drained, its runs are requeued", "engine", m.name, "err", err, "running", m.running)
			}
			f.mu.Unlock()
			continue
		}
		m.fails = 0
		m.oks++
		rejoin := !m.healthy && !m.rejoining && m.oks >= f.opts.Recoveries
		if rejoin {
			m.rejoining = true
		}
		f.mu.Unlock()
		if rejoin {
			f.rejoin(ctx, m)
		}
	}
}

// rejoin brings a drained engine back: it sweeps what this instance left
// there, makes sure the fleet's images are present, and then takes runs.
func (f *Fleet) rejoin(ctx context.Context, m *member) {
	m.gate.open()
	err := func() error {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		n, err := m.d.Sweep(sctx, SweepOwn)
		if err != nil {
			return err
		}
		if n > 0 {
			f.log.Info("removed leftover containers of a drained engine", "engine", m.name, "count", n)
		}
		f.mu.Lock()
		tags := append([]string(nil), f.tags...)
		f.mu.Unlock()
		for _, tag := range tags {
			ictx, cancel := context.WithTimeout(ctx, 30*time.Minute)
			err := f.copyImage(ictx, m, tag, io.Discard)
			cancel()
			if err != nil {
				return err
			}
		}
		return nil
	}()
	f.mu.Lock()
	defer f.mu.Unlock()
	m.rejoining = false
	if err != nil {
		m.oks = 0
		m.lastErr = err.Error()
		m.gate.close()
		if ctx.Err() == nil {
			f.log.Warn("engine answers again but could not rejoin", "engine", m.name, "err", err)
		}
		return
	}
	m.gate.allowCreates()
	m.healthy = true
	m.lastErr = ""
	f.notify()
	f.log.Info("engine rejoined", "engine", m.name)
}

// EnsureImage builds the sandbox image on the first engine if needed (see
// Docker.EnsureImage) and copies it (save on the first, load on the other)
// to every other engine that lacks it, with progress lines on progress. An
// engine that is drained gets it when it rejoins.
func (f *Fleet) EnsureImage(ctx context.Context, opts BuildOptions, progress io.Writer) (string, error) {
	if progress == nil {
		progress = io.Discard
	}
	first := f.members[0]
	tag, err := first.d.EnsureImage(ctx, opts, progress)
	if err != nil {
		return "", fmt.Errorf("engine %s: %w", first.name, err)
	}
	f.mu.Lock()
	known := false
	for _, t := range f.tags {
		known = known || t == tag
	}
	if !known {
		f.tags = append(f.tags, tag)
	}
	f.mu.Unlock()
	for _, m := range f.members[1:] {
		f.mu.Lock()
		healthy := m.healthy
		f.mu.Unlock()
		if !healthy {
			fmt.Fprintf(progress, "engine %s is not answering: it gets %s when it rejoins\n", m.name, tag)
			continue
		}
		if err := f.copyImage(ctx, m, tag, progress); err != nil {
			return "", err
		}
	}
	return tag, nil
}

// copyImage loads tag into m from a healthy engine that has it, unless m
// has it already.
func (f *Fleet) copyImage(ctx context.Context, m *member, tag string, progress io.Writer) error {
	ok, err := m.d.ImageExists(ctx, tag)
	if err != nil {
		return fmt.Errorf("engine %s: %w", m.name, err)
	}
	if ok {
		fmt.Fprintf(progress, "engine %s: sandbox image %s is present\n", m.name, tag)
		return nil
	}
	var src *member
	for _, o := range f.members {
		if o == m {
			continue
		}
		f.mu.Lock()
		healthy := o.healthy
		f.mu.Unlock()
		if !healthy {
			continue
		}
		if has, err := o.d.ImageExists(ctx, tag); err == nil && has {
			src = o
			break
		}
	}
	if src == nil {
		return grader.Errorf(grader.EUNAVAILABLE, "engine %s lacks %s and no healthy engine has it to copy", m.name, tag)
	}
	t := time.Now()
	fmt.Fprintf(progress, "engine %s: copying %s from %s\n", m.name, tag, src.name)
	if err := src.d.negotiate(ctx); err != nil {
		return err
	}
	if err := m.d.negotiate(ctx); err != nil {
		return err
	}
	rc, err := src.d.cli.ImageSave(ctx, []string{tag})
	if err != nil {
		return unavailable(err, "engine %s: save %s", src.name, tag)
	}
	defer rc.Close()
	resp, err := m.d.cli.ImageLoad(ctx, rc, client.ImageLoadWithQuiet(true))
	if err != nil {
		return unavailable(err, "engine %s: load %s", m.name, tag)
	}
	lerr := readMessages(resp.Body, nil)
	resp.Body.Close()
	if lerr != nil {
		return internal(lerr, "engine %s: load %s", m.name, tag)
	}
	if ok, err := m.d.ImageExists(ctx, tag); err != nil || !ok {
		return internal(err, "engine %s: %s missing after the load", m.name, tag)
	}
	fmt.Fprintf(progress, "engine %s: %s loaded in %s\n", m.name, tag, since(t))
	return nil
}

// ImageExists reports whether every healthy engine has ref (and at least
// one engine is healthy).
func (f *Fleet) ImageExists(ctx context.Context, ref string) (bool, error) {
	some := false
	for _, m := range f.members {
		f.mu.Lock()
		healthy := m.healthy
		f.mu.Unlock()
		if !healthy {
			continue
		}
		some = true
		ok, err := m.d.ImageExists(ctx, ref)
		if err != nil || !ok {
			return false, err
		}
	}
	if !some {
		return false, grader.Errorf(grader.EUNAVAILABLE, "sandbox: no Docker engine is answering")
	}
	return true, nil
}

// Ping succeeds when at least one engine is healthy.
func (f *Fleet) Ping(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var down []string
	for _, m := range f.members {
		if m.healthy {
			return nil
		}
		down = append(down, m.name+": "+m.lastErr)
	}
	return grader.Errorf(grader.EUNAVAILABLE, "sandbox: no Docker engine is answering (%v)", down)
}

// Sweep sweeps every healthy engine (see Docker.Sweep) and returns how
// many containers it removed; a drained engine is swept when it rejoins.
func (f *Fleet) Sweep(ctx context.Context, scope SweepScope) (int, error) {
	n := 0
	var errs []error
	for _, m := range f.members {
		f.mu.Lock()
		healthy := m.healthy
		f.mu.Unlock()
		if !healthy {
			continue
		}
		k, err := m.d.Sweep(ctx, scope)
		n += k
		if err != nil {
			errs = append(errs, fmt.Errorf("engine %s: %w", m.name, err))
		}
	}
	return n, errors.Join(errs...)
}

// Janitor removes, every interval until ctx is done, the containers of
// this instance that no run tracks on each healthy engine (Docker.Tidy;
// a drained engine is swept when it rejoins), logging what it removed.
func (f *Fleet) Janitor(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, m := range f.members {
			f.mu.Lock()
			healthy := m.healthy
			f.mu.Unlock()
			if !healthy {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, max(every, 30*time.Second))
			n, err := m.d.Tidy(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				f.log.Warn("tidy containers", "engine", m.name, "err", err)
			}
			if n > 0 {
				f.log.Info("removed containers no run was tracking", "engine", m.name, "count", n)
			}
		}
	}
}

// Close stops the health loop, removes the sandboxes waiting in the
// engines' pools and closes their clients.
func (f *Fleet) Close() error {
	f.stop()
	f.wg.Wait()
	var errs []error
	for _, m := range f.members {
		if err := m.d.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Member returns the Docker sandbox of the engine named name, nil if none
// (for tests and tools that look at one engine).
func (f *Fleet) Member(name string) *Docker {
	for _, m := range f.members {
		if m.name == name {
			return m.d
		}
	}
	return nil
}

// DialEngine returns a client for the engine at host (unix:// or tcp://,
// as DOCKER_HOST), with API version negotiation. tlsDir, when set, holds
// ca.pem, cert.pem and key.pem as the docker CLI reads them from
// DOCKER_CERT_PATH; verify checks the engine's certificate against ca.pem
// (DOCKER_TLS_VERIFY); without it the client still presents its own.
func DialEngine(host, tlsDir string, verify bool) (*client.Client, error) {
	opts := []client.Opt{client.WithAPIVersionNegotiation()}
	if tlsDir != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !verify}
		cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "cert.pem"), filepath.Join(tlsDir, "key.pem"))
		if err != nil {
			return nil, grader.Wrap(err, grader.EINVALID, "engine %s: client certificate in %s", host, tlsDir)
		}
		cfg.Certificates = []tls.Certificate{cert}
		if verify {
			ca, err := os.ReadFile(filepath.Join(tlsDir, "ca.pem"))
			if err != nil {
				return nil, grader.Wrap(err, grader.EINVALID, "engine %s: CA certificate", host)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, grader.Errorf(grader.EINVALID, "engine %s: no certificate in %s", host, filepath.Join(tlsDir, "ca.pem"))
			}
			cfg.RootCAs = pool
		}
		opts = append(opts, client.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}))
	}
	opts = append(opts, client.WithHost(host))
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, grader.Wrap(err, grader.EINVALID, "docker client for %s", host)
	}
	return cli, nil
}
