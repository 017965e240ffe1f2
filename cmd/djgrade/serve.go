package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/djgrade/djgrade/api"
	"github.com/djgrade/djgrade/api/web"
	"github.com/djgrade/djgrade/grader"
	"github.com/djgrade/djgrade/grader/bolt"
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
}

// DBName is the bbolt file inside the data folder.
const DBName = "djgrade.db"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "serve [flags]", stderr)
	cfg := serveConfig{Concurrency: runtime.NumCPU(), Pool: -1}
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&cfg.Data, "data", "./data", "folder for the store ("+DBName+")")
	fs.Var(positiveInt{&cfg.Concurrency}, "concurrency", "number of submissions graded at once (default here: one per CPU)")
	fs.IntVar(&cfg.Pool, "pool", -1, "sandboxes kept started ahead of demand, waiting for a submission (-1: as many as --concurrency; 0: none, every run starts its own)")
	fs.DurationVar(&cfg.PoolIdle, "pool-idle", 10*time.Minute, "recycle a pre-started sandbox that waited this long, and stop keeping an exercise's image warm when unused for this long")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "log format: text for people, json for programs")
	fs.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 30*time.Second, "on SIGTERM, how long running gradings may take to finish before they are cancelled and left for the next start")
	addGitHubFlags(fs, &cfg.GitHub)
	exDir := catalogFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg.Exercises = *exDir
	cfg.AdminToken = os.Getenv("DJGRADE_ADMIN_TOKEN")
	if cfg.Concurrency == 0 {
		cfg.Concurrency = runtime.NumCPU()
	}
	if cfg.Pool < -1 || cfg.PoolIdle < time.Second {
		return &exitError{2, "--pool takes -1, 0 or a positive count; --pool-idle at least 1s"}
	}
	srv, err := startServer(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "djgrade: serving http://%s (data %s, %d workers)\n", srv.addr, cfg.Data, cfg.Concurrency)
	<-ctx.Done()
	fmt.Fprintf(stderr, "djgrade: shutting down (running gradings get up to %s to finish)\n", cfg.ShutdownGrace)
	return srv.Shutdown(cfg.ShutdownGrace)
}

// server is a running djgrade service.
type server struct {
	addr    string
	store   *bolt.Store
	sandbox *sandbox.Docker
	api     *api.Server
	service *grader.Service
	cancel  context.CancelFunc
	done    chan struct{}
	logger  *slog.Logger
	metrics *api.Metrics
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
	pool := sandbox.PoolOptions{Size: cfg.Pool, MaxIdle: cfg.PoolIdle}
	if pool.Size < 0 {
		pool.Size = cfg.Concurrency
	}
	sb, tag, err := openSandbox(ctx, "store-"+storeID, pool, progress)
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
	svc := grader.NewService(grader.Config{Store: store, Sandbox: sb, Catalog: catalog, Image: tag, Concurrency: cfg.Concurrency, Logger: logger})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if err := bootstrapAdmin(ctx, store, cfg.AdminToken, logger, progress); err != nil {
		ln.Close()
		return nil, err
	}
	httpAPI := api.New(api.Config{
		Grader:  svc,
		Catalog: catalog,
		Auth:    store,
		Logger:  logger,
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
	})
	metrics := api.NewMetrics(store)
	svc.Listen(metrics.Observe)
	metrics.Mount(httpAPI)
	mountBackup(httpAPI, store)
	// The dashboard and the candidates' pages: the group /ui on the same
	// server, with their own CSP, body caps and timeouts.
	dashboard, err := web.New(web.Config{Grader: svc, Catalog: catalog, Auth: store, Logger: logger, Limits: httpAPI.Limits()})
	if err != nil {
		ln.Close()
		return nil, err
	}
	dashboard.Mount(httpAPI.Echo())
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := wireGitHub(wctx, cfg.GitHub, ln.Addr().String(), httpAPI, svc, store, catalog, logger); err != nil {
		cancel()
		ln.Close()
		return nil, err
	}
	s := &server{addr: ln.Addr().String(), store: store, sandbox: sb, api: httpAPI, service: svc, cancel: cancel, done: make(chan struct{}), logger: logger, metrics: metrics}
	// Containers of this instance that no Run tracks: a create a killed
	// earlier run left in flight, a remove that failed while the engine
	// restarted.
	go sb.Janitor(wctx, time.Minute)
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
