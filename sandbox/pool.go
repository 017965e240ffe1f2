package sandbox

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// PoolOptions configure the pool of sandboxes started ahead of demand.
//
// A grade spends much of its time before the candidate's code matters:
// creating and starting two containers, starting PostgreSQL, importing
// Python, Django, DRF and pytest. The pool does that before the submission
// comes: it keeps sandboxes of each kind in use (image, candidate limits,
// a judge/candidate pair for grades or a candidate container alone for
// public-tests runs) started and waiting on their warm line
// (protocol.go), and Run takes one instead of starting its own. Each
// sandbox serves exactly one run and is then removed with everything in
// it; nothing crosses from one submission to the next.
//
// The pool sizes itself to demand: for each kind used in the last MaxIdle
// it keeps as many waiting as are running now, plus one, and never more
// than Size in all, which bounds its memory (a waiting pair holds an idle
// PostgreSQL and two idle interpreters); when demand is more than Size,
// every kind in use keeps one and the most recently used get the rest.
// When it is empty, Run starts a
// sandbox itself (a cold start). A sandbox that has waited MaxIdle is
// recycled. The containers carry the instance's labels, so the sweep at
// start-up removes what a crash left; Close removes the rest.
type PoolOptions struct {
	// Size is the most sandboxes kept waiting, over every kind; zero (the
	// default) turns the pool off.
	Size int
	// MaxIdle recycles a sandbox that waited this long (default 10m); a
	// kind unused for this long is no longer kept warm.
	MaxIdle time.Duration
	// Starts is how many sandboxes the pool starts at once (default 1):
	// starting one takes CPU from the runs in flight.
	Starts int
}

// PoolStats count what the pool did.
type PoolStats struct {
	// Waiting is the sandboxes started and waiting now; Starting those
	// being started.
	Waiting, Starting int
	// Hits are runs that took a waiting sandbox; Misses runs that found
	// none and started their own.
	Hits, Misses int64
	// Recycled are sandboxes removed unused (waited too long, died while
	// waiting, or removed at Close); Failed starts that failed.
	Recycled, Failed int64
}

type pool struct {
	d    *Docker
	opts PoolOptions
	log  *slog.Logger

	mu       sync.Mutex
	idle     map[kind][]*pair
	starting map[kind]int
	inUse    map[kind]int
	lastUse  map[kind]time.Time
	stats    PoolStats
	closed   bool

	kick   chan struct{}
	stop   context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	loopWG sync.WaitGroup
}

func newPool(d *Docker, opts PoolOptions) *pool {
	if opts.Starts <= 0 {
		opts.Starts = 1
	}
	ctx, stop := context.WithCancel(context.Background())
	pl := &pool{
		d: d, opts: opts, log: slog.Default().With("component", "sandbox pool"),
		idle: map[kind][]*pair{}, starting: map[kind]int{}, inUse: map[kind]int{}, lastUse: map[kind]time.Time{},
		kick: make(chan struct{}, 1), ctx: ctx, stop: stop,
	}
	if opts.Size > 0 {
		pl.loopWG.Add(1)
		go pl.loop()
	}
	return pl
}

// PoolStats returns the pool's counters.
func (d *Docker) PoolStats() PoolStats {
	pl := d.pool
	pl.mu.Lock()
	defer pl.mu.Unlock()
	st := pl.stats
	for _, ps := range pl.idle {
		st.Waiting += len(ps)
	}
	for _, n := range pl.starting {
		st.Starting += n
	}
	return st
}

// take returns a waiting sandbox of kind k, or nil when there is none (the
// caller starts one), and counts a run of k in flight until release.
func (pl *pool) take(k kind) *pair {
	if pl.opts.Size <= 0 {
		return nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	defer pl.poke()
	pl.inUse[k]++
	pl.lastUse[k] = time.Now()
	for len(pl.idle[k]) > 0 {
		p := pl.idle[k][0]
		pl.idle[k] = pl.idle[k][1:]
		// Past MaxIdle its inits may be about to end it themselves (their
		// warm lifetime): never hand it to a run.
		if p.alive() && time.Since(p.born) < pl.opts.MaxIdle {
			pl.stats.Hits++
			return p
		}
		pl.stats.Recycled++
		pl.discard(p)
	}
	pl.stats.Misses++
	return nil
}

// release ends a run of kind k.
func (pl *pool) release(k kind) {
	if pl.opts.Size <= 0 {
		return
	}
	pl.mu.Lock()
	pl.inUse[k]--
	pl.lastUse[k] = time.Now()
	pl.mu.Unlock()
	pl.poke()
}

func (pl *pool) poke() {
	select {
	case pl.kick <- struct{}{}:
	default:
	}
}

// discard removes a sandbox in the background; the caller holds mu.
func (pl *pool) discard(p *pair) {
	pl.wg.Add(1)
	go func() {
		defer pl.wg.Done()
		p.remove()
	}()
}

// loop refills and recycles until the pool is closed.
func (pl *pool) loop() {
	defer pl.loopWG.Done()
	tick := time.NewTicker(max(pl.opts.MaxIdle/4, time.Second))
	defer tick.Stop()
	for {
		pl.refill()
		select {
		case <-pl.ctx.Done():
			return
		case <-pl.kick:
		case <-tick.C:
		}
	}
}

// refill recycles sandboxes that waited too long and starts the ones
// demand calls for, within Size and Starts. Demand is per kind: as many
// waiting as are running now, plus one, for each kind used within
// MaxIdle. When that is more than Size, every kind in use gets one first
// (the most recently used first), then the rest of demand in the same
// order, and waiting sandboxes past their kind's share are recycled.
func (pl *pool) refill() {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.closed {
		return
	}
	now := time.Now()
	for k, ps := range pl.idle {
		keep := ps[:0]
		for _, p := range ps {
			if now.Sub(p.born) >= pl.opts.MaxIdle || !p.alive() {
				pl.stats.Recycled++
				pl.discard(p)
				continue
			}
			keep = append(keep, p)
		}
		pl.idle[k] = keep
	}
	kinds := make([]kind, 0, len(pl.lastUse))
	for k, used := range pl.lastUse {
		if now.Sub(used) >= pl.opts.MaxIdle && pl.inUse[k] <= 0 {
			delete(pl.lastUse, k)
			continue
		}
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b kind) int { return pl.lastUse[b].Compare(pl.lastUse[a]) })
	// Each kind's share of Size: one for every kind in use, most recently
	// used first, then the rest of its demand in the same order, so that
	// grades and public-tests runs do not evict each other's sandboxes.
	share := map[kind]int{}
	left := pl.opts.Size
	for _, k := range kinds {
		if left > 0 {
			share[k], left = 1, left-1
		}
	}
	for _, k := range kinds {
		n := min(pl.inUse[k]+1-share[k], left)
		if n > 0 {
			share[k], left = share[k]+n, left-n
		}
	}
	total, starts := 0, 0
	for k, ps := range pl.idle {
		// Past its share (or of a kind no longer kept warm): oldest first.
		over := len(ps) + pl.starting[k] - share[k]
		for over > 0 && len(ps) > 0 {
			pl.stats.Recycled++
			pl.discard(ps[0])
			ps = ps[1:]
			over--
		}
		pl.idle[k] = ps
		total += len(ps)
	}
	for _, n := range pl.starting {
		total += n
		starts += n
	}
	for _, k := range kinds {
		for len(pl.idle[k])+pl.starting[k] < share[k] && total < pl.opts.Size && starts < pl.opts.Starts {
			pl.starting[k]++
			total++
			starts++
			pl.wg.Add(1)
			go pl.start(k)
		}
	}
}

// start starts one sandbox of kind k for the pool.
func (pl *pool) start(k kind) {
	defer pl.wg.Done()
	ctx, cancel := context.WithTimeout(pl.ctx, pl.d.opts.SetupTimeout)
	p, err := pl.d.startSandbox(ctx, k, pl.d.labels(""))
	cancel()
	pl.mu.Lock()
	defer pl.mu.Unlock()
	defer pl.poke()
	pl.starting[k]--
	if err != nil {
		pl.stats.Failed++
		if pl.ctx.Err() == nil {
			pl.log.Warn("start a sandbox ahead of demand", "image", k.image, "err", err)
		}
		return
	}
	if pl.closed {
		pl.stats.Recycled++
		pl.discard(p)
		return
	}
	pl.idle[k] = append(pl.idle[k], p)
}

// close stops the refills and removes every waiting sandbox; it returns
// once they are gone.
func (pl *pool) close() {
	pl.mu.Lock()
	if pl.closed {
		pl.mu.Unlock()
		return
	}
	pl.closed = true
	pl.stop()
	for k, ps := range pl.idle {
		for _, p := range ps {
			pl.stats.Recycled++
			pl.discard(p)
		}
		delete(pl.idle, k)
	}
	pl.mu.Unlock()
	pl.loopWG.Wait()
	pl.wg.Wait()
}
