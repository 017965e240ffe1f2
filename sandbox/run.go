package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/djgrade/djgrade/grader"
)

// A run has two halves. The first starts a sandbox that waits for work:
// create (each container, tracked from the moment it exists), attach (its
// streams), start, and the warm line on its stdin (see protocol.go), after
// which the judge's PostgreSQL comes up and both inits import what they
// use. The pool (pool.go) does this ahead of demand; a run that finds the
// pool empty does it itself (a cold start). The second half is the
// submission's: feed (the job line and the workspace), wait (for the
// judge, the candidate's end, a cap, the outer timeout or ctx), stop and
// collect (inspect both, read the envelope, map to a verdict). Run strings
// them together and removes every container on every path: a sandbox
// serves exactly one submission.

// kind is what makes two started sandboxes interchangeable: the image, the
// candidate container's resource limits (its time and output limits are
// the job's, given with the job line) and whether it is a judge/candidate
// pair (a grade) or a candidate container alone (single: a run of the
// public tests only, which use the project's own SQLite and nothing of
// the judge's).
type kind struct {
	image  string
	limits grader.Limits
	single bool
}

func kindOf(img string, lim grader.Limits, single bool) kind {
	lim.Timeout, lim.OutputBytes = 0, 0
	return kind{image: img, limits: lim.WithDefaults(), single: single}
}

// side is one started container of a sandbox.
type side struct {
	id string
	hj types.HijackedResponse
	// exited is closed when the engine reports the container's exit (or
	// the wait failed: waitErr says why).
	exited  chan struct{}
	waitErr error
	wdone   func()
	// fed is closed when the feed of the job line and workspace stopped;
	// nil until it started.
	fed chan struct{}
}

// dead reports whether the container has already ended.
func (s *side) dead() bool {
	select {
	case <-s.exited:
		return true
	default:
		return false
	}
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

// launch creates, attaches and starts one container of sb and writes its
// warm line; the container is part of sb (and so removed with it) from the
// moment it exists.
func (d *Docker) launch(setup context.Context, sb *pair, cfg *container.Config, host *container.HostConfig, warm any) (*side, error) {
	id, err := d.create(setup, cfg, host)
	if err != nil {
		return nil, err
	}
	sb.ids = append(sb.ids, id)
	s := &side{id: id, exited: make(chan struct{}), wdone: func() {}}
	if s.hj, err = d.attach(setup, s.id); err != nil {
		return nil, unavailable(err, "attach container")
	}
	sb.sides = append(sb.sides, s)
	// The wait is registered before the start so that a fast exit is not
	// missed; its context is ours, so a cancelled ctx still sees it go.
	wctx, wcancel := context.WithCancel(context.Background())
	s.wdone = wcancel
	waitC, errC := d.cli.ContainerWait(wctx, s.id, container.WaitConditionNextExit)
	go func() {
		select {
		case <-waitC:
		case s.waitErr = <-errC:
		}
		close(s.exited)
	}()
	if err := d.cli.ContainerStart(setup, s.id, container.StartOptions{}); err != nil {
		return s, unavailable(err, "start container")
	}
	line, err := configLine(warm)
	if err != nil {
		return s, internal(err, "encode the warm line")
	}
	if _, err := s.hj.Conn.Write(line); err != nil {
		return s, unavailable(err, "write the warm line")
	}
	return s, nil
}

// feed writes the job line and the workspace to the container's stdin in
// the background and then closes its write side.
func (s *side) feed(job any, workspace io.Reader) error {
	line, err := configLine(job)
	if err != nil {
		return internal(err, "encode the job line")
	}
	s.fed = make(chan struct{})
	go func() {
		defer close(s.fed)
		// An error means the container went away early; its outcome says why.
		feed(s.hj.Conn, line, workspace)
		s.hj.CloseWrite()
	}()
	return nil
}

func (d *Docker) kill(id, signal string) {
	kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d.cli.ContainerKill(kctx, id, signal)
}

// pair is one sandbox (a judge and a candidate container, or the
// candidate's alone for a public-tests run) and, once a job has it, what
// the run has read of it.
type pair struct {
	d        *Docker
	kind     kind
	nonce    string
	password string
	born     time.Time
	// judge is nil for a single (a public-tests run).
	judge, cand *side
	// ids are the containers created, sides those attached, in order.
	ids   []string
	sides []*side

	job            grader.Job
	lim            grader.Limits
	clog           *candidateLog
	overC          chan struct{}
	pidsC          chan struct{}
	jout           *judgeOutput
	jcopied        chan struct{}
	ccopied        chan struct{}
	timings        map[string]time.Duration
	phase, started time.Time
}

// warmLifetime is how long a started sandbox waits for its job line before
// its inits end it themselves (a server that died with it in the pool).
func (d *Docker) warmLifetime() time.Duration {
	return d.opts.Pool.MaxIdle + 5*time.Minute
}

// startSandbox starts a sandbox of kind k that waits for its job. On an
// error, what it created is removed.
func (d *Docker) startSandbox(setup context.Context, k kind, labels map[string]string) (sb *pair, err error) {
	sb = &pair{d: d, kind: k, nonce: randomID() + randomID(), password: randomID() + randomID() + randomID()}
	defer func() {
		if err != nil {
			sb.remove()
			sb = nil
		}
	}()
	lifetime := d.warmLifetime().Seconds()
	var db map[string]string
	ccfg, chost := d.container(labels, RoleCandidate, k.limits, k.image)
	if !k.single {
		jcfg, jhost := d.container(labels, RoleJudge, judgeLimits.WithDefaults(), k.image)
		if sb.judge, err = d.launch(setup, sb, jcfg, jhost, judgeWarm{Nonce: sb.nonce, AppPassword: sb.password, WarmLifetimeS: lifetime}); err != nil {
			return sb, err
		}
		db = map[string]string{"host": "127.0.0.1", "port": "5432", "name": "djgrade", "user": "app", "password": sb.password}
		chost.NetworkMode = container.NetworkMode("container:" + sb.judge.id)
	}
	sb.cand, err = d.launch(setup, sb, ccfg, chost, candidateWarm{Nonce: sb.nonce, DB: db, WarmLifetimeS: lifetime})
	sb.born = time.Now()
	return sb, err
}

// poolCPUShares is the CPU weight (cgroup cpu.shares, 1024 by default) of
// a sandbox started ahead of demand: its start-up (PostgreSQL, the warm
// interpreters' imports) yields to the runs in flight instead of slowing
// them. promote gives it the default weight when a run takes it.
const (
	poolCPUShares = 2
	runCPUShares  = 1024
)

// promote gives a sandbox taken from the pool the CPU weight of a run; a
// run left with the pool's weight could be slowed into its time limit, so
// a failed update fails the run (EUNAVAILABLE: it is retried).
func (p *pair) promote(ctx context.Context) error {
	for _, s := range p.sides {
		if _, err := p.d.cli.ContainerUpdate(ctx, s.id, container.UpdateConfig{Resources: container.Resources{CPUShares: runCPUShares}}); err != nil {
			return unavailable(err, "give a pre-started sandbox a run's CPU shares")
		}
	}
	return nil
}

// alive reports whether every container of the sandbox is still running.
func (p *pair) alive() bool {
	for _, s := range p.sides {
		if s.dead() {
			return false
		}
	}
	return len(p.sides) > 0
}

// ending is how the wait for a run ended.
type ending struct {
	// outerTimeout: Run's own wall-clock limit fired; overflow: the
	// candidate's output passed its cap; gone: the candidate's container
	// ended before the judge (for a public-tests run: it ended, as it
	// should); pids: the candidate's container sat at its process limit.
	outerTimeout, overflow, gone, pids bool
}

// Run runs job in a sandbox (from the pool when one of its kind is
// waiting, else started now) and returns how it ended. A candidate's
// crash, timeout or flood is an Outcome; an error means the
// infrastructure failed (engine down: EUNAVAILABLE; image missing, a judge
// that could not start: EINTERNAL), the workspace did not fit in the
// scratch space (ETOOLARGE), or ctx was cancelled (the error wraps
// ctx.Err()). Every container of the sandbox is removed before Run
// returns, on every path, and Run has stopped reading the workspaces by
// then. A job with PublicOnly runs the candidate's public tests only, in
// the candidate's container alone (no judge, no server, no network): the
// fast path for feedback.
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
	timings := map[string]time.Duration{}
	out.Timings = timings
	t0 := time.Now()

	setup, cancelSetup := context.WithTimeout(ctx, d.opts.SetupTimeout)
	defer cancelSetup()
	if err := d.negotiate(setup); err != nil {
		return out, err
	}
	k := kindOf(img, lim, job.PublicOnly)
	p := d.pool.take(k)
	defer d.pool.release(k)
	if p != nil {
		timings["pool_wait"] = 0
	} else {
		if p, err = d.startSandbox(setup, k, d.labels(job.ID)); err != nil {
			return out, err
		}
		timings["cold_start"] = time.Since(t0)
	}
	defer func() {
		if rerr := p.remove(); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if _, warm := timings["pool_wait"]; warm {
		if err := p.promote(setup); err != nil {
			return out, err
		}
	}
	p.job, p.lim, p.timings, p.phase = job, lim, timings, time.Now()
	if err := p.begin(); err != nil {
		return out, err
	}
	p.lap("feed")
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

// lap records the time since the last lap as phase name.
func (p *pair) lap(name string) {
	now := time.Now()
	p.timings[name] = now.Sub(p.phase)
	p.phase = now
}

// begin gives the sandbox its job: the readers of its streams, then the
// job lines and the workspaces.
func (p *pair) begin() error {
	d, job, lim := p.d, p.job, p.lim
	p.attachOutput()
	p.started = time.Now()
	if p.judge != nil {
		if err := p.judge.feed(judgeJob{
			Seed: job.Seed, TimeoutS: lim.Timeout.Seconds(), OutputBytes: judgeLogCap, Settings: job.Settings,
			AppPort: appPort, AgentPort: agentPort, Services: job.Services,
		}, job.JudgeWorkspace); err != nil {
			return err
		}
	}
	cj := candidateJob{
		Settings: job.Settings, Public: job.Public || job.PublicOnly, PublicTimeoutS: publicTimeout(lim.Timeout).Seconds(),
		LifetimeS: (lim.Timeout + d.opts.Grace + d.opts.PostgresGrace + time.Minute).Seconds(),
	}
	if job.PublicOnly {
		// The public tests get the time a grade gives them, so that the
		// fast path passes only what a grade's public tests would.
		cj.PublicOnly = true
	} else {
		cj.RedisURL = redisURL(job.Services, p.password)
	}
	return p.cand.feed(cj, job.Workspace)
}

// attachOutput starts reading the containers' streams (the engine's
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
	if p.judge == nil {
		close(p.jcopied)
		return
	}
	go func() {
		defer close(p.jcopied)
		stdcopy.StdCopy(p.jout.stdout, p.jout.stderr, p.judge.hj.Reader)
	}()
}

// wait waits for the judge to end, or the candidate's container (for a
// public-tests run, the end it should have: there is no judge), the
// candidate's output cap, its process limit, the outer timeout or ctx,
// whichever comes first.
func (p *pair) wait(ctx context.Context) (e ending, err error) {
	d := p.d
	timer := time.NewTimer(p.lim.Timeout + d.opts.Grace + d.opts.PostgresGrace)
	defer timer.Stop()
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	p.pidsC = make(chan struct{})
	go d.watchPids(watchCtx, p.cand.id, p.lim.Pids, p.pidsC)
	judgeExited := make(<-chan struct{}) // never, for a single
	if p.judge != nil {
		judgeExited = p.judge.exited
	}
	select {
	case <-judgeExited:
		if p.judge.waitErr != nil {
			return e, unavailable(p.judge.waitErr, "wait for the judge")
		}
	case <-p.cand.exited:
		if p.cand.waitErr != nil {
			return e, unavailable(p.cand.waitErr, "wait for the candidate's container")
		}
		// The candidate's code ended its own container (killed its agent,
		// exited at import): nothing is left for the judge to check.
		e.gone = true
		if p.judge != nil {
			d.kill(p.judge.id, "KILL")
		}
	case <-p.pidsC:
		// A fork bomb: nothing will come of the run but its time limit.
		e.pids = true
		for _, s := range p.sides {
			d.kill(s.id, "KILL")
		}
	case <-p.overC:
		e.overflow = true
	case <-timer.C:
		e.outerTimeout = true
	case <-ctx.Done():
		for _, s := range p.sides {
			d.kill(s.id, "KILL")
		}
		return e, grader.Wrap(ctx.Err(), grader.EUNAVAILABLE, "sandbox run of %s cancelled", p.job.ID)
	}
	p.timings["run"] = time.Since(p.started)
	p.phase = time.Now()
	return e, nil
}

// stop ends what is still running of the sandbox and waits (a bounded
// time) for its streams to be read to their end.
func (p *pair) stop(e ending) {
	d, judge, cand := p.d, p.judge, p.cand
	if (e.overflow || e.outerTimeout) && judge != nil {
		d.kill(judge.id, "KILL")
	}
	// The agent writes its status line on SIGTERM; give it a moment.
	if !e.gone && !e.pids {
		d.kill(cand.id, "TERM")
		select {
		case <-cand.exited:
		case <-time.After(3 * time.Second):
			d.kill(cand.id, "KILL")
		}
	}
	for _, c := range []chan struct{}{p.jcopied, p.ccopied} {
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			for _, s := range p.sides {
				s.hj.Close()
			}
			<-c
		}
	}
}

// collect inspects the containers, reads the judge's envelope and the
// candidate's protocol lines into out, and sets its verdict.
func (p *pair) collect(e ending, out *grader.Outcome) error {
	ictx, icancel := context.WithTimeout(context.Background(), 10*time.Second)
	var jinsp container.InspectResponse
	var jierr error
	if p.judge != nil {
		jinsp, jierr = p.d.cli.ContainerInspect(ictx, p.judge.id)
	}
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
	candPids := e.pids
	if st := clog.status; st != nil {
		candOOM = candOOM || st.OOMKills > 0
		candPids = candPids || st.PidLimitHits > 0
	}
	if p.judge == nil {
		return p.collectPublic(e, out, cinsp, candOOM, candPids)
	}
	// (An InspectResponse's State is behind an embedded pointer: read only
	// what was inspected.)
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
	case e.pids:
		out.Verdict = grader.RunProcessLimit
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

// collectPublic sets the verdict of a public-tests run: the candidate's
// container alone, which ends once it has reported its tests.
func (p *pair) collectPublic(e ending, out *grader.Outcome, cinsp container.InspectResponse, oom, pids bool) error {
	switch {
	case e.overflow:
		out.Verdict = grader.RunOutputLimit
	case e.pids:
		out.Verdict = grader.RunProcessLimit
	case e.outerTimeout:
		out.Verdict = grader.RunTimeout
	case oom:
		out.Verdict = grader.RunOOM
	case pids:
		out.Verdict = grader.RunProcessLimit
	case out.Public == nil:
		// The candidate's code ended the container before its tests were
		// reported (or its tests ran past their limit).
		out.Verdict = grader.RunCandidateExited
	default:
		out.Verdict = grader.RunOK
	}
	out.JudgeExit = stateExit(cinsp.State)
	return nil
}

// remove closes the sandbox's streams, waits for the feeds to stop, and
// removes its containers, newest first, with a fresh context: the run's
// may be the reason it is leaving. It returns the first failed remove.
func (p *pair) remove() (err error) {
	for _, s := range p.sides {
		s.hj.Close()
		if s.fed != nil {
			<-s.fed
		}
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
	if p.timings != nil {
		p.timings["remove"] = time.Since(t)
	}
	return err
}

// watchPids closes hit when the container has sat at its process limit
// for three samples in a row, a second apart: a fork bomb, which would
// otherwise hold the worker until the wall-clock limit. It asks the engine
// (one-shot stats), so it works on any engine, local or not.
func (d *Docker) watchPids(ctx context.Context, id string, limit int64, hit chan<- struct{}) {
	if limit <= 0 {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	streak := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		cur, err := d.pids(ctx, id)
		if err != nil {
			streak = 0
			continue
		}
		if cur >= limit-2 {
			streak++
		} else {
			streak = 0
		}
		if streak >= 3 {
			close(hit)
			return
		}
	}
}

// pids returns how many processes the container holds now.
func (d *Docker) pids(ctx context.Context, id string) (int64, error) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	r, err := d.cli.ContainerStatsOneShot(sctx, id)
	if err != nil {
		return 0, err
	}
	defer r.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&st); err != nil {
		return 0, err
	}
	if st.PidsStats.Current == 0 && st.PidsStats.Limit == 0 {
		return 0, fmt.Errorf("no pids statistics")
	}
	return int64(st.PidsStats.Current), nil
}
