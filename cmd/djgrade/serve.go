package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/api/web"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
	"github.com/djgrade/djgrade/grader/export"
	"github.com/djgrade/djgrade/sandbox"
)

// serveConfig is what `djgrade serve` runs with.
type serveConfig struct {
	Addr        string
	Data        string
	Concurrency int
	// Pool is how many sandboxes are kept started ahead of demand (-1: as
	// many as Concurrency; 0: none); PoolIdle recycles one that waited
	// that long.
	Pool      int
	PoolIdle  time.Duration
	Exercises string
	LogFormat string
	// ShutdownGrace is how long running gradings may take to finish after
	// a SIGTERM before they are cancelled (and requeued at the next start).
	ShutdownGrace time.Duration
	// AdminToken is the bootstrap admin secret (DJGRADE_ADMIN_TOKEN), stored
	// as an admin token at start; routes check the store, so revoking it there
	// ends it.
	AdminToken string
	// GitHub configures the take-home webhook (cmd/djgrade/github.go).
	GitHub githubConfig
	// Webhooks configures the outbound webhooks (cmd/djgrade/webhooks.go).
	Webhooks webhookConfig
	// Engines are the Docker engines to grade on (--engine); none means
	// one from the DOCKER_* environment with Concurrency as its capacity.
	Engines []engineSpec
}

// DBName is the bbolt file inside the data folder.
const DBName = "djgrade.db"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfg := serveConfig{Concurrency: runtime.NumCPU(), Pool: -1}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "`ADDRESS` to listen on (HOST:PORT)")
	fs.StringVar(&cfg.Data, "data", "./data", "`DIR` for the store ("+DBName+"), created if missing")
	fs.Var(positiveInt{&cfg.Concurrency}, "concurrency", "number of submissions graded at once (default here: one per CPU)")
	fs.IntVar(&cfg.Pool, "pool", -1, "sandboxes kept started ahead of demand, waiting for a submission (-1: as many as --concurrency; 0: none, every run starts its own)")
	fs.DurationVar(&cfg.PoolIdle, "pool-idle", 10*time.Minute, "recycle a pre-started sandbox that waited this long, and stop keeping an exercise's image warm when unused for this long")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log `FORMAT`: text for people, json for programs")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long running gradings may take to finish before they are cancelled and left for the next start")
	fs.Var((*engineList)(&cfg.Engines), "engine", "an `ENGINE` (Docker engine) to grade on, repeatable: unix:///var/run/docker.sock or tcp://HOST:PORT, then ,capacity=N (runs at once, default 1) ,tls=DIR (ca.pem, cert.pem, key.pem as DOCKER_CERT_PATH) ,tls-verify=true|false ,cpuset=LIST; several may be given in one value, separated by spaces or ';' (DJGRADE_ENGINE). Without it: the engine of DOCKER_HOST with capacity --concurrency; with it, the workers are the sum of the capacities")
	addGitHubFlags(fs, &cfg.GitHub)
	addWebhookFlags(fs, &cfg.Webhooks)
	exDir := catalogFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	cfg.Exercises = *exDir
	cfg.AdminToken = os.Getenv("DJGRADE_ADMIN_TOKEN")
	cfg.GitHub.AppKey = os.Getenv(envAppKey)
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.Pool < -1 || cfg.PoolIdle < time.Second {
		return &exitError{2, "--pool takes -1, 0 or a positive count; --pool-idle at least 1s"}
	}
	// Flags whose values need neither the store nor Docker are checked
	// before either is touched: a wrong one is a usage error that makes no
	// store (and shows no first admin token for a server that never ran).
	if _, err := webhookLinkBase(cfg.Webhooks, cfg.Addr); err != nil {
		return usageError(fs, describe(err))
	}
	if _, err := serveGitHubClient(cfg.GitHub, slog.New(slog.DiscardHandler)); err != nil {
		return usageError(fs, describe(err))
	}
	srv, err := startServer(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "djgrade: serving http://%s (data %s, %d workers on %d engine(s))\n", srv.addr, cfg.Data, srv.service.Concurrency, len(srv.sandbox.Engines()))
	<-ctx.Done()
	fmt.Fprintf(stderr, "djgrade: shutting down (running gradings get up to %s to finish)\n", cfg.ShutdownGrace)
	return srv.Shutdown(cfg.ShutdownGrace)
}

// server is a running djgrade service.
type server struct {
	addr    string
	store   *bolt.Store
	sandbox *sandbox.Fleet
	api     *api.Server
	service *grader.Service
	cancel  context.CancelFunc
	done    chan struct{}
	logger  *slog.Logger
	metrics *api.Metrics
	// hooksDone is closed when the webhook dispatcher has stopped.
	hooksDone chan struct{}
}

// startServer opens the store, connects to Docker (building the sandbox
// image if it is missing, with progress on progress), sweeps containers that
// an earlier crash left, starts the workers and the HTTP server.
func startServer(ctx context.Context, cfg serveConfig, progress io.Writer) (_ *server, err error) {
	var handler slog.Handler = slog.NewTextHandler(progress, nil)
	if cfg.LogFormat == "json" {
		handler = slog.NewJSONHandler(progress, nil)
	}
	logger := slog.New(handler)
	catalog, err := loadCatalog(cfg.Exercises)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, err
	}
	store, err := bolt.Open(filepath.Join(cfg.Data, DBName))
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			store.Close()
		}
	}()
	// The instance is named after the store's id, so that a restarted
	// server removes exactly the containers a crashed run of the same store
	// left, even where every server's store is at /data (in a container).
	storeID, err := store.ID()
	if err != nil {
		return nil, err
	}
	sb, tag, err := openFleet(ctx, cfg, "store-"+storeID, logger, progress)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			sb.Close()
		}
	}()
	// Containers of earlier runs on this store are leftovers of a crash:
	// their submissions are requeued when the workers start.
	if n, err := sb.Sweep(ctx, sandbox.SweepOwn); err != nil {
		logger.Warn("sweep leftover containers", "err", err)
	} else if n > 0 {
		logger.Info("removed leftover sandbox containers", "count", n)
	}
	svc := grader.NewService(grader.Config{Store: store, LiveStore: store, Auth: store, Similarity: store, Sandbox: sb, Catalog: catalog, Image: tag, Concurrency: sb.Capacity(), Logger: logger})
	svc.Reviews = store // reviewers' notes and score overrides (grader/review.go)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if err := bootstrapAdmin(ctx, store, cfg.AdminToken, logger, progress); err != nil {
		ln.Close()
		return nil, err
	}
	outbox, err := newOutbox(cfg.Webhooks, ln.Addr().String(), svc, store, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	// GitHub's credentials (cmd/djgrade/github.go): nil when none are set.
	ghClient, err := serveGitHubClient(cfg.GitHub, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	// Exports carry a reviewer's override beside the automatic score.
	exportColumns := export.ReviewColumns(svc.ReviewSummaries)
	httpAPI := api.New(api.Config{
		Grader:        svc,
		Catalog:       catalog,
		Auth:          store,
		Live:          svc,
		Reviews:       svc,
		ExportColumns: exportColumns,
		TakeHomes:     takeHomesFor(ghClient, store),
		Logger:        logger,
		// Outbound webhooks (cmd/djgrade/webhooks.go).
		Webhooks: outbox,
		ReadyCheck: api.ReadyChecks(
			api.Check{Name: "docker", Fn: sb.Ping},
			api.Check{Name: "sandbox_image", Fn: func(ctx context.Context) error {
				ok, err := sb.ImageExists(ctx, tag)
				if err == nil && !ok {
					err = grader.Errorf(grader.EUNAVAILABLE, "sandbox image %s is missing", tag)
				}
				return err
			}},
			api.Check{Name: "store", Fn: store.Ping},
		),
		Engines: engineStates(sb),
	})
	metrics := api.NewMetrics(store)
	metrics.Engines(engineStates(sb))
	svc.Listen(metrics.Observe)
	metrics.Mount(httpAPI)
	mountBackup(httpAPI, store)
	// The dashboard and the candidates' pages: the group /ui on the same
	// server, with their own CSP, body caps and timeouts.
	dashboard, err := web.New(web.Config{Grader: svc, Catalog: catalog, Auth: store, Live: svc, Reviews: svc, Similarity: svc,
		ExportColumns: exportColumns, Logger: logger, Limits: httpAPI.Limits(),
		Webhooks: outbox}) // the admins' webhook pages (cmd/djgrade/webhooks.go)
	if err != nil {
		ln.Close()
		return nil, err
	}
	dashboard.Mount(httpAPI.Echo())
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := wireGitHub(wctx, cfg.GitHub, ghClient, ln.Addr().String(), httpAPI, svc, store, catalog, logger); err != nil {
		cancel()
		ln.Close()
		return nil, err
	}
	s := &server{addr: ln.Addr().String(), store: store, sandbox: sb, api: httpAPI, service: svc, cancel: cancel, done: make(chan struct{}), logger: logger, metrics: metrics}
	// Deliveries left pending by an earlier run first, then new ones.
	s.hooksDone = make(chan struct{})
	go runOutbox(wctx, outbox, s.hooksDone, logger)
	// Containers of this instance that no Run tracks: a create a killed
	// earlier run left in flight, a remove that failed while the engine
	// restarted.
	go sb.Janitor(wctx, time.Minute)
	// The similarity index: the catalog's answers, and submissions graded
	// before it existed; new ones are fingerprinted as they are graded.
	go func() {
		err := svc.SeedSimilarity(wctx)
		n := 0
		if err == nil {
			n, err = svc.BackfillSimilarity(wctx)
		}
		if err != nil && wctx.Err() == nil {
			logger.Error("similarity index", "err", err)
		} else if n > 0 {
			logger.Info("similarity index: fingerprinted earlier submissions", "count", n)
		}
	}()
	go func() {
		defer close(s.done)
		if err := svc.Run(wctx); err != nil {
			logger.Error("workers stopped", "err", err)
		}
	}()
	go func() {
		if err := httpAPI.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	return s, nil
}

// Close stops at once: it stops accepting requests, cancels the gradings in
// progress (each stays running in the store and is requeued at the next
// start) and closes the store.
func (s *server) Close() error { return s.Shutdown(0) }

// Shutdown stops accepting requests and claiming work, lets the gradings in
// progress finish for up to grace, cancels those still going (they stay
// running in the store and are requeued at the next start), and closes the
// store.
func (s *server) Shutdown(grace time.Duration) error {
	s.service.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.api.Shutdown(ctx)
	if grace > 0 {
		timer := time.NewTimer(grace)
		select {
		case <-s.done:
		case <-timer.C:
			s.logger.Warn("shutdown grace period over; cancelling the gradings still running, they will be requeued at the next start", "grace", grace)
		}
		timer.Stop()
	}
	s.cancel()
	<-s.done
	// Attempts cut off here stay pending and are made at the next start.
	<-s.hooksDone
	// No worker runs now, so every container of this store's instance is
	// a leftover: one that a killed earlier run had asked the engine to
	// create just before it died can appear after the start-up sweep.
	sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer scancel()
	if n, serr := s.sandbox.Sweep(sctx, sandbox.SweepOwn); serr != nil {
		s.logger.Warn("sweep sandbox containers at shutdown", "err", serr)
	} else if n > 0 {
		s.logger.Info("removed leftover sandbox containers at shutdown", "count", n)
	}
	s.sandbox.Close()
	return errors.Join(err, s.store.Close())
}

// engineSpec is one --engine: where the engine is and what it takes.
type engineSpec struct {
	Host      string
	Capacity  int
	TLSDir    string
	TLSVerify bool
	CPUSet    string
}

// String renders the spec as it is parsed.
func (e engineSpec) String() string {
	s := fmt.Sprintf("%s,capacity=%d", e.Host, e.Capacity)
	if e.TLSDir != "" {
		s += fmt.Sprintf(",tls=%s,tls-verify=%t", e.TLSDir, e.TLSVerify)
	}
	if e.CPUSet != "" {
		s += ",cpuset=" + e.CPUSet
	}
	return s
}

// parseEngineSpec parses HOST[,capacity=N][,tls=DIR][,tls-verify=BOOL][,cpuset=LIST].
func parseEngineSpec(spec string) (engineSpec, error) {
	parts := strings.Split(strings.TrimSpace(spec), ",")
	e := engineSpec{Host: parts[0], Capacity: 1, TLSVerify: true}
	switch {
	case strings.HasPrefix(e.Host, "unix:///"):
	case strings.HasPrefix(e.Host, "tcp://"):
		u, err := url.Parse(e.Host)
		if err != nil || u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
			return e, fmt.Errorf("engine %q: want tcp://HOST:PORT", e.Host)
		}
	default:
		return e, fmt.Errorf("engine %q: want unix:///PATH or tcp://HOST:PORT first", e.Host)
	}
	verifyGiven := false
	seen := map[string]bool{}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			return e, fmt.Errorf("engine %s: %q is not KEY=VALUE", e.Host, kv)
		}
		if seen[k] {
			return e, fmt.Errorf("engine %s: %s given twice", e.Host, k)
		}
		seen[k] = true
		switch k {
		case "capacity":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 256 {
				return e, fmt.Errorf("engine %s: capacity must be a whole number from 1 to 256", e.Host)
			}
			e.Capacity = n
		case "tls":
			e.TLSDir = v
		case "tls-verify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return e, fmt.Errorf("engine %s: tls-verify must be true or false", e.Host)
			}
			e.TLSVerify, verifyGiven = b, true
		case "cpuset":
			if !validCPUSet(v) {
				return e, fmt.Errorf("engine %s: cpuset %q: want one CPU number or range, as 0 or 1-3", e.Host, v)
			}
			e.CPUSet = v
		default:
			return e, fmt.Errorf("engine %s: unknown option %q (capacity, tls, tls-verify, cpuset)", e.Host, k)
		}
	}
	if verifyGiven && e.TLSDir == "" {
		return e, fmt.Errorf("engine %s: tls-verify needs tls=DIR", e.Host)
	}
	if e.TLSDir != "" && strings.HasPrefix(e.Host, "unix://") {
		return e, fmt.Errorf("engine %s: tls is for tcp:// engines", e.Host)
	}
	return e, nil
}

// validCPUSet reports whether s is one CPU number or range, N or N-M
// (',' separates a spec's options, so a cpuset here is a single range).
func validCPUSet(s string) bool {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := strconv.Atoi(lo)
	if err != nil || a < 0 {
		return false
	}
	if !isRange {
		return true
	}
	b, err := strconv.Atoi(hi)
	return err == nil && b >= a
}

// engineList is the --engine flag: each value adds one or more specs
// (separated by spaces or ';', so that DJGRADE_ENGINE can hold several).
type engineList []engineSpec

// Type names the value in help.
func (l *engineList) Type() string { return "engine" }

func (l *engineList) repeatable() {}

func (l *engineList) String() string {
	if l == nil {
		return ""
	}
	var s []string
	for _, e := range *l {
		s = append(s, e.String())
	}
	return strings.Join(s, "; ")
}

func (l *engineList) Set(v string) error {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' || r == '\n' })
	if len(fields) == 0 {
		return errors.New("empty engine")
	}
	for _, f := range fields {
		e, err := parseEngineSpec(f)
		if err != nil {
			return err
		}
		for _, o := range *l {
			if o.Host == e.Host {
				return fmt.Errorf("engine %s given twice", e.Host)
			}
		}
		*l = append(*l, e)
	}
	return nil
}

// openFleet connects to the engines (cfg.Engines, or the one of the
// DOCKER_* environment with capacity cfg.Concurrency), makes sure the
// sandbox image is on each (building it on the first, copying it to the
// others), and returns the fleet and the image's tag.
func openFleet(ctx context.Context, cfg serveConfig, instance string, logger *slog.Logger, progress io.Writer) (*sandbox.Fleet, string, error) {
	var engines []sandbox.FleetEngine
	fail := func(err error) (*sandbox.Fleet, string, error) {
		for _, e := range engines {
			e.Client.Close()
		}
		return nil, "", err
	}
	pool := func(capacity int) int {
		if cfg.Pool < 0 {
			return capacity
		}
		return cfg.Pool
	}
	if len(cfg.Engines) == 0 {
		cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			return fail(grader.Wrap(err, grader.EINTERNAL, "docker client"))
		}
		engines = append(engines, sandbox.FleetEngine{Name: cli.DaemonHost(), Client: cli, Capacity: cfg.Concurrency, Pool: pool(cfg.Concurrency)})
	}
	for _, e := range cfg.Engines {
		cli, err := sandbox.DialEngine(e.Host, e.TLSDir, e.TLSVerify)
		if err != nil {
			return fail(err)
		}
		engines = append(engines, sandbox.FleetEngine{Name: e.Host, Client: cli, Capacity: e.Capacity, CPUSet: e.CPUSet, Pool: pool(e.Capacity)})
	}
	f, err := sandbox.NewFleet(sandbox.Options{Instance: instance, Pool: sandbox.PoolOptions{MaxIdle: cfg.PoolIdle}}, engines, sandbox.FleetOptions{Logger: logger})
	if err != nil {
		return fail(err)
	}
	if err := f.Ping(ctx); err != nil {
		f.Close()
		return nil, "", err
	}
	tag, err := f.EnsureImage(ctx, sandbox.BuildOptions{}, progress)
	if err != nil {
		f.Close()
		return nil, "", err
	}
	return f, tag, nil
}

// engineStates reports the fleet's engines for /readyz and /metrics.
func engineStates(f *sandbox.Fleet) func() []api.EngineState {
	return func() []api.EngineState {
		var out []api.EngineState
		for _, e := range f.Engines() {
			out = append(out, api.EngineState{Name: e.Name, Healthy: e.Healthy, Capacity: e.Capacity, Running: e.Running, PoolWaiting: e.PoolWaiting})
		}
		return out
	}
}
